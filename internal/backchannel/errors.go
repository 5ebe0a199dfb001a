package backchannel

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-par/par/internal/dpopwire"
)

// maxRetryAfter caps a provider's Retry-After, so that a hostile provider
// cannot park a caller for years.
const maxRetryAfter = 24 * time.Hour

// ParseError reads an RFC 6749 §5.2 error response: error,
// error_description and error_uri of a JSON object, or of a form-encoded
// body (application/x-www-form-urlencoded or text/plain, as
// golang.org/x/oauth2 reads them). Members that are not strings, and bodies
// that are neither, give empty strings. When the body has no error code,
// the first WWW-Authenticate challenge with an error parameter gives the
// three (RFC 6750 §3, RFC 9449 §7.1, RFC 9470 §3): a UserInfo or resource
// 401 such as the MitID broker's `Bearer realm="IdentityServer",
// error="invalid_token"` has an empty body. It is the SDK's one §5.2
// parser.
func ParseError(h http.Header, body []byte) (code, description, uri string) {
	code, description, uri = parseErrorBody(h, body)
	if code == "" {
		return challengeError(h)
	}
	return code, description, uri
}

// parseErrorBody reads the §5.2 members of a JSON or form-encoded body.
func parseErrorBody(h http.Header, body []byte) (code, description, uri string) {
	if isFormBody(h) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return "", "", ""
		}
		return v.Get("error"), v.Get("error_description"), v.Get("error_uri")
	}
	var r struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
		ErrorURI         any `json:"error_uri"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", "", ""
	}
	str := func(v any) string { s, _ := v.(string); return s }
	return str(r.Error), str(r.ErrorDescription), str(r.ErrorURI)
}

// challengeError returns error, error_description and error_uri of the
// first challenge, in header order, whose error parameter is set (Bearer,
// DPoP or any other scheme: RFC 6750 §3 defines the parameters, RFC 9449
// §7.1 reuses them for DPoP). A bare "Bearer" gives empty strings.
func challengeError(h http.Header) (code, description, uri string) {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range dpopwire.ParseWWWAuthenticate(v) {
			if e := c.Params["error"]; e != "" {
				return e, c.Params["error_description"], c.Params["error_uri"]
			}
		}
	}
	return "", "", ""
}

// isFormBody reports a form-encoded response body, as x/oauth2 recognises
// one.
func isFormBody(h http.Header) bool {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "text/plain"
}

// RetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): a number
// of seconds or an HTTP date, capped at 24 h either way. Invalid, negative,
// past or absent values give 0. It is the SDK's one Retry-After rule.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d.Round(time.Second), maxRetryAfter)
		}
	}
	return 0
}
