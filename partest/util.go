package partest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	status int
	code   string
	desc   string
	header http.Header // extra headers (WWW-Authenticate, DPoP-Nonce)
	// brokerDesc is the error_description the MitID broker's bare error
	// bodies keep (BrokerLayout): "Invalid JWT request" for
	// invalid_request_object, the broker's code for a CIBA denial.
	brokerDesc string
}

func newError(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidClient(format string, args ...any) *oauthError {
	return newError(http.StatusUnauthorized, "invalid_client", format, args...)
}

func invalidGrant(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_grant", format, args...)
}

// writeError writes e as JSON: RFC 6749 §5.2, or in the MitID broker's
// recorded shape (BrokerLayout): a bare {"error":…} body, 400 even for
// invalid_client and without its WWW-Authenticate challenge, an
// error_description only where the broker sends one, and Cache-Control
// no-store, no-cache, max-age=0 (broker-recorded.md, "Back channel").
func (s *Server) writeError(w http.ResponseWriter, e *oauthError) {
	if !s.recorded() {
		writeRFCError(w, e)
		return
	}
	status := e.status
	for k, vs := range e.header {
		if e.code == "invalid_client" && http.CanonicalHeaderKey(k) == "Www-Authenticate" {
			continue
		}
		w.Header()[k] = vs
	}
	if e.code == "invalid_client" && status == http.StatusUnauthorized {
		status = http.StatusBadRequest
	}
	body := map[string]string{"error": e.code}
	if e.brokerDesc != "" {
		body["error_description"] = e.brokerDesc
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	setBrokerNoCache(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// setBrokerNoCache sets the caching headers of the broker's back-channel
// errors.
func setBrokerNoCache(h http.Header) {
	h.Set("Cache-Control", "no-store, no-cache, max-age=0")
	h.Set("Pragma", "no-cache")
}

// writeRFCError writes e as RFC 6749 §5.2 JSON.
func writeRFCError(w http.ResponseWriter, e *oauthError) {
	for k, vs := range e.header {
		w.Header()[k] = vs
	}
	body := map[string]string{"error": e.code}
	if e.desc != "" {
		body["error_description"] = e.desc
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "partest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// maxForm is the largest form body accepted (413 above it, RFC 9126 §2.3).
const maxForm = 1 << 20

// readForm reads a back-channel POST body: POST only (else 405),
// application/x-www-form-urlencoded only, at most maxForm bytes (else
// 413), and no parameter more than once (RFC 6749 §3.1, §3.2).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, newError(http.StatusMethodNotAllowed, "invalid_request", "method %s not allowed, use POST", r.Method)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("content type must be application/x-www-form-urlencoded")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	if err != nil {
		return nil, invalidRequest("could not read the request body")
	}
	if len(b) > maxForm {
		return nil, newError(http.StatusRequestEntityTooLarge, "invalid_request", "request body too large")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, invalidRequest("malformed form body")
	}
	if err := checkSingle(form); err != nil {
		return nil, err
	}
	return form, nil
}

// checkSingle rejects parameters sent more than once (RFC 6749 §3.1).
func checkSingle(v url.Values) *oauthError {
	for k, vs := range v {
		if len(vs) > 1 {
			return invalidRequest("parameter %s must not be sent more than once", k)
		}
	}
	return nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// isBase64URL43 reports whether v looks like a base64url SHA-256 value
// (PKCE challenges, JWK thumbprints).
func isBase64URL43(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// isPKCEVerifier reports whether v is a valid code_verifier (RFC 7636 §4.1).
func isPKCEVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~':
		default:
			return false
		}
	}
	return true
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// numericDate reads a JWT NumericDate claim (json.Number or float64).
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return time.Time{}, true, fmt.Errorf("%s is not a number", name)
		}
		f = x
	case float64:
		f = n
	default:
		return time.Time{}, true, fmt.Errorf("%s is not a number", name)
	}
	return time.Unix(int64(f), 0), true, nil
}

// stringClaim returns a string claim or "".
func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// audiences returns the aud claim as a list and whether it was a string.
func audiences(claims map[string]any) ([]string, bool, error) {
	switch a := claims["aud"].(type) {
	case string:
		return []string{a}, true, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, v := range a {
			s, ok := v.(string)
			if !ok {
				return nil, false, errors.New("aud holds a non-string")
			}
			out = append(out, s)
		}
		return out, false, nil
	case nil:
		return nil, false, errors.New("aud is missing")
	}
	return nil, false, errors.New("aud is neither a string nor an array")
}

// sameEndpoint compares two URLs as DPoP htu values are compared (RFC 9449
// §4.3): scheme and host case-insensitively, path exactly, without query
// and fragment.
func sameEndpoint(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		ua.EscapedPath() == ub.EscapedPath()
}

// remember records key as used until exp; it reports false when key was
// already used and is not expired. Guarded by s.mu.
func (s *Server) rememberLocked(key string, exp time.Time) bool {
	now := s.Config.Now()
	if until, ok := s.seen[key]; ok && now.Before(until) {
		return false
	}
	if len(s.seen) > 1000 {
		for k, until := range s.seen {
			if !now.Before(until) {
				delete(s.seen, k)
			}
		}
	}
	s.seen[key] = exp
	return true
}

func (s *Server) remember(key string, exp time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rememberLocked(key, exp)
}

var errNoKey = errors.New("no matching key")

func parseAbs(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() {
		return nil, errors.New("not an absolute URL")
	}
	return u, nil
}
