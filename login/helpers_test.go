package login_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// testApp is a web app (TLS, so Secure __Host- cookies work, unless
// plainHTTP) using a login.Handler against a partest provider.
type testApp struct {
	t   *testing.T
	srv *partest.Server
	web *httptest.Server
	c   *client.Client
	h   *login.Handler
	tr  *http.Transport // shared by the browsers, trusting the app's certificate

	mu     sync.Mutex
	errs   []error
	logins []*client.Tokens
}

type appOptions struct {
	cookieStore bool
	plainHTTP   bool // http:// app with InsecureCookie: no TLS handshakes
	users       []partest.User
	partest     func(*partest.Config)
	client      func(*client.Config)
	login       func(*login.Config)
}

// newApp starts a partest provider and the app; opts may be zero.
func newApp(t *testing.T, opts appOptions) *testApp {
	t.Helper()
	a := &testApp{t: t}
	var handler http.Handler = http.NotFoundHandler()
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) })
	if opts.plainHTTP {
		a.web = httptest.NewServer(serve)
	} else {
		a.web = httptest.NewTLSServer(serve)
	}
	t.Cleanup(a.web.Close)
	a.tr = a.web.Client().Transport.(*http.Transport).Clone()
	a.tr.MaxIdleConnsPerHost = 256
	t.Cleanup(a.tr.CloseIdleConnections)
	pcfg := partest.Config{
		Users: opts.users,
		Clients: []partest.Client{{
			ID: "app", Secret: "s3cr+t/=", RedirectURIs: []string{a.web.URL + "/callback"},
			PostLogoutRedirectURIs: []string{a.web.URL + "/bye"},
		}},
	}
	if opts.partest != nil {
		opts.partest(&pcfg)
	}
	a.srv = partest.NewServer(pcfg)
	t.Cleanup(a.srv.Close)
	ccfg := client.Config{
		Issuer: a.srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s3cr+t/="),
		RedirectURL: a.web.URL + "/callback", HTTPClient: a.srv.Client(),
	}
	if opts.client != nil {
		opts.client(&ccfg)
	}
	var err error
	if a.c, err = client.New(context.Background(), ccfg); err != nil {
		t.Fatalf("client.New: %v", err)
	}
	cfg := login.Config{
		Client: a.c,
		OnLogin: func(w http.ResponseWriter, r *http.Request, tok *client.Tokens) {
			a.mu.Lock()
			a.logins = append(a.logins, tok)
			a.mu.Unlock()
			fmt.Fprint(w, tok.IDToken.Subject)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			a.mu.Lock()
			a.errs = append(a.errs, err)
			a.mu.Unlock()
			login.DefaultOnError(w, r, err)
		},
		PostLogoutRedirectURL: a.web.URL + "/bye",
		Cookie:                login.CookieConfig{InsecureCookie: opts.plainHTTP},
	}
	if opts.cookieStore {
		st, err := login.NewCookieStore(login.CookieConfig{Keys: [][]byte{newKey()}, InsecureCookie: opts.plainHTTP})
		if err != nil {
			t.Fatalf("NewCookieStore: %v", err)
		}
		cfg.Store = st
	}
	if opts.login != nil {
		opts.login(&cfg)
	}
	if a.h, err = login.New(cfg); err != nil {
		t.Fatalf("login.New: %v", err)
	}
	handler = a.h
	return a
}

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// lastErr returns the last error OnError saw, or nil.
func (a *testApp) lastErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) == 0 {
		return nil
	}
	return a.errs[len(a.errs)-1]
}

func (a *testApp) loginCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.logins)
}

// browser is a user agent with its own cookie jar that stops at every
// redirect, so the test plays each step.
type browser struct {
	t   *testing.T
	app *testApp
	hc  *http.Client
}

func (a *testApp) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &browser{t: a.t, app: a, hc: &http.Client{
		Transport:     a.tr,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the app with browser-like headers.
func (b *browser) do(method, path string, header http.Header, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.app.web.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

var sameOrigin = http.Header{"Sec-Fetch-Site": {"same-origin"}}

// start POSTs the login form like a same-origin page and returns the
// authorization URL.
func (b *browser) start() string {
	b.t.Helper()
	r := b.do(http.MethodPost, "/login", sameOrigin, url.Values{})
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("POST /login = %d %q, want 303", r.status, r.body)
	}
	return r.header.Get("Location")
}

// callback delivers authorization response parameters to /callback.
func (b *browser) callback(params url.Values) response {
	b.t.Helper()
	return b.do(http.MethodGet, "/callback?"+params.Encode(), http.Header{"Sec-Fetch-Site": {"cross-site"}}, nil)
}

// authorize plays the user at the provider.
func (b *browser) authorize(authURL string) url.Values {
	b.t.Helper()
	params, err := b.app.srv.Login(authURL)
	if err != nil {
		b.t.Fatalf("partest Login: %v", err)
	}
	return params
}

// cookies returns the names of the app cookies in the jar.
func (b *browser) cookies() []string {
	u, _ := url.Parse(b.app.web.URL)
	var names []string
	for _, c := range b.hc.Jar.Cookies(u) {
		names = append(names, c.Name)
	}
	return names
}
