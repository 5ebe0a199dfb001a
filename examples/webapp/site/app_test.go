package site

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/keys"
	"github.com/go-par/par/partest"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// spy is a transport under the recorder that collects every secret value
// that really went over the wire, so the tests can look for leaks.
type spy struct {
	mu      sync.Mutex
	secrets map[string]bool
	base    http.RoundTripper
}

func (s *spy) add(v string) {
	if len(v) < 8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[v] = true
}

func (s *spy) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.secrets {
		out = append(out, v)
	}
	return out
}

func (s *spy) RoundTrip(r *http.Request) (*http.Response, error) {
	if a := r.Header.Get("Authorization"); a != "" {
		_, cred, _ := strings.Cut(a, " ")
		s.add(cred)
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			_, pw, _ := strings.Cut(string(raw), ":")
			s.add(pw)
			if u, err := url.QueryUnescape(pw); err == nil {
				s.add(u)
			}
		}
	}
	if form, ok := requestForm(r); ok {
		for k, vs := range form {
			if secretNames[k] {
				for _, v := range vs {
					s.add(v)
				}
			}
		}
	}
	if d := r.Header.Get("DPoP"); d != "" {
		s.add(d)
	}
	resp, err := s.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for k, v := range m {
			if sv, ok := v.(string); ok && secretNames[k] {
				s.add(sv)
			}
		}
	}
	return resp, nil
}

type testApp struct {
	*App
	url  string
	logs *syncBuffer
	spy  *spy
}

func newTestApp(t *testing.T, cfg Config) *testApp {
	t.Helper()
	return newTestAppWith(t, func(string) (Config, http.RoundTripper) { return cfg, nil })
}

// newTestAppWith starts the app; mk returns its configuration, and the
// transport to the provider, for the app's base URL.
func newTestAppWith(t *testing.T, mk func(base string) (Config, http.RoundTripper)) *testApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	cfg, base := mk(ts.URL)
	if base == nil {
		base = http.DefaultTransport
	}
	logs := &syncBuffer{}
	sp := &spy{secrets: map[string]bool{}, base: base}
	a, closeFn, err := New(context.Background(), cfg, Options{
		BaseURL:   ts.URL,
		Transport: sp,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(closeFn)
	ts.Config.Handler = a
	sp.add(a.secret)
	sp.add(cfg.ClientSecret)
	return &testApp{App: a, url: ts.URL, logs: logs, spy: sp}
}

// browser is a scripted user agent: a cookie jar, no automatic redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: loopbackJar{jar}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loopbackJar treats http://127.0.0.1 as a secure origin, as browsers do,
// so that the app's Secure __Host- cookies work over the test servers'
// plain http (older net/http/cookiejar versions send Secure cookies over
// https only).
type loopbackJar struct{ *cookiejar.Jar }

func secureURL(u *url.URL) *url.URL {
	if u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return u
	}
	c := *u
	c.Scheme = "https"
	return &c
}

func (j loopbackJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.Jar.SetCookies(secureURL(u), cs) }
func (j loopbackJar) Cookies(u *url.URL) []*http.Cookie        { return j.Jar.Cookies(secureURL(u)) }

func do(t *testing.T, hc *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var (
	reAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	reTx     = regexp.MustCompile(`name="tx" value="([^"]*)"`)
	reKind   = regexp.MustCompile(`data-kind="([a-z_]+)"`)
)

// scriptedLogin runs a login through the interactive login page as user sub
// and returns the browser, the callback URL and the code it carried.
func scriptedLogin(t *testing.T, ta *testApp, sub string) (*http.Client, string, string) {
	t.Helper()
	return scriptedLoginWith(t, ta, sub, browser(t), embeddedClientID)
}

func scriptedLoginWith(t *testing.T, ta *testApp, sub string, hc *http.Client, clientID string) (*http.Client, string, string) {
	t.Helper()
	resp, page := do(t, hc, http.MethodGet, ta.url+"/", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/auth/login"`) {
		t.Fatalf("GET / = %d, no login form:\n%s", resp.StatusCode, page)
	}
	resp, _ = do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /auth/login = %d, want 303", resp.StatusCode)
	}
	authz, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if q := authz.Query(); len(q) != 2 || q.Get("client_id") != clientID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("authorization URL query = %v, want exactly client_id and request_uri", q)
	}
	resp, page = do(t, hc, http.MethodGet, authz.String(), nil)
	if sub != "" { // the interactive login page
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET authorization URL = %d:\n%s", resp.StatusCode, page)
		}
		action, tx := reAction.FindStringSubmatch(page), reTx.FindStringSubmatch(page)
		if action == nil || tx == nil || !strings.Contains(page, `value="`+sub+`"`) {
			t.Fatalf("login page has no form for %s:\n%s", sub, page)
		}
		resp, _ = do(t, hc, http.MethodPost, html.UnescapeString(action[1]), url.Values{"tx": {html.UnescapeString(tx[1])}, "sub": {sub}})
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at the provider = %d, want 303 to the callback", resp.StatusCode)
	}
	cb := resp.Header.Get("Location")
	cbu, err := url.Parse(cb)
	if err != nil || !strings.HasPrefix(cb, ta.url+"/auth/callback?") {
		t.Fatalf("callback Location = %q", cb)
	}
	code := cbu.Query().Get("code")
	if code == "" {
		t.Fatalf("callback has no code: %q", cb)
	}
	ta.spy.add(code)
	return hc, cb, code
}

func assertNoSecrets(t *testing.T, ta *testApp, where, text string) {
	t.Helper()
	secrets := ta.spy.all()
	if len(secrets) == 0 {
		t.Fatal("spy saw no secret values, not even the client secret")
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), html.EscapeString(s)} {
			if strings.Contains(text, form) {
				t.Errorf("%s contains a secret value (%d chars) that went over the wire", where, len(s))
			}
		}
	}
	if strings.Contains(text, "eyJ") {
		t.Errorf("%s contains something that looks like a JWT", where)
	}
}

func TestLoginShowsSubjectAndTimeline(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	users := TestUsers()
	tests := []struct {
		name  string
		user  partest.User
		level string
	}{
		{"substantial", users[0], "Substantial"},
		{"high", users[1], "High"},
		{"low", users[2], "Low"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc, cb, _ := scriptedLogin(t, ta, tt.user.Subject)
			resp, _ := do(t, hc, http.MethodGet, cb, nil)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" {
				t.Fatalf("callback = %d Location %q, want 303 /me", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /me = %d", resp.StatusCode)
			}
			if !strings.Contains(page, `<td id="subject">`+tt.user.Subject+`</td>`) {
				t.Errorf("result page does not show subject %s", tt.user.Subject)
			}
			if !strings.Contains(page, `<td id="loa">`+tt.level) {
				t.Errorf("result page does not show level %s", tt.level)
			}
			if name := tt.user.Claims["name"].(string); !strings.Contains(page, html.EscapeString(name)) {
				t.Errorf("result page does not show name %q", name)
			}
			var kinds []string
			for _, m := range reKind.FindAllStringSubmatch(page, -1) {
				kinds = append(kinds, m[1])
			}
			got := strings.Join(kinds, " ")
			// jwks appears in the first login that verifies a token only.
			got = strings.Replace(got, "token jwks idtoken", "token idtoken", 1)
			if want := "discovery push authorize callback token idtoken userinfo"; got != want {
				t.Errorf("timeline steps = %q, want %q", got, want)
			}
			if n := strings.Count(page, `data-param-count="2"`); n != 1 {
				t.Errorf("authorize step with data-param-count=2 found %d times, want 1", n)
			}
			for _, want := range []string{"Basic [redacted]", "code_verifier", "[redacted, 43 chars]", "request_uri", "urn:ietf:params:oauth:request_uri:",
				"expires_in", "600", "RFC 9126 §4", "✓</span> <strong>nonce", "✓</span> <strong>iss", "✓</span> <strong>state", "✓</span> <strong>at_hash"} {
				if !strings.Contains(page, want) {
					t.Errorf("result page lacks %q", want)
				}
			}
			if strings.Contains(page, "✗") {
				t.Errorf("result page shows a failed check")
			}
			if n := len(ta.spy.all()); n < 6 {
				t.Errorf("spy saw %d secret values, want at least the secret, credentials, code, verifier, access and ID token", n)
			}
			assertNoSecrets(t, ta, "result page", page)

			// A replayed callback fails: the flow was single-use. In the
			// logged-in browser (a reload) it shows the session.
			resp, _ = do(t, hc, http.MethodGet, cb, nil)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" {
				t.Errorf("reloaded callback = %d %q, want 303 /me", resp.StatusCode, resp.Header.Get("Location"))
			}
			other := browser(t)
			do(t, other, http.MethodGet, ta.url+"/", nil)
			resp, page = do(t, other, http.MethodGet, cb, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "this login has expired or was already used") {
				t.Errorf("replayed callback in another browser = %d, want 400 expired or already used", resp.StatusCode)
			}
			assertNoSecrets(t, ta, "replay error page", page)
		})
	}
	t.Cleanup(func() {
		logs := ta.logs.String()
		for _, want := range []string{"step=push", "step=token", "request_uri=urn:ietf:params:oauth:request_uri:", "parameters=2", "login: done"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q", want)
			}
		}
		assertNoSecrets(t, ta, "logs", logs)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	hc, cb, _ := scriptedLogin(t, ta, TestUsers()[0].Subject)
	do(t, hc, http.MethodGet, cb, nil)
	resp, _ := do(t, hc, http.MethodPost, ta.url+"/auth/logout", url.Values{})
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), ta.embedded.Issuer()) {
		t.Fatalf("logout = %d %q, want 303 to the provider", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("id_token_hint") == "" || loc.Query().Get("post_logout_redirect_uri") != ta.url+"/" {
		t.Errorf("logout URL query = %v, want id_token_hint and post_logout_redirect_uri", loc.Query())
	}
	resp, page := do(t, hc, http.MethodGet, loc.String(), nil)
	// The provider's logout page loads the app's front-channel logout URI
	// in an iframe, then goes back to the app (Refresh).
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Refresh") != "1; url="+ta.url+"/" ||
		!strings.Contains(page, `<iframe src="`+ta.url+`/auth/frontchannel?`) {
		t.Errorf("end session = %d Refresh %q, want the front-channel page going back to the app", resp.StatusCode, resp.Header.Get("Refresh"))
	}
	resp, _ = do(t, hc, http.MethodGet, ta.url+"/me", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /me after logout = %d, want 303 to /", resp.StatusCode)
	}
}

func TestLoginErrorsShowTrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		fault    partest.Fault
		status   int
		want     string
	}{
		{"token invalid_grant", partest.EndpointToken, partest.Fault{Status: 400, Body: `{"error":"invalid_grant","error_description":"code expired"}`},
			http.StatusBadGateway, "the identity provider refused the request (invalid_grant)"},
		{"mix-up iss", partest.EndpointAuthorize, partest.Fault{Issuer: "https://evil.example/op"},
			http.StatusBadRequest, "✗</span> <strong>iss</strong> <code>https://evil.example/op</code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ta := newTestApp(t, Config{})
			ta.embedded.SetFault(tt.endpoint, tt.fault)
			hc, cb, _ := scriptedLogin(t, ta, TestUsers()[0].Subject)
			resp, page := do(t, hc, http.MethodGet, cb, nil)
			if resp.StatusCode != tt.status || !strings.Contains(page, tt.want) {
				t.Fatalf("callback = %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.want, page)
			}
			if !strings.Contains(page, `data-kind="push"`) || !strings.Contains(page, `data-kind="callback"`) {
				t.Errorf("error page lacks the trace so far")
			}
			assertNoSecrets(t, ta, "error page", page)
			assertNoSecrets(t, ta, "logs", ta.logs.String())
		})
	}
}

func TestStartRefusesGET(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	resp, _ := do(t, browser(t), http.MethodGet, ta.url+"/auth/login", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/login = %d, want 405", resp.StatusCode)
	}
}

// TestConfiguredProvider runs the app as configured by the environment
// against a provider of the test's own: the same code as with the MitID
// broker or a FAPI 2.0 provider.
func TestConfiguredProvider(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := keys.LoadFile(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(k.PublicJWK())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		client partest.Client
		op     partest.Config
		cfg    Config
		want   []string
	}{
		{name: "broker-like: client_secret_basic, PAR_PARAMS, scopes",
			client: partest.Client{Secret: "abc+/def=="},
			cfg: Config{ClientSecret: "abc+/def==", ProfileName: "broker", Scopes: []string{"openid", "profile"},
				Params: url.Values{"idp_values": {"mitid"}, "language": {"da"}}},
			want: []string{"<th>idp_values</th><td>mitid</td>", "<th>language</th><td>da</td>", "<th>scope</th><td>openid profile</td>", "Basic [redacted]"}},
		{name: "client_secret_post",
			client: partest.Client{Secret: "post-secret-123", AuthMethod: partest.AuthClientSecretPost},
			cfg:    Config{ClientSecret: "post-secret-123", AuthMethod: "client_secret_post"},
			want:   []string{"<th>client_secret</th><td class=\"redacted\">[redacted, 15 chars]</td>"}},
		{name: "private_key_jwt from PAR_KEY_FILE",
			client: partest.Client{AuthMethod: partest.AuthPrivateKeyJWT},
			cfg:    Config{KeyFile: keyFile},
			want:   []string{"<th>client_assertion</th><td class=\"redacted\">[redacted,", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}},
		{name: "fapi2: private_key_jwt, DPoP, TLS",
			client: partest.Client{AuthMethod: partest.AuthPrivateKeyJWT, DPoPBound: true},
			op:     partest.Config{TLS: true, IDTokenAlg: "PS256"},
			cfg:    Config{KeyFile: keyFile, ProfileName: "fapi2"},
			want:   []string{"<th>DPoP</th><td class=\"redacted\">[proof JWT,", "<th>token_type</th><td>DPoP</td>", "alg PS256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var op *partest.Server
			ta := newTestAppWith(t, func(base string) (Config, http.RoundTripper) {
				c := tt.client
				c.ID = "configured-client"
				c.RedirectURIs = []string{base + "/auth/callback"}
				if c.AuthMethod == partest.AuthPrivateKeyJWT {
					if err := json.Unmarshal([]byte(`{"keys":[`+string(jwk)+`]}`), &c.JWKS); err != nil {
						t.Fatal(err)
					}
				}
				ocfg := tt.op
				ocfg.Clients = []partest.Client{c}
				op = partest.NewServer(ocfg)
				t.Cleanup(op.Close)
				cfg := tt.cfg
				cfg.Issuer, cfg.ClientID = op.Issuer(), c.ID
				return cfg, op.Client().Transport
			})
			if ta.embedded != nil {
				t.Fatal("the embedded provider started although PAR_ISSUER is set")
			}
			hc := browser(t)
			hc.Transport = op.Client().Transport
			hc, cb, _ := scriptedLoginWith(t, ta, "", hc, "configured-client")
			resp, _ := do(t, hc, http.MethodGet, cb, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback = %d, want 303", resp.StatusCode)
			}
			resp, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<td id="subject">alice</td>`) {
				t.Fatalf("GET /me = %d, want alice's result page:\n%s", resp.StatusCode, page)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("result page lacks %q", w)
				}
			}
			if strings.Contains(page, "✗") {
				t.Error("result page shows a failed check")
			}
			assertNoSecrets(t, ta, "result page", page)
			assertNoSecrets(t, ta, "logs", ta.logs.String())
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	resp, _ := do(t, browser(t), http.MethodGet, ta.url+"/", nil)
	u, _ := url.Parse(ta.embedded.Issuer())
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; form-action 'self' " + u.Scheme + "://" + u.Host + "; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestPushFailureShowsTrace(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	ta.embedded.SetFault(partest.EndpointPAR, partest.Fault{Status: http.StatusBadRequest,
		Body: `{"error":"invalid_request","error_description":"idp_values is not allowed"}`})
	hc := browser(t)
	do(t, hc, http.MethodGet, ta.url+"/", nil)
	resp, page := do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{})
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("POST /auth/login with a failing push = %d, want 502", resp.StatusCode)
	}
	for _, want := range []string{`id="error"`, "invalid_request", `data-kind="push"`, `<span class="status s400">400</span>`,
		"<th>error_description</th><td>idp_values is not allowed</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("error page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-kind="authorize"`) {
		t.Error("error page shows an authorization redirect that never happened")
	}
	assertNoSecrets(t, ta, "error page", page)
}

// TestWaterfall: the result page draws the login's hops on a time axis:
// one bar per step (discovery, done at start-up, left out), back-channel
// calls spanning their request, the browser's hop at the provider spanning
// until the callback, each with its duration.
func TestWaterfall(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	steps := []Step{
		{Kind: kindDiscovery, At: t0.Add(-time.Hour), Duration: ms(5)},
		{Kind: kindPush, At: t0, Duration: ms(20)},
		{Kind: kindAuthorize, At: t0.Add(ms(21))},
		{Kind: kindCallback, At: t0.Add(ms(1021))},
		{Kind: kindToken, At: t0.Add(ms(1025)), Duration: ms(30)},
		{Kind: kindIDToken, At: t0.Add(ms(1060))},
		{Kind: kindUserinfo, At: t0.Add(ms(1100)), Duration: ms(100)},
	}
	w := waterfallOf(steps)
	if w == nil || len(w.Bars) != 6 {
		t.Fatalf("waterfall = %+v, want 6 bars", w)
	}
	want := []struct{ kind, channel, dur string }{
		{kindPush, "back", "20.0 ms"}, {kindAuthorize, "front", "1000.0 ms"}, {kindCallback, "front", "39.0 ms"},
		{kindToken, "back", "30.0 ms"}, {kindIDToken, "app", "checked"}, {kindUserinfo, "back", "100.0 ms"},
	}
	for i, b := range w.Bars {
		if b.Kind != want[i].kind || b.Channel != want[i].channel || b.Dur != want[i].dur {
			t.Errorf("bar %d = %s %s %s, want %+v", i, b.Kind, b.Channel, b.Dur, want[i])
		}
	}
	// The push starts at the axis' origin, the UserInfo call ends at its end.
	if w.Bars[0].X != f1(wfLabels) || w.Total != "1200.0 ms" {
		t.Errorf("push at x=%s, total %s; want x=%d and 1200.0 ms", w.Bars[0].X, w.Total, wfLabels)
	}
	if waterfallOf(steps[:1]) != nil {
		t.Error("a trace of discovery only draws a waterfall")
	}
}

// TestProviderLogouts: the result page has the waterfall; the embedded
// provider's back-channel logout (a logout token POSTed to
// /auth/backchannel) and a front-channel logout (/auth/frontchannel with
// iss and sid, as its iframe loads it) end the session.
func TestProviderLogouts(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{})
	for _, channel := range []string{"back", "front"} {
		hc, cb, _ := scriptedLogin(t, ta, TestUsers()[1].Subject)
		do(t, hc, http.MethodGet, cb, nil)
		resp, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<svg id="waterfall"`) ||
			!strings.Contains(page, `data-hop="push"`) || !strings.Contains(page, `data-hop="authorize"`) {
			t.Fatalf("/me = %d, want the waterfall with the push and the browser's hop", resp.StatusCode)
		}
		sids := ta.embedded.Sessions(embeddedClientID)
		if len(sids) != 1 {
			t.Fatalf("provider sessions = %v, want 1", sids)
		}
		switch channel {
		case "back":
			if err := ta.embedded.EndSession(t.Context(), sids[0]); err != nil {
				t.Fatalf("back-channel logout: %v", err)
			}
		case "front":
			frame := browser(t) // the provider's iframe: no cookies of the app
			q := url.Values{"iss": {ta.embedded.Issuer()}, "sid": {sids[0]}}
			resp, _ := do(t, frame, http.MethodGet, ta.url+"/auth/frontchannel?"+q.Encode(), nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "" ||
				!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors "+ta.embedded.URL) {
				t.Fatalf("front-channel logout = %d, X-Frame-Options %q, CSP %q", resp.StatusCode,
					resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
			}
			ta.embedded.EndSession(t.Context(), sids[0]) // the provider's own record (its back channel finds nothing left)
		}
		if resp, _ := do(t, hc, http.MethodGet, ta.url+"/me", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s-channel logout: /me = %d, want 303 to the home page", channel, resp.StatusCode)
		}
	}
}
