package joseutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// ErrUnsupportedKey is returned for keys that no JWS algorithm here fits.
var ErrUnsupportedKey = errors.New("unsupported key type")

// DefaultAlgorithm picks the JWS algorithm for a key: RSA → RS256 (PS256 when
// pss is set), P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA.
func DefaultAlgorithm(pub crypto.PublicKey, pss bool) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if pss {
			return jose.PS256, nil
		}
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", fmt.Errorf("%w: ecdsa curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// CheckAlgorithm reports whether alg can be produced with a key of pub's type.
func CheckAlgorithm(pub crypto.PublicKey, alg jose.SignatureAlgorithm) error {
	ok := false
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			ok = true
		}
	case *ecdsa.PublicKey:
		want, err := DefaultAlgorithm(k, false)
		ok = err == nil && want == alg
	case ed25519.PublicKey:
		ok = alg == jose.EdDSA
	}
	if !ok {
		return fmt.Errorf("%w: algorithm %s does not fit a %T", ErrUnsupportedKey, alg, pub)
	}
	return nil
}

// SigningKey wraps a crypto.Signer for go-jose. Keys go-jose knows natively
// (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) are passed as they
// are, which is faster; anything else (HSM, KMS) goes through
// cryptosigner.Opaque.
func SigningKey(s crypto.Signer, alg jose.SignatureAlgorithm) jose.SigningKey {
	switch k := s.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return jose.SigningKey{Algorithm: alg, Key: k}
	case ed25519.PrivateKey:
		return jose.SigningKey{Algorithm: alg, Key: k}
	case *ed25519.PrivateKey:
		return jose.SigningKey{Algorithm: alg, Key: *k}
	}
	return jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(s)}
}

// NewSigner returns a reusable, concurrency-safe jose.Signer for s with the
// given algorithm and fixed protected headers (kid, typ; empty ones are left
// out). Extra header values may be given in extra.
func NewSigner(s crypto.Signer, alg jose.SignatureAlgorithm, kid, typ string, extra map[jose.HeaderKey]any) (jose.Signer, error) {
	if s == nil {
		return nil, errors.New("nil signer")
	}
	if err := CheckAlgorithm(s.Public(), alg); err != nil {
		return nil, err
	}
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	for k, v := range extra {
		opts.WithHeader(k, v)
	}
	return jose.NewSigner(SigningKey(s, alg), opts)
}

// NewHMACSigner returns a jose.Signer for HS256/384/512 keyed with secret.
func NewHMACSigner(secret []byte, alg jose.SignatureAlgorithm, typ string) (jose.Signer, error) {
	switch alg {
	case jose.HS256, jose.HS384, jose.HS512:
	default:
		return nil, fmt.Errorf("%w: %s is not an HMAC algorithm", ErrUnsupportedKey, alg)
	}
	if len(secret) == 0 {
		return nil, errors.New("empty secret")
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret}, opts)
}
