package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	jose "github.com/go-jose/go-jose/v4"
)

// DecryptionKey is a private key that decrypts what a provider encrypts to
// the client, such as encrypted JWT-secured authorization responses (JARM
// §2.2, a JWS nested in a JWE). The client registers its public half
// ([DecryptionKey.PublicJWK], "use":"enc") with the provider.
//
// Like [Key], it is a plain value, and formatting it (fmt, log/slog) never
// prints key material.
type DecryptionKey struct {
	// Decrypter is the private key: *rsa.PrivateKey (RSA-OAEP,
	// RSA-OAEP-256) or *ecdsa.PrivateKey on P-256, P-384 or P-521 (ECDH-ES
	// and ECDH-ES+A128KW/A192KW/A256KW) as the loaders return it, or any
	// crypto.Decrypter with an RSA public key (an HSM or KMS key) given to
	// [NewDecryptionKey].
	Decrypter crypto.PrivateKey
	// KeyID is the JWE kid the provider names the key by: the JWK's own
	// kid, else the RFC 7638 thumbprint of the public key.
	KeyID string
}

// NewDecryptionKey checks priv and returns a DecryptionKey with the
// thumbprint as KeyID. priv is an *rsa.PrivateKey of at least 2048 bits,
// an *ecdsa.PrivateKey on P-256, P-384 or P-521, or a crypto.Decrypter
// whose public key is such an RSA key; anything else gives
// [ErrUnsupportedKey].
func NewDecryptionKey(priv crypto.PrivateKey) (*DecryptionKey, error) {
	if err := checkDecrypter(priv); err != nil {
		return nil, fmt.Errorf("keys: decryption key: %w", err)
	}
	k := &DecryptionKey{Decrypter: priv}
	k.KeyID = thumbprint(k.Public())
	return k, nil
}

// checkDecrypter accepts the key types go-jose decrypts JWEs with (RSA-OAEP
// and ECDH-ES; RSA1_5 is not offered) and RSA decrypters of other kinds.
func checkDecrypter(priv crypto.PrivateKey) error {
	var pub crypto.PublicKey
	switch k := priv.(type) {
	case nil:
		return fmt.Errorf("%w: nil key", ErrNoKey)
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: EC curve %s (want P-256, P-384 or P-521)", ErrUnsupportedKey, k.Curve.Params().Name)
	case crypto.Decrypter: // *rsa.PrivateKey too
		pub = k.Public()
	default:
		return fmt.Errorf("%w: %T cannot decrypt (want an RSA or EC private key)", ErrUnsupportedKey, priv)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: decrypter with a %s public key (want RSA)", ErrUnsupportedKey, describe(pub))
	}
	if rk.N.BitLen() < 2048 {
		return fmt.Errorf("%w: RSA key of %d bits (at least 2048)", ErrUnsupportedKey, rk.N.BitLen())
	}
	return nil
}

// Public returns the public key, or nil when there is none.
func (k DecryptionKey) Public() crypto.PublicKey {
	switch d := k.Decrypter.(type) {
	case *ecdsa.PrivateKey:
		return d.Public()
	case crypto.Decrypter:
		return d.Public()
	}
	return nil
}

// PublicJWK returns the public key as a JWK (RFC 7517) with "use":"enc"
// and the KeyID: what the client registers in its JWKS for the provider to
// encrypt to.
func (k DecryptionKey) PublicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public(), KeyID: k.KeyID, Use: "enc"}
}

// String describes the key (type and kid) without key material.
func (k DecryptionKey) String() string {
	s := "keys.DecryptionKey{" + describe(k.Public())
	if k.KeyID != "" {
		s += " kid=" + k.KeyID
	}
	return s + "}"
}

// GoString is String, so that %#v prints no key material either.
func (k DecryptionKey) GoString() string { return k.String() }

// LogValue implements [slog.LogValuer]: type and kid only.
func (k DecryptionKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", describe(k.Public())), slog.String("kid", k.KeyID))
}

// thumbprint is the RFC 7638 thumbprint of pub, "" when it has none.
func thumbprint(pub crypto.PublicKey) string {
	return Key{Signer: pubOnly{pub}}.Thumbprint()
}

// pubOnly lets Key.Thumbprint see a bare public key; it never signs.
type pubOnly struct{ pub crypto.PublicKey }

func (p pubOnly) Public() crypto.PublicKey { return p.pub }
func (p pubOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("keys: public key only")
}

// ParseDecryptionKey reads a private decryption key by its content, like
// [LoadFile]: PEM (PKCS#1, PKCS#8, SEC1; certificates alongside are
// ignored), PKCS#12 with password, bare DER, or a JWK or JWK Set. In a set
// the first private key marked "use":"enc" is taken, else the first one
// without "use"; keys marked "use":"sig" are skipped. The key must suit
// [NewDecryptionKey]. A JWK's kid becomes KeyID.
func ParseDecryptionKey(data []byte, password string) (*DecryptionKey, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		return parseDecryptionJWKS(data)
	}
	k, err := parseAny(data, password)
	if err != nil {
		return nil, err
	}
	return NewDecryptionKey(k.Signer)
}

// LoadDecryptionFile reads a key file of at most 1 MiB with
// [ParseDecryptionKey].
func LoadDecryptionFile(path, password string) (*DecryptionKey, error) {
	return loadFile(path, password, ParseDecryptionKey)
}

// parseDecryptionJWKS picks the decryption key of a JWK or JWK Set.
func parseDecryptionJWKS(data []byte) (*DecryptionKey, error) {
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("keys: jwk: %w", jsonError(err))
	}
	entries := probe.Keys
	if entries == nil {
		entries = []json.RawMessage{data}
	}
	var first, plain *DecryptionKey
	var errs []error
	for i, raw := range entries {
		var meta struct {
			Use string `json:"use"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, jsonError(err)))
			continue
		}
		if meta.Use == "sig" {
			continue
		}
		k, err := decryptionJWK(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if meta.Use == "enc" {
			first = k
			break
		}
		if plain == nil {
			plain = k
		}
	}
	switch {
	case first != nil:
		return first, nil
	case plain != nil:
		return plain, nil
	case len(errs) > 0:
		return nil, fmt.Errorf("keys: jwks: %w: no usable private decryption key: %w", ErrNoKey, errs[0])
	}
	return nil, fmt.Errorf("keys: jwks: %w: no private decryption key (every key is marked use sig)", ErrNoKey)
}

func decryptionJWK(data []byte) (*DecryptionKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, jsonError(err)
		case errors.Is(err, jose.ErrUnsupportedKeyType):
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		return nil, err
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("%w: public key only", ErrNoKey)
	}
	if err := checkDecrypter(jwk.Key); err != nil {
		return nil, err
	}
	k := &DecryptionKey{Decrypter: jwk.Key, KeyID: jwk.KeyID}
	if k.KeyID == "" {
		k.KeyID = thumbprint(k.Public())
	}
	return k, nil
}
