package login

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
)

// Config configures a [Handler]. Fields left zero take the default stated
// beside them. New copies what it needs.
type Config struct {
	// Client is the relying party that pushes and exchanges. Required.
	Client *client.Client
	// Store keeps flows between Start and Callback. Default: a
	// [NewMemoryStore] with this Config's Now.
	Store Store

	// OnLogin is called after a verified login (state, iss, code exchange,
	// ID token and nonce all checked) to start the app's own session and
	// answer the request. Default: a 303 redirect to "/" (the tokens are
	// dropped).
	OnLogin func(w http.ResponseWriter, r *http.Request, t *client.Tokens)
	// OnLoginFlow, when set, is called instead of OnLogin, with the flow
	// the login completed as well: its Nonce (equal to the ID token's),
	// MaxAge and, with DPoPPerLogin, its DPoP key (client.Flow.DPoPKey), to
	// keep with the session. Package session sets it. The flow has been
	// taken out of the Store; it must not be used again.
	OnLoginFlow func(w http.ResponseWriter, r *http.Request, flow *client.Flow, t *client.Tokens)
	// OnError answers a failed Start, Callback or Logout. err is an [*Error];
	// reach its cause with errors.Is / errors.As. Default: [DefaultOnError].
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// OnLogout ends the app's own session and returns the raw ID token kept
	// at login, sent as id_token_hint (OIDC RP-Initiated Logout 1.0 §2; the
	// MitID broker requires it). An empty hint skips the provider and
	// redirects to PostLogoutRedirectURL. Default: nil, and Logout answers
	// 404.
	OnLogout func(w http.ResponseWriter, r *http.Request) (idTokenHint string, err error)
	// PostLogoutRedirectURL is sent as post_logout_redirect_uri; it must be
	// registered at the provider. Default: none, and "/" for local logouts.
	PostLogoutRedirectURL string

	// FlowLifetime is how long a flow may wait for its callback. Default 10
	// minutes (the MitID broker's request_uri lives 600 s).
	FlowLifetime time.Duration
	// PushOptions returns per-request authorization parameters for Push,
	// such as idp_values or prompt. Default: none.
	PushOptions func(r *http.Request) []oauth2.AuthCodeOption

	// DPoPPerLogin gives each login a DPoP key of its own (RFC 9449; ES256,
	// P-256): Start pushes with it (a proof at the PAR endpoint, or
	// dpop_jkt with the client's DPoPJKTOnly), the flow keeps it
	// (client.Flow.DPoPKey, sealed by the cookie and Redis stores like the
	// verifier), Callback exchanges with it, and the tokens handed to
	// OnLogin carry it (client.Tokens.DPoP), to be kept with the session
	// (package session does). The client's own Config.DPoP is then not used
	// for logins.
	DPoPPerLogin bool

	// AllowGETStart lets Start accept GET as well as POST, for login links.
	// A GET start is accepted only when the browser says it is same-origin
	// or user-initiated (Sec-Fetch-Site: same-origin or none); browsers that
	// send no Sec-Fetch-Site must use POST.
	AllowGETStart bool
	// AllowGETLogout does the same for Logout.
	AllowGETLogout bool
	// TrustedOrigins are other origins (scheme://host[:port]) allowed to
	// POST to Start and Logout, as [http.CrossOriginProtection.AddTrustedOrigin].
	TrustedOrigins []string

	// Cookie sets the attributes of the browser-binding cookie that the
	// Handler sets for server-side stores (Keys is not used here).
	// Default: "__Host-par" names, Path "/", Secure, HttpOnly, SameSite Lax.
	// With response_mode=form_post (the MitID broker's choice) the callback
	// is a cross-site POST that carries no Lax cookies: set SameSite to
	// http.SameSiteNoneMode, here and in a CookieStore. For the binding
	// cookie that is the default when the client's ResponseMode is a
	// form-post mode ([IsFormPostMode]); New refuses Lax or Strict flow
	// cookies with such a mode when the provider is on another site.
	Cookie CookieConfig

	// StartPath, CallbackPath and LogoutPath are the paths ServeHTTP and Mux
	// route. Defaults: /login, /callback, /logout. The path of the client's
	// RedirectURL must end with CallbackPath: it is prefix + CallbackPath
	// under Mux(prefix), CallbackPath itself under ServeHTTP; New refuses a
	// CallbackPath that can never receive the callback. When you mount
	// Callback yourself, set CallbackPath to the RedirectURL's path.
	StartPath, CallbackPath, LogoutPath string

	// StartLimits limit the login starts per client address and in total,
	// so that a script cannot spend the app's PAR quota at the provider nor
	// fill the flow store. On by default: 50 starts per second per address
	// (bursts of 100) and 200 per second in total (bursts of 400); see
	// [StartLimits]. Behind a reverse proxy set StartLimits.ClientAddress.
	StartLimits StartLimits
	// InsecureNoStartLimits turns StartLimits off. Set it only when
	// something in front of the Handler (a reverse proxy, a WAF) limits
	// login starts already.
	InsecureNoStartLimits bool

	// Logger receives Debug traces, failed requests included (never a
	// secret). Default: silent.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Handler serves login start, callback and logout for a web app. It is
// immutable after New and safe for concurrent use.
type Handler struct {
	c        *client.Client
	store    Store
	bind     bool // set the binding cookie: the store is not browser-bound
	onLogin  func(http.ResponseWriter, *http.Request, *client.Tokens)
	onFlow   func(http.ResponseWriter, *http.Request, *client.Flow, *client.Tokens)
	onError  func(http.ResponseWriter, *http.Request, error)
	onLogout func(http.ResponseWriter, *http.Request) (string, error)

	postLogout string
	lifetime   time.Duration
	pushOpts   func(*http.Request) []oauth2.AuthCodeOption
	perLogin   bool // DPoPPerLogin
	getStart   bool
	getLogout  bool
	cop        *http.CrossOriginProtection
	cookie     cookieAttrs
	limit      *limiter // nil with InsecureNoStartLimits

	startPath, callbackPath, logoutPath string

	log *slog.Logger
	now func() time.Time
}

// browserBound is implemented by stores that keep the flow in the browser
// itself, so the Handler needs no binding cookie.
type browserBound interface{ browserBound() }

// New checks cfg and returns a Handler. Besides malformed values it
// refuses configurations that can never log anybody in, naming the field:
//
//   - a CallbackPath that is not a suffix of the path of the client's
//     RedirectURL (the callback would meet a 404);
//   - with a form-post response mode (see [IsFormPostMode]) and a provider
//     on another site, flow cookies that are not SameSite=None (a
//     [CookieStore]'s, or the binding cookie's): the provider's cross-site
//     POST to the callback would carry no Lax or Strict cookie, and every
//     login would fail with ErrFlowNotFound or ErrBrowserMismatch.
//
// New sees the client's configured RedirectURL and ResponseMode only: a
// redirect_uri or response_mode set per push through PushOptions is not
// checked.
func New(cfg Config) (*Handler, error) {
	if cfg.Client == nil {
		return nil, errors.New("login: config: Client is nil")
	}
	h := &Handler{
		c:            cfg.Client,
		store:        cfg.Store,
		onLogin:      cfg.OnLogin,
		onFlow:       cfg.OnLoginFlow,
		onError:      cfg.OnError,
		onLogout:     cfg.OnLogout,
		postLogout:   cfg.PostLogoutRedirectURL,
		lifetime:     cfg.FlowLifetime,
		pushOpts:     cfg.PushOptions,
		perLogin:     cfg.DPoPPerLogin,
		getStart:     cfg.AllowGETStart,
		getLogout:    cfg.AllowGETLogout,
		cop:          http.NewCrossOriginProtection(),
		startPath:    cfg.StartPath,
		callbackPath: cfg.CallbackPath,
		logoutPath:   cfg.LogoutPath,
		log:          cfg.Logger,
		now:          cfg.Now,
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.lifetime == 0 {
		h.lifetime = 10 * time.Minute
	}
	if h.lifetime < 0 {
		return nil, errors.New("login: config: FlowLifetime is negative")
	}
	if h.store == nil {
		h.store = NewMemoryStore(MemoryOptions{Now: h.now})
	}
	_, bound := h.store.(browserBound)
	h.bind = !bound
	if h.onLogin == nil {
		h.onLogin = func(w http.ResponseWriter, r *http.Request, _ *client.Tokens) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	}
	if h.onError == nil {
		h.onError = DefaultOnError
	}
	for _, o := range cfg.TrustedOrigins {
		if err := h.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("login: config: TrustedOrigins: %w", err)
		}
	}
	for _, p := range []*string{&h.startPath, &h.callbackPath, &h.logoutPath} {
		if *p != "" && !strings.HasPrefix(*p, "/") {
			return nil, fmt.Errorf("login: config: path %q must start with /", *p)
		}
	}
	if h.startPath == "" {
		h.startPath = "/login"
	}
	if h.callbackPath == "" {
		h.callbackPath = "/callback"
	}
	if h.logoutPath == "" {
		h.logoutPath = "/logout"
	}
	if h.startPath == h.callbackPath || h.startPath == h.logoutPath || h.callbackPath == h.logoutPath {
		return nil, errors.New("login: config: StartPath, CallbackPath and LogoutPath must differ")
	}
	if err := h.checkCallbackPath(); err != nil {
		return nil, err
	}
	formPost := IsFormPostMode(cfg.Client.ResponseMode())
	c := cfg.Cookie
	if c.SameSite == 0 && !c.InsecureCookie && formPost {
		// A form_post callback is a cross-site POST: Lax cookies would not
		// come back with it, so the binding cookie must be SameSite=None
		// (which browsers accept only with Secure).
		c.SameSite = http.SameSiteNoneMode
	}
	h.cookie = resolveCookie(c.Name, c.Path, c.Domain, c.SameSite, c.InsecureCookie)
	if formPost {
		if err := h.checkFormPostCookies(cfg.Client.ResponseMode(), c); err != nil {
			return nil, err
		}
	}
	if !cfg.InsecureNoStartLimits {
		l, err := newLimiter(cfg.StartLimits, h.now())
		if err != nil {
			return nil, err
		}
		h.limit = l
	}
	return h, nil
}

// IsFormPostMode reports whether a response_mode makes the provider
// deliver the callback as a POST from its own page (OAuth 2.0 Form Post
// Response Mode): a cross-site request, which carries only SameSite=None
// cookies. The rule is by name, so that modes built on form_post are
// covered before the SDK knows them: a mode that starts or ends with
// "form_post", such as form_post and JARM's form_post.jwt.
func IsFormPostMode(mode string) bool {
	return strings.HasPrefix(mode, "form_post") || strings.HasSuffix(mode, "form_post")
}

// checkCallbackPath refuses a CallbackPath that no mounting can route the
// client's redirect URI to: Mux(prefix) serves prefix+CallbackPath and
// ServeHTTP CallbackPath, so the redirect URI's path must end with it.
func (h *Handler) checkCallbackPath() error {
	u, err := url.Parse(h.c.RedirectURL())
	if err != nil || h.c.RedirectURL() == "" {
		return nil // the client checks its redirect URL
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	if !strings.HasSuffix(p, h.callbackPath) {
		return fmt.Errorf("login: config: CallbackPath %q can never receive the callback: the client's RedirectURL path is %q, "+
			"and the Handler serves prefix+CallbackPath (Mux) or CallbackPath (ServeHTTP); set CallbackPath to %q or a suffix of it",
			h.callbackPath, p, p)
	}
	return nil
}

// checkFormPostCookies refuses flow cookies that a form-post callback from
// the provider's site can never carry back.
func (h *Handler) checkFormPostCookies(mode string, c CookieConfig) error {
	authz := h.c.Metadata().AuthorizationEndpoint
	if !crossSite(authz, h.c.RedirectURL()) {
		return nil // a same-site POST carries Lax and Strict cookies too
	}
	why := fmt.Sprintf("with response_mode %q the callback is a cross-site POST from %s, which carries no SameSite=Lax or Strict cookie", mode, hostOf(authz))
	if cs, ok := h.store.(*CookieStore); ok && cs.attrs.sameSite != http.SameSiteNoneMode {
		return fmt.Errorf("login: config: Store: the CookieStore's cookies are SameSite=%s: %s, so every login would fail with flow not found; "+
			"create it with CookieConfig.SameSite http.SameSiteNoneMode", sameSiteName(cs.attrs.sameSite), why)
	}
	if h.bind && h.cookie.sameSite != http.SameSiteNoneMode {
		field := "Cookie.SameSite"
		if c.InsecureCookie {
			field = "Cookie.InsecureCookie" // SameSite=None needs Secure
		}
		return fmt.Errorf("login: config: %s: the binding cookie is SameSite=%s: %s, so every login would fail; "+
			"use a Secure cookie with SameSite=None (the default for form-post modes)", field, sameSiteName(h.cookie.sameSite), why)
	}
	return nil
}

// crossSite reports whether a page at URL a and URL b are certainly on
// different sites (RFC 6265bis §5.2), judged without the Public Suffix
// List: different IP addresses, or domain names without a common parent of
// two or more labels, which a registrable domain always has. When unsure
// (a.example.co.uk and b.example.co.uk) it reports false, so New refuses
// only what can never work.
func crossSite(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	ha := strings.ToLower(strings.TrimSuffix(ua.Hostname(), "."))
	hb := strings.ToLower(strings.TrimSuffix(ub.Hostname(), "."))
	if ha == "" || hb == "" || ha == hb {
		return false
	}
	if _, err := netip.ParseAddr(ha); err == nil {
		return true // an IP address is a site of its own
	}
	if _, err := netip.ParseAddr(hb); err == nil {
		return true
	}
	la, lb := strings.Split(ha, "."), strings.Split(hb, ".")
	common := 0
	for common < len(la) && common < len(lb) && la[len(la)-1-common] == lb[len(lb)-1-common] {
		common++
	}
	return common < 2
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "the provider"
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "Lax"
}

// ServeHTTP routes StartPath, CallbackPath and LogoutPath (exact matches) to
// Start, Callback and Logout, and answers 404 otherwise.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case h.startPath:
		h.Start(w, r)
	case h.callbackPath:
		h.Callback(w, r)
	case h.logoutPath:
		h.Logout(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Mux returns a ServeMux serving Start, Callback and Logout at prefix +
// StartPath, CallbackPath and LogoutPath, e.g. Mux("/auth") serves
// /auth/login. Mount it with mux.Handle("/auth/", h.Mux("/auth")).
func (h *Handler) Mux(prefix string) *http.ServeMux {
	prefix = strings.TrimSuffix(prefix, "/")
	m := http.NewServeMux()
	m.HandleFunc(prefix+h.startPath, h.Start)
	m.HandleFunc(prefix+h.callbackPath, h.Callback)
	m.HandleFunc(prefix+h.logoutPath, h.Logout)
	return m
}

// Start begins a login: it checks the request against CSRF (FAPI 2.0
// Security Profile §5.3.3.1 item 12), pushes the authorization request
// (RFC 9126 §2) with Config.PushOptions, saves the flow in the Store, and
// redirects the browser to the authorization URL (303 after POST, 302 after
// GET).
//
// Only POST is accepted by default, and only from the same origin: when
// the browser sends Sec-Fetch-Site or Origin they must say same-origin (or
// a TrustedOrigins entry), as [http.CrossOriginProtection] checks. With
// Config.AllowGETStart, GET is accepted when Sec-Fetch-Site is same-origin
// or none (typed or bookmarked), and never for a prefetch (Sec-Purpose).
// Refusals are [ErrMethodNotAllowed] (405) and [ErrCrossOrigin] (403).
// Then Config.StartLimits apply: a start over them is refused with
// [ErrRateLimited] (429, with Retry-After) before anything is pushed.
//
// When the request_uri has already expired by the time the URL is built
// (a slow push), Start pushes once more (RFC 9126 §4: a request_uri is never
// reused nor used after expiry); a second expiry is an error.
func (h *Handler) Start(w http.ResponseWriter, r *http.Request) {
	if err := h.checkRequest(w, r, h.getStart); err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	h.begin(w, r, nil)
}

// StartWith starts a login from one of the app's own handlers, with opts
// added after Config.PushOptions (a later value of a parameter wins): a
// step-up that a resource server asked for (RFC 9470 §4: acr_values,
// max_age, prompt=login), as package session does. The app has decided
// to start it, so there is no method or origin check, but the start limits
// apply; then it is Start: push, flow saved, and a redirect to the
// provider (302 after GET, 303 otherwise). Failures go to Config.OnError.
func (h *Handler) StartWith(w http.ResponseWriter, r *http.Request, opts ...client.Option) {
	h.begin(w, r, opts)
}

// begin is Start after its request checks.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, extra []client.Option) {
	if h.limit != nil {
		if wait, err := h.limit.allow(r, h.now()); err != nil {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			h.fail(w, r, OpStart, err)
			return
		}
	}
	ctx := r.Context()
	var opts []oauth2.AuthCodeOption
	if h.pushOpts != nil {
		opts = h.pushOpts(r)
	}
	opts = append(opts, extra...)
	c, key, err := h.loginClient()
	if err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	flow, authURL, err := h.push(r, c, opts)
	if err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	flow.DPoPKey = key
	now := h.now()
	expires := now.Add(h.lifetime)
	if err := h.store.Save(ctx, w, r, flow, expires); err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	if h.bind {
		http.SetCookie(w, h.cookie.cookie(h.cookie.name("b", flow.State), bindValue(flow.State), now, expires))
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "login: started", slog.Any("flow", flow))
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet {
		status = http.StatusFound
	}
	http.Redirect(w, r, authURL, status)
}

// loginClient returns the client a login pushes with: with DPoPPerLogin a
// copy with a fresh key, and that key (PKCS #8, base64url) for the flow.
func (h *Handler) loginClient() (*client.Client, string, error) {
	if !h.perLogin {
		return h.c, "", nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	p, err := dpop.NewProofer(key, &dpop.Config{Now: h.now})
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	return h.c.WithDPoP(p), base64.RawURLEncoding.EncodeToString(der), nil
}

// flowClient returns the client that exchanges flow's code: one with the
// flow's own DPoP key when it has one (DPoPPerLogin), else the Handler's.
func (h *Handler) flowClient(flow *client.Flow) (*client.Client, error) {
	if flow.DPoPKey == "" {
		return h.c, nil
	}
	p, err := prooferFromKey(flow.DPoPKey, h.now)
	if err != nil {
		return nil, err
	}
	return h.c.WithDPoP(p), nil
}

// prooferFromKey returns a DPoP proofer for a key as DPoPPerLogin keeps it
// (client.Flow.DPoPKey: PKCS #8, base64url without padding), with now as its
// clock.
func prooferFromKey(key string, now func() time.Time) (*dpop.Proofer, error) {
	der, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return nil, errors.New("login: dpop key is not base64url")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("login: dpop key is not a PKCS #8 private key")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("login: dpop key of type %T cannot sign", k)
	}
	return dpop.NewProofer(signer, &dpop.Config{Now: now})
}

// push pushes and builds the authorization URL, pushing once more when the
// first request_uri expired before use.
func (h *Handler) push(r *http.Request, c *client.Client, opts []oauth2.AuthCodeOption) (*client.Flow, string, error) {
	ctx := r.Context()
	flow, err := c.Push(ctx, opts...)
	if err != nil {
		return nil, "", err
	}
	u, err := c.AuthorizationURL(flow)
	if errors.Is(err, client.ErrRequestURIExpired) {
		h.log.LogAttrs(ctx, slog.LevelDebug, "login: request_uri expired before redirect, pushing again",
			slog.Time("expires_at", flow.ExpiresAt))
		if flow, err = c.Push(ctx, opts...); err != nil {
			return nil, "", err
		}
		u, err = c.AuthorizationURL(flow)
	}
	if err != nil {
		return nil, "", err
	}
	return flow, u, nil
}

// Callback completes a login at the redirect URI: it reads the
// authorization response (query or form_post; a JWT-secured one is
// verified first, client.Client.ResponseParams), takes the flow out of the
// Store by its state (single use: a replayed callback gets
// [ErrFlowNotFound]), checks that this browser started the flow, exchanges
// the code with client.Exchange (iss per RFC 9207, state, provider errors
// as [*client.AuthorizationError], PKCE, ID token and nonce), and hands the
// tokens to Config.OnLogin. Every failure goes to Config.OnError as an
// [*Error]; no tokens are handed out then.
//
// The response carries Cache-Control: no-store and Referrer-Policy:
// no-referrer (the callback URL holds the code); OnLogin may override them.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		// HEAD is safe (RFC 9110 §9.2.1): it must not use up the flow and
		// the code.
		w.Header().Set("Allow", "GET, POST")
		h.fail(w, r, OpCallback, fmt.Errorf("%w: %.10q", ErrMethodNotAllowed, r.Method))
		return
	}
	params, err := client.ParseResponse(r)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	// A JWT-secured response (JARM) carries its state inside the JWT: it
	// is verified here, so that a forged one never uses up a flow, and
	// again by Exchange.
	inner, err := h.c.ResponseParams(ctx, params)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	state := inner.Get("state")
	if state == "" {
		err := fmt.Errorf("%w: no state parameter", client.ErrStateMismatch)
		if code := inner.Get("error"); code != "" {
			// Providers answer some errors without state (a reused or
			// expired request_uri): keep their code reachable (R17), as
			// client.Exchange does.
			err = errors.Join(err, &client.AuthorizationError{Code: code,
				Description: inner.Get("error_description"), URI: inner.Get("error_uri")})
		}
		h.fail(w, r, OpCallback, err)
		return
	}
	flow, err := h.store.Take(ctx, w, r, state)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	if h.bind {
		name := h.cookie.name("b", state)
		ck, cerr := r.Cookie(name)
		http.SetCookie(w, h.cookie.clear(name))
		if cerr != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(bindValue(state))) != 1 {
			h.fail(w, r, OpCallback, ErrBrowserMismatch)
			return
		}
	}
	c, err := h.flowClient(flow)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		h.fail(w, r, OpExchange, err)
		return
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "login: verified", slog.Any("tokens", tokens))
	if h.onFlow != nil {
		h.onFlow(w, r, flow, tokens)
		return
	}
	h.onLogin(w, r, tokens)
}

// Logout ends the session: it applies Start's method and origin checks
// (AllowGETLogout for GET), calls Config.OnLogout to end the app's session
// and fetch the ID token, and redirects to the provider's
// end_session_endpoint with id_token_hint and post_logout_redirect_uri
// (OIDC RP-Initiated Logout 1.0 §2). Without an ID token or an
// end_session_endpoint it redirects to PostLogoutRedirectURL, or "/".
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	if h.onLogout == nil {
		http.NotFound(w, r)
		return
	}
	if err := h.checkRequest(w, r, h.getLogout); err != nil {
		h.fail(w, r, OpLogout, err)
		return
	}
	hint, err := h.onLogout(w, r)
	if err != nil {
		h.fail(w, r, OpLogout, err)
		return
	}
	target := h.postLogout
	if target == "" {
		target = "/"
	}
	if hint != "" && h.c.Metadata().EndSessionEndpoint != "" {
		if target, err = h.LogoutURL(hint); err != nil {
			h.fail(w, r, OpLogout, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet {
		status = http.StatusFound
	}
	http.Redirect(w, r, target, status)
}

// LogoutURL returns the provider's RP-initiated logout URL (OIDC
// RP-Initiated Logout 1.0 §2) for idTokenHint, with
// Config.PostLogoutRedirectURL.
func (h *Handler) LogoutURL(idTokenHint string) (string, error) {
	return h.c.LogoutURL(idTokenHint, h.postLogout, "")
}

// checkRequest applies the method and cross-origin rules of Start and
// Logout, setting Allow when the method is refused.
func (h *Handler) checkRequest(w http.ResponseWriter, r *http.Request, allowGET bool) error {
	err := checkRequest(h.cop, r, allowGET)
	if errors.Is(err, ErrMethodNotAllowed) {
		allow := http.MethodPost
		if allowGET {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
	}
	return err
}

func checkRequest(cop *http.CrossOriginProtection, r *http.Request, allowGET bool) error {
	switch r.Method {
	case http.MethodPost:
		if err := cop.Check(r); err != nil {
			return fmt.Errorf("%w: %w", ErrCrossOrigin, err)
		}
		return nil
	case http.MethodGet:
		if !allowGET {
			return fmt.Errorf("%w: GET (use a POST form, or set AllowGET…)", ErrMethodNotAllowed)
		}
		// A speculative load must not push nor set cookies.
		if strings.Contains(r.Header.Get("Sec-Purpose"), "prefetch") || r.Header.Get("Purpose") == "prefetch" {
			return fmt.Errorf("%w: prefetch", ErrCrossOrigin)
		}
		switch site := r.Header.Get("Sec-Fetch-Site"); site {
		case "same-origin", "none":
			return nil
		case "":
			return fmt.Errorf("%w: GET without Sec-Fetch-Site", ErrCrossOrigin)
		default:
			return fmt.Errorf("%w: GET with Sec-Fetch-Site %.20q", ErrCrossOrigin, site)
		}
	}
	return fmt.Errorf("%w: %.10q", ErrMethodNotAllowed, r.Method)
}

// fail traces and hands err to OnError.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	e := &Error{Op: op, Err: err}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "login: failed", slog.String("op", op),
		slog.Int("status", StatusCode(e)), slog.String("error", e.Error()))
	h.onError(w, r, e)
}

// bindValue is the binding cookie's value for a state.
func bindValue(state string) string {
	sum := sha256.Sum256([]byte("go-par/login bind\x00" + state))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
