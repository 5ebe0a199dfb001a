package login

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/seal"
)

// CookieConfig configures [NewCookieStore], and the attributes of the
// Handler's binding cookie (Config.Cookie, where Keys is unused).
type CookieConfig struct {
	// Keys are AES-256 keys, 32 bytes each. The first seals new cookies;
	// all of them open cookies, so a key can be rotated in by putting it
	// first and rotated out once FlowLifetime has passed. Required for
	// NewCookieStore. Generate them with crypto/rand; never reuse them for
	// anything else.
	Keys [][]byte
	// Name is the cookie name prefix; each flow gets prefix-f-<digest of its
	// state>. Default "__Host-par" when the cookie is Secure, with Path "/"
	// and no Domain (RFC 6265bis §4.1.3.2), else "par".
	Name string
	// Path is the cookie path. Default "/". It must cover the callback.
	Path string
	// Domain is the cookie domain. Default: none (host-only).
	Domain string
	// SameSite is the SameSite attribute. Default Lax, which browsers send
	// on the provider's top-level GET redirect (response_mode=query). With
	// response_mode=form_post the callback is a cross-site POST: use
	// http.SameSiteNoneMode (Secure is then required).
	SameSite http.SameSite
	// InsecureCookie drops the Secure attribute so the cookie works over
	// plain http://localhost in development. It MUST NOT be set in
	// production: the cookie would travel unencrypted.
	InsecureCookie bool
	// MaxPending is how many flow cookies one browser may hold (one per
	// unfinished login, e.g. per tab). Save drops the oldest beyond it.
	// Default 4.
	MaxPending int
	// StrictSingleUse remembers taken states in process memory until their
	// flow expires, so a copied cookie cannot be replayed to this process.
	// Without it, single use holds per browser (Take clears the cookie).
	StrictSingleUse bool
	// Now is the clock; use the Handler's. Default: time.Now.
	Now func() time.Time
}

// CookieStore is a [Store] that keeps each flow in the browser, in its own
// encrypted cookie: AES-256-GCM with the state as additional data, so a
// cookie opens only for the callback of its own flow, and two tabs' flows
// never collide (the name is derived from the state). Cookies are HttpOnly,
// Secure unless InsecureCookie, SameSite Lax by default, with Max-Age until
// the flow expires. The flow is packed in a compact binary form; a cookie is
// about 400 bytes.
//
// Take clears the cookie, so single use holds per browser. A cookie copied
// out of the browser could be replayed, with its callback parameters,
// until it expires; the provider's single-use code and PKCE binding still
// make such a replay fail at the token endpoint. StrictSingleUse adds a
// server-side record of taken states for strict single use within one
// process.
//
// The store needs no server state and works behind any load balancer as
// long as every instance has the keys.
type CookieStore struct {
	sealer     *seal.Sealer
	attrs      cookieAttrs
	maxPending int
	now        func() time.Time

	seen *seenSet // nil unless StrictSingleUse
}

// maxCookieValue bounds a flow cookie's value; browsers keep cookies up to
// 4096 bytes including the name.
const maxCookieValue = 3800

// NewCookieStore checks cfg and returns a CookieStore.
func NewCookieStore(cfg CookieConfig) (*CookieStore, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("login: cookie store: Keys is empty")
	}
	s := &CookieStore{
		attrs:      resolveCookie(cfg.Name, cfg.Path, cfg.Domain, cfg.SameSite, cfg.InsecureCookie),
		maxPending: cfg.MaxPending,
		now:        cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxPending <= 0 {
		s.maxPending = 4
	}
	if s.attrs.sameSite == http.SameSiteNoneMode && !s.attrs.secure {
		return nil, errors.New("login: cookie store: SameSite=None requires Secure (unset InsecureCookie)")
	}
	for i, k := range cfg.Keys {
		if len(k) != seal.KeySize {
			return nil, fmt.Errorf("login: cookie store: Keys[%d] is %d bytes, want 32 (AES-256)", i, len(k))
		}
	}
	var err error
	if s.sealer, err = seal.New(cfg.Keys...); err != nil {
		return nil, fmt.Errorf("login: cookie store: Keys: %w", err)
	}
	if cfg.StrictSingleUse {
		s.seen = &seenSet{m: make(map[string]int64)}
	}
	return s, nil
}

func (*CookieStore) browserBound() {}

// Save seals flow into a cookie named after its state, valid until
// expires. When the browser already holds MaxPending flow cookies, the
// oldest (first sent, RFC 6265 §5.4) are deleted.
func (s *CookieStore) Save(_ context.Context, w http.ResponseWriter, r *http.Request, flow *client.Flow, expires time.Time) error {
	if flow == nil || flow.State == "" {
		return errors.New("login: cookie store: flow without state")
	}
	now := s.now()
	if !expires.After(now) {
		return errors.New("login: cookie store: flow already expired")
	}
	if w == nil {
		return errors.New("login: cookie store: Save needs the response writer")
	}
	value, err := s.seal(flow, expires)
	if err != nil {
		return err
	}
	if r != nil {
		var ours []string
		for _, c := range r.Cookies() {
			if s.attrs.isKind(c.Name, "f") {
				ours = append(ours, c.Name)
			}
		}
		for i := 0; i < len(ours)-s.maxPending+1; i++ {
			http.SetCookie(w, s.attrs.clear(ours[i]))
		}
	}
	http.SetCookie(w, s.attrs.cookie(s.attrs.name("f", flow.State), value, now, expires))
	return nil
}

// Take opens the flow cookie of state and clears it. A missing or expired
// cookie gives ErrFlowNotFound; one that does not open gives an error
// wrapping ErrInvalidCookie and ErrFlowNotFound.
func (s *CookieStore) Take(_ context.Context, w http.ResponseWriter, r *http.Request, state string) (*client.Flow, error) {
	if r == nil || w == nil {
		return nil, errors.New("login: cookie store: Take needs the request and response writer")
	}
	name := s.attrs.name("f", state)
	c, err := r.Cookie(name)
	if err != nil {
		return nil, ErrFlowNotFound
	}
	http.SetCookie(w, s.attrs.clear(name))
	flow, expires, err := s.open(c.Value, state)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFlowNotFound, err)
	}
	now := s.now()
	if !now.Before(expires) {
		return nil, ErrFlowNotFound
	}
	if s.seen != nil && !s.seen.add(stateKey(state), now.UnixNano(), expires.UnixNano()) {
		return nil, ErrFlowNotFound
	}
	return flow, nil
}

// aad binds a sealed flow to its state.
func aad(state string) []byte {
	return append([]byte("go-par/login flow\x00"), state...)
}

// seal packs and encrypts a flow (package internal/seal: version | nonce |
// AES-256-GCM), base64url.
func (s *CookieStore) seal(flow *client.Flow, expires time.Time) (string, error) {
	out := s.sealer.Seal(nil, packFlow(flow, expires), aad(flow.State))
	v := base64.RawURLEncoding.EncodeToString(out)
	if len(v) > maxCookieValue {
		return "", fmt.Errorf("login: cookie store: flow too large for a cookie (%d bytes)", len(v))
	}
	return v, nil
}

// open decrypts and unpacks a cookie value sealed for state.
func (s *CookieStore) open(value, state string) (*client.Flow, time.Time, error) {
	if len(value) > maxCookieValue {
		return nil, time.Time{}, fmt.Errorf("%w: too long", ErrInvalidCookie)
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: not base64url", ErrInvalidCookie)
	}
	if len(raw) < seal.Overhead || !seal.IsSealed(raw) {
		return nil, time.Time{}, fmt.Errorf("%w: bad version or length", ErrInvalidCookie)
	}
	packed, err := s.sealer.Open(raw, aad(state))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: authentication failed", ErrInvalidCookie)
	}
	flow, expires, err := unpackFlow(packed)
	if err != nil {
		return nil, time.Time{}, err
	}
	flow.State = state
	return flow, expires, nil
}

// packFlow encodes a flow without its state (the state is the AAD and the
// callback's own parameter): the cookie expiry and the request_uri expiry as
// varints, then six length-prefixed strings, a seventh (max_age) only when
// the flow has one or a later field, an eighth (response_mode) likewise,
// and a ninth (the login's own DPoP key) only when it has one, so cookies
// sealed before they existed still open.
func packFlow(f *client.Flow, expires time.Time) []byte {
	n := 3*binary.MaxVarintLen64 + 9*binary.MaxVarintLen32 + len(f.Nonce) + len(f.CodeVerifier) +
		len(f.RequestURI) + len(f.RedirectURL) + len(f.Issuer) + len(f.DPoPJKT) + len(f.MaxAge) + len(f.ResponseMode) + len(f.DPoPKey)
	b := make([]byte, 0, n)
	b = binary.AppendVarint(b, expires.Unix())
	b = binary.AppendVarint(b, f.ExpiresAt.Unix())
	b = binary.AppendUvarint(b, uint64(f.ExpiresAt.Nanosecond()))
	fields := []string{f.Nonce, f.CodeVerifier, f.RequestURI, f.RedirectURL, f.Issuer, f.DPoPJKT}
	// Optional trailing fields: each is written when it or a later one is set.
	optional := []string{f.MaxAge, f.ResponseMode, f.DPoPKey}
	last := -1
	for i, v := range optional {
		if v != "" {
			last = i
		}
	}
	fields = append(fields, optional[:last+1]...)
	for _, s := range fields {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// unpackFlow decodes packFlow's output. Anything malformed or with
// trailing bytes is an error wrapping ErrInvalidCookie.
func unpackFlow(b []byte) (*client.Flow, time.Time, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrInvalidCookie, what) }
	exp, n := binary.Varint(b)
	if n <= 0 {
		return nil, time.Time{}, bad("expiry")
	}
	b = b[n:]
	sec, n := binary.Varint(b)
	if n <= 0 {
		return nil, time.Time{}, bad("request_uri expiry")
	}
	b = b[n:]
	nsec, n := binary.Uvarint(b)
	if n <= 0 || nsec >= uint64(time.Second) {
		return nil, time.Time{}, bad("request_uri expiry")
	}
	b = b[n:]
	var fields [9]string
	for i := range fields {
		if i >= 6 && len(b) == 0 {
			break // no max_age, response_mode or DPoP key
		}
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, time.Time{}, bad("field length")
		}
		b = b[n:]
		fields[i] = string(b[:l])
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, time.Time{}, bad("trailing bytes")
	}
	f := &client.Flow{
		Nonce: fields[0], CodeVerifier: fields[1], RequestURI: fields[2],
		RedirectURL: fields[3], Issuer: fields[4], DPoPJKT: fields[5], MaxAge: fields[6], ResponseMode: fields[7],
		DPoPKey:   fields[8],
		ExpiresAt: time.Unix(sec, int64(nsec)),
	}
	return f, time.Unix(exp, 0), nil
}

// seenSet records taken state digests until their flow expires.
type seenSet struct {
	mu    sync.Mutex
	m     map[string]int64
	queue expiryQueue
}

// add records key until exp and reports whether it was new.
func (s *seenSet) add(key string, now, exp int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 2 {
		k, e, ok := s.queue.popExpired(now)
		if !ok {
			break
		}
		if cur, found := s.m[k]; found && cur == e {
			delete(s.m, k)
		}
	}
	if e, found := s.m[key]; found && e > now {
		return false
	}
	s.m[key] = exp
	s.queue.push(key, exp)
	return true
}
