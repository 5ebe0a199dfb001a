package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// record is what is sealed and stored for a session.
type record struct {
	// ID identifies the session across id rotations (a step-up gives it a
	// new cookie ID): the refresh lock's name with CookieSessions.
	ID      string `json:"id"`
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	SID     string `json:"sid,omitempty"`
	// IDToken is the raw ID token of the latest login or refresh: its
	// claims (verified when it was received), the id_token_hint at logout
	// and the OIDC Core §12.2 reference of refreshes.
	IDToken string    `json:"idt"`
	Access  string    `json:"at"`
	Type    string    `json:"tt,omitempty"`
	Refresh string    `json:"rt,omitempty"`
	Expiry  time.Time `json:"exp,omitzero"`
	DPoPKey string    `json:"dk,omitempty"`

	Started  time.Time `json:"st"`
	LoggedIn time.Time `json:"li"`
	// Seen is when a cookie session was last written (its idle timer).
	Seen   time.Time `json:"ls,omitzero"`
	StepUp *pending  `json:"su,omitempty"`
	// From is, in a refresh handoff (CookieSessions), the refresh token
	// that the tokens were refreshed from.
	From string `json:"from,omitempty"`
}

// pending is a step-up in flight: what it asked for, and how to know its
// callback (the nonce pushed).
type pending struct {
	Nonce    string    `json:"n"`
	ACR      []string  `json:"acr,omitempty"`
	Level    int       `json:"lvl,omitempty"` // an NSIS level (MitIDStepUp), 1–3
	ReturnTo string    `json:"to,omitempty"`
	Expires  time.Time `json:"exp"`
}

// claims returns the payload of the record's ID token, verified when it
// was received.
func (rec *record) claims() json.RawMessage {
	parts := strings.Split(rec.IDToken, ".")
	if len(parts) != 3 {
		return json.RawMessage("{}")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !json.Valid(b) {
		return json.RawMessage("{}")
	}
	return b
}

// session returns the app's view of rec.
func (m *Manager) session(rec *record) *Session {
	s := &Session{Issuer: rec.Issuer, Subject: rec.Subject, SID: rec.SID, Started: rec.Started, LoggedIn: rec.LoggedIn,
		Expires: rec.Started.Add(m.absolute), claims: rec.claims()}
	var c struct {
		ACR      string   `json:"acr"`
		LoA      string   `json:"loa"`
		AuthTime *float64 `json:"auth_time"`
	}
	_ = json.Unmarshal(s.claims, &c)
	s.ACR = c.ACR
	if s.ACR == "" {
		s.ACR = c.LoA
	}
	if c.AuthTime != nil {
		s.AuthTime = time.Unix(int64(*c.AuthTime), 0)
	}
	return s
}

// digest is base64url(SHA-256(parts joined by NUL)): store keys and index
// keys never hold a cookie ID, sid or sub in clear.
func digest(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Store key prefixes.
const (
	keySession = "s:" // + digest of the cookie ID
	keyLock    = "l:" // + session key, or "c:" + record ID with CookieSessions
	keyJTI     = "j:" // + digest of iss and jti
	keyMark    = "m:" // + index: a provider logout of cookie sessions
	keyHandoff = "h:" // + record ID: tokens just refreshed (CookieSessions)
)

func sidIndex(iss, sid string) string { return digest("sid", iss, sid) }
func subIndex(iss, sub string) string { return digest("sub", iss, sub) }

func (rec *record) indexes() []string {
	ix := []string{subIndex(rec.Issuer, rec.Subject)}
	if rec.SID != "" {
		ix = append(ix, sidIndex(rec.Issuer, rec.SID))
	}
	return ix
}

// aad binds a sealed session to where it is kept.
func aad(place string) []byte { return []byte("go-par/session\x00" + place) }

func (m *Manager) seal(rec *record, place string) ([]byte, error) {
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	defer clear(plain)
	return m.sealer.Seal(nil, plain, aad(place)), nil
}

func (m *Manager) open(value []byte, place string) (*record, error) {
	plain, err := m.sealer.Open(value, aad(place))
	if err != nil {
		return nil, errors.New("session: stored session does not open (another key, or tampered)")
	}
	defer clear(plain)
	var rec record
	if err := json.Unmarshal(plain, &rec); err != nil || rec.ID == "" || rec.Issuer == "" {
		return nil, errors.New("session: stored session is malformed")
	}
	return &rec, nil
}

// loaded is a session as read for one request.
type loaded struct {
	key     string // store key (server-side), or "" with CookieSessions
	rec     *record
	version uint64
}

// lockName is the refresh lock of l.
func (l *loaded) lockName() string {
	if l.key == "" {
		return keyLock + "c:" + l.rec.ID
	}
	return keyLock + l.key
}

// expires is when the store may drop the session: the earlier of its idle
// and absolute deadlines.
func (m *Manager) expires(rec *record, now time.Time) time.Time {
	idle, abs := now.Add(m.idle), rec.Started.Add(m.absolute)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// load reads the request's session, checks its lifetime and, server-side,
// moves its idle deadline. A missing or ended session is ErrNoSession.
func (m *Manager) load(ctx context.Context, r *http.Request) (*loaded, error) {
	c, err := r.Cookie(m.cookieName)
	if err != nil || c.Value == "" {
		return nil, ErrNoSession
	}
	now := m.now()
	if m.inCookie {
		rec, err := m.openCookie(c.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoSession, err)
		}
		if !now.Before(rec.Started.Add(m.absolute)) || !now.Before(rec.Seen.Add(m.idle)) {
			return nil, ErrNoSession
		}
		if ended, err := m.endedByProvider(ctx, rec); err != nil {
			return nil, err
		} else if ended {
			return nil, ErrNoSession
		}
		return &loaded{rec: rec}, nil
	}
	if len(c.Value) > 64 {
		return nil, ErrNoSession
	}
	return m.loadKey(ctx, keySession+digest(c.Value))
}

// loadKey reads the server-side session under key.
func (m *Manager) loadKey(ctx context.Context, key string) (*loaded, error) {
	e, err := m.store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: load: %w", err)
	}
	rec, err := m.open(e.Value, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	if !m.now().Before(rec.Started.Add(m.absolute)) {
		_ = m.store.Delete(ctx, key)
		return nil, ErrNoSession
	}
	return &loaded{key: key, rec: rec, version: e.Version}, nil
}

// touch moves a loaded session's idle deadline: the store's expiry, or a
// rewritten cookie once a tenth of IdleTimeout has passed.
func (m *Manager) touch(ctx context.Context, w http.ResponseWriter, l *loaded) error {
	now := m.now()
	if l.key != "" {
		if err := m.store.Touch(ctx, l.key, m.expires(l.rec, now)); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("session: touch: %w", err)
		}
		return nil
	}
	if w == nil || now.Sub(l.rec.Seen) < m.idle/10 {
		return nil
	}
	l.rec.Seen = now
	return m.writeCookie(w, l.rec)
}

// Session returns the request's session, and keeps it alive (its idle
// deadline moves; with CookieSessions the cookie may be rewritten, so call
// it before writing the response). A request without a live session gets
// ErrNoSession, and its stale cookie is cleared.
func (m *Manager) Session(w http.ResponseWriter, r *http.Request) (*Session, error) {
	l, err := m.load(r.Context(), r)
	if err != nil {
		if errors.Is(err, ErrNoSession) && w != nil {
			if _, cerr := r.Cookie(m.cookieName); cerr == nil {
				http.SetCookie(w, m.cookie("", -1))
			}
		}
		return nil, err
	}
	if err := m.touch(r.Context(), w, l); err != nil {
		return nil, err
	}
	return m.session(l.rec), nil
}

// cookie builds the session cookie; maxAge -1 deletes it.
func (m *Manager) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: m.cookieName, Value: value, Path: "/", HttpOnly: true, Secure: m.secure,
		SameSite: m.sameSite, MaxAge: maxAge}
}

// newID returns a fresh session cookie ID: 256 bits, base64url.
func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// save writes rec as a new session under a fresh cookie ID (a login, or
// the rotation of a step-up) and sets the cookie.
func (m *Manager) save(ctx context.Context, w http.ResponseWriter, rec *record) error {
	if m.inCookie {
		rec.Seen = m.now()
		return m.writeCookie(w, rec)
	}
	id := newID()
	key := keySession + digest(id)
	v, err := m.seal(rec, key)
	if err != nil {
		return err
	}
	if err := m.store.Put(ctx, key, &Entry{Value: v, Indexes: rec.indexes(), Expires: m.expires(rec, m.now())}); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	http.SetCookie(w, m.cookie(id, 0))
	return nil
}

// update writes l.rec back in place (same cookie ID) if nobody else has
// written the session since it was loaded: ErrConflict otherwise.
func (m *Manager) update(ctx context.Context, w http.ResponseWriter, l *loaded) error {
	if l.key == "" {
		if w == nil {
			return nil // a cookie session's change that no response carries
		}
		return m.writeCookie(w, l.rec)
	}
	v, err := m.seal(l.rec, l.key)
	if err != nil {
		return err
	}
	if err := m.store.Put(ctx, l.key, &Entry{Value: v, Version: l.version, Indexes: l.rec.indexes(),
		Expires: m.expires(l.rec, m.now())}); err != nil {
		return err
	}
	l.version++
	return nil
}

// remove ends a loaded session.
func (m *Manager) remove(ctx context.Context, w http.ResponseWriter, l *loaded) error {
	if w != nil {
		http.SetCookie(w, m.cookie("", -1))
	}
	if l.key != "" {
		return m.store.Delete(ctx, l.key)
	}
	// A cookie session: the cookie is cleared above; a copy of it must not
	// come back either.
	return m.markEnded(ctx, digest("id", l.rec.ID), m.now(), l.rec.Started.Add(m.absolute))
}

// End ends the request's session locally (the provider's session stays):
// the stored session is removed and the cookie cleared. A request without
// a session is not an error. RP-initiated logout (Login().Logout) calls it
// before redirecting to the provider.
func (m *Manager) End(w http.ResponseWriter, r *http.Request) error {
	l, err := m.load(r.Context(), r)
	if errors.Is(err, ErrNoSession) {
		http.SetCookie(w, m.cookie("", -1))
		return nil
	}
	if err != nil {
		return err
	}
	return m.remove(r.Context(), w, l)
}

// localPath reports whether p is a path of this site ("/…", not "//…"
// nor "/\…", no control characters): a step-up's return path must not
// lead elsewhere.
func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
