package session_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
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

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

const secret = "s3cr+t/=-session-tests"

// clock is the shared fake clock of the provider, the client and the
// Manager.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is an app with a session Manager against a partest provider, and a
// resource server.
type env struct {
	t     *testing.T
	clock *clock
	srv   *partest.Server
	c     *client.Client
	app   *httptest.Server
	plain *httptest.Server // the same app over http, for the provider's back-channel POSTs
	m     *session.Manager
	rs    *resourceServer
	store *session.MemoryStore

	mu       sync.Mutex
	errs     []error
	loggedIn []*session.Session
	pushed   []url.Values // PAR forms
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// lastPush returns the last PAR form.
func (e *env) lastPush() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pushed) == 0 {
		return nil
	}
	return e.pushed[len(e.pushed)-1]
}

type envOptions struct {
	partest func(*partest.Config)
	client  func(*client.Config)
	session func(*session.Config)
	broker  bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{now: time.Now()}, store: nil}
	var handler http.Handler = http.NotFoundHandler()
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) })
	e.app = httptest.NewTLSServer(serve)
	t.Cleanup(e.app.Close)
	// The provider posts logout tokens over plain http (partest's
	// deliveries do not trust the app's test certificate).
	e.plain = httptest.NewServer(serve)
	t.Cleanup(e.plain.Close)
	pc := partest.Config{RefreshTokens: true, Now: e.clock.Now, AccessTokenLifetime: 10 * time.Minute}
	cl := partest.Client{ID: "app", Secret: secret, RedirectURIs: []string{e.app.URL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{e.app.URL + "/"}, BackchannelLogoutURI: e.plain.URL + "/auth/backchannel",
		FrontchannelLogoutURI: e.app.URL + "/auth/frontchannel"}
	if o.broker {
		pc = partest.BrokerConfig(cl)
		pc.RefreshTokens, pc.Now, pc.AccessTokenLifetime = true, e.clock.Now, 10*time.Minute
		pc.Users[0].Claims["ial"] = "https://data.gov.dk/concept/core/nsis/High"
	} else {
		pc.Clients = []partest.Client{cl}
	}
	if o.partest != nil {
		o.partest(&pc)
	}
	e.srv = partest.NewServer(pc)
	t.Cleanup(e.srv.Close)
	// The app's back channel and the provider's deliveries: the provider
	// reaches the app's TLS server with the app's certificate trusted.
	base := e.srv.Client().Transport
	hc := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/par") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			f, _ := url.ParseQuery(string(b))
			e.mu.Lock()
			e.pushed = append(e.pushed, f)
			e.mu.Unlock()
		}
		return base.RoundTrip(r)
	})}
	cc := client.Config{Issuer: e.srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic(secret),
		RedirectURL: e.app.URL + "/auth/callback", HTTPClient: hc, Now: e.clock.Now}
	if o.broker {
		cc.Profile = client.ProfileBroker
	}
	if o.client != nil {
		o.client(&cc)
	}
	var err error
	if e.c, err = client.New(context.Background(), cc); err != nil {
		t.Fatalf("client.New: %v", err)
	}
	e.rs = newResourceServer(t, e.clock)
	e.store = session.NewMemoryStore(e.clock.Now)
	sc := session.Config{Client: e.c, Store: e.store, Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Now: e.clock.Now, MitIDStepUp: o.broker,
		OnLogin: func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			e.mu.Lock()
			e.loggedIn = append(e.loggedIn, s)
			e.mu.Unlock()
			http.Redirect(w, r, "/me", http.StatusSeeOther)
		},
		Login: login.Config{
			PostLogoutRedirectURL: e.app.URL + "/",
			OnError: func(w http.ResponseWriter, r *http.Request, err error) {
				e.mu.Lock()
				e.errs = append(e.errs, err)
				e.mu.Unlock()
				login.DefaultOnError(w, r, err)
			},
		},
	}
	if o.session != nil {
		o.session(&sc)
	}
	if e.m, err = session.New(sc); err != nil {
		t.Fatalf("session.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", e.m.Login().Mux("/auth"))
	mux.HandleFunc("/auth/backchannel", e.m.BackChannelLogout)
	mux.HandleFunc("/auth/frontchannel", e.m.FrontChannelLogout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, err := e.m.Session(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s %d", s.Subject, s.ACR, s.Started.UnixNano())
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		hc, err := e.m.Client(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		resp, err := hc.Get(e.rs.srv.URL + "/data")
		var up *session.StepUpError
		switch {
		case errors.As(err, &up):
			e.m.StepUp(w, r, up, "/me")
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	})
	handler = mux
	return e
}

func (e *env) lastErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[len(e.errs)-1]
}

// resourceServer checks access tokens like a resource server with JWT
// access tokens (RFC 9068): exp against the clock, the DPoP proof's key
// against cnf.jkt, and, when needACR is set, the acr claim (RFC 9470).
type resourceServer struct {
	srv     *httptest.Server
	clock   *clock
	needACR atomic.Pointer[string]
	revoked sync.Map // access tokens answered 401 invalid_token once
	calls   atomic.Int64
}

func newResourceServer(t *testing.T, c *clock) *resourceServer {
	rs := &resourceServer{clock: c}
	rs.srv = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(rs.srv.Close)
	return rs
}

func (rs *resourceServer) serve(w http.ResponseWriter, r *http.Request) {
	rs.calls.Add(1)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	deny := func(params string) {
		w.Header().Set("WWW-Authenticate", scheme+` `+params)
		w.WriteHeader(http.StatusUnauthorized)
	}
	claims, err := jwtClaims(tok)
	if err != nil {
		deny(`error="invalid_token"`)
		return
	}
	if _, loaded := rs.revoked.LoadAndDelete(tok); loaded {
		deny(`error="invalid_token", error_description="revoked"`)
		return
	}
	if exp, _ := claims["exp"].(float64); !rs.clock.Now().Before(time.Unix(int64(exp), 0)) {
		deny(`error="invalid_token", error_description="expired"`)
		return
	}
	cnf, _ := claims["cnf"].(map[string]any)
	switch jkt, _ := cnf["jkt"].(string); {
	case jkt == "" && scheme != "Bearer", jkt != "" && (scheme != "DPoP" || proofJKT(r.Header.Get("DPoP")) != jkt):
		deny(`error="invalid_token", error_description="wrong scheme or key"`)
		return
	}
	if need := rs.needACR.Load(); need != nil && claims["acr"] != *need {
		deny(`error="insufficient_user_authentication", acr_values="` + *need + `"`)
		return
	}
	fmt.Fprintf(w, "data for %v at %v", claims["sub"], claims["acr"])
}

func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// proofJKT is the thumbprint of a DPoP proof's jwk header (not verified:
// the tests check which key the client used).
func proofJKT(proof string) string {
	obj, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 || obj.Signatures[0].Protected.JSONWebKey == nil {
		return ""
	}
	tp, err := obj.Signatures[0].Protected.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// browser is a user agent with a cookie jar that stops at redirects.
type browser struct {
	e  *env
	hc *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, hc: &http.Client{Transport: e.app.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, header http.Header, form url.Values) response {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.e.app.URL + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

var sameOrigin = http.Header{"Sec-Fetch-Site": {"same-origin"}}

// finish plays the user at the provider for an authorization URL and
// delivers the callback; it returns the callback's answer.
func (b *browser) finish(authURL, subject string) response {
	b.e.t.Helper()
	var params url.Values
	var err error
	if subject != "" {
		params, err = b.e.srv.LoginAs(authURL, subject)
	} else {
		params, err = b.e.srv.Login(authURL)
	}
	if err != nil {
		b.e.t.Fatalf("partest login: %v", err)
	}
	return b.do(http.MethodGet, "/auth/callback?"+params.Encode(), http.Header{"Sec-Fetch-Site": {"cross-site"}}, nil)
}

// login logs the browser in and returns the callback's answer.
func (b *browser) login() response {
	b.e.t.Helper()
	r := b.do(http.MethodPost, "/auth/login", sameOrigin, url.Values{})
	if r.status != http.StatusSeeOther {
		b.e.t.Fatalf("POST /auth/login = %d %q", r.status, r.body)
	}
	cb := b.finish(r.header.Get("Location"), "")
	if cb.status != http.StatusSeeOther || cb.header.Get("Location") != "/me" {
		b.e.t.Fatalf("callback = %d %q %q (%v)", cb.status, cb.header.Get("Location"), cb.body, b.e.lastErr())
	}
	return cb
}

// cookie returns the browser's session cookie value, or "".
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.app.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "__Host-session" {
			return c.Value
		}
	}
	return ""
}

// me returns /me's status and body.
func (b *browser) me() (int, string) {
	r := b.do(http.MethodGet, "/me", nil, nil)
	return r.status, r.body
}
