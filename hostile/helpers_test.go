package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

const (
	clientID = "app"
	// secret is long enough for HS256 request objects (RFC 7518 §3.2) and
	// holds the + / = that Basic credentials must form-encode.
	secret = "hostile+secret/0123456789abcdefghij="
)

// env is one hostile provider and everything a case needs around it: a
// partest server, a web app (for the login handlers and as the redirect
// URI), an attacker server that counts the requests it gets, and an HTTP
// client with its own transport so that its connections can be closed.
type env struct {
	t        *testing.T
	srv      *partest.Server
	app      *httptest.Server
	attacker *httptest.Server
	attacks  atomic.Int64
	tr       *http.Transport
	hc       *http.Client
	redirect string

	handler atomic.Pointer[http.Handler] // the app's handler, set by loginHandler
	ccfg    client.Config
	clock   *clock

	closeOnce sync.Once
}

// envOptions tweak an env before its servers and client are made.
type envOptions struct {
	timeout time.Duration // HTTP client timeout; default 3 s
	// frozenClock stops the client's clock at the env's start (it moves
	// only by advance), so that real time spent on a loaded machine does not
	// count against intervals a case measures.
	frozenClock bool
	partest     func(*partest.Config)
	client      func(*client.Config)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{}}
	if o.frozenClock {
		e.clock.base = time.Now()
	}
	e.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := e.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	e.attacker = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.attacks.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"request_uri":"urn:attacker","expires_in":60,"access_token":"x","token_type":"Bearer"}`)
	}))
	e.redirect = e.app.URL + "/callback"
	pcfg := partest.Config{
		Clients: []partest.Client{{
			ID: clientID, Secret: secret, RedirectURIs: []string{e.redirect},
			PostLogoutRedirectURIs: []string{e.app.URL + "/bye"},
		}},
		IDTokenAlg:         jose.ES256, // cheap keys: one per case
		OpaqueAccessTokens: true,
		RefreshTokens:      true,
	}
	if o.partest != nil {
		o.partest(&pcfg)
	}
	e.srv = partest.NewServer(pcfg)
	timeout := o.timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	e.tr = &http.Transport{MaxIdleConnsPerHost: 64}
	e.hc = &http.Client{Transport: e.tr, Timeout: timeout}
	e.ccfg = client.Config{
		Issuer: e.srv.Issuer(), ClientID: clientID, Auth: client.ClientSecretBasic(secret),
		RedirectURL: e.redirect, HTTPClient: e.hc, Now: e.clock.now,
	}
	if o.client != nil {
		o.client(&e.ccfg)
	}
	return e
}

// close shuts every server down and drops idle connections, so that the
// goroutine count can settle.
func (e *env) close() {
	e.closeOnce.Do(e.shutdown)
}

func (e *env) shutdown() {
	e.srv.Close()
	e.app.Close()
	e.attacker.Close()
	e.tr.CloseIdleConnections()
}

// client makes the SDK client (discovery runs against the partest server).
func (e *env) client(ctx context.Context) (*client.Client, error) {
	return client.New(ctx, e.ccfg)
}

// mustClient is client for cases whose fault is elsewhere.
func (e *env) mustClient(ctx context.Context) *client.Client {
	e.t.Helper()
	c, err := e.client(ctx)
	if err != nil {
		e.t.Fatalf("client.New: %v", err)
	}
	return c
}

// authorize pushes, builds the authorization URL and plays the user at the
// provider, returning the flow and the callback parameters.
func (e *env) authorize(ctx context.Context, c *client.Client) (*client.Flow, url.Values) {
	e.t.Helper()
	flow, err := c.Push(ctx)
	if err != nil {
		e.t.Fatalf("Push: %v", err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		e.t.Fatalf("AuthorizationURL: %v", err)
	}
	params, err := e.srv.Login(u)
	if err != nil {
		e.t.Fatalf("partest Login: %v", err)
	}
	return flow, params
}

// tokens runs a whole login and returns the verified tokens.
func (e *env) tokens(ctx context.Context, c *client.Client) *client.Tokens {
	e.t.Helper()
	flow, params := e.authorize(ctx, c)
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		e.t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// clock is the client's clock: real time (or base, when set) plus an
// offset a case can move.
type clock struct {
	base   time.Time
	offset atomic.Int64
}

func (c *clock) now() time.Time {
	if c.base.IsZero() {
		return time.Now().Add(time.Duration(c.offset.Load()))
	}
	return c.base.Add(time.Duration(c.offset.Load()))
}
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// loginApp mounts a login.Handler for the env's client on the app server.
func (e *env) loginApp(ctx context.Context, tweak func(*login.Config)) *loginApp {
	e.t.Helper()
	a := &loginApp{env: e}
	cfg := login.Config{
		Client: e.mustClient(ctx),
		OnLogin: func(w http.ResponseWriter, r *http.Request, tok *client.Tokens) {
			fmt.Fprint(w, tok.IDToken.Subject)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			a.mu.Lock()
			a.errs = append(a.errs, err)
			a.mu.Unlock()
			login.DefaultOnError(w, r, err)
		},
		Cookie: login.CookieConfig{InsecureCookie: true},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := login.New(cfg)
	if err != nil {
		e.t.Fatalf("login.New: %v", err)
	}
	var hh http.Handler = h
	e.handler.Store(&hh)
	return a
}

type loginApp struct {
	env  *env
	mu   sync.Mutex
	errs []error
}

// lastErr is the last error the handler reported, or nil.
func (a *loginApp) lastErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) == 0 {
		return nil
	}
	return a.errs[len(a.errs)-1]
}

// browser is a user agent with its own cookie jar that follows no redirect.
type browser struct {
	hc  *http.Client
	app string
}

func newBrowser(appURL string, tr http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{app: appURL, hc: &http.Client{
		Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// start POSTs the login form as a same-origin page would and returns the
// response status and Location.
func (b *browser) start(ctx context.Context) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.app+"/login", strings.NewReader(""))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = readAll(resp)
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// callback delivers the authorization response to the app and returns the
// status and body.
func (b *browser) callback(ctx context.Context, params url.Values) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.app+"/callback?"+params.Encode(), nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := readAll(resp)
	return resp.StatusCode, string(body), err
}

func readAll(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// settleGoroutines waits until the goroutine count is back to at most
// base, and reports the count it ended with.
func settleGoroutines(base int, within time.Duration) (int, bool) {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return n, true
		}
		if time.Now().After(deadline) {
			return n, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutineDump returns the stacks of all goroutines, for a leak report.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// isTimeout reports whether err is a network timeout (net.Error.Timeout).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
