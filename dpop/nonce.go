package dpop

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// NonceHeader is the response header that carries a server-provided nonce
// (RFC 9449 §8.1).
const NonceHeader = "DPoP-Nonce"

// ErrorUseDPoPNonce is the error code of a nonce challenge (RFC 9449 §8, §9).
const ErrorUseDPoPNonce = "use_dpop_nonce"

// NonceStore keeps the latest DPoP nonce per server origin (RFC 9449 §8.2:
// a nonce is valid for the server that issued it). Implementations must be
// safe for concurrent use.
type NonceStore interface {
	// Nonce returns the latest nonce for origin, or "".
	Nonce(origin string) string
	// SetNonce records nonce for origin; an empty nonce forgets it.
	SetNonce(origin, nonce string)
}

// maxNonceOrigins bounds a MemoryNonceStore.
const maxNonceOrigins = 1024

// MemoryNonceStore is an in-memory [NonceStore], safe for concurrent use.
// Its zero value is ready to use. It keeps at most 1024 origins and forgets
// an arbitrary one when full. It must not be copied after first use.
type MemoryNonceStore struct {
	mu sync.Mutex
	m  map[string]string
}

// Nonce returns the latest nonce for origin, or "".
func (s *MemoryNonceStore) Nonce(origin string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[origin]
}

// SetNonce records nonce for origin; an empty nonce forgets it.
func (s *MemoryNonceStore) SetNonce(origin, nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nonce == "" {
		delete(s.m, origin)
		return
	}
	if s.m == nil {
		s.m = make(map[string]string)
	}
	if _, ok := s.m[origin]; !ok && len(s.m) >= maxNonceOrigins {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[origin] = nonce
}

// Origin returns the origin "scheme://host:port" of rawURL, lower-cased and
// always with a port (443 and 80 filled in for https and http), as the key
// of a [NonceStore]. It returns "" when rawURL has no scheme or host.
func Origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return origin(u)
}

func origin(u *url.URL) string {
	if u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	name, port := splitHostPort(u.Host)
	if name == "" {
		return ""
	}
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	o := scheme + "://" + lowerASCII(name)
	if port != "" {
		o += ":" + port
	}
	return o
}

// ParseNonce returns the DPoP-Nonce header of a response (RFC 9449 §8.1)
// and whether it is present and valid: 1*NQCHAR, where NQCHAR is %x21 /
// %x23-5B / %x5D-7E. Several header lines are accepted only when they are
// equal.
func ParseNonce(h http.Header) (string, bool) {
	vs := h.Values(NonceHeader)
	if len(vs) == 0 {
		return "", false
	}
	n := strings.Trim(vs[0], " \t")
	for _, v := range vs[1:] {
		if strings.Trim(v, " \t") != n {
			return "", false
		}
	}
	if !isNonce(n) {
		return "", false
	}
	return n, true
}

// isNonce reports whether s is 1*NQCHAR (RFC 9449 §8.1).
func isNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// IsUseNonceError reports whether resp is a DPoP nonce challenge: a 400
// from an authorization server whose JSON body has error "use_dpop_nonce"
// (RFC 9449 §8), or a 401 from a resource server with a WWW-Authenticate
// DPoP challenge whose error is "use_dpop_nonce" (§9). body is the
// response body, already read by the caller (it may be nil for a 401).
func IsUseNonceError(resp *http.Response, body []byte) bool {
	if resp == nil {
		return false
	}
	switch resp.StatusCode {
	case http.StatusBadRequest:
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Error == ErrorUseDPoPNonce
	case http.StatusUnauthorized:
		return hasNonceChallenge(resp.Header)
	}
	return false
}

// hasNonceChallenge reports a WWW-Authenticate DPoP challenge with error
// use_dpop_nonce (RFC 9449 §9).
func hasNonceChallenge(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range ParseWWWAuthenticate(v) {
			if strings.EqualFold(c.Scheme, "DPoP") && c.Params["error"] == ErrorUseDPoPNonce {
				return true
			}
		}
	}
	return false
}
