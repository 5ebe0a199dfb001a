package site

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/keys"
	"github.com/go-par/par/login"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options configure New beyond the environment; tests use them.
type Options struct {
	// BaseURL is where the app is reachable, such as http://127.0.0.1:8080.
	BaseURL string
	// Transport is the base transport under the recorder. Default: the
	// SDK's (client.NewHTTPClient), trusting PAR_CA_FILE too.
	Transport http.RoundTripper
	Logger    *slog.Logger
	Now       func() time.Time

	// Sessions keeps the sessions (package session); default: in memory,
	// this process only. Replicas share one (store/redisstore's
	// Sessions) with the same SessionKeys, which seal every session
	// (default: a random key, this process only).
	Sessions    session.Store
	SessionKeys [][]byte
	// Flows keeps the login flows between push and callback; default: the
	// login package's memory store. Replicas share one (store/redisstore).
	Flows login.Store
}

// App is the example web app: the login handlers of package login, a
// session per browser, and the trace of each login.
type App struct {
	c        *client.Client
	m        *session.Manager // sessions: tokens, refresh, step-up, logouts
	h        *login.Handler   // m's login handler
	rec      *recorder
	log      *slog.Logger
	tmpl     *template.Template
	now      func() time.Time
	provider string   // shown on the page
	clientID string   // shown on the page
	callback string   // path of the redirect URI
	redirect *url.URL // the redirect URI
	secure   bool     // cookies get the Secure attribute and the __Host- prefix
	csp      string   // Content-Security-Policy of every page
	mux      *http.ServeMux

	sessionCookie string // the session cookie's name
	probeCookie   string // a cookie set by every page, to tell blocked cookies

	embedded *partest.Server // nil with a real provider
	secret   string          // embedded client's secret (tests look for leaks)

	pending *store[*Trace] // traces of started logins, by state
	traces  *store[*Trace] // traces of finished logins, by the ID token's nonce
	views   *store[*view]  // what /me shows of a session, by nonce and login time
}

// view is what the pages show of one session; it is built on the replica
// that serves the page (the trace only on the one that handled the login).
type view struct {
	Subject    string
	Name       string
	Level      string // "Substantial", or why there is none
	LevelURI   string
	IDClaims   string // pretty JSON
	UserInfo   string // pretty JSON, or why there is none
	Claims     mitid.Claims
	LoggedInAt time.Time
	SID        string // the provider's session ID, for its logouts
	Trace      *Trace // nil on a replica that did not handle the login
}

// Cookie names. With Secure cookies (https, or a loopback redirect URI,
// where browsers accept Secure cookies over http) they carry the __Host-
// prefix: host-only, Path=/, Secure (RFC 6265bis §4.1.3.2), so a sibling
// subdomain cannot plant them.
const (
	sessionCookieName = "webapp-session"
	probeCookieName   = "webapp-cookies"
	hostPrefix        = "__Host-"
)

// New builds the app for cfg. With an empty cfg.Issuer it starts the
// embedded provider; close releases it.
func New(ctx context.Context, cfg Config, opt Options) (a *App, closeFn func(), err error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Transport == nil {
		if opt.Transport, err = cfg.transport(); err != nil {
			return nil, nil, err
		}
	}
	a = &App{
		log: opt.Logger, now: opt.Now,
		pending: newStore[*Trace](10000, 15*time.Minute, opt.Now),
		traces:  newStore[*Trace](10000, 8*time.Hour, opt.Now),
		views:   newStore[*view](10000, 8*time.Hour, opt.Now),
	}
	a.tmpl, err = template.New("").Funcs(template.FuncMap{
		"info": stepInfoFor, "waterfall": waterfallOf, "ms": func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) },
		"clock": func(t time.Time) string { return t.Format("15:04:05.000") },
		"head":  func(title string, d pageData) headData { return headData{Title: title, Private: d.private()} },
	}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, nil, err
	}
	closeFn = func() {}
	scopes := cfg.Scopes
	profile, err := cfg.profile()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Issuer == "" {
		srv, secret := startEmbedded(opt.BaseURL)
		closeFn = srv.Close
		a.embedded, a.secret = srv, secret
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret = srv.Issuer(), embeddedClientID, secret
		cfg.PostLogoutURL = opt.BaseURL + "/"
		if len(scopes) == 0 {
			scopes = []string{"openid", "mitid"}
		}
		if cfg.ProfileName == "" {
			profile = client.ProfileBroker
		}
		a.provider = "embedded partest provider at " + srv.Issuer() + " (test identities, no password)"
	} else {
		a.provider = cfg.Issuer
	}
	defer func() {
		if err != nil {
			closeFn()
		}
	}()
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = opt.BaseURL + "/auth/callback"
	}
	ru, err := url.Parse(cfg.RedirectURL)
	if err != nil || ru.Path == "" {
		return nil, nil, fmt.Errorf("webapp: PAR_REDIRECT_URL %q is not an absolute URL with a path", cfg.RedirectURL)
	}
	a.callback, a.redirect = ru.Path, ru
	// Browsers accept Secure cookies from http://127.0.0.1 and localhost
	// (potentially trustworthy origins), so a loopback development setup
	// keeps the production attributes. Over plain http elsewhere they
	// would be dropped.
	a.secure = ru.Scheme == "https" || isLoopback(ru.Hostname())
	a.sessionCookie, a.probeCookie = sessionCookieName, probeCookieName
	if a.secure {
		a.sessionCookie, a.probeCookie = hostPrefix+sessionCookieName, hostPrefix+probeCookieName
	} else {
		a.log.LogAttrs(ctx, slog.LevelWarn, "webapp: the redirect URI is plain http on a non-loopback host: cookies are not Secure; use this for development only",
			slog.String("redirect_uri", cfg.RedirectURL))
	}

	a.rec = &recorder{base: opt.Transport, log: opt.Logger, process: newTrace(opt.Now()), now: opt.Now}
	auth, err := cfg.authMethod()
	if err != nil {
		return nil, nil, err
	}
	ccfg := client.Config{
		Issuer:      cfg.Issuer,
		ClientID:    cfg.ClientID,
		Auth:        auth,
		RedirectURL: cfg.RedirectURL,
		Scopes:      scopes,
		HTTPClient:  &http.Client{Transport: a.rec, Timeout: 30 * time.Second},
		Logger:      opt.Logger,
		Now:         opt.Now,
		Profile:     profile,
	}
	if profile == client.ProfileFAPI2 {
		if ccfg.DPoP, err = dpopProofer(); err != nil {
			return nil, nil, err
		}
	}
	ccfg.ResponseMode = cfg.ResponseMode
	if cfg.ResponseKeyFile != "" {
		k, err := keys.LoadDecryptionFile(cfg.ResponseKeyFile, cfg.KeyPassword)
		if err != nil {
			return nil, nil, fmt.Errorf("webapp: PAR_RESPONSE_KEY_FILE: %w", err)
		}
		ccfg.ResponseDecryptionKey = k.Decrypter
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "discovery: fetching provider metadata", slog.String("issuer", cfg.Issuer))
	a.c, err = client.New(withTrace(ctx, a.rec.process), ccfg)
	if err != nil {
		return nil, nil, fmt.Errorf("webapp: %w", err)
	}
	a.clientID = cfg.ClientID
	md := a.c.Metadata()
	a.csp = "default-src 'self'; form-action 'self' " + formTargets(md.AuthorizationEndpoint, md.EndSessionEndpoint) +
		"; frame-ancestors 'none'"
	a.rec.setEndpoints(map[string]string{
		md.JWKSURI: kindJWKS, md.PushedAuthorizationRequestEndpoint: kindPush, md.TokenEndpoint: kindToken,
		md.UserinfoEndpoint: kindUserinfo, md.EndSessionEndpoint: kindEndSession,
	})
	a.log.LogAttrs(ctx, slog.LevelInfo, "discovery: done", slog.String("par_endpoint", md.PushedAuthorizationRequestEndpoint),
		slog.Bool("require_pushed_authorization_requests", md.RequirePushedAuthorizationRequests),
		slog.Bool("iss_parameter_supported", md.AuthorizationResponseISSParameterSupported))

	var pushOpts []client.Option
	names := make([]string, 0, len(cfg.Params))
	for k := range cfg.Params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		pushOpts = append(pushOpts, client.WithParam(k, cfg.Params.Get(k)))
	}
	a.m, err = session.New(session.Config{
		Client: a.c,
		Store:  opt.Sessions,
		Keys:   opt.SessionKeys,
		// __Host-webapp-session with an https or a loopback redirect URI.
		Cookie:          session.CookieConfig{Name: a.sessionCookie, InsecureCookie: !a.secure},
		AbsoluteTimeout: 8 * time.Hour,
		OnLogin:         a.onLogin,
		Login: login.Config{
			Store:                 opt.Flows,
			OnError:               a.onError,
			PostLogoutRedirectURL: cfg.PostLogoutURL,
			PushOptions:           func(*http.Request) []client.Option { return pushOpts },
			CallbackPath:          a.callback,
			// The binding cookie is __Host- and Secure with an https or a
			// loopback redirect URI.
			Cookie: login.CookieConfig{InsecureCookie: !a.secure},
		},
		Logger: opt.Logger,
		Now:    opt.Now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("webapp: %w", err)
	}
	a.h = a.m.Login()

	static, _ := fs.Sub(assets, "static")
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /me", a.me)
	a.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	a.mux.HandleFunc("/auth/login", a.start)
	a.mux.HandleFunc("/auth/logout", a.h.Logout)
	// The provider's logouts (OIDC Back-Channel and Front-Channel Logout
	// 1.0): register these URIs at the provider.
	a.mux.HandleFunc("POST /auth/backchannel", a.m.BackChannelLogout)
	a.mux.HandleFunc("GET /auth/frontchannel", a.m.FrontChannelLogout)
	a.mux.HandleFunc(a.callback, a.callbackHandler)
	return a, closeFn, nil
}

// Provider describes the provider the app logs in at.
func (a *App) Provider() string { return a.provider }

// ServeHTTP serves the app's pages and login endpoints.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin: the app's own POSTs carry their Origin (no-referrer
	// made browsers send "Origin: null"), other sites get no Referer. The
	// callback sets no-referrer for its own response (its URL holds the
	// code).
	h.Set("Referrer-Policy", "same-origin")
	// No page of the app may be framed (clickjacking): CSP frame-ancestors,
	// and X-Frame-Options for browsers without it.
	h.Set("Content-Security-Policy", a.csp)
	h.Set("X-Frame-Options", "DENY")
	if a.otherLoopbackHost(r) {
		// http://localhost:8080 with a redirect URI on 127.0.0.1: cookies
		// set here would not reach the callback. Go to the redirect URI's
		// host first.
		u := *r.URL
		u.Scheme, u.Host = a.redirect.Scheme, a.redirect.Host
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// otherLoopbackHost reports a page request (GET or HEAD, not the callback)
// to a loopback host name other than the redirect URI's, which is also
// loopback: the same server under another name, whose cookies the callback
// will not see. Other hosts are left alone (a reverse proxy may rewrite
// Host).
func (a *App) otherLoopbackHost(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.Path == a.callback {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	want := a.redirect.Hostname()
	return !strings.EqualFold(host, want) && isLoopback(host) && isLoopback(want)
}

// isLoopback reports whether host is localhost (or a name under it) or a
// loopback IP address.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// formTargets lists the provider origins that the login and logout forms'
// redirects lead to (Chromium applies form-action to redirects): the
// authorization and end-session endpoints.
func formTargets(authz, endSession string) string {
	var origins []string
	for _, e := range []string{authz, endSession} {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return strings.Join(origins, " ")
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		a.log.Error("template", slog.String("name", name), slog.String("error", err.Error()))
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Every page sets the probe cookie unless the browser has it: a login
	// start without it comes from a browser that blocks cookies.
	if _, err := r.Cookie(a.probeCookie); err != nil {
		http.SetCookie(w, a.cookie(a.probeCookie, "1", 0))
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type pageData struct {
	Provider string
	ClientID string
	Session  *view
	Steps    []Step
	Title    string // of the error page
	Error    string // the error page's message: never provider-written text
	Hint     string // what the user can do
	Status   int
}

// private reports a page that shows personal data: the user's session or
// the steps of a login.
func (d pageData) private() bool { return d.Session != nil || len(d.Steps) > 0 }

// headData is what the layout's head needs.
type headData struct {
	Title   string
	Private bool // <html data-private>: never restored from the back/forward cache
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home.html", pageData{Provider: a.provider, ClientID: a.clientID, Session: a.session(w, r)})
}

// cookie builds one of the app's cookies: host-only, Path=/, HttpOnly,
// SameSite=Lax, Secure when a.secure. maxAge 0 makes a session cookie, -1
// deletes it.
func (a *App) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

// cookiesBlocked reports a request from a browser that sent back none of
// the app's cookies: neither the probe cookie that every page sets nor a
// session.
func (a *App) cookiesBlocked(r *http.Request) bool {
	_, errProbe := r.Cookie(a.probeCookie)
	_, errSession := r.Cookie(a.sessionCookie)
	return errProbe != nil && errSession != nil
}

// renderCookiesBlocked tells the user what can work: enabling cookies for
// this site, not "start again".
func (a *App) renderCookiesBlocked(w http.ResponseWriter, r *http.Request, steps []Step) {
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: the browser sent no cookie back (cookies blocked?)",
		slog.String("path", r.URL.Path))
	a.render(w, r, http.StatusBadRequest, "error.html", pageData{Provider: a.provider, ClientID: a.clientID,
		Title: "Cookies are blocked", Status: http.StatusBadRequest, Steps: steps,
		Error: "your browser did not send back the cookies this site sets, and a login needs them",
		Hint:  "Allow cookies for " + a.redirect.Host + " in your browser's settings, then reload the home page and log in again."})
}

func (a *App) me(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "me.html", pageData{Provider: a.provider, ClientID: a.clientID, Session: s,
		Steps: a.loginSteps(s.Trace)})
}

// loginSteps is the timeline of a login whose trace this replica holds,
// else none.
func (a *App) loginSteps(t *Trace) []Step {
	if t == nil {
		return nil
	}
	return a.timeline(t)
}

// timeline is the process-wide discovery step followed by the login's own.
func (a *App) timeline(t *Trace) []Step {
	var steps []Step
	for _, s := range a.rec.process.Steps() {
		if s.Kind == kindDiscovery {
			s.Note = "Done once when the app started, " + s.At.Format("15:04:05") + "; every login uses the cached metadata."
			steps = append(steps, s)
		}
	}
	if t != nil {
		steps = append(steps, t.Steps()...)
	}
	return steps
}

// session returns what the pages show of the request's session, or nil.
// The view is built once per login on each replica: the ID token's claims,
// UserInfo called with the session's access token (through the session's
// resource client, which refreshes it when needed), and the login's trace
// when this replica handled the login.
func (a *App) session(w http.ResponseWriter, r *http.Request) *view {
	s, err := a.m.Session(w, r)
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			a.log.LogAttrs(r.Context(), slog.LevelInfo, "session: load failed", slog.String("error", err.Error()))
		}
		return nil
	}
	var idClaims map[string]any
	_ = s.Claims(&idClaims)
	nonce, _ := idClaims["nonce"].(string)
	key := nonce + "|" + s.LoggedIn.Format(time.RFC3339Nano)
	if v, ok := a.views.get(key); ok {
		return v
	}
	v := &view{Subject: s.Subject, LoggedInAt: s.LoggedIn, SID: s.SID, IDClaims: prettyJSON(idClaims)}
	v.Trace, _ = a.traces.get(nonce)
	if err := s.Claims(&v.Claims); err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: id token claims", slog.String("error", err.Error()))
	}
	ctx := r.Context()
	if v.Trace != nil {
		ctx = withTrace(ctx, v.Trace)
	}
	v.UserInfo = a.userInfo(ctx, w, r, v)
	// mitid.identity_name (MitID), the nemlogin.* name (MitID Erhverv) or
	// OIDC's name, from UserInfo when it filled the claims, else from the
	// ID token.
	v.Name = v.Claims.DisplayName()
	if v.Name == "" {
		var idc mitid.Claims
		if err := s.Claims(&idc); err == nil {
			v.Name = idc.DisplayName()
		}
	}
	if lvl, err := mitid.ParseLevel(v.Claims.LoA); err == nil {
		v.Level, v.LevelURI = lvl.String(), v.Claims.LoA
	} else if v.Claims.LoA == "" {
		v.Level = "none (no loa claim)"
	} else {
		v.Level, v.LevelURI = "not an NSIS level", v.Claims.LoA
	}
	_ = a.views.put(key, v)
	return v
}

// userInfo calls the UserInfo endpoint with the session's access token and
// fills v's claims from it; it returns the response for the page.
func (a *App) userInfo(ctx context.Context, w http.ResponseWriter, r *http.Request, v *view) string {
	ep := a.c.Metadata().UserinfoEndpoint
	if ep == "" {
		return "The provider has no userinfo_endpoint."
	}
	hc, err := a.m.Client(w, r)
	if err != nil {
		return "UserInfo failed: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep, nil)
	if err != nil {
		return "UserInfo failed: " + err.Error()
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "UserInfo failed: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("UserInfo failed: HTTP %d", resp.StatusCode)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return "UserInfo is not a JSON object (a signed response is shown in the trace)"
	}
	if sub, _ := m["sub"].(string); sub != v.Subject {
		return "UserInfo refused: its sub is not the ID token's (OIDC Core §5.3.2)"
	}
	// The broker's ID token is minimal; UserInfo fills in the rest.
	var uc mitid.Claims
	if err := json.Unmarshal(body, &uc); err == nil && v.Claims.LoA == "" {
		v.Claims.LoA = uc.LoA
	}
	if v.Claims.MitID.IdentityName == "" {
		_ = json.Unmarshal(body, &v.Claims)
	}
	return prettyJSON(m)
}

// start wraps login.Handler.Start: it gives the login a trace, records the
// authorization redirect, and files the trace under the pushed state.
func (a *App) start(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && a.cookiesBlocked(r) {
		// Tell it now, not after the user has been through the provider.
		a.renderCookiesBlocked(w, r, nil)
		return
	}
	t := newTrace(a.now())
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: start, pushing the authorization request", slog.String("trace", t.ID))
	rw := &locationWriter{ResponseWriter: w}
	a.h.Start(rw, r.WithContext(withTrace(r.Context(), t)))
	loc := rw.Header().Get("Location")
	if rw.status != http.StatusFound && rw.status != http.StatusSeeOther || loc == "" {
		return // an error page was written
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	st := Step{Kind: kindAuthorize, At: a.now(), Method: "GET (browser)", URL: redactURL(u), Status: rw.status,
		Params: redactQuery(u.Query())}
	names := make([]string, 0, len(st.Params))
	for _, p := range st.Params {
		names = append(names, p.Name)
	}
	ok := len(names) == 2 && names[0] == "client_id" && names[1] == "request_uri"
	st.Checks = []Check{{Name: "parameters", Value: fmt.Sprintf("%d: %s", len(names), strings.Join(names, ", ")), OK: ok,
		Why: "only client_id and request_uri travel through the browser (RFC 9126 §4)"}}
	t.add(st)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: redirecting the browser to the authorization endpoint",
		slog.String("url", st.URL), slog.Int("parameters", len(names)))
	state, _ := t.pushed()
	if state != "" {
		_ = a.pending.put(state, t)
	}
}

type locationWriter struct {
	http.ResponseWriter
	status int
}

func (w *locationWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *locationWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// callbackHandler wraps login.Handler.Callback: it finds the login's trace by
// state and records the callback parameters (the code redacted).
func (a *App) callbackHandler(w http.ResponseWriter, r *http.Request) {
	params, err := peekResponse(r)
	if err != nil {
		a.h.Callback(w, r) // let the handler report it
		return
	}
	st := Step{Kind: kindCallback, At: a.now(), Method: r.Method + " (browser)", URL: a.callback, Params: callbackParams(params)}
	var jarm *Step
	if params.Has("response") {
		// A JWT-secured response (JARM): its parameters, state among
		// them, are inside the JWT.
		js, inner := a.jarmStep(r.Context(), params)
		jarm = &js
		if inner == nil {
			t := newTrace(a.now())
			t.add(st)
			t.add(js)
			a.h.Callback(w, r.WithContext(withTrace(r.Context(), t)))
			return
		}
		params = inner
	}
	t, _ := a.pending.take(params.Get("state"))
	if t == nil {
		t = newTrace(a.now())
		t.add(Step{Kind: kindCallback, At: a.now(), Note: "No trace of the start of this login: it was started before the app restarted, in another app instance, or it is a replay."})
	}
	if jarm != nil {
		t.add(st)
		st = *jarm
	}
	pushedState, _ := t.pushed()
	if pushedState != "" {
		st.Checks = append(st.Checks, Check{Name: "state", Value: "returned unchanged",
			OK:  subtle.ConstantTimeCompare([]byte(params.Get("state")), []byte(pushedState)) == 1,
			Why: "equals the state pushed, compared in constant time (RFC 6749 §10.12)"})
	}
	switch iss := params.Get("iss"); {
	case jarm != nil:
		// The response JWT's iss, checked with its signature above.
	case iss == "" && params.Get("error") != "" && a.c.Metadata().AuthorizationResponseISSParameterSupported:
		// The MitID broker's cancel: no code, so nothing for a mix-up to
		// steal; client.Exchange hands the error to the app.
		st.Checks = append(st.Checks, Check{Name: "iss", Value: "absent from an error response", OK: true,
			Why: "an error response carries no code, so a missing iss opens no mix-up (RFC 9207 §2.4); the MitID broker sends none with a cancel"})
	case iss != "" || a.c.Metadata().AuthorizationResponseISSParameterSupported:
		st.Checks = append(st.Checks, Check{Name: "iss", Value: iss, OK: iss == a.c.Metadata().Issuer,
			Why: "equals the issuer: the response comes from the provider the request was pushed to (RFC 9207 §2.4)"})
	}
	if e := params.Get("error"); e != "" {
		// The description goes to the log only: anybody can put text in a
		// callback URL, and the page must not show it on the app's origin.
		st.Facts = append(st.Facts, Param{Name: "error", Value: shownCode(e)})
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: the callback carries an error", slog.String("trace", t.ID),
			slog.String("error", e), slog.String("error_description", params.Get("error_description")),
			slog.String("error_uri", params.Get("error_uri")))
	}
	t.add(st)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: callback received, exchanging the code",
		slog.String("trace", t.ID), slog.String("parameters", strings.Join(names, ",")))
	a.h.Callback(w, r.WithContext(withTrace(r.Context(), t)))
}

// callbackParams lists the callback parameters for the page: secrets
// redacted, and the provider's free text (error_description, error_uri,
// an error that is not a plain code) replaced by its length, because a
// callback URL can be written by anybody.
func callbackParams(v url.Values) []Param {
	ps := redactQuery(v)
	for i, p := range ps {
		switch {
		case p.Name == "error_description" || p.Name == "error_uri":
			ps[i].Value, ps[i].Redacted = fmt.Sprintf("[not shown: text from the browser, %d chars; see the log]", len(p.Value)), true
		case p.Name == "error":
			ps[i].Value = shownCode(p.Value)
			ps[i].Redacted = ps[i].Value != p.Value
		}
	}
	return ps
}

// shownCode is an error code as the page may show it: a short token of
// letters, digits and _ . - (every registered OAuth error code), or a
// placeholder.
func shownCode(code string) string {
	ok := code != "" && len(code) <= 64
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			ok = false
		}
	}
	if ok {
		return code
	}
	return fmt.Sprintf("[not shown: not a plain error code, %d chars; see the log]", len(code))
}

// peekResponse reads the authorization response parameters like
// client.ParseResponse, leaving a POST body in place for the handler.
func peekResponse(r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return url.ParseQuery(r.URL.RawQuery)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return url.ParseQuery(string(body))
}

// onLogin runs once package session has made (or, after a step-up,
// upgraded) the session: it records the ID token checks in the login's
// trace, files the trace under the ID token's nonce for the result page,
// and shows the result.
func (a *App) onLogin(w http.ResponseWriter, r *http.Request, s *session.Session) {
	ctx := r.Context()
	t := traceFrom(ctx)
	if t == nil {
		t = newTrace(a.now())
	}
	idStep := a.idTokenStep(t, s)
	t.add(idStep)
	failed := 0
	for _, c := range idStep.Checks {
		if !c.OK {
			failed++
		}
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	_ = s.Claims(&claims)
	if claims.Nonce != "" {
		_ = a.traces.put(claims.Nonce, t)
	}
	alg, kid := t.idTokenHeader()
	a.log.LogAttrs(ctx, slog.LevelInfo, "login: id token verified", slog.String("iss", s.Issuer),
		slog.String("alg", alg), slog.String("kid", kid), slog.Int("failed_checks", failed))
	a.log.LogAttrs(ctx, slog.LevelInfo, "login: done, session started", slog.String("trace", t.ID), slog.String("sub", s.Subject),
		slog.String("acr", s.ACR))
	http.Redirect(w, r, "/me", http.StatusSeeOther)
}

// idTokenStep lists the checks the ID token passed in client.Exchange, with
// the values seen; the verification itself was done by the client.
func (a *App) idTokenStep(t *Trace, s *session.Session) Step {
	var id struct {
		Issuer   string   `json:"iss"`
		Audience audience `json:"aud"`
		Expiry   int64    `json:"exp"`
		IssuedAt int64    `json:"iat"`
		Nonce    string   `json:"nonce"`
		AtHash   string   `json:"at_hash"`
	}
	_ = s.Claims(&id)
	st := Step{Kind: kindIDToken, At: a.now()}
	alg, kid := t.idTokenHeader()
	exp := time.Unix(id.Expiry, 0)
	st.Checks = append(st.Checks,
		Check{Name: "signature", Value: "alg " + alg + ", kid " + kid, OK: true,
			Why: "verified with the provider's key from jwks_uri; alg on the allow-list (OIDC Core §3.1.3.7 items 6–8)"},
		Check{Name: "iss", Value: id.Issuer, OK: id.Issuer == a.c.Metadata().Issuer, Why: "exactly the issuer (item 2)"},
		Check{Name: "aud", Value: strings.Join(id.Audience, " "), OK: slices.Contains(id.Audience, a.clientID),
			Why: "contains our client_id (item 3)"},
		Check{Name: "exp", Value: exp.UTC().Format(time.RFC3339) + " (in " + exp.Sub(a.now()).Round(time.Second).String() + ")",
			OK: exp.After(a.now().Add(-30 * time.Second)), Why: "not expired, 30 s clock skew allowed (item 9)"},
	)
	if _, nonce := t.pushed(); nonce != "" {
		st.Checks = append(st.Checks, Check{Name: "nonce", Value: "equals the nonce pushed",
			OK:  subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) == 1,
			Why: "binds the ID token to this login (item 11)"})
	} else {
		st.Checks = append(st.Checks, Check{Name: "nonce", Value: "checked by client.Exchange", OK: true,
			Why: "binds the ID token to this login (item 11)"})
	}
	if id.AtHash != "" {
		st.Checks = append(st.Checks, Check{Name: "at_hash", Value: id.AtHash, OK: true,
			Why: "left half of the access token's hash, checked by client.Exchange (OIDC Core §3.1.3.8)"})
	} else {
		st.Checks = append(st.Checks, Check{Name: "at_hash", Value: "absent", OK: true,
			Why: "optional in the code flow (OIDC Core §3.1.3.6)"})
	}
	st.Facts = []Param{{Name: "sub", Value: s.Subject}, {Name: "iat", Value: time.Unix(id.IssuedAt, 0).UTC().Format(time.RFC3339)}}
	if s.SID != "" {
		st.Facts = append(st.Facts, Param{Name: "sid", Value: s.SID})
	}
	return st
}

// audience is aud: one string or an array (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

type joseHeader struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"` // of a JWE
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// jwtHeader decodes the protected header of a compact JWS (or JWE),
// without verifying anything; zero on malformed input.
func jwtHeader(raw string) joseHeader {
	var h joseHeader
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return h
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return h
	}
	_ = json.Unmarshal(b, &h)
	return h
}

func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// onError shows a failed login or logout with its trace so far. The page
// shows login.Message, the text login.DefaultOnError shows: never a
// provider's description, which anybody can write into a callback URL; the
// error itself goes to the log.
func (a *App) onError(w http.ResponseWriter, r *http.Request, err error) {
	status := login.StatusCode(err)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: failed", slog.Int("status", status), slog.String("error", err.Error()))
	var le *login.Error
	op := ""
	if errors.As(err, &le) {
		op = le.Op
	}
	replay := op == login.OpCallback && (errors.Is(err, login.ErrFlowNotFound) || errors.Is(err, login.ErrBrowserMismatch))
	if _, err := a.m.Session(w, r); replay && err == nil {
		// A reloaded or replayed callback in a logged-in browser: the
		// login already happened. Show it, not "Login failed".
		http.Redirect(w, r, "/me", http.StatusSeeOther)
		return
	}
	var steps []Step
	if t := traceFrom(r.Context()); t != nil {
		steps = a.timeline(t)
	}
	if replay && r.Method == http.MethodGet && a.cookiesBlocked(r) {
		a.renderCookiesBlocked(w, r, steps)
		return
	}
	title, msg, hint := "Login failed", login.Message(err), "Start again from the home page."
	switch {
	case op == login.OpLogout:
		title, hint = "Logout failed", "Use the Log out button on the result page."
	case status == http.StatusTooManyRequests:
		hint = "Wait a moment, then start again from the home page."
	}
	if o := mitid.OutcomeOf(err); o != mitid.OutcomeNone {
		// The provider ended the login (a cancel comes without iss from
		// the MitID broker): a message by the group of its code, never its
		// text.
		title, msg, hint = outcomePage(o)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: ended by the provider", slog.String("outcome", o.String()))
	}
	a.render(w, r, status, "error.html", pageData{Provider: a.provider, ClientID: a.clientID, Title: title,
		Error: msg, Hint: hint, Status: status, Steps: steps})
}

// outcomePage is the title, message and hint of the page for a login the
// provider ended with an error code (mitid.OutcomeOf).
func outcomePage(o mitid.Outcome) (title, msg, hint string) {
	msg = o.Message()
	switch o {
	case mitid.OutcomeCancelled:
		return "Login cancelled", msg, "You can start again from the home page whenever you like."
	case mitid.OutcomeNavigation:
		return "Login interrupted", msg, "Start again from the home page, in one tab, without the back button."
	case mitid.OutcomeIdentity:
		return "Login not completed", msg, "Start again with another identity, or contact the service."
	case mitid.OutcomeTechnical:
		return "Login failed", msg, "Wait a moment, then start again from the home page."
	case mitid.OutcomeBadRequest:
		return "Login failed", msg, "The app's login request needs fixing: see the log."
	}
	return "Login denied", msg, "Start again from the home page."
}

// store is a small in-memory map with a size cap and expiry.
type store[V any] struct {
	mu    sync.Mutex
	m     map[string]entry[V]
	max   int
	ttl   time.Duration
	now   func() time.Time
	order []string
}

type entry[V any] struct {
	v       V
	expires time.Time
}

var errFull = errors.New("webapp: too many entries")

func newStore[V any](max int, ttl time.Duration, now func() time.Time) *store[V] {
	return &store[V]{m: map[string]entry[V]{}, max: max, ttl: ttl, now: now}
}

func (s *store[V]) put(k string, v V) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for len(s.order) > 0 {
		e, ok := s.m[s.order[0]]
		if ok && now.Before(e.expires) && len(s.m) < s.max {
			break
		}
		delete(s.m, s.order[0])
		s.order = s.order[1:]
	}
	if len(s.m) >= s.max {
		return errFull
	}
	if len(s.order) > 2*len(s.m)+64 { // drop keys taken out of order
		s.order = slices.DeleteFunc(s.order, func(k string) bool { _, ok := s.m[k]; return !ok })
	}
	s.m[k] = entry[V]{v, now.Add(s.ttl)}
	s.order = append(s.order, k)
	return nil
}

func (s *store[V]) get(k string) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || !s.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (s *store[V]) take(k string) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	delete(s.m, k)
	if !ok || !s.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
