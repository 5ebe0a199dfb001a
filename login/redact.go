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
