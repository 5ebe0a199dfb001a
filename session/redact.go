package session

import (
	"fmt"
	"log/slog"
)

// String shows the configuration without its keys (their number only) and
// with the client and login configuration as they show themselves
// (redacted).
func (c Config) String() string {
	return fmt.Sprintf("session.Config{Client: %v, Store: %s, Keys: %d redacted, CookieSessions: %t, DPoP: %t, MitIDStepUp: %t, "+
		"IdleTimeout: %s, AbsoluteTimeout: %s, RefreshBefore: %s, LockTimeout: %s, Cookie: %+v, Login: %v}",
		c.Client, storeName(c.Store), len(c.Keys), c.CookieSessions, c.DPoP, c.MitIDStepUp,
		c.IdleTimeout, c.AbsoluteTimeout, c.RefreshBefore, c.LockTimeout, c.Cookie, c.Login)
}

// GoString (the %#v verb) is String.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// storeName names a Store by its type: a Store of the app's own might show
// sessions when formatted.
func storeName(s Store) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T", s)
}

// String describes the Manager by its client, store and cookie, never its
// keys or sessions.
func (m *Manager) String() string {
	if m == nil {
		return "session.Manager(<nil>)"
	}
	return fmt.Sprintf("session.Manager(client=%v store=%s cookie=%s cookie-sessions=%t, keys redacted)",
		m.c, storeName(m.store), m.cookieName, m.inCookie)
}

// GoString (the %#v verb) is String.
func (m *Manager) GoString() string { return m.String() }

// LogValue logs the Manager without secrets.
func (m *Manager) LogValue() slog.Value { return slog.StringValue(m.String()) }

// String describes the store by its size, never its sessions or locks.
func (s *MemoryStore) String() string {
	if s == nil {
		return "session.MemoryStore(<nil>)"
	}
	return fmt.Sprintf("session.MemoryStore(%d sessions, contents redacted)", s.Len())
}

// GoString (the %#v verb) is String.
func (s *MemoryStore) GoString() string { return s.String() }

// LogValue logs the store without its contents.
func (s *MemoryStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// GoString (the %#v verb) is String.
func (s *Session) GoString() string { return s.String() }
