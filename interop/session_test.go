package interop_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/interop/internal/opharness"
	parlogin "github.com/go-par/par/login"
	"github.com/go-par/par/session"
)

// TestSessionAgainstNodeOIDCProvider: package session against
// node-oidc-provider: a login makes the session; with its access token
// expired, a resource call (the provider's UserInfo) through the session's
// client refreshes it once and succeeds, and the rotated refresh token is
// kept; the user's logout at the provider posts a logout token (its
// backchannelLogout feature) to the app, which ends the session.
func TestSessionAgainstNodeOIDCProvider(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var handler atomic.Pointer[http.ServeMux]
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer app.Close()
	secret := randomSecret()
	op, err := opharness.Start(ctx, opharness.Options{Dir: ".", RedirectURI: app.URL + "/auth/callback",
		Secrets: map[string]string{"session": secret}, BackchannelLogoutURI: app.URL + "/auth/backchannel",
		Env: []string{"GOPAR_INTEROP_DEBUG=1"}}) // back-channel delivery errors go to op.Stderr
	if err != nil {
		opharness.SkipOrFail(t, err)
	}
	defer op.Close()

	// The app's back channel, counting refresh_token grants.
	var refreshes atomic.Int32
	base := http.DefaultTransport
	hc := &http.Client{Timeout: 30 * time.Second, Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && r.GetBody != nil {
			if b, err := r.GetBody(); err == nil {
				form, _ := io.ReadAll(b)
				if f, _ := url.ParseQuery(string(form)); f.Get("grant_type") == "refresh_token" {
					refreshes.Add(1)
				}
			}
		}
		return base.RoundTrip(r)
	})}
	c, err := client.New(ctx, client.Config{Issuer: op.Issuer, ClientID: "session", Auth: client.ClientSecretBasic(secret),
		RedirectURL: app.URL + "/auth/callback", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	// The Manager's clock runs ahead when the test says so: the access
	// token is then past its expiry for the session (the provider's own
	// clock, and the ID token checks, keep real time).
	var ahead atomic.Int64
	var mu sync.Mutex
	var loginErr error
	m, err := session.New(session.Config{Client: c, IdleTimeout: 4 * time.Hour,
		Now:    func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) },
		Cookie: session.CookieConfig{InsecureCookie: true}, // plain http in the test
		Login: parlogin.Config{Cookie: parlogin.CookieConfig{InsecureCookie: true}, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			loginErr = err
			mu.Unlock()
			parlogin.DefaultOnError(w, r, err)
		}},
		OnLogin: func(w http.ResponseWriter, r *http.Request, _ *session.Session) {
			http.Redirect(w, r, "/me", http.StatusSeeOther)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", m.Login().Mux("/auth"))
	mux.HandleFunc("POST /auth/backchannel", m.BackChannelLogout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, s.Subject+" "+s.SID)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		rc, err := m.Client(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		resp, err := rc.Get(c.Metadata().UserinfoEndpoint)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	})
	handler.Store(mux)

	jar, _ := cookiejar.New(nil)
	user := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		resp, err := user.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}

	// Login: the app's start, the provider's headless login, the callback.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, app.URL+"/auth/login", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := user.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	browser, err := opharness.NewBrowser(app.URL + "/auth/callback")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := browser.Authorize(ctx, resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if st, loc := get("/auth/callback?" + cb.Params.Encode()); st != http.StatusSeeOther {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("callback = %d %q (%v)", st, loc, loginErr)
	}
	st, me := get("/me")
	sub, sid, _ := strings.Cut(me, " ")
	if st != http.StatusOK || sub != testUser || sid == "" {
		t.Fatalf("/me = %d %q, want %s with the provider's sid", st, me, testUser)
	}

	// The access token has expired (for the session): one refresh, then
	// the call; the refreshed token then serves without refreshing.
	ahead.Store(int64(2 * time.Hour))
	if st, body := get("/api"); st != http.StatusOK || !strings.Contains(body, testUser) {
		t.Fatalf("/api with an expired token = %d %q", st, body)
	}
	if n := refreshes.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	ahead.Store(0)
	if st, body := get("/api"); st != http.StatusOK {
		t.Errorf("/api after the refresh = %d %q", st, body)
	}
	ahead.Store(int64(2 * time.Hour))
	if st, body := get("/api"); st != http.StatusOK || refreshes.Load() != 2 {
		t.Errorf("/api refreshing with the rotated refresh token = %d %q (refreshes %d)", st, body, refreshes.Load())
	}
	ahead.Store(0)

	// The user logs out at the provider: node-oidc-provider posts a logout
	// token for the session's sid to the app, which ends the session.
	if err := browser.Logout(ctx, c.Metadata().EndSessionEndpoint); err != nil {
		t.Fatalf("logout at the provider: %v\n%s", err, op.Stderr())
	}
	if st, body := get("/me"); st != http.StatusUnauthorized {
		t.Errorf("/me after the provider's back-channel logout = %d %q, want 401\nprovider: %s", st, body, op.Stderr())
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
