package dpop

import (
	"log/slog"
)

// GoString (the %#v verb) is String: no key material.
func (p *Proofer) GoString() string { return p.String() }

// String describes the transport by its proofer, never the token its
// Source gives.
func (t *Transport) String() string {
	if t == nil {
		return "dpop.Transport(<nil>)"
	}
	return "dpop.Transport(" + t.Proofer.String() + ", token redacted)"
}

// GoString (the %#v verb) is String.
func (t *Transport) GoString() string { return t.String() }

// LogValue logs the proofer's algorithm and thumbprint, never the token.
func (t *Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }
