package client

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Error codes of RFC 6749 §5.2 and §4.1.2.1, RFC 9126 §2.3 and RFC 9449 §12.2
// that callers commonly act on. Compare them with [ResponseError].Code or
// [AuthorizationError].Code.
const (
	CodeInvalidRequest           = "invalid_request"
	CodeInvalidClient            = "invalid_client"
	CodeInvalidGrant             = "invalid_grant"
	CodeUnauthorizedClient       = "unauthorized_client"
	CodeUnsupportedGrantType     = "unsupported_grant_type"
	CodeInvalidScope             = "invalid_scope"
	CodeAccessDenied             = "access_denied"
	CodeServerError              = "server_error"
	CodeTemporarilyUnavailable   = "temporarily_unavailable"
	CodeInvalidRequestObject     = "invalid_request_object"
	CodeInvalidRequestURI        = "invalid_request_uri"
	CodeInvalidDPoPProof         = "invalid_dpop_proof"
	CodeUseDPoPNonce             = "use_dpop_nonce"
	CodeLoginRequired            = "login_required"
	CodeConsentRequired          = "consent_required"
	CodeInteractionRequired      = "interaction_required"
	CodeRequestNotSupported      = "request_not_supported"
	CodeRequestURINotSupported   = "request_uri_not_supported"
	CodeRegistrationNotSupported = "registration_not_supported"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrStateMismatch: the callback's state is not the flow's (CSRF or a
	// mixed-up flow).
	ErrStateMismatch = errors.New("client: callback: state mismatch")
	// ErrIssuerMismatch: the callback's iss is not the issuer, or is missing
	// although the provider advertises RFC 9207 support (RFC 9207 §2.4).
	ErrIssuerMismatch = errors.New("client: callback: issuer mismatch")
	// ErrNonceMismatch: the ID token's nonce is not the flow's.
	ErrNonceMismatch = errors.New("client: id token: nonce mismatch")
	// ErrRequestURIExpired: the flow's request_uri has expired (or is about
	// to); push again (RFC 9126 §4).
	ErrRequestURIExpired = errors.New("client: request_uri expired")
	// ErrMissingCode: the callback carries neither a code nor an error.
	ErrMissingCode = errors.New("client: callback: missing code")
	// ErrNoIDToken: the token response carries no id_token although openid
	// was requested.
	ErrNoIDToken = errors.New("client: token: no id_token in response")
	// ErrMaxAgeExceeded: max_age was pushed and the ID token's auth_time is
	// missing or older (OIDC Core §3.1.2.1, §3.1.3.7 item 13); authenticate
	// again. Errors wrapping it also wrap ErrInvalidIDToken.
	ErrMaxAgeExceeded = errors.New("client: id token: auth_time older than max_age")
	// ErrTokenType: the token_type is not the one asked for (DPoP asked,
	// Bearer given).
	ErrTokenType = errors.New("client: token: unexpected token_type")
	// ErrSubjectMismatch: the UserInfo sub is not the ID token's
	// (OIDC Core §5.3.2).
	ErrSubjectMismatch = errors.New("client: userinfo: sub mismatch")
	// ErrInvalidResponse: a provider response was malformed (not JSON,
	// missing or wrong-typed members, oversized).
	ErrInvalidResponse = errors.New("client: invalid response")
	// ErrReservedParameter: a caller tried to set a parameter that the SDK owns
	// (request_uri, a different client_id, PKCE parameters).
	ErrReservedParameter = errors.New("client: reserved parameter")
)

// ResponseError is an error response from a back-channel endpoint (PAR,
// token, UserInfo): RFC 6749 §5.2 and RFC 9126 §2.3. It never holds request
// secrets: a provider may echo the request in its error, so in every
// provider-written member (Code, Description, URI, Header and Body) the
// values the client sent — its client secret, client assertion and DPoP
// proof, the codes, verifiers, tokens, request object, state and nonce of
// the request — are replaced by "[redacted]" before the error is made.
// Values shorter than 8 bytes are left alone (they would cut ordinary
// words). Error() and log lines therefore cannot show them either.
type ResponseError struct {
	// Endpoint is "par", "token", "userinfo" or another endpoint name.
	Endpoint string
	// URL is the endpoint URL.
	URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code, Description and URI are the RFC 6749 §5.2 error members, empty
	// when the body was not an OAuth error (e.g. an HTML error page).
	Code        string
	Description string
	URI         string
	// RetryAfter is the parsed Retry-After delay (429/503), zero if none.
	RetryAfter time.Duration
	// Header is the response header, with echoed values redacted.
	Header http.Header
	// Body is the response body, at most 1 MiB: a redacted copy. Each
	// echoed value is replaced in place when it appears as sent or in a
	// common encoding (form-, path-, JSON- or HTML-escaped, base64); a JSON
	// body in which a value still shows after that is re-encoded from its
	// decoded form with the value redacted, and any other such body is
	// replaced by a note saying it was withheld.
	Body []byte

	cause error
}

// Error describes the response: endpoint, OAuth error code and description
// (RFC 6749 §5.2) or the bare HTTP status, and any Retry-After delay.
func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
		if e.Description != "" {
			b.WriteString(": ")
			b.WriteString(truncate(e.Description, 200))
		}
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	} else {
		fmt.Fprintf(&b, "unexpected HTTP status %d", e.StatusCode)
		switch e.StatusCode {
		case http.StatusMethodNotAllowed:
			b.WriteString(" (method not allowed)")
		case http.StatusRequestEntityTooLarge:
			b.WriteString(" (request too large)")
		case http.StatusTooManyRequests:
			b.WriteString(" (too many requests)")
		case http.StatusServiceUnavailable:
			b.WriteString(" (service unavailable)")
		}
		if ct := e.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
			b.WriteString(" with ")
			b.WriteString(truncate(ct, 60))
			b.WriteString(" body")
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the underlying *oauth2.RetrieveError for token errors.
func (e *ResponseError) Unwrap() error { return e.cause }

// Temporary reports whether the error is one a caller may retry later
// (429, 503, temporarily_unavailable).
func (e *ResponseError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable ||
		e.Code == CodeTemporarilyUnavailable
}

// AuthorizationError is an error returned by the authorization endpoint in
// the callback (RFC 6749 §4.1.2.1). Brokers put sub-codes in the
// description, e.g. access_denied with "mitid_user_aborted". When it comes
// from [Client.Exchange], Code, Description and URI have the values the
// client knows (its secret, the flow's state, nonce and verifier, a code in
// the callback) replaced by "[redacted]", as in [ResponseError].
type AuthorizationError struct {
	Code        string
	Description string
	URI         string
	// State is the state the provider returned, already checked against the
	// flow when the error comes from Exchange.
	State string
}

// Error shows the provider's error code and description (RFC 6749
// §4.1.2.1), truncated.
func (e *AuthorizationError) Error() string {
	s := "client: authorization: " + truncate(e.Code, 100)
	if e.Description != "" {
		s += ": " + truncate(e.Description, 200)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3): seconds or
// an HTTP date, capped at 24 h. Invalid, negative or absent values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d.Round(time.Second), 24*time.Hour)
		}
	}
	return 0
}

// fromRetrieveError turns x/oauth2's token error into a *ResponseError.
func fromRetrieveError(endpoint, url string, re *oauth2.RetrieveError, now time.Time) *ResponseError {
	e := &ResponseError{Endpoint: endpoint, URL: url, Code: re.ErrorCode, Description: re.ErrorDescription,
		URI: re.ErrorURI, Body: re.Body, cause: re}
	if re.Response != nil {
		e.StatusCode = re.Response.StatusCode
		e.Header = re.Response.Header
		e.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), now)
	}
	return e
}
