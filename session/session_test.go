package session_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLoginMakesSession: the callback makes a session behind an opaque
// __Host- cookie; a second login in the same browser replaces it under a
// new ID, and the old ID is dead.
func TestLoginMakesSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	cb := b.login()
	sc := setCookie(cb.header, "__Host-session")
	for _, want := range []string{"__Host-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Domain") || strings.Contains(sc, "Max-Age") {
		t.Errorf("Set-Cookie %q: want host-only and a browser-session cookie", sc)
	}
	first := b.cookie()
	if len(first) != 43 {
		t.Errorf("cookie value of %d chars, want 43 (256 random bits)", len(first))
	}
	if st, body := b.me(); st != http.StatusOK || !strings.HasPrefix(body, "alice ") {
		t.Fatalf("/me = %d %q", st, body)
	}
	b.login()
	second := b.cookie()
	if second == first || second == "" {
		t.Fatalf("second login kept the cookie ID")
	}
	if n := e.store.Len(); n != 1 {
		t.Errorf("sessions stored = %d, want 1 (the new login replaced the old)", n)
	}
	old := e.browser()
	old.hc.Jar.SetCookies(mustURL(e.app.URL), []*http.Cookie{{Name: "__Host-session", Value: first, Path: "/", Secure: true}})
	if st, _ := old.me(); st != http.StatusUnauthorized {
		t.Errorf("the replaced session's cookie still works: %d", st)
	}
}

// TestTimeouts: a session ends after IdleTimeout without use, and after
// AbsoluteTimeout however used.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	for range 5 { // used every 20 minutes: alive past the 30-minute idle limit
		e.clock.Advance(20 * time.Minute)
		if st, body := b.me(); st != http.StatusOK {
			t.Fatalf("/me after 20 min = %d %q", st, body)
		}
	}
	e.clock.Advance(31 * time.Minute)
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me after 31 idle minutes = %d, want 401", st)
	}
	b.login()
	for range 36 { // used every 20 minutes for 12 hours
		e.clock.Advance(20 * time.Minute)
		b.me()
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me after 12 h = %d, want 401 (absolute timeout)", st)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// setCookie returns the Set-Cookie field that sets name.
func setCookie(h http.Header, name string) string {
	for _, v := range h.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}
