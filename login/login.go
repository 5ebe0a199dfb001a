package login

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
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
