package login

import (
	"fmt"
	"log/slog"
)

// String describes the cookie configuration without its keys: formatting a
// CookieConfig (fmt, log/slog) never shows key material.
func (c CookieConfig) String() string {
	return fmt.Sprintf("login.CookieConfig{Keys: %d redacted, Name: %q, Path: %q, Domain: %q, SameSite: %d, InsecureCookie: %t, MaxPending: %d, StrictSingleUse: %t}",
		len(c.Keys), c.Name, c.Path, c.Domain, c.SameSite, c.InsecureCookie, c.MaxPending, c.StrictSingleUse)
}

// GoString (the %#v verb) is String.
func (c CookieConfig) GoString() string { return c.String() }

// LogValue logs the configuration without its keys.
func (c CookieConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes the configuration without secrets: the client and the
// cookie keys print redacted, the Store by its type only.
func (c Config) String() string {
	return fmt.Sprintf("login.Config{Client: %v, Store: %s, Cookie: %v, StartPath: %q, CallbackPath: %q, LogoutPath: %q, "+
		"FlowLifetime: %s, PostLogoutRedirectURL: %q}",
		c.Client, storeName(c.Store), c.Cookie, c.StartPath, c.CallbackPath, c.LogoutPath, c.FlowLifetime, c.PostLogoutRedirectURL)
}

// GoString (the %#v verb) is String.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// storeName names a Store by its type: a Store of the app's own might
// show flows when formatted.
func storeName(s Store) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T", s)
}

// String describes the handler by its client and paths, without secrets.
func (h *Handler) String() string {
	if h == nil {
		return "login.Handler(<nil>)"
	}
	return fmt.Sprintf("login.Handler(client=%v store=%s start=%s callback=%s logout=%s)",
		h.c, storeName(h.store), h.startPath, h.callbackPath, h.logoutPath)
}

// GoString (the %#v verb) is String.
func (h *Handler) GoString() string { return h.String() }

// LogValue logs the handler without secrets.
func (h *Handler) LogValue() slog.Value { return slog.StringValue(h.String()) }

// String describes the store without its keys.
func (s *CookieStore) String() string {
	if s == nil {
		return "login.CookieStore(<nil>)"
	}
	return fmt.Sprintf("login.CookieStore(keys=%d redacted, max_pending=%d)", s.sealer.Keys(), s.maxPending)
}

// GoString (the %#v verb) is String.
func (s *CookieStore) GoString() string { return s.String() }

// LogValue logs the store without its keys.
func (s *CookieStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the store without the flows it holds (their state,
// nonce and PKCE verifier are secrets). It takes no lock.
func (s *MemoryStore) String() string {
	if s == nil {
		return "login.MemoryStore(<nil>)"
	}
	return fmt.Sprintf("login.MemoryStore(max=%d, flows redacted)", s.max)
}

// GoString (the %#v verb) is String.
func (s *MemoryStore) GoString() string { return s.String() }

// LogValue logs the store without its flows.
func (s *MemoryStore) LogValue() slog.Value { return slog.StringValue(s.String()) }
