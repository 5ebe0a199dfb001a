package dpopwire

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// nonceHeader is the response header that carries a server-provided nonce
// (RFC 9449 §8.1).
const nonceHeader = "DPoP-Nonce"

// useNonce is the error code of a nonce challenge (RFC 9449 §8, §9).
const useNonce = "use_dpop_nonce"

// Store keeps the latest DPoP nonce per server origin (RFC 9449 §8.2: a
// nonce is valid for the server that issued it). dpop.NonceStore has the
// same methods, so its implementations are Stores.
type Store interface {
	Nonce(origin string) string
	SetNonce(origin, nonce string)
}

// maxNonceOrigins bounds a MemoryStore.
const maxNonceOrigins = 1024

// MemoryStore is an in-memory Store, safe for concurrent use. Its zero
// value is ready to use. It keeps at most 1024 origins and forgets an
// arbitrary one when full. It must not be copied after first use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
}

// Nonce returns the latest nonce for origin, or "".
func (s *MemoryStore) Nonce(origin string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[origin]
}

// SetNonce records nonce for origin; an empty nonce forgets it.
func (s *MemoryStore) SetNonce(origin, nonce string) {
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
// of a Store. It returns "" when rawURL has no scheme or host.
func Origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return OriginOf(u)
}

// OriginOf is Origin for a parsed URL.
func OriginOf(u *url.URL) string {
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
	vs := h.Values(nonceHeader)
	if len(vs) == 0 {
		return "", false
	}
	n := strings.Trim(vs[0], " \t")
	for _, v := range vs[1:] {
		if strings.Trim(v, " \t") != n {
			return "", false
		}
	}
	if !IsNonce(n) {
		return "", false
	}
	return n, true
}

// IsNonce reports whether s is 1*NQCHAR (RFC 9449 §8.1).
func IsNonce(s string) bool {
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

// IsChallenge reports whether a response is a DPoP nonce challenge: a 400
// from an authorization server whose JSON body has error "use_dpop_nonce"
// (RFC 9449 §8), or a 401 from a resource server with a WWW-Authenticate
// DPoP challenge whose error is "use_dpop_nonce" (§9). body may be nil for
// a 401.
func IsChallenge(status int, h http.Header, body []byte) bool {
	switch status {
	case http.StatusBadRequest:
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Error == useNonce
	case http.StatusUnauthorized:
		for _, v := range h.Values("WWW-Authenticate") {
			for _, c := range ParseWWWAuthenticate(v) {
				if strings.EqualFold(c.Scheme, "DPoP") && c.Params["error"] == useNonce {
					return true
				}
			}
		}
	}
	return false
}

// IsToken reports whether s is an RFC 9110 §5.6.2 token (a method name).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTChar(s[i]) {
			return false
		}
	}
	return true
}

func isTChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
