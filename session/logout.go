package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// maxLogoutTokenAge is how old a logout token without exp may be (by its
// iat), and how long its jti is remembered at least: a replay after that
// is refused by age instead.
const maxLogoutTokenAge = 10 * time.Minute

// BackChannelLogout serves the client's back-channel logout URI (OIDC
// Back-Channel Logout 1.0 §2.5–2.8): a POST with a form-encoded
// logout_token, checked by [client.Client.VerifyLogoutToken] (signature
// with the provider's keys, typ logout+jwt, iss, aud, iat, exp if present,
// the events member, sid and/or sub, no nonce), then by age (an iat older
// than 10 minutes without exp is refused) and by jti, which is single-use
// across every replica sharing the Store. Then every session of the sid
// (or, without sid, of the sub) ends, on every replica: server-side
// sessions are deleted through the Store's index, cookie sessions are
// marked ended. The answer is 200, or 400 with an error body, both with
// Cache-Control: no-store (§2.8).
//
// The jti is recorded before the sessions are ended, so that a replayed
// token never acts. When the Store fails between the two, the answer is
// 400 and the provider's retry of that same token is refused as a replay;
// the sessions then end with their timeouts or the user's next logout.
func (m *Manager) BackChannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	bad := func(err error) {
		m.log.LogAttrs(r.Context(), slog.LevelDebug, "session: back-channel logout refused", slog.String("error", err.Error()))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"logout token refused"}`))
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		bad(fmt.Errorf("method %.10q", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		bad(errors.New("malformed form"))
		return
	}
	if v := r.PostForm["logout_token"]; len(v) != 1 {
		bad(errors.New("want exactly one logout_token"))
		return
	}
	ctx := r.Context()
	lt, err := m.c.VerifyLogoutToken(ctx, r.PostForm.Get("logout_token"))
	if err != nil {
		bad(err)
		return
	}
	now := m.now()
	keep := lt.IssuedAt.Add(maxLogoutTokenAge)
	if lt.Expiry.IsZero() && !now.Before(keep) {
		bad(errors.New("logout token without exp is older than 10 minutes"))
		return
	}
	if lt.Expiry.After(keep) {
		keep = lt.Expiry
	}
	fresh, err := m.store.Once(ctx, keyJTI+digest(lt.Issuer, lt.ID), keep.Add(time.Minute))
	if err != nil {
		bad(err)
		return
	}
	if !fresh {
		bad(errors.New("logout token replayed (jti seen before)"))
		return
	}
	n, err := m.endIndexed(r, lt.Issuer, lt.SessionID, lt.Subject)
	if err != nil {
		bad(err)
		return
	}
	m.log.LogAttrs(ctx, slog.LevelDebug, "session: back-channel logout", slog.Int("sessions", n))
	w.WriteHeader(http.StatusOK)
}

// endIndexed ends the sessions of sid, or of sub when sid is empty.
func (m *Manager) endIndexed(r *http.Request, iss, sid, sub string) (int, error) {
	index := sidIndex(iss, sid)
	if sid == "" {
		index = subIndex(iss, sub)
	}
	if m.inCookie {
		return 0, m.markEnded(r.Context(), index, m.now(), m.now().Add(m.absolute))
	}
	return m.store.DeleteIndexed(r.Context(), index)
}

// FrontChannelLogout serves the client's front-channel logout URI (OIDC
// Front-Channel Logout 1.0 §2–4): the provider's logout page loads it in
// an iframe with iss and sid. Such a request carries no SameSite cookie,
// so the sessions are found by sid (an index in the Store) and end on
// every replica. iss must be the provider's issuer. The answer is a short
// page with Cache-Control: no-store that the provider's origin may frame
// (Content-Security-Policy frame-ancestors); a request without iss and sid
// (a provider without frontchannel_logout_session_required) ends the
// session of its cookie when the cookie came along. Requests with a wrong
// iss get 400.
func (m *Manager) FrontChannelLogout(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Del("X-Frame-Options")
	iss := m.c.Metadata().Issuer
	if u, err := url.Parse(iss); err == nil {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors "+u.Scheme+"://"+u.Host)
	}
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	gotIss, sid := q.Get("iss"), q.Get("sid")
	switch {
	case gotIss == "" && sid == "":
		if err := m.End(w, r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
	case gotIss != iss || sid == "":
		http.Error(w, "iss and sid must name a session of this client's provider", http.StatusBadRequest)
		return
	default:
		n, err := m.endIndexed(r, iss, sid, "")
		if err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		m.log.LogAttrs(r.Context(), slog.LevelDebug, "session: front-channel logout", slog.Int("sessions", n))
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!DOCTYPE html><title>Logged out</title>\n"))
}
