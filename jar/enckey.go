package jar

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint by definition (RFC 7517 §4.8)
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrNoEncryptionKey is returned by [EncryptionKey] when the JWKS holds no
// usable RSA encryption key.
var ErrNoEncryptionKey = errors.New("no RSA encryption key")

// keyAlgorithms maps JWK "alg" values to JOSE key management algorithms,
// including the XML Encryption URIs the Signaturgruppen broker publishes.
// RSA-OAEP in JOSE (RFC 7518 §4.3) is OAEP with SHA-1 and MGF1-SHA-1, which
// is what xmlenc#rsa-oaep-mgf1p and (with its default digest)
// xmlenc#rsa-oaep / xmlenc11#rsa-oaep denote.
var keyAlgorithms = map[string]jose.KeyAlgorithm{
	"RSA-OAEP-256": jose.RSA_OAEP_256,
	"RSA-OAEP":     jose.RSA_OAEP,
	"http://www.w3.org/2001/04/xmlenc#rsa-oaep":       jose.RSA_OAEP,
	"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p": jose.RSA_OAEP,
	"http://www.w3.org/2009/xmlenc11#rsa-oaep":        jose.RSA_OAEP,
}

// rawJWK is a JWK read leniently: every member optional, unknown ones ignored.
type rawJWK struct {
	Kty string   `json:"kty"`
	Use string   `json:"use"`
	Kid string   `json:"kid"`
	Alg string   `json:"alg"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c"`
	X5t string   `json:"x5t"`
}

// EncryptionKey picks the provider's request-object encryption key from a
// JWKS document (RFC 7517 §5): the first RSA key with "use":"enc" (as the
// Signaturgruppen broker specifies), or failing that the first RSA key
// without "use" whose "alg" is an encryption algorithm. It returns the key
// with its kid, and the key management algorithm for [Encryption]: the
// JWK's alg mapped to JOSE (the XML-Enc URIs xmlenc#rsa-oaep,
// xmlenc#rsa-oaep-mgf1p and xmlenc11#rsa-oaep give RSA-OAEP), or RSA-OAEP-256
// when alg is missing or unknown.
//
// The JWKS is read leniently, unlike [jose.JSONWebKeySet]: entries that
// cannot be read are skipped, the public key comes from "n"/"e" or else from
// the first "x5c" certificate (standard or URL base64), and an "x5t" may be
// base64url or hex; when given with a certificate it must match it.
func EncryptionKey(jwks []byte) (*jose.JSONWebKey, jose.KeyAlgorithm, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, "", fmt.Errorf("jar: jwks: not a JWK Set: %w", err)
	}
	var (
		fallback *rawJWK
		firstErr error
	)
	try := func(r *rawJWK) (*jose.JSONWebKey, jose.KeyAlgorithm, error) {
		k, err := r.publicKey()
		if err != nil {
			return nil, "", err
		}
		alg, ok := keyAlgorithms[r.Alg]
		if !ok {
			alg = jose.RSA_OAEP_256
		}
		return k, alg, nil
	}
	for _, raw := range set.Keys {
		var r rawJWK
		if err := json.Unmarshal(raw, &r); err != nil || r.Kty != "RSA" {
			continue
		}
		switch {
		case r.Use == "enc":
			k, alg, err := try(&r)
			if err == nil {
				return k, alg, nil
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("key %q: %w", r.Kid, err)
			}
		case r.Use == "" && fallback == nil && isEncryptionAlg(r.Alg):
			fallback = &r
		}
	}
	if fallback != nil {
		k, alg, err := try(fallback)
		if err == nil {
			return k, alg, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("key %q: %w", fallback.Kid, err)
		}
	}
	if firstErr != nil {
		return nil, "", fmt.Errorf("jar: jwks: %w: %w", ErrNoEncryptionKey, firstErr)
	}
	return nil, "", fmt.Errorf("jar: jwks: %w", ErrNoEncryptionKey)
}

func isEncryptionAlg(alg string) bool {
	_, ok := keyAlgorithms[alg]
	return ok
}

// publicKey builds the RSA public key of r, checking n/e, x5c and x5t
// against each other where more than one is given.
func (r *rawJWK) publicKey() (*jose.JSONWebKey, error) {
	var pub *rsa.PublicKey
	if r.N != "" || r.E != "" {
		n, err := decodeB64(r.N)
		if err != nil || len(n) == 0 {
			return nil, errors.New("invalid n")
		}
		e, err := decodeB64(r.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("invalid e")
		}
		ev := new(big.Int).SetBytes(e).Int64()
		if ev < 3 || ev%2 == 0 || ev > math.MaxInt32 {
			return nil, errors.New("invalid e")
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}
	}
	jwk := &jose.JSONWebKey{KeyID: r.Kid, Use: "enc"}
	if len(r.X5c) > 0 {
		der, err := decodeB64(r.X5c[0])
		if err != nil {
			return nil, errors.New("invalid x5c")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		certPub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("x5c certificate does not hold an RSA key")
		}
		if pub != nil && !pub.Equal(certPub) {
			return nil, errors.New("n/e and x5c hold different keys")
		}
		pub = certPub
		sum := sha1.Sum(cert.Raw) //nolint:gosec // thumbprint
		if r.X5t != "" && !thumbprintMatches(r.X5t, sum[:]) {
			return nil, errors.New("x5t does not match the x5c certificate")
		}
		jwk.Certificates = []*x509.Certificate{cert}
		jwk.CertificateThumbprintSHA1 = sum[:]
	}
	if pub == nil {
		return nil, errors.New("neither n/e nor x5c")
	}
	jwk.Key = pub
	if alg, ok := keyAlgorithms[r.Alg]; ok {
		jwk.Algorithm = string(alg)
	}
	return jwk, nil
}

// thumbprintMatches compares an x5t given as base64url (RFC 7517 §4.8) or
// as hex (the broker's form) with sum.
func thumbprintMatches(x5t string, sum []byte) bool {
	if h, err := hex.DecodeString(x5t); err == nil && bytes.Equal(h, sum) {
		return true
	}
	b, err := decodeB64(x5t)
	return err == nil && bytes.Equal(b, sum)
}

// decodeB64 decodes base64 in either alphabet, with or without padding.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}
