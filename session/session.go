package session

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/seal"
	"github.com/go-par/par/login"
)

// Errors of the Manager. They reach the app wrapped; test with errors.Is.
var (
	// ErrNoSession: the request carries no session cookie, or one whose
	// session has ended (logged out, expired, replaced by a newer login).
	ErrNoSession = errors.New("session: no session")
	// ErrEnded: the session ended while it was used: its tokens could not
	// be refreshed (no refresh token, or the provider refused it), so it
	// was removed. The next request finds ErrNoSession.
	ErrEnded = errors.New("session: session ended")
	// ErrTooLarge: with CookieSessions, a session whose sealed cookie would
	// exceed MaxCookieSize; the login is refused (use a server-side Store).
	ErrTooLarge = errors.New("session: session too large for a cookie")
	// ErrStepUpFailed: a step-up login came back without the level asked
	// for (RFC 9470 §4: the client checks the acr it got), or as another
	// user. The session keeps its earlier level.
	ErrStepUpFailed = errors.New("session: step-up did not reach the level asked for")
)

// Defaults for [Config].
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultRefreshBefore   = time.Minute
	DefaultLockTimeout     = 30 * time.Second
)

// Config configures a [Manager]. Fields left zero take the default stated
// beside them.
type Config struct {
	// Client is the relying party. Required.
	Client *client.Client
	// Store keeps the sessions (or, with CookieSessions, only the refresh
	// locks, logout marks and used logout-token IDs). Default: a
	// [NewMemoryStore], which serves one replica only; give every replica
	// the same shared store (module store/redisstore's Sessions) and the
	// same Keys.
	Store Store
	// Keys are AES-256 keys (32 bytes, from crypto/rand) that seal every
	// session before it reaches the Store or a cookie: the tokens, the ID
	// token and the DPoP key are secrets. The first seals; all open, so a
	// key is rotated in first and out after AbsoluteTimeout. Required unless
	// Store is nil (then a random key, for this process only).
	Keys [][]byte
	// CookieSessions keeps each session in its own sealed cookie instead
	// of the Store: no server-side session state, for small sessions (the
	// whole cookie, name included, at most MaxCookieSize bytes; a larger
	// session refuses the login with ErrTooLarge). The Store still keeps
	// the refresh locks, the refreshed tokens for a minute (for the
	// browser's other requests in flight, which hold the old cookie), the
	// logout marks by sid and sub (a cookie cannot be deleted from the
	// server) and the used logout-token IDs.
	CookieSessions bool

	// DPoP gives each session a DPoP key of its own (RFC 9449), made at
	// login, sealed with the session, and used for every refresh and
	// resource call of it (login.Config.DPoPPerLogin; the provider must
	// issue DPoP-bound tokens).
	DPoP bool
	// MitIDStepUp says the provider is the MitID broker: a step-up asks for
	// the level with idp_params.mitid.loa_value and enable_step_up (which
	// adds prompt=login, [mitid.Params]) instead of acr_values, and an
	// acr_values naming an NSIS level URI
	// (https://data.gov.dk/concept/core/nsis/Low, Substantial, High) maps
	// to that level.
	MitIDStepUp bool

	// IdleTimeout ends a session not used for this long. Default
	// DefaultIdleTimeout (30 min).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after its first login, used
	// or not. Default DefaultAbsoluteTimeout (12 h).
	AbsoluteTimeout time.Duration
	// RefreshBefore refreshes an access token this long before it expires.
	// Default DefaultRefreshBefore (1 min).
	RefreshBefore time.Duration
	// LockTimeout bounds a refresh: the lock that makes it the only one of
	// its session on every replica lives this long, and the refresh is
	// cancelled before. Requests that find the lock taken wait for the
	// refreshed tokens up to this long. Default DefaultLockTimeout (30 s).
	LockTimeout time.Duration

	// Login configures the login handler that the Manager builds
	// ([Manager.Login]). Its Client defaults to Config.Client; its OnLogin,
	// OnLoginFlow and OnLogout are the Manager's own (setting them is an
	// error; use Config.OnLogin); DPoPPerLogin follows Config.DPoP.
	Login login.Config
	// OnLogin answers the callback once the session is made (a login) or
	// upgraded (a step-up without a return path). Default: a 303 redirect
	// to "/".
	OnLogin func(w http.ResponseWriter, r *http.Request, s *Session)

	// Cookie names the session cookie and sets its attributes. Default:
	// "__Host-session", HttpOnly, Secure, SameSite=Lax, Path=/, no Domain,
	// no Max-Age (a browser-session cookie; the Manager enforces the
	// timeouts).
	Cookie CookieConfig

	// Logger receives Debug traces (never a token). Default: silent.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// CookieConfig names the session cookie and sets its attributes.
type CookieConfig struct {
	// Name is the cookie name. Default "__Host-session" (Secure, Path=/,
	// host-only: RFC 6265bis §4.1.3.2), or "session" with InsecureCookie.
	Name string
	// SameSite is the SameSite attribute. Default Lax: the provider's
	// redirect to the callback is a top-level GET. With a form_post
	// response mode from another site the callback carries no Lax cookie:
	// a step-up's callback then finds no session to upgrade and makes a new
	// one (the old one ends with its idle timeout); use SameSite None there
	// if step-ups must upgrade in place.
	SameSite http.SameSite
	// InsecureCookie drops the Secure attribute for plain-http development
	// on a non-loopback host. It MUST NOT be set in production.
	InsecureCookie bool
}

// MaxCookieSize is the most bytes a session cookie may have with
// CookieSessions, name and "=" included: the 4096 bytes that browsers
// keep for a cookie's name and value (RFC 6265 §6.1; Chromium and Firefox
// refuse more).
const MaxCookieSize = 4096

// Manager makes, keeps and ends sessions, and gives each session an HTTP
// client that carries its tokens. It is immutable after New and safe for
// concurrent use; every replica of an app builds its own from the same
// Config (the same shared Store and Keys).
type Manager struct {
	c        *client.Client
	h        *login.Handler
	store    Store
	inCookie bool
	sealer   *seal.Sealer
	dpop     bool
	mitid    bool

	idle, absolute, refreshBefore, lockTTL time.Duration

	cookieName string
	sameSite   http.SameSite
	secure     bool

	onLogin func(http.ResponseWriter, *http.Request, *Session)
	onError func(http.ResponseWriter, *http.Request, error)
	log     *slog.Logger
	now     func() time.Time
}

// New checks cfg and returns a Manager with its login handler. Errors name
// the Config field at fault.
func New(cfg Config) (*Manager, error) {
	if cfg.Client == nil {
		return nil, errors.New("session: config: Client is nil")
	}
	m := &Manager{
		c: cfg.Client, store: cfg.Store, inCookie: cfg.CookieSessions, dpop: cfg.DPoP, mitid: cfg.MitIDStepUp,
		idle: cfg.IdleTimeout, absolute: cfg.AbsoluteTimeout, refreshBefore: cfg.RefreshBefore, lockTTL: cfg.LockTimeout,
		onLogin: cfg.OnLogin, log: cfg.Logger, now: cfg.Now,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{{&m.idle, DefaultIdleTimeout, "IdleTimeout"}, {&m.absolute, DefaultAbsoluteTimeout, "AbsoluteTimeout"},
		{&m.refreshBefore, DefaultRefreshBefore, "RefreshBefore"}, {&m.lockTTL, DefaultLockTimeout, "LockTimeout"}} {
		if *d.v < 0 {
			return nil, fmt.Errorf("session: config: %s is negative", d.name)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	keys := cfg.Keys
	if len(keys) == 0 {
		if m.store != nil || m.inCookie {
			return nil, errors.New("session: config: Keys is empty: a shared Store or CookieSessions needs the same 32-byte keys on every replica")
		}
		k := make([]byte, seal.KeySize)
		_, _ = rand.Read(k)
		keys = [][]byte{k}
	}
	var err error
	if m.sealer, err = seal.New(keys...); err != nil {
		return nil, fmt.Errorf("session: config: Keys: %w", err)
	}
	if m.store == nil {
		m.store = NewMemoryStore(m.now)
	}
	ck := cfg.Cookie
	m.secure = !ck.InsecureCookie
	m.sameSite = ck.SameSite
	if m.sameSite == 0 || m.sameSite == http.SameSiteDefaultMode {
		m.sameSite = http.SameSiteLaxMode
	}
	if m.sameSite == http.SameSiteNoneMode && !m.secure {
		return nil, errors.New("session: config: Cookie: SameSite=None requires Secure (unset InsecureCookie)")
	}
	m.cookieName = ck.Name
	if m.cookieName == "" {
		m.cookieName = "__Host-session"
		if !m.secure {
			m.cookieName = "session"
		}
	}
	if strings.HasPrefix(m.cookieName, "__Host-") && !m.secure {
		return nil, errors.New("session: config: Cookie: a __Host- cookie must be Secure (unset InsecureCookie or rename it)")
	}

	lc := cfg.Login
	if lc.OnLogin != nil || lc.OnLoginFlow != nil || lc.OnLogout != nil {
		return nil, errors.New("session: config: Login.OnLogin, OnLoginFlow and OnLogout are the Manager's; use Config.OnLogin")
	}
	if lc.Client == nil {
		lc.Client = m.c
	}
	if lc.Client != m.c {
		return nil, errors.New("session: config: Login.Client differs from Client")
	}
	if lc.Logger == nil {
		lc.Logger = cfg.Logger
	}
	if lc.Now == nil {
		lc.Now = m.now
	}
	m.onError = lc.OnError
	if m.onError == nil {
		m.onError = login.DefaultOnError
	}
	lc.DPoPPerLogin = m.dpop
	lc.OnLoginFlow = m.completeLogin
	lc.OnLogout = m.logout
	if m.h, err = login.New(lc); err != nil {
		return nil, fmt.Errorf("session: config: Login: %w", err)
	}
	if m.onLogin == nil {
		m.onLogin = func(w http.ResponseWriter, r *http.Request, _ *Session) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	}
	return m, nil
}

// Login returns the login handler: Start, Callback (which makes or
// upgrades the session) and Logout (which ends the local session, then
// sends the browser to the provider's end_session_endpoint). Mount it as
// the login package says, e.g. mux.Handle("/auth/", m.Login().Mux("/auth")).
func (m *Manager) Login() *login.Handler { return m.h }

// Session is a logged-in user as the app sees it: who, at what level,
// since when. It is a snapshot, read-only; the tokens stay inside the
// Manager.
type Session struct {
	// Issuer and Subject are the ID token's iss and sub.
	Issuer, Subject string
	// SID is the provider's session ID (the ID token's sid), by which the
	// provider's logouts find the session; empty when the provider sends
	// none.
	SID string
	// ACR is the ID token's acr, or its loa (the MitID broker's level).
	ACR string
	// AuthTime is the ID token's auth_time; zero when absent.
	AuthTime time.Time
	// Started is when the session began (its first login); LoggedIn is
	// the last authentication (the login, or the latest step-up).
	Started, LoggedIn time.Time
	// Expires is when the session ends at the latest (AbsoluteTimeout).
	Expires time.Time

	claims json.RawMessage
}

// Claims decodes the verified ID token's claims (of the latest login or
// step-up) into v.
func (s *Session) Claims(v any) error { return json.Unmarshal(s.claims, v) }

// String shows the session without personal data beyond the issuer.
func (s *Session) String() string {
	if s == nil {
		return "session(<nil>)"
	}
	return fmt.Sprintf("session(iss=%s acr=%s started=%s, subject redacted)", s.Issuer, s.ACR, s.Started.UTC().Format(time.RFC3339))
}

// LogValue logs the session without its subject.
func (s *Session) LogValue() slog.Value { return slog.StringValue(s.String()) }
