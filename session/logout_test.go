package session_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

// sid returns the provider session of the latest login (one not in
// known).
func (e *env) sid(known ...string) string {
	e.t.Helper()
	for _, s := range e.srv.Sessions("app") {
		if !slices.Contains(known, s) {
			return s
		}
	}
	e.t.Fatal("partest has no new session of the app")
	return ""
}

// TestBackChannelLogout: the provider's logout token ends the sessions of
// its sid; a replayed or malformed token is refused with 400, every answer
// is no-store.
func TestBackChannelLogout(t *testing.T) {
	t.Parallel()
	for _, inCookie := range []bool{false, true} {
		t.Run(map[bool]string{false: "server-side", true: "cookie sessions"}[inCookie], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{session: func(c *session.Config) { c.CookieSessions = inCookie }})
			b, other := e.browser(), e.browser()
			b.login()
			sid := e.sid()
			other.login()
			otherSID := e.sid(sid)
			claims, err := e.srv.LogoutTokenClaims("app", sid)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := e.srv.SignLogoutToken(claims)
			uri := e.plain.URL + "/auth/backchannel"
			if err := partest.PostLogoutToken(context.Background(), uri, tok); err != nil {
				t.Fatalf("logout token refused: %v", err)
			}
			if st, _ := b.me(); st != http.StatusUnauthorized {
				t.Errorf("/me of the logged-out session = %d, want 401", st)
			}
			if st, _ := other.me(); st != http.StatusOK {
				t.Errorf("/me of another provider session = %d, want 200", st)
			}
			if err := partest.PostLogoutToken(context.Background(), uri, tok); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
				t.Errorf("replayed logout token: %v, want 400", err)
			}
			// The provider's own path: EndSession of the other's session.
			if err := e.srv.EndSession(context.Background(), otherSID); err != nil {
				t.Fatalf("EndSession: %v", err)
			}
			if st, _ := other.me(); st != http.StatusUnauthorized {
				t.Errorf("/me after EndSession = %d, want 401", st)
			}
		})
	}
}

func TestBackChannelLogoutRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	sid := e.sid()
	forge := func(mod func(map[string]any)) string {
		c, err := e.srv.LogoutTokenClaims("app", sid)
		if err != nil {
			t.Fatal(err)
		}
		mod(c)
		s, err := e.srv.SignLogoutToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"no events", url.Values{"logout_token": {forge(func(c map[string]any) { delete(c, "events") })}}},
		{"has nonce", url.Values{"logout_token": {forge(func(c map[string]any) { c["nonce"] = "n" })}}},
		{"wrong aud", url.Values{"logout_token": {forge(func(c map[string]any) { c["aud"] = "other" })}}},
		{"wrong signature", url.Values{"logout_token": {func() string {
			s := forge(func(map[string]any) {})
			return s[:len(s)-4] + "AAAA"
		}()}}},
		{"neither sid nor sub", url.Values{"logout_token": {forge(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") })}}},
		{"old without exp", url.Values{"logout_token": {forge(func(c map[string]any) {
			delete(c, "exp")
			c["iat"] = time.Now().Add(-11 * time.Minute).Unix()
		})}}},
		{"no token", url.Values{}},
		{"two tokens", url.Values{"logout_token": {forge(func(map[string]any) {}), forge(func(map[string]any) {})}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(e.plain.URL+"/auth/backchannel", tt.form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d, Cache-Control %q; want 400 no-store", tt.name, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		})
	}
	resp, err := http.Get(e.plain.URL + "/auth/backchannel")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("GET = %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if st, _ := b.me(); st != http.StatusOK {
		t.Errorf("/me after refused logout tokens = %d, want 200", st)
	}
	// A valid one, for the sub only: every session of the user ends.
	if err := partest.PostLogoutToken(context.Background(), e.plain.URL+"/auth/backchannel",
		forge(func(c map[string]any) { delete(c, "sid") })); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me after a sub-only logout = %d, want 401", st)
	}
}

// TestFrontChannelLogout: the provider's iframe request (no cookies) ends
// the sessions of its sid; a wrong iss is refused; the page may be framed
// by the provider only.
func TestFrontChannelLogout(t *testing.T) {
	t.Parallel()
	for _, inCookie := range []bool{false, true} {
		t.Run(map[bool]string{false: "server-side", true: "cookie sessions"}[inCookie], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{session: func(c *session.Config) { c.CookieSessions = inCookie }})
			b := e.browser()
			b.login()
			sid := e.sid()
			iframe := e.browser() // no cookies, as a SameSite=Lax cookie in a cross-site iframe
			if r := iframe.do(http.MethodGet, "/auth/frontchannel?"+url.Values{"iss": {"https://evil.example"}, "sid": {sid}}.Encode(), nil, nil); r.status != http.StatusBadRequest {
				t.Errorf("wrong iss = %d, want 400", r.status)
			}
			if st, _ := b.me(); st != http.StatusOK {
				t.Fatalf("/me = %d", st)
			}
			r := iframe.do(http.MethodGet, "/auth/frontchannel?"+url.Values{"iss": {e.srv.Issuer()}, "sid": {sid}}.Encode(), nil, nil)
			if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" ||
				!strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors "+e.srv.URL) {
				t.Errorf("front-channel logout = %d, Cache-Control %q, CSP %q", r.status, r.header.Get("Cache-Control"), r.header.Get("Content-Security-Policy"))
			}
			if st, _ := b.me(); st != http.StatusUnauthorized {
				t.Errorf("/me after the front-channel logout = %d, want 401", st)
			}
		})
	}
}

// TestRPLogout: the logout ends the local session before the browser goes
// to the provider with the ID token as id_token_hint, and asks the browser
// to drop the site's cache.
func TestRPLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	r := b.do(http.MethodPost, "/auth/logout", sameOrigin, url.Values{})
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), e.srv.Issuer()) || loc.Query().Get("id_token_hint") == "" {
		t.Fatalf("logout = %d %q, want 303 to the end-session endpoint with id_token_hint", r.status, r.header.Get("Location"))
	}
	if r.header.Get("Clear-Site-Data") != `"cache"` {
		t.Errorf("Clear-Site-Data = %q", r.header.Get("Clear-Site-Data"))
	}
	if n := e.store.Len(); n != 0 {
		t.Errorf("sessions after logout = %d, want 0 (ended before the redirect)", n)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me after logout = %d", st)
	}
}
