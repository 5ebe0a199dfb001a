package jar

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/joseutil"
	"github.com/go-par/par/internal/jsonx"
	"github.com/go-par/par/internal/oauthparams"
)

// TypeRequestObject is the JWS "typ" RFC 9101 §10.8 recommends for request
// objects. [Config.Type] is empty by default, because some providers reject
// any typ other than "JWT".
const TypeRequestObject = "oauth-authz-req+jwt"

const (
	// DefaultLifetime is the lifetime (exp - nbf) of a request object when
	// [Config.Lifetime] is zero.
	DefaultLifetime = 5 * time.Minute
	// MaxLifetime is the longest lifetime allowed; FAPI 2.0 Message Signing
	// §5.3.1 requires exp to be at most 60 minutes after nbf.
	MaxLifetime = 60 * time.Minute
)

var (
	// ErrForbiddenParameter marks a parameter that must not appear in a
	// request object: request and request_uri (RFC 9101 §4), client
	// authentication parameters, and the claims the Builder sets itself
	// (iss, aud, iat, nbf, exp, jti); also names that are not valid UTF-8.
	ErrForbiddenParameter = errors.New("not allowed in a request object")
	// ErrClientIDMismatch marks a client_id parameter that differs from
	// [Config.ClientID] (RFC 9126 §3).
	ErrClientIDMismatch = errors.New("differs from the configured client ID")
	// ErrInvalidJSON marks a parameter configured as JSON (see
	// [Config.JSONParams]) whose value is not a single valid JSON text.
	ErrInvalidJSON = errors.New("value is not valid JSON")
)

// ParameterError reports a parameter Build refuses. Err is
// [ErrForbiddenParameter], [ErrClientIDMismatch] or [ErrInvalidJSON]. The
// value of the parameter is never included.
type ParameterError struct {
	Name string
	Err  error
}

// Error names the parameter, never its value.
func (e *ParameterError) Error() string {
	return fmt.Sprintf("jar: parameter %q: %v", e.Name, e.Err)
}

// Unwrap returns the reason, for [errors.Is].
func (e *ParameterError) Unwrap() error { return e.Err }

// ConfigError reports an invalid [Config] field, named as in the struct
// (e.g. "Encryption.KeyAlgorithm").
type ConfigError struct {
	Field string
	Err   error
}

// Error names the field and the problem.
func (e *ConfigError) Error() string {
	return "jar: config: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Config configures a [Builder]. Exactly one of Signer and Secret is set.
type Config struct {
	// ClientID is the client identifier: the iss and client_id claims.
	// Required.
	ClientID string
	// Audience is the aud claim, a single string: the provider's issuer
	// identifier (RFC 9101 §4; FAPI 2.0 Message Signing §5.3.1). Required.
	Audience string

	// Signer signs the request object with an asymmetric key (an OCES3 or
	// HSM key works through [crypto.Signer]).
	Signer crypto.Signer
	// Algorithm is the JWS algorithm. Zero means RS256 for RSA keys, ES256,
	// ES384 or ES512 for ECDSA keys by curve, EdDSA for Ed25519, and HS256
	// with Secret. Set PS256 for FAPI 2.0 and OCES3.
	Algorithm jose.SignatureAlgorithm
	// KeyID is the JWS kid header; empty leaves it out.
	KeyID string

	// Secret keys an HMAC signature (HS256 by default) instead of Signer.
	// The Signaturgruppen broker expects the raw UTF-8 bytes of the client
	// secret: []byte(secret), not base64-decoded. It must be at least as
	// long as the hash (32 bytes for HS256; RFC 7518 §3.2). The Builder
	// keeps its own copy.
	Secret []byte

	// Type is the JWS typ header. Empty leaves it out; TypeRequestObject is
	// what RFC 9101 §10.8 recommends.
	Type string
	// Lifetime is exp - nbf; zero means DefaultLifetime, and it may not
	// exceed MaxLifetime.
	Lifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// JSONParams names parameters whose values are JSON texts to embed as
	// JSON (objects, arrays, numbers) instead of as strings. The broker
	// documents idp_params both ways; by default it stays a string. The
	// parameters claims (OpenID Connect Core §5.5) and authorization_details
	// (RFC 9396 §3), whose request-object form is defined as JSON, are
	// always embedded as JSON.
	JSONParams []string

	// Encryption, when set, encrypts the signed request object to the
	// provider (nested JWT, RFC 9101 §4 and RFC 7519 §5.2).
	Encryption *Encryption
}

// Encryption configures the JWE around a signed request object.
type Encryption struct {
	// Key is the provider's public encryption key: an RSA key of at least
	// 2048 bits or an ECDSA key (P-256/384/521). [EncryptionKey] finds it in
	// a JWKS; a bare key can be wrapped as &jose.JSONWebKey{Key: pub,
	// KeyID: kid}. Its KeyID becomes the JWE kid header.
	Key *jose.JSONWebKey
	// KeyAlgorithm is the key management algorithm: RSA-OAEP-256 (the
	// default for RSA keys) or RSA-OAEP; ECDH-ES (the default for EC keys)
	// or ECDH-ES+A128KW/A192KW/A256KW. RSA1_5 is refused.
	KeyAlgorithm jose.KeyAlgorithm
	// ContentEncryption is the content encryption algorithm: A256CBC-HS512
	// (the default), A192CBC-HS384, A128CBC-HS256, A256GCM, A192GCM or
	// A128GCM.
	ContentEncryption jose.ContentEncryption
}

// Builder builds request objects. It is immutable and safe for concurrent
// use.
type Builder struct {
	clientID string
	audience string
	lifetime int64 // seconds
	now      func() time.Time
	json     map[string]bool
	signer   jose.Signer
	enc      jose.Encrypter // nil when not encrypting

	// prefix is the constant start of every payload:
	// {"iss":…,"aud":…,"client_id":…
	prefix []byte
}

// New validates cfg and prepares the JWS signer (and JWE encrypter).
// Invalid fields give a [*ConfigError] naming the field.
func New(cfg Config) (*Builder, error) {
	switch {
	case cfg.ClientID == "":
		return nil, configErr("ClientID", "required")
	case cfg.Audience == "":
		return nil, configErr("Audience", "required (the provider's issuer identifier)")
	case cfg.Lifetime < 0 || (cfg.Lifetime > 0 && cfg.Lifetime < time.Second):
		return nil, configErr("Lifetime", "%v is less than one second", cfg.Lifetime)
	case cfg.Lifetime > MaxLifetime:
		return nil, configErr("Lifetime", "%v exceeds %v (FAPI 2.0 Message Signing §5.3.1)", cfg.Lifetime, MaxLifetime)
	}
	b := &Builder{
		clientID: cfg.ClientID,
		audience: cfg.Audience,
		lifetime: int64(DefaultLifetime / time.Second),
		now:      cfg.Now,
		json:     map[string]bool{"claims": true, "authorization_details": true},
	}
	if cfg.Lifetime > 0 {
		b.lifetime = int64(cfg.Lifetime / time.Second)
	}
	if b.now == nil {
		b.now = time.Now
	}
	for _, name := range cfg.JSONParams {
		b.json[name] = true
	}

	var err error
	switch {
	case cfg.Signer != nil && len(cfg.Secret) > 0:
		return nil, configErr("Secret", "set either Signer or Secret, not both")
	case cfg.Signer != nil:
		alg := cfg.Algorithm
		if alg == "" {
			if alg, err = joseutil.DefaultAlgorithm(cfg.Signer.Public(), false); err != nil {
				return nil, &ConfigError{Field: "Signer", Err: err}
			}
		}
		if b.signer, err = joseutil.NewSigner(cfg.Signer, alg, cfg.KeyID, cfg.Type, nil); err != nil {
			return nil, &ConfigError{Field: "Algorithm", Err: err}
		}
	case len(cfg.Secret) > 0:
		if b.signer, err = newHMACSigner(cfg); err != nil {
			return nil, err
		}
	default:
		return nil, configErr("Signer", "required (or Secret)")
	}

	if cfg.Encryption != nil {
		if b.enc, err = newEncrypter(cfg.Encryption); err != nil {
			return nil, err
		}
	}

	var p bytes.Buffer
	p.WriteString(`{"iss":`)
	p.Write(jsonx.AppendString(nil, cfg.ClientID))
	p.WriteString(`,"aud":`)
	p.Write(jsonx.AppendString(nil, cfg.Audience))
	p.WriteString(`,"client_id":`)
	p.Write(jsonx.AppendString(nil, cfg.ClientID))
	b.prefix = p.Bytes()
	return b, nil
}

func newHMACSigner(cfg Config) (jose.Signer, error) {
	alg := cfg.Algorithm
	if alg == "" {
		alg = jose.HS256
	}
	minLen := map[jose.SignatureAlgorithm]int{jose.HS256: 32, jose.HS384: 48, jose.HS512: 64}[alg]
	if minLen == 0 {
		return nil, configErr("Algorithm", "%s cannot be used with Secret (want HS256, HS384 or HS512)", alg)
	}
	if len(cfg.Secret) < minLen {
		return nil, configErr("Secret", "%s needs a secret of at least %d bytes (RFC 7518 §3.2)", alg, minLen)
	}
	secret := bytes.Clone(cfg.Secret)
	if cfg.KeyID == "" {
		s, err := joseutil.NewHMACSigner(secret, alg, cfg.Type)
		if err != nil {
			return nil, &ConfigError{Field: "Secret", Err: err}
		}
		return s, nil
	}
	opts := (&jose.SignerOptions{}).WithHeader("kid", cfg.KeyID)
	if cfg.Type != "" {
		opts = opts.WithType(jose.ContentType(cfg.Type))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret}, opts)
	if err != nil {
		return nil, &ConfigError{Field: "Secret", Err: err}
	}
	return s, nil
}

func newEncrypter(e *Encryption) (jose.Encrypter, error) {
	if e.Key == nil || e.Key.Key == nil {
		return nil, configErr("Encryption.Key", "required")
	}
	var pub crypto.PublicKey
	keyAlg := e.KeyAlgorithm
	switch k := e.Key.Key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, configErr("Encryption.Key", "RSA key of %d bits; at least 2048 are required", k.N.BitLen())
		}
		pub = k
		if keyAlg == "" {
			keyAlg = jose.RSA_OAEP_256
		}
		if keyAlg != jose.RSA_OAEP_256 && keyAlg != jose.RSA_OAEP {
			return nil, configErr("Encryption.KeyAlgorithm", "%s cannot be used with an RSA key (want RSA-OAEP-256 or RSA-OAEP)", keyAlg)
		}
	case *ecdsa.PublicKey:
		pub = k
		if keyAlg == "" {
			keyAlg = jose.ECDH_ES
		}
		switch keyAlg {
		case jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A192KW, jose.ECDH_ES_A256KW:
		default:
			return nil, configErr("Encryption.KeyAlgorithm", "%s cannot be used with an EC key (want ECDH-ES or ECDH-ES+A…KW)", keyAlg)
		}
	default:
		return nil, configErr("Encryption.Key", "%T is not an RSA or ECDSA public key", e.Key.Key)
	}
	enc := e.ContentEncryption
	switch enc {
	case "":
		enc = jose.A256CBC_HS512
	case jose.A128CBC_HS256, jose.A192CBC_HS384, jose.A256CBC_HS512, jose.A128GCM, jose.A192GCM, jose.A256GCM:
	default:
		return nil, configErr("Encryption.ContentEncryption", "unsupported %q", enc)
	}
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT")
	encrypter, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: keyAlg, Key: pub, KeyID: e.Key.KeyID}, opts)
	if err != nil {
		return nil, &ConfigError{Field: "Encryption", Err: err}
	}
	return encrypter, nil
}

// forbidden holds the parameters a request object must not carry, and why;
// client authentication (oauthparams.ClientAuth) is not an authorization
// parameter either.
var forbidden = map[string]bool{
	// RFC 9101 §4 / RFC 9126 §3.
	"request": true, "request_uri": true,
	// Set by the Builder.
	"iss": true, "aud": true, "iat": true, "nbf": true, "exp": true, "jti": true,
}

// Build returns a request object carrying params as claims, in compact
// serialization: a JWS, or a JWE around the JWS when encrypting.
//
// Each parameter becomes a claim. A single value is a JSON string, except for
// the JSON parameters (see [Config.JSONParams]), which are embedded as JSON.
// A parameter with several values (such as RFC 8707 resource) becomes an
// array of strings. The claims iss (= client ID), aud, client_id, iat, nbf,
// exp (numeric dates) and jti (128 random bits) are always set. Build
// refuses, with a [*ParameterError], the parameters listed at
// [ErrForbiddenParameter] and a client_id other than [Config.ClientID]. It
// does not modify params.
func (b *Builder) Build(params url.Values) (string, error) {
	names := make([]string, 0, len(params))
	size := len(b.prefix) + 160
	for name, vals := range params {
		if len(vals) == 0 {
			continue
		}
		if forbidden[name] || oauthparams.ClientAuth(name) || !utf8.ValidString(name) {
			return "", &ParameterError{Name: name, Err: ErrForbiddenParameter}
		}
		if name == "client_id" {
			if len(vals) != 1 || vals[0] != b.clientID {
				return "", &ParameterError{Name: name, Err: ErrClientIDMismatch}
			}
			continue
		}
		names = append(names, name)
		size += len(name) + 6
		for _, v := range vals {
			size += len(v) + 8
		}
	}
	slices.Sort(names)

	now := b.now().Unix()
	payload := make([]byte, 0, size)
	payload = append(payload, b.prefix...)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, now, 10)
	payload = append(payload, `,"nbf":`...)
	payload = strconv.AppendInt(payload, now, 10)
	payload = append(payload, `,"exp":`...)
	payload = strconv.AppendInt(payload, now+b.lifetime, 10)
	payload = append(payload, `,"jti":"`...)
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // never fails (crypto/rand, Go ≥ 1.24)
	payload = base64.RawURLEncoding.AppendEncode(payload, jti[:])
	payload = append(payload, '"')

	for _, name := range names {
		vals := params[name]
		payload = append(payload, ',')
		payload = jsonx.AppendString(payload, name)
		payload = append(payload, ':')
		switch {
		case b.json[name]:
			if len(vals) != 1 {
				return "", &ParameterError{Name: name, Err: ErrInvalidJSON}
			}
			var err error
			if payload, err = appendJSON(payload, vals[0]); err != nil {
				return "", &ParameterError{Name: name, Err: ErrInvalidJSON}
			}
		case len(vals) == 1:
			payload = jsonx.AppendString(payload, vals[0])
		default:
			payload = append(payload, '[')
			for i, v := range vals {
				if i > 0 {
					payload = append(payload, ',')
				}
				payload = jsonx.AppendString(payload, v)
			}
			payload = append(payload, ']')
		}
	}
	payload = append(payload, '}')

	jws, err := b.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("jar: sign: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("jar: sign: %w", err)
	}
	if b.enc == nil {
		return compact, nil
	}
	jwe, err := b.enc.Encrypt([]byte(compact))
	if err != nil {
		return "", fmt.Errorf("jar: encrypt: %w", err)
	}
	out, err := jwe.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("jar: encrypt: %w", err)
	}
	return out, nil
}

// appendJSON appends the JSON text s, compacted; it fails unless s is exactly
// one valid JSON value.
func appendJSON(dst []byte, s string) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, []byte(s)); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}
