package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition (RFC 7517 §4.8); not used for security.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/joseutil"
)

var (
	// ErrWrongPassword is returned when a PKCS#12 file cannot be opened with
	// the given password.
	ErrWrongPassword = errors.New("wrong password")

	// ErrUnsupportedKey is returned for keys no JWS algorithm fits (for
	// example a P-224 or X25519 key, a symmetric JWK, an encrypted PEM) and
	// for file formats that are not supported. It is the same value as the
	// error [Key.Algorithm] wraps.
	ErrUnsupportedKey = joseutil.ErrUnsupportedKey

	// ErrCertificateMismatch is returned when certificates come with a key
	// but none of them certifies that key.
	ErrCertificateMismatch = errors.New("certificate does not match the private key")

	// ErrNoKey is returned when the input holds no usable private key.
	ErrNoKey = errors.New("no private key found")
)

// Key is a private signing key with its certificate chain.
//
// Key is a plain value: it is safe for concurrent use as long as nobody
// modifies its fields. Formatting a Key (fmt, log/slog) never prints key
// material.
type Key struct {
	// Signer signs; it is a *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey when loaded from a file, or any crypto.Signer
	// (HSM, KMS) when built with [New].
	Signer crypto.Signer
	// Certificates is the X.509 chain, leaf first; it may be empty.
	Certificates []*x509.Certificate
	// KeyID is the JWS "kid" to use. The loaders set it to the JWK's own
	// kid, else to [Key.X5TS256] when there is a certificate, else to the
	// RFC 7638 [Key.Thumbprint]. Callers may overwrite it (for example with
	// [Key.X5THex] for providers that name keys by SHA-1 thumbprint).
	KeyID string
}

// New checks signer and certs and returns a Key. The certificate whose public
// key matches signer becomes the leaf (first); the rest keep their order.
// Without a matching certificate New returns [ErrCertificateMismatch]. The
// KeyID default is described at [Key].
func New(signer crypto.Signer, certs []*x509.Certificate) (*Key, error) {
	if signer == nil {
		return nil, fmt.Errorf("keys: %w: nil signer", ErrNoKey)
	}
	pub := signer.Public()
	if _, err := joseutil.DefaultAlgorithm(pub, false); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k := &Key{Signer: signer}
	if len(certs) > 0 {
		leaf := -1
		for i, c := range certs {
			if c != nil && samePublicKey(c.PublicKey, pub) {
				leaf = i
				break
			}
		}
		if leaf < 0 {
			return nil, fmt.Errorf("keys: %w", ErrCertificateMismatch)
		}
		k.Certificates = make([]*x509.Certificate, 0, len(certs))
		k.Certificates = append(k.Certificates, certs[leaf])
		for i, c := range certs {
			if i != leaf && c != nil {
				k.Certificates = append(k.Certificates, c)
			}
		}
	}
	k.KeyID = k.defaultKeyID()
	return k, nil
}

func (k Key) defaultKeyID() string {
	if len(k.Certificates) > 0 {
		return k.X5TS256()
	}
	return k.Thumbprint()
}

func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// Public returns the public key, or nil when there is no signer.
func (k Key) Public() crypto.PublicKey {
	if k.Signer == nil {
		return nil
	}
	return k.Signer.Public()
}

// Algorithm returns the JWS algorithm (RFC 7518 §3.1) for the key: RS256
// for RSA (PS256 when pss is set; OCES3 and FAPI 2.0 use PSS), ES256/384/512
// for the NIST curves and EdDSA for Ed25519.
func (k Key) Algorithm(pss bool) (jose.SignatureAlgorithm, error) {
	alg, err := joseutil.DefaultAlgorithm(k.Public(), pss)
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	return alg, nil
}

// PublicJWK returns the public key as a JWK (RFC 7517) with "use":"sig",
// the KeyID and, when there is a certificate, "x5c" and "x5t#S256". It is
// what a client registers in its JWKS.
func (k Key) PublicJWK() jose.JSONWebKey {
	jwk := jose.JSONWebKey{Key: k.Public(), KeyID: k.KeyID, Use: "sig"}
	if len(k.Certificates) > 0 {
		jwk.Certificates = k.Certificates
		sum := sha256.Sum256(k.Certificates[0].Raw)
		jwk.CertificateThumbprintSHA256 = sum[:]
	}
	return jwk
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url without
// padding) of the public key, or "" when there is no supported key. It is
// also the value of DPoP's jkt (RFC 9449 §6.1).
func (k Key) Thumbprint() string {
	jwk := jose.JSONWebKey{Key: k.Public()}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// X5TS256 returns the "x5t#S256" value (RFC 7517 §4.9): the base64url SHA-256
// of the leaf certificate's DER, or "" without a certificate.
func (k Key) X5TS256() string {
	if len(k.Certificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(k.Certificates[0].Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// X5T returns the "x5t" value (RFC 7517 §4.8): the base64url SHA-1 of the
// leaf certificate's DER, or "" without a certificate.
func (k Key) X5T() string {
	if len(k.Certificates) == 0 {
		return ""
	}
	sum := sha1.Sum(k.Certificates[0].Raw) //nolint:gosec // thumbprint, not a signature
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// X5THex returns the SHA-1 thumbprint of the leaf certificate as upper-case
// hex, the form the Signaturgruppen broker uses for its key IDs, or "" without
// a certificate.
func (k Key) X5THex() string {
	if len(k.Certificates) == 0 {
		return ""
	}
	sum := sha1.Sum(k.Certificates[0].Raw) //nolint:gosec // thumbprint, not a signature
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// describe names the key type and size, e.g. "RSA-2048", "EC P-256".
func describe(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", p.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + p.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		return "none"
	}
	return fmt.Sprintf("%T", pub)
}

// String describes the key (type, kid, certificate subject) without key
// material.
func (k Key) String() string {
	var b strings.Builder
	b.WriteString("keys.Key{")
	b.WriteString(describe(k.Public()))
	if k.KeyID != "" {
		b.WriteString(" kid=")
		b.WriteString(k.KeyID)
	}
	if len(k.Certificates) > 0 {
		b.WriteString(" subject=")
		b.WriteString(k.Certificates[0].Subject.String())
	}
	b.WriteString("}")
	return b.String()
}

// GoString is like String, so that %#v prints no key material either.
func (k Key) GoString() string { return k.String() }

// LogValue implements [slog.LogValuer]: type, kid and certificate subject
// and expiry, never key material.
func (k Key) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", describe(k.Public()))}
	if k.KeyID != "" {
		attrs = append(attrs, slog.String("kid", k.KeyID))
	}
	if len(k.Certificates) > 0 {
		c := k.Certificates[0]
		attrs = append(attrs, slog.String("subject", c.Subject.String()), slog.Time("not_after", c.NotAfter))
	}
	return slog.GroupValue(attrs...)
}
