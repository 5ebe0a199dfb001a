package login

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// cookieAttrs are the resolved attributes of the cookies package login sets.
type cookieAttrs struct {
	prefix   string
	path     string
	domain   string
	secure   bool
	sameSite http.SameSite
}

func resolveCookie(name, path, domain string, sameSite http.SameSite, insecure bool) cookieAttrs {
	a := cookieAttrs{prefix: name, path: path, domain: domain, secure: !insecure, sameSite: sameSite}
	if a.path == "" {
		a.path = "/"
	}
	if a.sameSite == 0 || a.sameSite == http.SameSiteDefaultMode {
		a.sameSite = http.SameSiteLaxMode
	}
	if a.prefix == "" {
		// RFC 6265bis §4.1.3.2: __Host- cookies are Secure, host-only, Path=/.
		if a.secure && a.path == "/" && a.domain == "" {
			a.prefix = "__Host-par"
		} else {
			a.prefix = "par"
		}
	}
	return a
}

// stateKey is a short, cookie-name-safe digest of a state: 96 bits of
// SHA-256, base64url. Two tabs' flows get different names.
func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// name returns the cookie name for a kind ("f" flow, "b" binding) and state.
func (a cookieAttrs) name(kind, state string) string {
	return a.prefix + "-" + kind + "-" + stateKey(state)
}

// cookie builds a cookie living until expires.
func (a cookieAttrs) cookie(name, value string, now, expires time.Time) *http.Cookie {
	maxAge := int(expires.Sub(now).Round(time.Second) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	return &http.Cookie{Name: name, Value: value, Path: a.path, Domain: a.domain, MaxAge: maxAge,
		Secure: a.secure, HttpOnly: true, SameSite: a.sameSite}
}

// clear builds a cookie that deletes name.
func (a cookieAttrs) clear(name string) *http.Cookie {
	return &http.Cookie{Name: name, Value: "", Path: a.path, Domain: a.domain, MaxAge: -1,
		Secure: a.secure, HttpOnly: true, SameSite: a.sameSite}
}

// isKind reports whether a cookie name is one of ours of the given kind.
func (a cookieAttrs) isKind(name, kind string) bool {
	return strings.HasPrefix(name, a.prefix+"-"+kind+"-")
}
