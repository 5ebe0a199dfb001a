package session

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The cookie sessions of CookieSessions: the whole sealed record in the
// session cookie, bound to the cookie's name.

func (m *Manager) cookiePlace() string { return "cookie\x00" + m.cookieName }

// cookieValue seals rec into a cookie value, or ErrTooLarge when the
// cookie would exceed MaxCookieSize.
func (m *Manager) cookieValue(rec *record) (string, error) {
	sealed, err := m.seal(rec, m.cookiePlace())
	if err != nil {
		return "", err
	}
	v := base64.RawURLEncoding.EncodeToString(sealed)
	if size := len(m.cookieName) + 1 + len(v); size > MaxCookieSize {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, size, MaxCookieSize)
	}
	return v, nil
}

// writeCookie sets the cookie holding rec.
func (m *Manager) writeCookie(w http.ResponseWriter, rec *record) error {
	v, err := m.cookieValue(rec)
	if err != nil {
		return err
	}
	http.SetCookie(w, m.cookie(v, 0))
	return nil
}

// openCookie opens a cookie value.
func (m *Manager) openCookie(v string) (*record, error) {
	if len(m.cookieName)+1+len(v) > MaxCookieSize {
		return nil, errors.New("session: cookie too long")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("session: cookie is not base64url")
	}
	return m.open(sealed, m.cookiePlace())
}

// markEnded records, until expires, that the cookie sessions under index
// that were logged in at or before at have ended: a server cannot delete a
// cookie, so every load checks the marks (endedByProvider). A later mark
// replaces an earlier one.
func (m *Manager) markEnded(ctx context.Context, index string, at, expires time.Time) error {
	key := keyMark + index
	for range 5 {
		var version uint64
		e, err := m.store.Get(ctx, key)
		switch {
		case err == nil:
			if prev, perr := strconv.ParseInt(string(e.Value), 10, 64); perr == nil && prev >= at.UnixNano() {
				return nil
			}
			version = e.Version
			if e.Expires.After(expires) {
				expires = e.Expires
			}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		err = m.store.Put(ctx, key, &Entry{Value: []byte(strconv.FormatInt(at.UnixNano(), 10)), Version: version, Expires: expires})
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("session: mark logout: %w", ErrConflict)
}

// endedByProvider reports whether a cookie session has ended since it was
// sealed: a logout of its sid, or of its sub after it logged in, or its
// own local end.
func (m *Manager) endedByProvider(ctx context.Context, rec *record) (bool, error) {
	checks := []struct {
		index  string
		before time.Time // the mark ends sessions logged in at or before it; zero: any
	}{{digest("id", rec.ID), time.Time{}}, {subIndex(rec.Issuer, rec.Subject), rec.LoggedIn}}
	if rec.SID != "" {
		checks = append(checks, struct {
			index  string
			before time.Time
		}{sidIndex(rec.Issuer, rec.SID), time.Time{}})
	}
	for _, c := range checks {
		e, err := m.store.Get(ctx, keyMark+c.index)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("session: logout marks: %w", err)
		}
		at, perr := strconv.ParseInt(string(e.Value), 10, 64)
		if perr != nil || c.before.IsZero() || at >= c.before.UnixNano() {
			return true, nil
		}
	}
	return false, nil
}
