package jar

import (
	"fmt"
	"log/slog"
)

// keyKind names how a Config signs, without key material.
func (c Config) keyKind() string {
	switch {
	case c.Signer != nil && len(c.Secret) > 0:
		return "signer and secret (redacted)"
	case c.Signer != nil:
		return fmt.Sprintf("signer %T (redacted)", c.Signer)
	case len(c.Secret) > 0:
		return fmt.Sprintf("secret of %d bytes (redacted)", len(c.Secret))
	}
	return "none"
}

// String describes the configuration without its Secret or Signer key
// material: formatting a Config (fmt, log/slog) never shows them.
func (c Config) String() string {
	return fmt.Sprintf("jar.Config{ClientID: %q, Audience: %q, Key: %s, Algorithm: %q, KeyID: %q, Type: %q, Lifetime: %s, Encrypted: %t}",
		c.ClientID, c.Audience, c.keyKind(), c.Algorithm, c.KeyID, c.Type, c.Lifetime, c.Encryption != nil)
}

// GoString (the %#v verb) is String.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without key material.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", c.ClientID), slog.String("audience", c.Audience),
		slog.String("key", c.keyKind()), slog.String("alg", string(c.Algorithm)), slog.String("kid", c.KeyID),
		slog.Bool("encrypted", c.Encryption != nil))
}

// String describes the builder without key material.
func (b *Builder) String() string {
	if b == nil {
		return "jar.Builder(<nil>)"
	}
	return fmt.Sprintf("jar.Builder(client_id=%s audience=%s lifetime=%ds encrypted=%t, key redacted)",
		b.clientID, b.audience, b.lifetime, b.enc != nil)
}

// GoString (the %#v verb) is String.
func (b *Builder) GoString() string { return b.String() }

// LogValue logs the builder without key material.
func (b *Builder) LogValue() slog.Value { return slog.StringValue(b.String()) }
