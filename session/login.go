package session

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

// fail hands err to the login handler's OnError, as a callback failure.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, err error) {
	m.log.LogAttrs(r.Context(), slog.LevelDebug, "session: failed", slog.String("error", err.Error()))
	m.onError(w, r, &login.Error{Op: login.OpCallback, Err: err})
}

// recordOf makes the record of a completed login.
func recordOf(flow *client.Flow, tok *client.Tokens) (*record, error) {
	if tok == nil || tok.Token == nil || tok.IDToken == nil || tok.RawIDToken == "" {
		return nil, errors.New("session: login without a verified ID token")
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := tok.IDToken.Claims(&c); err != nil {
		return nil, fmt.Errorf("session: id token claims: %w", err)
	}
	return &record{Issuer: tok.IDToken.Issuer, Subject: tok.IDToken.Subject, SID: c.SID, IDToken: tok.RawIDToken,
		Access: tok.Token.AccessToken, Type: tok.Token.Type(), Refresh: tok.Token.RefreshToken, Expiry: tok.Token.Expiry,
		DPoPKey: flow.DPoPKey}, nil
}

// completeLogin is the login handler's OnLoginFlow: a step-up that this
// browser's session asked for upgrades that session; any other login
// replaces the browser's session with a new one under a new ID (no session
// fixation: OWASP ASVS 3.2.1).
func (m *Manager) completeLogin(w http.ResponseWriter, r *http.Request, flow *client.Flow, tok *client.Tokens) {
	ctx := r.Context()
	rec, err := recordOf(flow, tok)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	prev, perr := m.load(ctx, r)
	if perr != nil && !errors.Is(perr, ErrNoSession) {
		m.fail(w, r, perr)
		return
	}
	if perr == nil && prev.rec.StepUp != nil &&
		subtle.ConstantTimeCompare([]byte(prev.rec.StepUp.Nonce), []byte(flow.Nonce)) == 1 {
		m.completeStepUp(w, r, prev, rec)
		return
	}
	if perr == nil {
		if err := m.remove(ctx, nil, prev); err != nil {
			m.fail(w, r, err)
			return
		}
		m.log.LogAttrs(ctx, slog.LevelDebug, "session: the browser's previous session ended by a new login")
	}
	now := m.now()
	rec.ID, rec.Started, rec.LoggedIn = rand.Text(), now, now
	if err := m.save(ctx, w, rec); err != nil {
		m.fail(w, r, err)
		return
	}
	m.log.LogAttrs(ctx, slog.LevelDebug, "session: started", slog.String("issuer", rec.Issuer))
	m.onLogin(w, r, m.session(rec))
}

// completeStepUp upgrades prev with the step-up login rec, after checking
// that it is the same user at the level asked for; the session keeps its
// start and gets a new ID.
func (m *Manager) completeStepUp(w http.ResponseWriter, r *http.Request, prev *loaded, rec *record) {
	ctx := r.Context()
	want := prev.rec.StepUp
	now := m.now()
	err := m.checkStepUp(want, prev.rec, rec, now)
	if err != nil {
		// The weaker login's tokens are dropped; the session stays as it
		// was, without the step-up.
		prev.rec.StepUp = nil
		if uerr := m.update(ctx, nil, prev); uerr != nil && !errors.Is(uerr, ErrConflict) {
			err = errors.Join(err, uerr)
		}
		m.fail(w, r, err)
		return
	}
	up := *prev.rec
	up.SID, up.IDToken, up.Access, up.Type, up.Refresh, up.Expiry = rec.SID, rec.IDToken, rec.Access, rec.Type, rec.Refresh, rec.Expiry
	up.DPoPKey, up.LoggedIn, up.StepUp = rec.DPoPKey, now, nil
	if prev.key != "" {
		// A new ID for the stronger session, the old one gone.
		if err := m.save(ctx, w, &up); err != nil {
			m.fail(w, r, err)
			return
		}
		if err := m.store.Delete(ctx, prev.key); err != nil {
			m.fail(w, r, err)
			return
		}
	} else if err := m.writeCookie(w, &up); err != nil {
		m.fail(w, r, err)
		return
	}
	s := m.session(&up)
	m.log.LogAttrs(ctx, slog.LevelDebug, "session: stepped up", slog.String("acr", s.ACR))
	if want.ReturnTo != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, want.ReturnTo, http.StatusSeeOther)
		return
	}
	m.onLogin(w, r, s)
}

// checkStepUp applies RFC 9470 §4's "the client checks the result": the
// step-up is the session's own user, it has not expired, and its acr (or
// loa) meets what was asked for. max_age is checked by client.Exchange
// against the flow's auth_time.
func (m *Manager) checkStepUp(want *pending, cur, got *record, now time.Time) error {
	switch {
	case !now.Before(want.Expires):
		return fmt.Errorf("%w: the step-up took too long", ErrStepUpFailed)
	case got.Issuer != cur.Issuer || got.Subject != cur.Subject:
		return fmt.Errorf("%w: the step-up logged in another user", ErrStepUpFailed)
	}
	var c struct {
		ACR string `json:"acr"`
		LoA string `json:"loa"`
	}
	_ = json.Unmarshal(got.claims(), &c)
	if !satisfies(want, c.ACR, c.LoA) {
		return fmt.Errorf("%w: got acr %.100q", ErrStepUpFailed, firstNonEmpty(c.ACR, c.LoA))
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// logout is the login handler's OnLogout: the local session ends before
// the browser goes to the provider, and the ID token goes along as
// id_token_hint. Clear-Site-Data asks the browser to drop its cache of
// this site, back/forward cache included, so pages with personal data do
// not come back with the Back button.
func (m *Manager) logout(w http.ResponseWriter, r *http.Request) (string, error) {
	w.Header().Set("Clear-Site-Data", `"cache"`)
	l, err := m.load(r.Context(), r)
	if errors.Is(err, ErrNoSession) {
		http.SetCookie(w, m.cookie("", -1))
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if err := m.remove(r.Context(), w, l); err != nil {
		return "", err
	}
	m.log.LogAttrs(r.Context(), slog.LevelDebug, "session: ended by the user")
	return l.rec.IDToken, nil
}
