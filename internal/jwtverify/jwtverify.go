// Package jwtverify checks JWTs that a provider signs for this client: the
// part common to ID tokens (OIDC Core §3.1.3.7 items 1–3, 6, 9), signed
// UserInfo responses (§5.3.2) and, later, JARM responses and logout tokens.
// It checks the signature with the provider's key set under an algorithm
// allow-list, iss (exactly the issuer), aud (contains the client) and,
// unless told not to, exp (with a clock skew). What is specific to a kind of
// token (sub, iat, azp, nonce, at_hash, auth_time, events) is checked by its
// caller on the returned token.
//
//	v := jwtverify.New(jwtverify.Config{Issuer: iss, ClientID: id, Algorithms: algs, Keys: keys, Skew: 30 * time.Second})
//	tok, err := v.Verify(ctx, raw)
package jwtverify

import (
	"context"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Config configures a Verifier.
type Config struct {
	// Issuer is the provider's issuer identifier; iss must equal it.
	Issuer string
	// ClientID must be one of the audiences.
	ClientID string
	// Algorithms allow-lists the JWS algorithms (the caller keeps none and
	// HS* out).
	Algorithms []string
	// Keys verifies signatures with the provider's keys.
	Keys oidc.KeySet
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Skew is tolerated when checking exp.
	Skew time.Duration
	// SkipExpiry accepts JWTs without exp (signed UserInfo responses).
	SkipExpiry bool
}

// Verifier checks JWTs of one provider for one client. It is immutable
// and safe for concurrent use.
type Verifier struct {
	issuer string
	keys   oidc.KeySet
	config *oidc.Config
}

// New returns a Verifier for cfg.
func New(cfg Config) *Verifier {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	skew := cfg.Skew
	return &Verifier{issuer: cfg.Issuer, keys: cfg.Keys, config: &oidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: cfg.Algorithms,
		SkipExpiryCheck:      cfg.SkipExpiry,
		Now:                  func() time.Time { return now().Add(-skew) },
	}}
}

// Verify checks raw's signature, algorithm, iss, aud and exp, and returns
// it parsed. go-oidc does the checking; when the signature fails, the key
// set's own error (an unknown kid, an unreachable JWKS) is returned rather
// than go-oidc's flattened text of it.
func (v *Verifier) Verify(ctx context.Context, raw string) (*oidc.IDToken, error) {
	keys := &keySetCall{ks: v.keys}
	tok, err := oidc.NewVerifier(v.issuer, keys, v.config).Verify(ctx, raw)
	if err != nil {
		if keys.err != nil {
			return nil, keys.err
		}
		return nil, err
	}
	return tok, nil
}

// keySetCall is the key set for one verification: it remembers the key
// set's error, which go-oidc's verifier does not wrap.
type keySetCall struct {
	ks  oidc.KeySet
	err error
}

// VerifySignature implements oidc.KeySet.
func (k *keySetCall) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	p, err := k.ks.VerifySignature(ctx, jwt)
	k.err = err
	return p, err
}
