package site

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-par/par/partest"
)

// TestErrorPageHidesProviderText: anybody can write a callback URL, so the
// error page never shows the provider's error_description or error_uri
// (nor a "code" that is a sentence), with or without a valid state: it
// shows a fixed message (for a code outside the broker's catalogue, the
// generic denial), and the detail goes to the log.
// The code before showed the error's own text, description included.
func TestErrorPageHidesProviderText(t *testing.T) {
	t.Parallel()
	const phish = "Your account is locked - call 70 12 34 56"
	tests := []struct {
		name      string
		withState bool
		code      string
		want      string
		status    int
	}{
		// A description outside the broker's catalogue: a generic denial
		// (mitid.OutcomeUnknown).
		{"no state", false, "access_denied", "The login was denied or did not complete.", http.StatusForbidden},
		{"state of a started login", true, "access_denied", "The login was denied or did not complete.", http.StatusForbidden},
		{"a sentence as the code", true, "Call_70123456 to unlock", "The login was denied or did not complete.", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ta := newTestApp(t, Config{})
			hc := browser(t)
			do(t, hc, http.MethodGet, ta.url+"/", nil)
			q := url.Values{"error": {tt.code}, "error_description": {phish}, "error_uri": {"https://evil.example/help"}}
			if tt.withState {
				if resp, _ := do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{}); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("login start = %d", resp.StatusCode)
				}
				q.Set("state", latestState(t, ta))
				q.Set("iss", ta.embedded.Issuer())
			}
			resp, page := do(t, hc, http.MethodGet, ta.url+"/auth/callback?"+q.Encode(), nil)
			if resp.StatusCode != tt.status || !strings.Contains(page, tt.want) {
				t.Fatalf("callback = %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.want, page)
			}
			for _, bad := range []string{"locked", "70 12 34 56", "evil.example", "Call_70123456", "unlock"} {
				if strings.Contains(page, bad) {
					t.Errorf("error page shows provider-written text %q", bad)
				}
			}
			if !strings.Contains(page, "Login denied") {
				t.Errorf("error page is not titled Login denied")
			}
			if logs := ta.logs.String(); !strings.Contains(logs, "call 70 12 34 56") {
				t.Errorf("the log lacks the error_description")
			}
		})
	}
}

// latestState is the state of the last login pushed to the embedded
// provider, read from the app's pending traces.
func latestState(t *testing.T, ta *testApp) string {
	t.Helper()
	ta.pending.mu.Lock()
	defer ta.pending.mu.Unlock()
	for i := len(ta.pending.order) - 1; i >= 0; i-- {
		if _, ok := ta.pending.m[ta.pending.order[i]]; ok {
			return ta.pending.order[i]
		}
	}
	t.Fatal("no pending login")
	return ""
}

// sessionCookieOf returns the session cookie the jar holds for the app.
func sessionCookieOf(t *testing.T, hc *http.Client, ta *testApp) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(ta.url)
	for _, c := range hc.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "webapp-session") {
			return c
		}
	}
	t.Fatal("no session cookie after login")
	return nil
}

// TestLoginAgainReplacesSession: a second login in the same browser gets
// a new session id and the old one is dead. The code before kept both
// alive.
func TestLoginAgainReplacesSession(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	users := TestUsers()
	hc, cb, _ := scriptedLogin(t, ta, users[0].Subject)
	resp, _ := do(t, hc, http.MethodGet, cb, nil)
	sc := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"__Host-webapp-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session Set-Cookie lacks %q:\n%s", want, sc)
		}
	}
	first := sessionCookieOf(t, hc, ta)

	hc, cb, _ = scriptedLoginWith(t, ta, users[1].Subject, hc, embeddedClientID)
	do(t, hc, http.MethodGet, cb, nil)
	second := sessionCookieOf(t, hc, ta)
	if second.Value == first.Value {
		t.Fatal("the second login kept the session id")
	}
	resp, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, users[1].Subject) {
		t.Errorf("GET /me = %d, want the second user's page", resp.StatusCode)
	}
	// The old id opens nothing.
	old := &http.Client{CheckRedirect: hc.CheckRedirect}
	req, _ := http.NewRequest(http.MethodGet, ta.url+"/me", nil)
	req.AddCookie(&http.Cookie{Name: first.Name, Value: first.Value})
	r, err := old.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /me with the previous session id = %d, want 303 to /", r.StatusCode)
	}
}

// TestFlowCookiesAreHostPrefixed: on the loopback development setup the
// login's binding cookie and the app's cookies keep __Host- and Secure
// (browsers accept them from http://127.0.0.1). The code before used
// plain-named, non-Secure cookies there.
func TestFlowCookiesAreHostPrefixed(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	hc := browser(t)
	resp, _ := do(t, hc, http.MethodGet, ta.url+"/", nil)
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "__Host-webapp-cookies=") || !strings.Contains(sc, "Secure") {
		t.Errorf("home page Set-Cookie = %q, want the __Host- probe cookie", sc)
	}
	resp, _ = do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{})
	sc := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(sc, "__Host-par-b-") || !strings.Contains(sc, "Secure") {
		t.Errorf("login start Set-Cookie = %q, want a Secure __Host-par-b- binding cookie", sc)
	}
}

// TestFirstRunTraps: what a first run in a real browser runs into. The
// code before redirected nobody, let a browser without cookies through to
// the provider, answered a reloaded callback with "Login failed" and
// titled a refused logout "Login failed".
func TestFirstRunTraps(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	u, _ := url.Parse(ta.url)

	t.Run("localhost goes to the redirect URI's host", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ta.url+"/me?x=1", nil)
		req.Host = "localhost:" + u.Port()
		resp, err := browser(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != ta.url+"/me?x=1" {
			t.Errorf("GET http://localhost/me = %d %q, want 302 to %s/me?x=1", resp.StatusCode, resp.Header.Get("Location"), ta.url)
		}
	})

	t.Run("other hosts are left alone", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ta.url+"/", nil)
		req.Host = "app.example"
		resp, err := browser(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET / with Host app.example = %d, want 200", resp.StatusCode)
		}
	})

	t.Run("cookies blocked", func(t *testing.T) {
		pushes := ta.embedded.Requests(partest.EndpointPAR)
		noJar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do(t, noJar, http.MethodGet, ta.url+"/", nil)
		resp, page := do(t, noJar, http.MethodPost, ta.url+"/auth/login", url.Values{})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Cookies are blocked") ||
			!strings.Contains(page, "Allow cookies for "+u.Host) || strings.Contains(page, "start again") {
			t.Errorf("login start without cookies = %d:\n%s", resp.StatusCode, page)
		}
		if n := ta.embedded.Requests(partest.EndpointPAR); n != pushes {
			t.Errorf("a start without cookies pushed (%d pushes, want %d)", n, pushes)
		}
	})

	t.Run("reloaded callback while logged in", func(t *testing.T) {
		hc, cb, _ := scriptedLogin(t, ta, TestUsers()[0].Subject)
		do(t, hc, http.MethodGet, cb, nil)
		resp, page := do(t, hc, http.MethodGet, cb, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" || strings.Contains(page, "Login failed") {
			t.Errorf("reloaded callback = %d %q, want 303 /me", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("refused logout", func(t *testing.T) {
		for _, req := range []struct {
			method string
			header http.Header
			status int
		}{
			{http.MethodGet, nil, http.StatusMethodNotAllowed},
			{http.MethodPost, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		} {
			r, _ := http.NewRequest(req.method, ta.url+"/auth/logout", nil)
			for k, v := range req.header {
				r.Header[k] = v
			}
			resp, err := browser(t).Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(b)
			if resp.StatusCode != req.status || strings.Contains(page, "Login failed") || !strings.Contains(page, "<title>Logout failed") {
				t.Errorf("%s /auth/logout = %d, want %d titled Logout failed:\n%s", req.method, resp.StatusCode, req.status, page)
			}
		}
	})
}
