package session

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/dpopwire"
)

// Client returns an HTTP client for calls to resource servers on behalf
// of the request's session (ErrNoSession without one). For each request it
// reads the session afresh (another replica may have refreshed it or ended
// it), refreshes the access token RefreshBefore it expires, attaches it —
// "Authorization: Bearer", or DPoP with a proof of the session's own key
// (RFC 9449 §7) — and sends the request. A 401 whose challenge says
// invalid_token (RFC 6750 §3.1: expired or revoked) gets one refresh and
// one retry, when the request body can be sent again. A resource server's
// insufficient_user_authentication challenge (RFC 9470) comes back as a
// *StepUpError.
//
// Each session is refreshed by one request at a time across every
// replica that shares the Store: the refresh holds the session's lock in
// the Store (Config.LockTimeout), and the others wait for its result and
// use it, so a rotated refresh token is used once and never lost (the
// write of the new tokens is a compare-and-set, retried on top of a
// concurrent write that did not touch the tokens, and it is not cancelled
// with the request). A refresh the provider refuses (invalid_grant), or
// whose new ID token fails the login's checks (OIDC Core §12.2), ends the
// session: the error wraps ErrEnded. With CookieSessions, w receives the
// rewritten cookie, so use the client before writing the response.
func (m *Manager) Client(w http.ResponseWriter, r *http.Request) (*http.Client, error) {
	l, err := m.load(r.Context(), r)
	if err != nil {
		return nil, err
	}
	if err := m.touch(r.Context(), w, l); err != nil {
		return nil, err
	}
	return &http.Client{Transport: &transport{m: m, w: w, key: l.key, cookie: l}}, nil
}

// transport is the RoundTripper of one session.
type transport struct {
	m   *Manager
	w   http.ResponseWriter
	key string // server-side session key; "" with CookieSessions

	mu     sync.Mutex
	cookie *loaded // the cookie session, as refreshed so far
}

// current reads the session: from the Store, or the cookie's as held.
func (t *transport) current(ctx context.Context) (*loaded, error) {
	if t.key != "" {
		return t.m.loadKey(ctx, t.key)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := *t.cookie
	rec := *c.rec
	c.rec = &rec
	return &c, nil
}

func (t *transport) setCookie(l *loaded) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cookie = l
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	l, err := t.current(ctx)
	if err != nil {
		closeBody()
		return nil, err
	}
	if t.m.expiring(l.rec) {
		if l, err = t.m.refresh(ctx, t, l.rec.Access); err != nil {
			closeBody()
			return nil, err
		}
	}
	body := req.Body
	resp, err := t.m.send(req, l.rec)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && invalidToken(resp.Header) && replayable(req) {
		drain(resp)
		if l, err = t.m.refresh(ctx, t, l.rec.Access); err != nil {
			return nil, err
		}
		r2 := req
		if body != nil && body != http.NoBody {
			b, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("session: replaying the request body: %w", err)
			}
			r2 = req.Clone(ctx)
			r2.Body = b
		}
		if resp, err = t.m.send(r2, l.rec); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		if ch, ok := ParseStepUpChallenge(resp.StatusCode, resp.Header); ok {
			drain(resp)
			return nil, ch
		}
	}
	return resp, nil
}

// send makes one request with rec's access token, through the client's
// resource client (dpop.Transport for DPoP-bound tokens, with the
// session's key). The tokens are given without expiry or refresh token,
// so that client never refreshes on its own: refreshes go through the
// session's lock.
func (m *Manager) send(req *http.Request, rec *record) (*http.Response, error) {
	p, err := m.proofer(rec)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	tok := &client.Tokens{Token: &oauth2.Token{AccessToken: rec.Access, TokenType: rec.Type}, DPoP: p}
	return m.c.ResourceClient(tok).Transport.RoundTrip(req)
}

// proofer returns the session's own DPoP key, or nil (Bearer tokens, or
// the client's Config.DPoP).
func (m *Manager) proofer(rec *record) (*dpop.Proofer, error) {
	if rec.DPoPKey == "" {
		return nil, nil
	}
	der, err := base64.RawURLEncoding.DecodeString(rec.DPoPKey)
	if err != nil {
		return nil, errors.New("session: stored dpop key is not base64url")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("session: stored dpop key is not PKCS #8")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("session: stored dpop key of type %T cannot sign", k)
	}
	return dpop.NewProofer(signer, &dpop.Config{Now: m.now})
}

// expiring reports whether rec's access token expires within RefreshBefore.
func (m *Manager) expiring(rec *record) bool {
	return !rec.Expiry.IsZero() && !m.now().Before(rec.Expiry.Add(-m.refreshBefore))
}

// invalidToken reports a challenge with error="invalid_token" (RFC 6750
// §3.1, RFC 9449 §7.1): the access token expired or was revoked.
func invalidToken(h http.Header) bool {
	for _, f := range h.Values("WWW-Authenticate") {
		for _, c := range dpopwire.ParseWWWAuthenticate(f) {
			if c.Params["error"] == "invalid_token" {
				return true
			}
		}
	}
	return false
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// lockPoll is how often a request waiting for another's refresh looks
// again.
const lockPoll = 20 * time.Millisecond

// refresh returns the session with an access token other than stale that
// does not expire soon: another request's refresh (on any replica), or its
// own under the session's lock.
func (m *Manager) refresh(ctx context.Context, t *transport, stale string) (*loaded, error) {
	deadline := m.now().Add(m.lockTTL)
	for {
		l, err := t.current(ctx)
		if err != nil {
			return nil, err
		}
		if fresh(m, l.rec, stale) {
			return l, nil
		}
		if l, ok, err := m.handoff(ctx, t, l, stale); err != nil || ok {
			return l, err
		}
		token, ok, err := m.store.Lock(ctx, l.lockName(), m.lockTTL)
		if err != nil {
			return nil, fmt.Errorf("session: refresh lock: %w", err)
		}
		if ok {
			return m.refreshLocked(ctx, t, l.lockName(), token, stale)
		}
		if !m.now().Before(deadline) {
			return nil, fmt.Errorf("session: refresh: another request's refresh of this session did not finish within %s", m.lockTTL)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

// fresh reports whether rec no longer has the stale access token and does
// not expire soon.
func fresh(m *Manager, rec *record, stale string) bool {
	return rec.Access != stale && !m.expiring(rec)
}

// refreshLocked refreshes the session under its lock.
func (m *Manager) refreshLocked(ctx context.Context, t *transport, lock, token, stale string) (*loaded, error) {
	// The refresh and the write of its result are not cancelled with the
	// request: the provider may rotate the refresh token as soon as it gets
	// it, and the new one must be kept. They end before the lock does.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.lockTTL-m.lockTTL/10)
	defer cancel()
	defer func() { _ = m.store.Unlock(wctx, lock, token) }()
	l, err := t.current(wctx)
	if err != nil {
		return nil, err
	}
	if fresh(m, l.rec, stale) {
		return l, nil // refreshed by another while this one took the lock
	}
	if l, ok, err := m.handoff(wctx, t, l, stale); err != nil || ok {
		return l, err
	}
	if l.rec.Refresh == "" {
		_ = m.remove(wctx, t.w, l)
		return nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrEnded)
	}
	p, err := m.proofer(l.rec)
	if err != nil {
		return nil, err
	}
	prev := &client.Tokens{Token: &oauth2.Token{AccessToken: l.rec.Access, TokenType: l.rec.Type,
		RefreshToken: l.rec.Refresh, Expiry: l.rec.Expiry}, RawIDToken: l.rec.IDToken, DPoP: p}
	next, err := m.c.Refresh(wctx, prev)
	if err != nil {
		if refused(err) {
			_ = m.remove(wctx, t.w, l)
			m.log.LogAttrs(ctx, slog.LevelDebug, "session: refresh refused, session ended", slog.String("error", err.Error()))
			return nil, fmt.Errorf("%w: %w", ErrEnded, err)
		}
		return nil, fmt.Errorf("session: refresh: %w", err)
	}
	used := l.rec.Refresh
	apply := func(rec *record) {
		rec.Access, rec.Type, rec.Refresh, rec.Expiry = next.Token.AccessToken, next.Token.Type(), next.Token.RefreshToken, next.Token.Expiry
		if next.RawIDToken != "" {
			rec.IDToken = next.RawIDToken
		}
	}
	apply(l.rec)
	m.log.LogAttrs(ctx, slog.LevelDebug, "session: refreshed", slog.Time("expiry", next.Token.Expiry))
	if t.key == "" {
		// A cookie session: the new tokens go into this response's cookie
		// and, for a minute, into the Store for the browser's other
		// requests that still hold the old cookie.
		if err := m.putHandoff(wctx, l.rec, used); err != nil {
			return nil, err
		}
		if t.w != nil {
			if err := m.writeCookie(t.w, l.rec); err != nil {
				return nil, err
			}
		}
		t.setCookie(l)
		return l, nil
	}
	for range 5 {
		err := m.update(wctx, nil, l)
		if !errors.Is(err, ErrConflict) {
			return l, err
		}
		// Written meanwhile (a step-up's mark, a touch of another kind):
		// put the new tokens on top unless the tokens themselves changed.
		cur, lerr := m.loadKey(wctx, t.key)
		if lerr != nil {
			return nil, lerr
		}
		if cur.rec.Refresh != used {
			return nil, fmt.Errorf("session: refresh: the refresh token changed during the refresh: %w", ErrConflict)
		}
		apply(cur.rec)
		l = cur
	}
	return nil, fmt.Errorf("session: refresh: %w", ErrConflict)
}

// refused reports a refresh the provider will not grant again: the refresh
// token is invalid, expired or revoked (invalid_grant, RFC 6749 §5.2), or
// the new ID token failed the checks.
func refused(err error) bool {
	var re *client.ResponseError
	if errors.As(err, &re) && re.Code == "invalid_grant" {
		return true
	}
	return errors.Is(err, client.ErrInvalidIDToken)
}

// handoffLifetime is how long a cookie session's refreshed tokens wait in
// the Store for the browser's other requests.
const handoffLifetime = time.Minute

// putHandoff keeps a cookie session's refreshed record, sealed, under its
// ID, with the refresh token it replaced.
func (m *Manager) putHandoff(ctx context.Context, rec *record, used string) error {
	key := keyHandoff + rec.ID
	v, err := m.seal(&record{ID: rec.ID, Issuer: rec.Issuer, Refresh: rec.Refresh, Access: rec.Access, Type: rec.Type,
		Expiry: rec.Expiry, IDToken: rec.IDToken, From: used}, key)
	if err != nil {
		return err
	}
	exp := m.now().Add(handoffLifetime)
	for range 5 {
		var version uint64
		if e, err := m.store.Get(ctx, key); err == nil {
			version = e.Version
		}
		err := m.store.Put(ctx, key, &Entry{Value: v, Version: version, Expires: exp})
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("session: refresh handoff: %w", ErrConflict)
}

// handoff adopts, for a cookie session, the tokens another request
// refreshed from the same refresh token.
func (m *Manager) handoff(ctx context.Context, t *transport, l *loaded, stale string) (*loaded, bool, error) {
	if t.key != "" {
		return nil, false, nil
	}
	key := keyHandoff + l.rec.ID
	e, err := m.store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	h, err := m.open(e.Value, key)
	if err != nil || h.From != l.rec.Refresh || h.Access == stale {
		return nil, false, nil
	}
	l.rec.Access, l.rec.Type, l.rec.Refresh, l.rec.Expiry, l.rec.IDToken = h.Access, h.Type, h.Refresh, h.Expiry, h.IDToken
	if t.w != nil {
		if err := m.writeCookie(t.w, l.rec); err != nil {
			return nil, false, err
		}
	}
	t.setCookie(l)
	return l, true, nil
}
