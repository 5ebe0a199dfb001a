package pkce

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// MethodS256 is the only code challenge method this package accepts
// (RFC 7636 §4.2).
const MethodS256 = "S256"

// Verifier lengths allowed by RFC 7636 §4.1.
const (
	minVerifierLen = 43
	maxVerifierLen = 128
)

// ErrInvalidVerifier is returned by [ValidateVerifier] for a verifier that
// breaks RFC 7636 §4.1. The error never includes the verifier.
var ErrInvalidVerifier = errors.New("pkce: invalid code verifier")

// NewVerifier returns a fresh code verifier: 32 random bytes, base64url
// encoded to 43 characters (RFC 7636 §4.1), from [oauth2.GenerateVerifier].
func NewVerifier() string { return oauth2.GenerateVerifier() }

// Challenge returns the S256 code challenge of verifier,
// BASE64URL(SHA256(verifier)) (RFC 7636 §4.2), from
// [oauth2.S256ChallengeFromVerifier].
func Challenge(verifier string) string { return oauth2.S256ChallengeFromVerifier(verifier) }

// ValidateVerifier checks that v is 43 to 128 characters of
// [A-Za-z0-9-._~] (RFC 7636 §4.1). A failure wraps [ErrInvalidVerifier].
func ValidateVerifier(v string) error {
	if n := len(v); n < minVerifierLen || n > maxVerifierLen {
		return fmt.Errorf("%w: length %d, want %d to %d", ErrInvalidVerifier, n, minVerifierLen, maxVerifierLen)
	}
	for i := 0; i < len(v); i++ {
		if !unreserved(v[i]) {
			return fmt.Errorf("%w: byte %d is not an unreserved character", ErrInvalidVerifier, i)
		}
	}
	return nil
}

// unreserved reports whether c is in RFC 3986's unreserved set, which
// RFC 7636 §4.1 allows in a verifier.
func unreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~':
		return true
	}
	return false
}
