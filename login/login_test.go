package login_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

var stores = []struct {
	name   string
	cookie bool
}{
	{"memory", false},
	{"cookie", true},
}

func TestLogin(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: st.cookie})
			b := a.browser()

			authURL := b.start()
			u, err := url.Parse(authURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(func(yield func(string) bool) {
				for k := range u.Query() {
					if !yield(k) {
						return
					}
				}
			}); !slices.Equal(got, []string{"client_id", "request_uri"}) {
				t.Errorf("authorization URL parameters = %v, want client_id and request_uri only", got)
			}
			wantCookie := "__Host-par-b-"
			if st.cookie {
				wantCookie = "__Host-par-f-"
			}
			if names := b.cookies(); len(names) != 1 || !strings.HasPrefix(names[0], wantCookie) {
				t.Errorf("cookies after start = %v, want one %s…", names, wantCookie)
			}

			params := b.authorize(authURL)
			r := b.callback(params)
			if r.status != http.StatusOK || r.body != "alice" {
				t.Fatalf("callback = %d %q (err %v), want 200 alice", r.status, r.body, a.lastErr())
			}
			if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("callback Referrer-Policy = %q, want no-referrer", got)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("callback Cache-Control = %q, want no-store", got)
			}
			if names := b.cookies(); len(names) != 0 {
				t.Errorf("cookies after callback = %v, want none", names)
			}
			tok := a.logins[0]
			var claims struct {
				Name  string `json:"name"`
				Email string `json:"email"`
			}
			if err := tok.IDToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Name != "Alice Andersen" || tok.IDToken.Issuer != a.srv.Issuer() || tok.Token.AccessToken == "" {
				t.Errorf("tokens: name %q issuer %q access token set %v", claims.Name, tok.IDToken.Issuer, tok.Token.AccessToken != "")
			}
			if n := a.srv.Requests(partest.EndpointPAR); n != 1 {
				t.Errorf("PAR requests = %d, want 1", n)
			}
			if n := a.srv.Requests(partest.EndpointToken); n != 1 {
				t.Errorf("token requests = %d, want 1", n)
			}

			// Replay: the same callback again, from the same browser and
			// from another one.
			for _, who := range []*browser{b, a.browser()} {
				r = who.callback(params)
				err := a.lastErr()
				var le *login.Error
				if r.status != http.StatusBadRequest || !errors.Is(err, login.ErrFlowNotFound) || !errors.As(err, &le) || le.Op != login.OpCallback {
					t.Errorf("replayed callback = %d, err %v; want 400 ErrFlowNotFound at callback", r.status, err)
				}
			}
			if n := a.loginCount(); n != 1 {
				t.Errorf("logins = %d, want 1 (replays must not log in)", n)
			}
			if n := a.srv.Requests(partest.EndpointToken); n != 1 {
				t.Errorf("token requests after replays = %d, want 1", n)
			}
		})
	}
}

// TestLoginFormPost completes logins whose response comes back as a
// form_post (OAuth 2.0 Form Post Response Mode), as the MitID broker's do.
func TestLoginFormPost(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: st.cookie, client: func(c *client.Config) { c.ResponseMode = "form_post" }})
			b := a.browser()
			params := b.authorize(b.start())
			if params.Get("code") == "" {
				t.Fatalf("provider answered %v", params)
			}
			r := b.do(http.MethodPost, "/callback", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"null"}}, params)
			if r.status != http.StatusOK || r.body != "alice" {
				t.Fatalf("form_post callback = %d %q (%v), want 200 alice", r.status, r.body, a.lastErr())
			}
			r = b.do(http.MethodPost, "/callback", nil, params)
			if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), login.ErrFlowNotFound) {
				t.Errorf("replayed form_post = %d, %v; want 400 ErrFlowNotFound", r.status, a.lastErr())
			}
		})
	}
}

func TestCallbackStateMismatch(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: st.cookie})
			b := a.browser()
			params := b.authorize(b.start())

			forged := url.Values{}
			for k, v := range params {
				forged[k] = v
			}
			forged.Set("state", "forged-"+params.Get("state"))
			r := b.callback(forged)
			if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), login.ErrFlowNotFound) {
				t.Errorf("forged state = %d, %v; want 400 ErrFlowNotFound", r.status, a.lastErr())
			}
			forged.Del("state")
			r = b.callback(forged)
			if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), client.ErrStateMismatch) {
				t.Errorf("no state = %d, %v; want 400 ErrStateMismatch", r.status, a.lastErr())
			}
			// The genuine flow is untouched by the forgeries.
			if r := b.callback(params); r.status != http.StatusOK || r.body != "alice" {
				t.Errorf("genuine callback after forgeries = %d %q, want 200 alice", r.status, r.body)
			}
		})
	}
}

// TestCallbackStoreReturnsOtherFlow: a broken store hands out another flow
// than the one asked for; client.Exchange must catch it.
func TestCallbackStoreReturnsOtherFlow(t *testing.T) {
	t.Parallel()
	mem := login.NewMemoryStore(login.MemoryOptions{})
	var mu sync.Mutex
	var saved []*client.Flow
	st := storeFuncs{
		save: func(f *client.Flow) { mu.Lock(); saved = append(saved, f); mu.Unlock() },
		take: func(state string) (*client.Flow, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, f := range saved {
				if f.State != state {
					return f, nil
				}
			}
			return nil, login.ErrFlowNotFound
		},
		Store: mem,
	}
	a := newApp(t, appOptions{login: func(c *login.Config) { c.Store = st }})
	b := a.browser()
	b.start()
	params := b.authorize(b.start())
	r := b.callback(params)
	if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), client.ErrStateMismatch) {
		t.Errorf("callback with another flow = %d, %v; want 400 ErrStateMismatch", r.status, a.lastErr())
	}
	var le *login.Error
	if !errors.As(a.lastErr(), &le) || le.Op != login.OpExchange {
		t.Errorf("error op = %v, want exchange", a.lastErr())
	}
	if a.loginCount() != 0 {
		t.Error("login happened with another flow")
	}
}

type storeFuncs struct {
	login.Store
	save func(*client.Flow)
	take func(string) (*client.Flow, error)
}

func (s storeFuncs) Save(ctx context.Context, w http.ResponseWriter, r *http.Request, f *client.Flow, exp time.Time) error {
	s.save(f)
	return s.Store.Save(ctx, w, r, f, exp)
}

func (s storeFuncs) Take(ctx context.Context, w http.ResponseWriter, r *http.Request, state string) (*client.Flow, error) {
	if s.take == nil {
		return s.Store.Take(ctx, w, r, state)
	}
	return s.take(state)
}

func TestCallbackOtherBrowser(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cookie bool
		want   error
	}{
		{"memory", false, login.ErrBrowserMismatch},
		{"cookie", true, login.ErrFlowNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: tc.cookie})
			attacker, victim := a.browser(), a.browser()
			// Login CSRF: the attacker's own callback, delivered by the victim.
			params := attacker.authorize(attacker.start())
			r := victim.callback(params)
			if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), tc.want) {
				t.Errorf("callback in another browser = %d, %v; want 400 %v", r.status, a.lastErr(), tc.want)
			}
			if a.loginCount() != 0 || a.srv.Requests(partest.EndpointToken) != 0 {
				t.Error("the victim's browser completed the attacker's login")
			}
		})
	}
}

func TestCallbackProviderError(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{login: func(c *login.Config) {
		c.PushOptions = func(r *http.Request) []oauth2.AuthCodeOption {
			if p := r.URL.Query().Get("prompt"); p != "" {
				return []oauth2.AuthCodeOption{client.WithPrompt(p)}
			}
			if s := r.URL.Query().Get("state"); s != "" {
				return []oauth2.AuthCodeOption{client.WithParam("state", s)}
			}
			return nil
		}
	}})

	t.Run("access_denied", func(t *testing.T) {
		b := a.browser()
		state := "known-state-" + rand.Text()
		r := b.do(http.MethodPost, "/login?state="+state, sameOrigin, url.Values{})
		if r.status != http.StatusSeeOther {
			t.Fatalf("start = %d", r.status)
		}
		// What the broker sends when the user aborts MitID.
		r = b.callback(url.Values{"error": {"access_denied"}, "error_description": {"mitid_user_aborted"},
			"state": {state}, "iss": {a.srv.Issuer()}})
		var ae *client.AuthorizationError
		if !errors.As(a.lastErr(), &ae) || ae.Code != "access_denied" || ae.Description != "mitid_user_aborted" {
			t.Fatalf("error = %v, want *client.AuthorizationError access_denied", a.lastErr())
		}
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "(access_denied)") || strings.Contains(r.body, "mitid_user_aborted") {
			t.Errorf("error page = %d %q, want 403 with the code and without the description", r.status, r.body)
		}
	})
	t.Run("login_required", func(t *testing.T) {
		b := a.browser()
		r := b.do(http.MethodPost, "/login?prompt=none", sameOrigin, url.Values{})
		if r.status != http.StatusSeeOther {
			t.Fatalf("start = %d", r.status)
		}
		params := b.authorize(r.header.Get("Location"))
		r = b.callback(params)
		var ae *client.AuthorizationError
		if !errors.As(a.lastErr(), &ae) || ae.Code != "login_required" || r.status != http.StatusBadRequest {
			t.Errorf("callback = %d, %v; want 400 *client.AuthorizationError login_required", r.status, a.lastErr())
		}
	})
	if a.loginCount() != 0 {
		t.Error("a failed login called OnLogin")
	}
}

func TestStartCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	get := newApp(t, appOptions{login: func(c *login.Config) {
		c.AllowGETStart = true
		c.TrustedOrigins = []string{"https://portal.example"}
	}})
	tests := []struct {
		name   string
		app    *testApp
		method string
		header http.Header
		status int
		want   error
	}{
		{"post same-origin", a, "POST", sameOrigin, 303, nil},
		{"post non-browser", a, "POST", nil, 303, nil},
		{"post same origin header", a, "POST", http.Header{"Origin": {a.web.URL}}, 303, nil},
		{"post cross-site", a, "POST", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, login.ErrCrossOrigin},
		{"post same-site", a, "POST", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403, login.ErrCrossOrigin},
		{"post foreign origin", a, "POST", http.Header{"Origin": {"https://evil.example"}}, 403, login.ErrCrossOrigin},
		{"post trusted origin", get, "POST", http.Header{"Origin": {"https://portal.example"}, "Sec-Fetch-Site": {"cross-site"}}, 303, nil},
		{"get refused by default", a, "GET", sameOrigin, 405, login.ErrMethodNotAllowed},
		{"put", a, "PUT", sameOrigin, 405, login.ErrMethodNotAllowed},
		{"get same-origin", get, "GET", sameOrigin, 302, nil},
		{"get typed url", get, "GET", http.Header{"Sec-Fetch-Site": {"none"}}, 302, nil},
		{"get cross-site", get, "GET", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, login.ErrCrossOrigin},
		{"get same-site", get, "GET", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403, login.ErrCrossOrigin},
		{"get without Sec-Fetch-Site", get, "GET", nil, 403, login.ErrCrossOrigin},
		{"get prefetch", get, "GET", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Sec-Purpose": {"prefetch;prerender"}}, 403, login.ErrCrossOrigin},
		{"put with get allowed", get, "PUT", sameOrigin, 405, login.ErrMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.app.browser()
			before := tc.app.srv.Requests(partest.EndpointPAR)
			r := b.do(tc.method, "/login", tc.header, nil)
			if r.status != tc.status {
				t.Fatalf("%s /login = %d %q, want %d", tc.method, r.status, r.body, tc.status)
			}
			pushed := tc.app.srv.Requests(partest.EndpointPAR) - before
			if tc.status == http.StatusMethodNotAllowed {
				allow := "POST"
				if tc.app == get {
					allow = "GET, POST"
				}
				if got := r.header.Get("Allow"); got != allow {
					t.Errorf("Allow = %q, want %q", got, allow)
				}
			}
			if tc.want == nil {
				if pushed != 1 || !strings.Contains(r.header.Get("Location"), "request_uri=") {
					t.Errorf("pushes = %d, Location %q; want one push and a redirect", pushed, r.header.Get("Location"))
				}
				return
			}
			if !errors.Is(tc.app.lastErr(), tc.want) || pushed != 0 {
				t.Errorf("err = %v, pushes = %d; want %v and no push", tc.app.lastErr(), pushed, tc.want)
			}
		})
	}
}

// slowClock is a clock that a test moves forward.
type slowClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *slowClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *slowClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// slowPAR advances the clock while the first slow pushes are in flight and
// records the request_uri values the provider returned.
type slowPAR struct {
	base  http.RoundTripper
	clock *slowClock
	mu    sync.Mutex
	slow  int // how many pushes are slow
	uris  []string
}

func (s *slowPAR) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/par") {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var v struct {
		RequestURI string `json:"request_uri"`
	}
	json.Unmarshal(body, &v)
	s.mu.Lock()
	s.uris = append(s.uris, v.RequestURI)
	slow := len(s.uris) <= s.slow
	s.mu.Unlock()
	if slow {
		s.clock.advance(61 * time.Second) // beyond partest's 60 s expires_in
	}
	return resp, nil
}

func TestStartRequestURIExpired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		slow   int
		status int
	}{
		{"slow first push", 1, http.StatusSeeOther},
		{"every push slow", 100, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &slowClock{now: time.Now()}
			var tr *slowPAR
			a := newApp(t, appOptions{
				client: func(c *client.Config) {
					tr = &slowPAR{base: c.HTTPClient.Transport, clock: clock, slow: tc.slow}
					if tr.base == nil {
						tr.base = http.DefaultTransport
					}
					hc := *c.HTTPClient
					hc.Transport = tr
					c.HTTPClient = &hc
					c.Now = clock.Now
				},
				login: func(c *login.Config) { c.Now = clock.Now },
			})
			b := a.browser()
			r := b.do(http.MethodPost, "/login", sameOrigin, url.Values{})
			if r.status != tc.status {
				t.Fatalf("start = %d %q, want %d", r.status, r.body, tc.status)
			}
			if n := a.srv.Requests(partest.EndpointPAR); n != 2 {
				t.Errorf("pushes = %d, want exactly 2", n)
			}
			if tc.status != http.StatusSeeOther {
				if !errors.Is(a.lastErr(), client.ErrRequestURIExpired) {
					t.Errorf("error = %v, want ErrRequestURIExpired", a.lastErr())
				}
				return
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			if got := loc.Query().Get("request_uri"); got != tr.uris[1] || got == tr.uris[0] {
				t.Errorf("redirect request_uri = %q, want the second push's %q (first %q)", got, tr.uris[1], tr.uris[0])
			}
			if r := b.callback(b.authorize(loc.String())); r.status != http.StatusOK || r.body != "alice" {
				t.Errorf("callback after re-push = %d %q (%v)", r.status, r.body, a.lastErr())
			}
		})
	}
}

func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	const n = 200
	users := make([]partest.User, n)
	for i := range users {
		users[i] = partest.User{Subject: fmt.Sprintf("user-%03d", i), Claims: map[string]any{"name": fmt.Sprint("User ", i)}}
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: st.cookie, users: users, plainHTTP: true, partest: func(c *partest.Config) {
				c.IDTokenAlg = jose.ES256 // cheaper than RSA under -race
				c.OpaqueAccessTokens = true
			}, login: func(c *login.Config) {
				// n starts at once from one address: far over the default
				// burst of 100 per address.
				c.StartLimits = login.StartLimits{PerClient: login.RateLimit{Rate: n, Burst: n}, Global: login.RateLimit{Rate: n, Burst: n}}
			}})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					b := a.browser()
					sub := users[i].Subject
					r := b.do(http.MethodPost, "/login", sameOrigin, url.Values{})
					if r.status != http.StatusSeeOther {
						t.Errorf("%s: start = %d %q", sub, r.status, r.body)
						return
					}
					params, err := a.srv.LoginAs(r.header.Get("Location"), sub)
					if err != nil {
						t.Errorf("%s: authorize: %v", sub, err)
						return
					}
					if r := b.callback(params); r.status != http.StatusOK || r.body != sub {
						t.Errorf("%s: callback = %d %q", sub, r.status, r.body)
					}
				})
			}
			wg.Wait()
			if got := a.loginCount(); got != n {
				t.Errorf("logins = %d, want %d", got, n)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hint := ""
	a := newApp(t, appOptions{login: func(c *login.Config) {
		c.OnLogout = func(w http.ResponseWriter, r *http.Request) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Query().Get("fail") != "" {
				return "", errors.New("session store down")
			}
			return hint, nil
		}
	}})
	b := a.browser()
	if r := b.callback(b.authorize(b.start())); r.status != http.StatusOK {
		t.Fatalf("login = %d", r.status)
	}
	mu.Lock()
	hint = a.logins[0].RawIDToken
	mu.Unlock()

	r := b.do(http.MethodPost, "/logout", sameOrigin, url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("logout = %d %q, want 303", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), a.c.Metadata().EndSessionEndpoint) || q.Get("id_token_hint") != hint ||
		q.Get("post_logout_redirect_uri") != a.web.URL+"/bye" || q.Get("client_id") != "app" {
		t.Errorf("logout redirect = %s", loc)
	}
	// The provider accepts it and sends the browser back.
	resp, err := a.srv.Client().Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back := resp.Header.Get("Location"); !strings.HasPrefix(back, a.web.URL+"/bye") {
		t.Errorf("provider logout = %d Location %q, want a redirect to /bye", resp.StatusCode, back)
	}

	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		hint   string
		status int
		loc    string
		want   error
	}{
		{"no session", "POST", "/logout", sameOrigin, "", 303, a.web.URL + "/bye", nil},
		{"cross-site", "POST", "/logout", http.Header{"Sec-Fetch-Site": {"cross-site"}}, hint, 403, "", login.ErrCrossOrigin},
		{"get", "GET", "/logout", sameOrigin, hint, 405, "", login.ErrMethodNotAllowed},
		{"app error", "POST", "/logout?fail=1", sameOrigin, hint, 500, "", errors.New("session store down")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			hint = tc.hint
			mu.Unlock()
			r := b.do(tc.method, tc.path, tc.header, url.Values{})
			if r.status != tc.status || r.header.Get("Location") != tc.loc {
				t.Fatalf("logout = %d %q, want %d %q", r.status, r.header.Get("Location"), tc.status, tc.loc)
			}
			var le *login.Error
			if tc.want != nil && (!errors.As(a.lastErr(), &le) || le.Op != login.OpLogout || le.Err.Error() != tc.want.Error() && !errors.Is(le, tc.want)) {
				t.Errorf("err = %v, want %v at logout", a.lastErr(), tc.want)
			}
			if strings.Contains(r.body, "session store down") {
				t.Errorf("error page shows the raw error: %q", r.body)
			}
		})
	}
}

func TestLogoutNotConfigured(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	if r := a.browser().do(http.MethodPost, "/logout", sameOrigin, url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("logout without OnLogout = %d, want 404", r.status)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	// The redirect URI is …/auth/cb: Mux("/auth") serves it, and so does
	// ServeHTTP behind http.StripPrefix("/auth", h).
	a := newApp(t, appOptions{
		partest: func(c *partest.Config) {
			c.Clients[0].RedirectURIs = []string{strings.TrimSuffix(c.Clients[0].RedirectURIs[0], "/callback") + "/auth/cb"}
		},
		client: func(c *client.Config) { c.RedirectURL = strings.TrimSuffix(c.RedirectURL, "/callback") + "/auth/cb" },
		login:  func(c *login.Config) { c.CallbackPath = "/auth/cb" },
	})
	h, err := login.New(login.Config{Client: a.c, StartPath: "/in", CallbackPath: "/cb", LogoutPath: "/out"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.Handler
		method  string
		path    string
		status  int
	}{
		{"serve start", h, "POST", "/in", 303},
		{"serve callback", h, "GET", "/cb?state=x", 400},
		{"serve logout unset", h, "POST", "/out", 404},
		{"serve unknown", h, "GET", "/login", 404},
		{"mux start", h.Mux("/auth/"), "POST", "/auth/in", 303},
		{"mux callback", h.Mux("/auth"), "GET", "/auth/cb", 400},
		{"mux outside prefix", h.Mux("/auth"), "POST", "/in", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			tc.handler.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Errorf("%s %s = %d %q, want %d", tc.method, tc.path, w.Code, w.Body, tc.status)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		name string
		cfg  login.Config
		want string
	}{
		{"no client", login.Config{}, "Client is nil"},
		{"negative lifetime", login.Config{Client: a.c, FlowLifetime: -1}, "FlowLifetime"},
		{"relative path", login.Config{Client: a.c, StartPath: "login"}, "must start with /"},
		{"same paths", login.Config{Client: a.c, StartPath: "/x", CallbackPath: "/x"}, "must differ"},
		{"bad origin", login.Config{Client: a.c, TrustedOrigins: []string{"not an origin"}}, "TrustedOrigins"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := login.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "login: ") {
				t.Errorf("New = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestDefaultOnError(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-token-value"
	wrap := func(op string, err error) error { return &login.Error{Op: op, Err: err} }
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"method", wrap(login.OpStart, login.ErrMethodNotAllowed), 405, "method not allowed"},
		{"cross origin", wrap(login.OpStart, login.ErrCrossOrigin), 403, "started from this site"},
		{"replay", wrap(login.OpCallback, login.ErrFlowNotFound), 400, "expired or was already used"},
		{"other browser", wrap(login.OpCallback, login.ErrBrowserMismatch), 400, "expired or was already used"},
		{"state", wrap(login.OpExchange, client.ErrStateMismatch), 400, "invalid login response"},
		{"iss", wrap(login.OpExchange, client.ErrIssuerMismatch), 400, "invalid login response"},
		{"bad callback", wrap(login.OpCallback, fmt.Errorf("%w: %s", client.ErrInvalidResponse, secret)), 400, "invalid login response"},
		{"denied", wrap(login.OpExchange, &client.AuthorizationError{Code: "access_denied", Description: secret}), 403, "(access_denied)"},
		{"provider down", wrap(login.OpExchange, &client.AuthorizationError{Code: "temporarily_unavailable"}), 503, "(temporarily_unavailable)"},
		{"odd code", wrap(login.OpExchange, &client.AuthorizationError{Code: "<script>"}), 400, "did not complete the login"},
		{"sentence as code", wrap(login.OpExchange, &client.AuthorizationError{Code: "Call 70 12 34 56 to unlock your account"}), 400, "did not complete the login\n"},
		{"rate limited", wrap(login.OpStart, fmt.Errorf("%w from this client address", login.ErrRateLimited)), 429, "please wait a moment"},
		{"cross-origin logout", wrap(login.OpLogout, login.ErrCrossOrigin), 403, "logout must be started from this site"},
		{"token error", wrap(login.OpExchange, &client.ResponseError{Endpoint: "token", StatusCode: 400, Code: "invalid_grant", Description: secret}), 502, "(invalid_grant)"},
		{"par 503", wrap(login.OpStart, &client.ResponseError{Endpoint: "par", StatusCode: 503}), 503, "refused the request"},
		{"id token", wrap(login.OpExchange, fmt.Errorf("%w: %s", client.ErrInvalidIDToken, secret)), 502, "could not be verified"},
		{"nonce", wrap(login.OpExchange, client.ErrInvalidIDToken), 502, "could not be verified"},
		{"expired uri", wrap(login.OpStart, client.ErrRequestURIExpired), 503, "unavailable"},
		{"store full", wrap(login.OpStart, login.ErrStoreFull), 503, "unavailable"},
		{"timeout", wrap(login.OpExchange, context.DeadlineExceeded), 504, "unavailable"},
		{"other", wrap(login.OpLogout, errors.New(secret)), 500, "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			login.DefaultOnError(w, httptest.NewRequest("GET", "/callback", nil), tc.err)
			body := w.Body.String()
			if w.Code != tc.status || login.StatusCode(tc.err) != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("DefaultOnError(%v) = %d %q, want %d …%s…", tc.err, w.Code, body, tc.status, tc.want)
			}
			if strings.Contains(body, secret) || strings.Contains(body, "<script>") {
				t.Errorf("error page leaks provider or internal text: %q", body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	e := &login.Error{Op: login.OpCallback, Err: login.ErrFlowNotFound}
	if got, want := e.Error(), "login: callback: login: flow not found (expired or already used)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, login.ErrFlowNotFound) {
		t.Error("errors.Is(Error, ErrFlowNotFound) = false")
	}
}

// TestLogsHoldNoSecrets runs a login and a replay with a Debug logger and
// looks for every secret of the flow in the output.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	var buf safeBuffer
	var mu sync.Mutex
	var flows []*client.Flow
	a := newApp(t, appOptions{
		client: func(c *client.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		},
		login: func(c *login.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c.Store = storeFuncs{
				Store: login.NewMemoryStore(login.MemoryOptions{}),
				save:  func(f *client.Flow) { mu.Lock(); flows = append(flows, f); mu.Unlock() },
			}
		},
	})
	b := a.browser()
	params := b.authorize(b.start())
	if r := b.callback(params); r.status != http.StatusOK {
		t.Fatalf("callback = %d (%v)", r.status, a.lastErr())
	}
	b.callback(params) // a replay, logged as a failure
	out := buf.String()
	if !strings.Contains(out, "login: started") || !strings.Contains(out, "login: failed") {
		t.Fatalf("debug log lacks the expected lines:\n%s", out)
	}
	tok := a.logins[0]
	secrets := map[string]string{
		"code": params.Get("code"), "code_verifier": flows[0].CodeVerifier, "nonce": flows[0].Nonce,
		"access token": tok.Token.AccessToken, "id token": tok.RawIDToken, "client secret": "s3cr+t/=",
	}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(out, v) {
			t.Errorf("debug log holds the %s", name)
		}
	}
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// capturePAR records the form of every PAR request.
type capturePAR struct {
	base  http.RoundTripper
	mu    sync.Mutex
	forms []url.Values
	auth  []string
}

func (c *capturePAR) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/par") {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		form, _ := url.ParseQuery(string(body))
		c.mu.Lock()
		c.forms = append(c.forms, form)
		c.auth = append(c.auth, req.Header.Get("Authorization"))
		c.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.base.RoundTrip(req)
}

func TestStartPushRequest(t *testing.T) {
	t.Parallel()
	var capt *capturePAR
	a := newApp(t, appOptions{
		client: func(c *client.Config) {
			capt = &capturePAR{base: c.HTTPClient.Transport}
			if capt.base == nil {
				capt.base = http.DefaultTransport
			}
			hc := *c.HTTPClient
			hc.Transport = capt
			c.HTTPClient = &hc
			c.Scopes = []string{"openid", "mitid"}
		},
		login: func(c *login.Config) {
			c.PushOptions = func(r *http.Request) []oauth2.AuthCodeOption {
				return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("idp_values", "mitid"), client.WithPrompt("login")}
			}
		},
	})
	b := a.browser()
	b.start()
	if len(capt.forms) != 1 {
		t.Fatalf("PAR requests = %d, want 1", len(capt.forms))
	}
	form := capt.forms[0]
	want := map[string]string{
		"client_id": "app", "response_type": "code", "redirect_uri": a.web.URL + "/callback", "scope": "openid mitid",
		"code_challenge_method": "S256", "idp_values": "mitid", "prompt": "login",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("PAR %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if form.Get(k) == "" {
			t.Errorf("PAR %s missing", k)
		}
	}
	if len(form) != len(want)+3 {
		t.Errorf("PAR form has %d parameters, want %d: %v", len(form), len(want)+3, slices.Sorted(maps.Keys(form)))
	}
	if !strings.HasPrefix(capt.auth[0], "Basic ") {
		t.Errorf("PAR Authorization = %q, want Basic", capt.auth[0])
	}
}

type failingStore struct{ login.Store }

func (failingStore) Save(context.Context, http.ResponseWriter, *http.Request, *client.Flow, time.Time) error {
	return errors.New("redis: connection refused")
}

func TestStartStoreError(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{login: func(c *login.Config) { c.Store = failingStore{} }})
	r := a.browser().do(http.MethodPost, "/login", sameOrigin, nil)
	var le *login.Error
	if r.status != http.StatusInternalServerError || r.header.Get("Location") != "" || !errors.As(a.lastErr(), &le) || le.Op != login.OpStart {
		t.Errorf("start with a failing store = %d %q, %v; want 500 at start without redirect", r.status, r.header.Get("Location"), a.lastErr())
	}
	if strings.Contains(r.body, "redis") {
		t.Errorf("error page shows the raw error: %q", r.body)
	}
}
