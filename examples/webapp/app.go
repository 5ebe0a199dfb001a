package main

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
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

//go:embed templates/*.html static/*
var assets embed.FS

// options configure newApp beyond the environment; tests use them.
type options struct {
	// BaseURL is where the app is reachable, such as http://127.0.0.1:8080.
	BaseURL string
	// Transport is the base transport under the recorder. Default: the
	// SDK's (client.NewHTTPClient), trusting PAR_CA_FILE too.
	Transport http.RoundTripper
	Logger    *slog.Logger
	Now       func() time.Time
}

// app is the example web app: the login handlers of package login, a
// session per browser, and the trace of each login.
type app struct {
	c        *client.Client
	h        *login.Handler
	rec      *recorder
	log      *slog.Logger
	tmpl     *template.Template
	now      func() time.Time
	provider string // shown on the page
	clientID string // shown on the page
	callback string // path of the redirect URI
	secure   bool   // cookies get the Secure attribute
	csp      string // Content-Security-Policy of every page
	mux      *http.ServeMux

	embedded *partest.Server // nil with a real provider
	secret   string          // embedded client's secret (tests look for leaks)

	pending  *store[*Trace]   // traces of started logins, by state
	sessions *store[*session] // logged-in browsers, by session cookie
}

// session is one logged-in browser.
type session struct {
	Subject    string
	Name       string
	Level      string // "Substantial", or why there is none
	LevelURI   string
	IDClaims   string // pretty JSON
	UserInfo   string // pretty JSON, or why there is none
	Claims     mitid.Claims
	LoggedInAt time.Time
	Trace      *Trace
	rawIDToken string // kept for id_token_hint at logout; never rendered
}

const sessionCookie = "webapp-session"

// newApp builds the app for cfg. With an empty cfg.Issuer it starts the
// embedded provider; close releases it.
func newApp(ctx context.Context, cfg config, opt options) (a *app, closeFn func(), err error) {
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
	a = &app{
		log: opt.Logger, now: opt.Now,
		pending:  newStore[*Trace](10000, 15*time.Minute, opt.Now),
		sessions: newStore[*session](10000, 8*time.Hour, opt.Now),
	}
	a.tmpl, err = template.New("").Funcs(template.FuncMap{
		"info": stepInfoFor, "ms": func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) },
		"clock": func(t time.Time) string { return t.Format("15:04:05.000") },
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
	a.callback = ru.Path
	a.secure = ru.Scheme == "https"

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
	a.log.LogAttrs(ctx, slog.LevelInfo, "discovery: fetching provider metadata", slog.String("issuer", cfg.Issuer))
	a.c, err = client.New(withTrace(ctx, a.rec.process), ccfg)
	if err != nil {
		return nil, nil, fmt.Errorf("webapp: %w", err)
	}
	a.clientID = cfg.ClientID
	md := a.c.Metadata()
	a.csp = "default-src 'self'; form-action 'self' " + formTargets(md.AuthorizationEndpoint, md.EndSessionEndpoint)
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
	a.h, err = login.New(login.Config{
		Client:                a.c,
		OnLogin:               a.onLogin,
		OnError:               a.onError,
		OnLogout:              a.onLogout,
		PostLogoutRedirectURL: cfg.PostLogoutURL,
		PushOptions:           func(*http.Request) []client.Option { return pushOpts },
		CallbackPath:          a.callback,
		// Over plain http (a loopback development setup) the binding cookie
		// cannot be Secure; with an https redirect URI it is.
		Cookie: login.CookieConfig{InsecureCookie: !a.secure},
		Logger: opt.Logger,
		Now:    opt.Now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("webapp: %w", err)
	}

	static, _ := fs.Sub(assets, "static")
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /me", a.me)
	a.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	a.mux.HandleFunc("/auth/login", a.start)
	a.mux.HandleFunc("/auth/logout", a.h.Logout)
	a.mux.HandleFunc(a.callback, a.callbackHandler)
	return a, closeFn, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", a.csp)
	a.mux.ServeHTTP(w, r)
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

func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		a.log.Error("template", slog.String("name", name), slog.String("error", err.Error()))
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type pageData struct {
	Provider string
	ClientID string
	Session  *session
	Steps    []Step
	Error    string
	Status   int
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "home.html", pageData{Provider: a.provider, ClientID: a.clientID, Session: a.session(r)})
}

func (a *app) me(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.render(w, http.StatusOK, "me.html", pageData{Provider: a.provider, ClientID: a.clientID, Session: s,
		Steps: a.timeline(s.Trace)})
}

// timeline is the process-wide discovery step followed by the login's own.
func (a *app) timeline(t *Trace) []Step {
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

func (a *app) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s, _ := a.sessions.get(c.Value)
	return s
}

// start wraps login.Handler.Start: it gives the login a trace, records the
// authorization redirect, and files the trace under the pushed state.
func (a *app) start(w http.ResponseWriter, r *http.Request) {
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
func (a *app) callbackHandler(w http.ResponseWriter, r *http.Request) {
	params, err := peekResponse(r)
	if err != nil {
		a.h.Callback(w, r) // let the handler report it
		return
	}
	t, _ := a.pending.take(params.Get("state"))
	if t == nil {
		t = newTrace(a.now())
		t.add(Step{Kind: kindCallback, At: a.now(), Note: "No trace of the start of this login: it was started before the app restarted, in another app instance, or it is a replay."})
	}
	st := Step{Kind: kindCallback, At: a.now(), Method: r.Method + " (browser)", URL: a.callback, Params: redactQuery(params)}
	pushedState, _ := t.pushed()
	if pushedState != "" {
		st.Checks = append(st.Checks, Check{Name: "state", Value: "returned unchanged",
			OK:  subtle.ConstantTimeCompare([]byte(params.Get("state")), []byte(pushedState)) == 1,
			Why: "equals the state pushed, compared in constant time (RFC 6749 §10.12)"})
	}
	if iss := params.Get("iss"); iss != "" || a.c.Metadata().AuthorizationResponseISSParameterSupported {
		st.Checks = append(st.Checks, Check{Name: "iss", Value: iss, OK: iss == a.c.Metadata().Issuer,
			Why: "equals the issuer: the response comes from the provider the request was pushed to (RFC 9207 §2.4)"})
	}
	if e := params.Get("error"); e != "" {
		st.Facts = append(st.Facts, Param{Name: "error", Value: e}, Param{Name: "error_description", Value: params.Get("error_description")})
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

// onLogin runs after a verified login: it records the ID token checks, calls
// UserInfo, starts the session and shows the result.
func (a *app) onLogin(w http.ResponseWriter, r *http.Request, tok *client.Tokens) {
	ctx := r.Context()
	t := traceFrom(ctx)
	if t == nil {
		t = newTrace(a.now())
	}
	idStep := a.idTokenStep(t, tok)
	t.add(idStep)
	failed := 0
	for _, c := range idStep.Checks {
		if !c.OK {
			failed++
		}
	}
	hdr := jwtHeader(tok.RawIDToken)
	a.log.LogAttrs(ctx, slog.LevelInfo, "login: id token verified", slog.String("iss", tok.IDToken.Issuer),
		slog.String("alg", hdr.Alg), slog.String("kid", hdr.Kid), slog.Time("exp", tok.IDToken.Expiry), slog.Int("failed_checks", failed))

	s := &session{Subject: tok.IDToken.Subject, LoggedInAt: a.now(), Trace: t, rawIDToken: tok.RawIDToken}
	var idClaims map[string]any
	if err := tok.IDToken.Claims(&idClaims); err == nil {
		s.IDClaims = prettyJSON(idClaims)
	}
	if err := tok.IDToken.Claims(&s.Claims); err != nil {
		a.log.LogAttrs(ctx, slog.LevelInfo, "login: id token claims", slog.String("error", err.Error()))
	}
	if a.c.Metadata().UserinfoEndpoint != "" {
		ui, err := a.c.UserInfo(ctx, tok)
		if err != nil {
			s.UserInfo = "UserInfo failed: " + err.Error()
		} else {
			var m map[string]any
			if err := ui.Claims(&m); err == nil {
				s.UserInfo = prettyJSON(m)
			}
			// The broker's ID token is minimal; UserInfo fills in the rest.
			var uc mitid.Claims
			if err := ui.Claims(&uc); err == nil && s.Claims.LoA == "" {
				s.Claims.LoA = uc.LoA
			}
			if s.Claims.MitID.IdentityName == "" {
				_ = ui.Claims(&s.Claims)
			}
		}
	} else {
		s.UserInfo = "The provider has no userinfo_endpoint."
	}
	s.Name = s.Claims.MitID.IdentityName
	if s.Name == "" {
		var n struct {
			Name string `json:"name"`
		}
		_ = tok.IDToken.Claims(&n)
		s.Name = n.Name
	}
	if lvl, err := mitid.ParseLevel(s.Claims.LoA); err == nil {
		s.Level, s.LevelURI = lvl.String(), s.Claims.LoA
	} else if s.Claims.LoA == "" {
		s.Level = "none (no loa claim)"
	} else {
		s.Level, s.LevelURI = "not an NSIS level", s.Claims.LoA
	}
	id, err := a.sessions.newKey(s)
	if err != nil {
		a.onError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int((8 * time.Hour).Seconds())})
	a.log.LogAttrs(ctx, slog.LevelInfo, "login: done", slog.String("trace", t.ID), slog.String("sub", s.Subject),
		slog.String("loa", s.Level))
	http.Redirect(w, r, "/me", http.StatusSeeOther)
}

// idTokenStep lists the checks the ID token passed in client.Exchange, with
// the values seen; the verification itself was done by the client.
func (a *app) idTokenStep(t *Trace, tok *client.Tokens) Step {
	id := tok.IDToken
	st := Step{Kind: kindIDToken, At: a.now()}
	hdr := jwtHeader(tok.RawIDToken)
	st.Checks = append(st.Checks,
		Check{Name: "signature", Value: "alg " + hdr.Alg + ", kid " + hdr.Kid, OK: true,
			Why: "verified with the provider's key from jwks_uri; alg on the allow-list (OIDC Core §3.1.3.7 items 6–8)"},
		Check{Name: "iss", Value: id.Issuer, OK: id.Issuer == a.c.Metadata().Issuer, Why: "exactly the issuer (item 2)"},
		Check{Name: "aud", Value: strings.Join(id.Audience, " "), OK: slices.Contains(id.Audience, a.clientID),
			Why: "contains our client_id (item 3)"},
		Check{Name: "exp", Value: id.Expiry.UTC().Format(time.RFC3339) + " (in " + id.Expiry.Sub(a.now()).Round(time.Second).String() + ")",
			OK: id.Expiry.After(a.now().Add(-30 * time.Second)), Why: "not expired, 30 s clock skew allowed (item 9)"},
	)
	if _, nonce := t.pushed(); nonce != "" {
		st.Checks = append(st.Checks, Check{Name: "nonce", Value: "equals the nonce pushed",
			OK:  subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) == 1,
			Why: "binds the ID token to this login (item 11)"})
	} else {
		st.Checks = append(st.Checks, Check{Name: "nonce", Value: "checked by client.Exchange", OK: true,
			Why: "binds the ID token to this login (item 11)"})
	}
	if id.AccessTokenHash != "" {
		err := id.VerifyAccessToken(tok.Token.AccessToken)
		st.Checks = append(st.Checks, Check{Name: "at_hash", Value: id.AccessTokenHash, OK: err == nil,
			Why: "left half of the access token's hash (OIDC Core §3.1.3.8)"})
	} else {
		st.Checks = append(st.Checks, Check{Name: "at_hash", Value: "absent", OK: true,
			Why: "optional in the code flow (OIDC Core §3.1.3.6)"})
	}
	st.Facts = []Param{{Name: "sub", Value: id.Subject}, {Name: "iat", Value: id.IssuedAt.UTC().Format(time.RFC3339)}}
	return st
}

type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// jwtHeader decodes the protected header of a compact JWS, without
// verifying anything; zero on malformed input.
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

// onError shows a failed login with its trace so far. The message is the
// error's own: the SDK's errors never hold a secret.
func (a *app) onError(w http.ResponseWriter, r *http.Request, err error) {
	status := login.StatusCode(err)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "login: failed", slog.Int("status", status), slog.String("error", err.Error()))
	var steps []Step
	if t := traceFrom(r.Context()); t != nil {
		steps = a.timeline(t)
	}
	a.render(w, status, "error.html", pageData{Provider: a.provider, ClientID: a.clientID, Error: err.Error(),
		Status: status, Steps: steps})
}

// onLogout ends the app's session and hands back the ID token for the
// provider's end_session_endpoint.
func (a *app) onLogout(w http.ResponseWriter, r *http.Request) (string, error) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: a.secure, MaxAge: -1})
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	s, ok := a.sessions.take(c.Value)
	if !ok {
		return "", nil
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "logout: session ended, redirecting to the provider's end_session_endpoint",
		slog.String("sub", s.Subject))
	return s.rawIDToken, nil
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

var errFull = errors.New("webapp: too many sessions")

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

func (s *store[V]) newKey(v V) (string, error) {
	k := randomID()
	return k, s.put(k, v)
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
