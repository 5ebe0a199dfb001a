package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	jose "github.com/go-jose/go-jose/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// maxFile is the largest key file LoadFile reads (1 MiB).
const maxFile = 1 << 20

// ParsePEM reads a private key from PEM data: "PRIVATE KEY" (PKCS#8: RSA,
// ECDSA, Ed25519), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1,
// with or without an "EC PARAMETERS" block). "CERTIFICATE" blocks in the
// same data form the chain; one of them must certify the key
// ([ErrCertificateMismatch]). Other blocks are ignored. Encrypted PEM keys
// are not supported ([ErrUnsupportedKey]): use PKCS#12 for keys at rest.
func ParsePEM(data []byte) (*Key, error) {
	var (
		signer crypto.Signer
		certs  []*x509.Certificate
		blocks int
	)
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: pem: certificate %d: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if _, ok := b.Headers["Proc-Type"]; ok {
				return nil, fmt.Errorf("keys: pem: %w: encrypted %s block", ErrUnsupportedKey, b.Type)
			}
			if signer != nil {
				return nil, fmt.Errorf("keys: pem: more than one private key")
			}
			s, err := parseDER(b.Type, b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: pem: %w", err)
			}
			signer = s
		case "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY":
			return nil, fmt.Errorf("keys: pem: %w: %s block (convert it to PKCS#8 or PKCS#12)", ErrUnsupportedKey, b.Type)
		}
	}
	switch {
	case blocks == 0:
		return nil, fmt.Errorf("keys: pem: %w: no PEM block", ErrNoKey)
	case signer == nil:
		return nil, fmt.Errorf("keys: pem: %w", ErrNoKey)
	}
	return New(signer, certs)
}

// parseDER parses a DER private key, trying the form typ names first and
// then the others (some tools mislabel PKCS#8 keys as "RSA PRIVATE KEY").
func parseDER(typ string, der []byte) (crypto.Signer, error) {
	parsers := []func([]byte) (any, error){
		func(b []byte) (any, error) { return x509.ParsePKCS8PrivateKey(b) },
		func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) },
		func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) },
	}
	switch typ {
	case "RSA PRIVATE KEY":
		parsers[0], parsers[1] = parsers[1], parsers[0]
	case "EC PRIVATE KEY":
		parsers[0], parsers[2] = parsers[2], parsers[0]
	}
	var first error
	for _, parse := range parsers {
		k, err := parse(der)
		if err == nil {
			return toSigner(k)
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// toSigner accepts the private key types a JWS algorithm exists for.
func toSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case *ed25519.PrivateKey:
		return *k, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
}

// ParseJWK reads a private key from a JWK (RFC 7517 §4) or from a JWK Set
// (§5), taking the set's first private signing key; see [ParseJWKS].
func ParseJWK(data []byte) (*Key, error) {
	return ParseJWKS(data, "")
}

// ParseJWKS reads the private key with the given kid from a JWK Set (or a
// single JWK). With an empty kid it takes the first private key that is not
// marked "use":"enc". Entries it cannot read are skipped; when nothing fits,
// the error wraps [ErrNoKey] and the first entry's error. A certificate chain
// in "x5c" becomes [Key.Certificates]; the JWK's kid becomes [Key.KeyID].
func ParseJWKS(data []byte, kid string) (*Key, error) {
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("keys: jwk: %w", jsonError(err))
	}
	if probe.Keys == nil { // a single JWK
		k, err := jwkKey(data)
		if err != nil {
			return nil, fmt.Errorf("keys: jwk: %w", err)
		}
		if kid != "" && k.KeyID != kid {
			return nil, fmt.Errorf("keys: jwk: %w with kid %q", ErrNoKey, kid)
		}
		return k, nil
	}
	var errs []error
	for i, raw := range probe.Keys {
		var meta struct {
			Kid string `json:"kid"`
			Use string `json:"use"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, jsonError(err)))
			continue
		}
		if (kid != "" && meta.Kid != kid) || (kid == "" && meta.Use == "enc") {
			continue
		}
		k, err := jwkKey(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		return k, nil
	}
	what := "private signing key"
	if kid != "" {
		what = fmt.Sprintf("private key with kid %q", kid)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("keys: jwks: %w: no usable %s: %w", ErrNoKey, what, errs[0])
	}
	return nil, fmt.Errorf("keys: jwks: %w: no %s", ErrNoKey, what)
}

func jwkKey(data []byte) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, jsonError(err)
		}
		if errors.Is(err, jose.ErrUnsupportedKeyType) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		return nil, err
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("%w: public key only", ErrNoKey)
	}
	s, err := toSigner(jwk.Key)
	if err != nil {
		return nil, err
	}
	k, err := New(s, jwk.Certificates)
	if err != nil {
		return nil, err
	}
	if jwk.KeyID != "" {
		k.KeyID = jwk.KeyID
	}
	return k, nil
}

// jsonError keeps the position of a JSON error but none of the input (the
// standard messages quote the offending character).
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("unexpected JSON %s for %q", te.Value, te.Field)
	}
	return errors.New("malformed JSON")
}

// ParsePKCS12 reads a PKCS#12 (.p12/.pfx) file: one private key and its
// certificate chain. Modern files (PBES2 with PBKDF2 and AES-256-CBC, as
// OpenSSL 3 and OCES3 issuers write them) and legacy ones (3DES, RC2) are
// read. A wrong password gives [ErrWrongPassword]; a key that none of the
// certificates certifies gives [ErrCertificateMismatch].
func ParsePKCS12(data []byte, password string) (*Key, error) {
	priv, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		var nie pkcs12.NotImplementedError
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
			// Files without a MAC show a wrong password as a padding error.
			return nil, fmt.Errorf("keys: pkcs12: %w", ErrWrongPassword)
		case errors.As(err, &nie):
			return nil, fmt.Errorf("keys: pkcs12: %w: %w", ErrUnsupportedKey, err)
		}
		return nil, fmt.Errorf("keys: pkcs12: %w", err)
	}
	s, err := toSigner(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs12: %w", err)
	}
	return New(s, append([]*x509.Certificate{leaf}, cas...))
}

// LoadFile reads a key file of at most 1 MiB and parses it by its content:
// PEM armour goes to [ParsePEM], a JSON object to [ParseJWK], and DER to
// [ParsePKCS12] (with password) or, failing that, to a bare PKCS#8, PKCS#1 or
// SEC1 key. So .p12/.pfx, .pem/.key/.crt, .json/.jwk and .der files all
// work, whatever their names. password is used for PKCS#12 only.
func LoadFile(path, password string) (*Key, error) {
	return loadFile(path, password, parseAny)
}

// loadFile reads a key file of at most 1 MiB and parses it with parse,
// naming the file in its errors.
func loadFile[K any](path, password string, parse func([]byte, string) (K, error)) (K, error) {
	var zero K
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return zero, fmt.Errorf("keys: %w", err)
	}
	if len(data) > maxFile {
		return zero, fmt.Errorf("keys: %s: %w: file larger than 1 MiB", path, ErrUnsupportedKey)
	}
	k, err := parse(data, password)
	if err != nil {
		return zero, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

func parseAny(data []byte, password string) (*Key, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return ParsePEM(data)
	case bytes.HasPrefix(trimmed, []byte("{")):
		return ParseJWK(data)
	case len(data) > 0 && data[0] == 0x30: // DER SEQUENCE
		k, err := ParsePKCS12(data, password)
		if err == nil || errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrCertificateMismatch) {
			return k, err
		}
		if s, derr := parseDER("PRIVATE KEY", data); derr == nil {
			return New(s, nil)
		}
		return nil, err
	}
	return nil, fmt.Errorf("keys: %w: unrecognised format (want PEM, JWK or PKCS#12)", ErrUnsupportedKey)
}
