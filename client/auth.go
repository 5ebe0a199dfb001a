package client

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/joseutil"
	"github.com/go-par/par/internal/jsonx"
)

// Client authentication method names (token_endpoint_auth_method, RFC 7591
// §2 and RFC 8705 §2.1.1).
const (
	methodClientSecretBasic = "client_secret_basic"
	methodClientSecretPost  = "client_secret_post"
	methodClientSecretJWT   = "client_secret_jwt"
	methodPrivateKeyJWT     = "private_key_jwt"
	methodTLSClientAuth     = "tls_client_auth"
	methodNone              = "none"
)

// assertionType is the client_assertion_type of RFC 7523 §2.2.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AuthMethod is how the client authenticates at the PAR and token endpoints
// (RFC 9126 §2: the same method at both). It is chosen explicitly, never
// probed. Create one with [ClientSecretBasic], [ClientSecretPost],
// [ClientSecretJWT], [PrivateKeyJWT], [TLSClientAuth] or [None].
type AuthMethod interface {
	// Method returns the token_endpoint_auth_method name.
	Method() string
	bind(b binding) (*authenticator, error)
}

type binding struct {
	clientID string
	issuer   string
	now      func() time.Time
	logger   *slog.Logger
}

// secretAuth is client_secret_basic or client_secret_post.
type secretAuth struct {
	method string
	secret string
}

// ClientSecretBasic authenticates with HTTP Basic: client_id and secret are
// each form-urlencoded before base64 (RFC 6749 §2.3.1), which providers such
// as the MitID broker (secrets with + / =) require. client_id is sent in the
// PAR body as well.
func ClientSecretBasic(secret string) AuthMethod {
	return &secretAuth{method: methodClientSecretBasic, secret: secret}
}

// ClientSecretPost sends client_id and client_secret in the form body
// (RFC 6749 §2.3.1).
func ClientSecretPost(secret string) AuthMethod {
	return &secretAuth{method: methodClientSecretPost, secret: secret}
}

func (a *secretAuth) Method() string { return a.method }

// String never shows the secret.
func (a *secretAuth) String() string { return a.method + "(secret redacted)" }

// LogValue never shows the secret.
func (a *secretAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// GoString (the %#v verb) never shows the secret.
func (a *secretAuth) GoString() string { return a.String() }

func (a *secretAuth) bind(b binding) (*authenticator, error) {
	if a.secret == "" {
		return nil, errors.New("client: config: Auth: empty client secret")
	}
	au := &authenticator{method: a.method, clientID: b.clientID, secret: a.secret}
	if a.method == methodClientSecretBasic {
		au.basic = "Basic " + base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(b.clientID)+":"+url.QueryEscape(a.secret)))
	}
	return au, nil
}

// JWTAuth is client authentication with a signed JWT assertion (RFC 7523
// §2.2; OIDC Core §9): client_secret_jwt or private_key_jwt. The fields may
// be adjusted before the method is passed to [New]; the zero values are the
// defaults.
type JWTAuth struct {
	// Algorithm is the JWS algorithm. Default: HS256 for client_secret_jwt;
	// for private_key_jwt by key type: RSA → RS256 (PS256 in the FAPI
	// profile), P-256 → ES256, Ed25519 → EdDSA.
	Algorithm jose.SignatureAlgorithm
	// KeyID is the kid header, if any.
	KeyID string
	// Audience overrides the aud claim. Default: the issuer identifier as a
	// single string (RFC 9126 §2, RFC 10070, FAPI 2.0 §5.3.3.1-5).
	Audience string
	// Lifetime is exp − iat. Default 60 s.
	Lifetime time.Duration
	// Type is the typ header. Default none; RFC 10070 defines
	// "client-authentication+jwt", which some providers require and some
	// older ones reject.
	Type string

	method string
	signer crypto.Signer
	secret string
}

// ClientSecretJWT authenticates with an HS256 assertion keyed with the
// client secret (OIDC Core §9).
func ClientSecretJWT(secret string) *JWTAuth {
	return &JWTAuth{method: methodClientSecretJWT, secret: secret}
}

// PrivateKeyJWT authenticates with an assertion signed by signer (RFC 7523;
// OIDC Core §9). Any crypto.Signer works (HSM, KMS, OCES3 keys from
// package keys); keyID becomes the kid header.
func PrivateKeyJWT(signer crypto.Signer, keyID string) *JWTAuth {
	return &JWTAuth{method: methodPrivateKeyJWT, signer: signer, KeyID: keyID}
}

// Method returns client_secret_jwt or private_key_jwt.
func (a *JWTAuth) Method() string { return a.method }

// String never shows key material.
func (a JWTAuth) String() string { return a.method + "(" + string(a.Algorithm) + ", key redacted)" }

// GoString (the %#v verb) never shows key material.
func (a JWTAuth) GoString() string { return a.String() }

// LogValue never shows key material.
func (a JWTAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func (a *JWTAuth) bind(b binding) (*authenticator, error) {
	au := &authenticator{method: a.method, clientID: b.clientID, aud: a.Audience, lifetime: a.Lifetime, now: b.now}
	if au.aud == "" {
		au.aud = b.issuer
	}
	if au.lifetime <= 0 {
		au.lifetime = 60 * time.Second
	}
	var err error
	switch a.method {
	case methodClientSecretJWT:
		alg := a.Algorithm
		if alg == "" {
			alg = jose.HS256
		}
		if a.secret == "" {
			return nil, errors.New("client: config: Auth: empty client secret")
		}
		au.signer, err = joseutil.NewHMACSigner([]byte(a.secret), alg, a.Type)
	case methodPrivateKeyJWT:
		if a.signer == nil {
			return nil, errors.New("client: config: Auth: private_key_jwt needs a signer")
		}
		alg := a.Algorithm
		if alg == "" {
			if alg, err = joseutil.DefaultAlgorithm(a.signer.Public(), false); err != nil {
				return nil, fmt.Errorf("client: config: Auth: %w", err)
			}
		}
		au.alg = alg
		au.signer, err = joseutil.NewSigner(a.signer, alg, a.KeyID, a.Type, nil)
		if err == nil {
			// Keys go-jose signs natively skip its per-signature header
			// marshalling; others (HSM, KMS) keep go-jose.
			au.compact, _ = joseutil.NewCompactSigner(a.signer, alg, a.KeyID, a.Type)
		}
	default:
		return nil, fmt.Errorf("client: config: Auth: unknown method %q", a.method)
	}
	if err != nil {
		return nil, fmt.Errorf("client: config: Auth: %w", err)
	}
	return au, nil
}

type plainAuth struct{ method string }

// TLSClientAuth authenticates with the TLS client certificate configured in
// Config.HTTPClient (RFC 8705 §2); endpoints are taken from
// mtls_endpoint_aliases when the provider publishes them.
func TLSClientAuth() AuthMethod { return plainAuth{methodTLSClientAuth} }

// None is for public clients: only client_id is sent (RFC 6749 §2.1). PKCE
// still protects the code.
func None() AuthMethod { return plainAuth{methodNone} }

func (a plainAuth) Method() string { return a.method }

func (a plainAuth) bind(b binding) (*authenticator, error) {
	return &authenticator{method: a.method, clientID: b.clientID}, nil
}

// authenticator is an AuthMethod bound to one client. It is immutable and
// safe for concurrent use.
type authenticator struct {
	method   string
	clientID string
	secret   string
	basic    string // precomputed Authorization header value

	signer   jose.Signer
	compact  *joseutil.CompactSigner // the same signature, faster; nil when not available
	alg      jose.SignatureAlgorithm
	aud      string
	lifetime time.Duration
	now      func() time.Time
}

// Authenticate authenticates a form POST (RFC 6749 §2.3): form values
// and/or the Authorization header. A JWT assertion is minted fresh on every
// call (new jti). With client_secret_basic the form gets no client_id, as
// golang.org/x/oauth2 sends token requests; requests whose parameters
// include client_id (PAR, CIBA) set it themselves.
func (a *authenticator) Authenticate(form url.Values, h http.Header) error {
	switch a.method {
	case methodClientSecretBasic:
		h.Set("Authorization", a.basic)
		return nil
	case methodClientSecretPost:
		form.Set("client_secret", a.secret)
	case methodClientSecretJWT, methodPrivateKeyJWT:
		jwt, err := a.assertion()
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", jwt)
	}
	form.Set("client_id", a.clientID)
	return nil
}

// assertion mints a client assertion: iss = sub = client_id, aud, jti, iat,
// nbf, exp (RFC 7523 §3).
func (a *authenticator) assertion() (string, error) {
	now := a.now().Unix()
	var jti [16]byte
	rand.Read(jti[:])
	// Built by hand: a fixed shape is cheaper than a map and still valid JSON.
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"iss":`...)
	buf = jsonx.AppendString(buf, a.clientID)
	buf = append(buf, `,"sub":`...)
	buf = jsonx.AppendString(buf, a.clientID)
	buf = append(buf, `,"aud":`...)
	buf = jsonx.AppendString(buf, a.aud)
	buf = append(buf, `,"jti":"`...)
	buf = base64.RawURLEncoding.AppendEncode(buf, jti[:])
	buf = append(buf, `","iat":`...)
	buf = strconv.AppendInt(buf, now, 10)
	buf = append(buf, `,"nbf":`...)
	buf = strconv.AppendInt(buf, now, 10)
	buf = append(buf, `,"exp":`...)
	buf = strconv.AppendInt(buf, now+int64(a.lifetime/time.Second), 10)
	buf = append(buf, '}')
	if a.compact != nil {
		jwt, err := a.compact.Sign(buf)
		if err != nil {
			return "", fmt.Errorf("signing the client assertion: %w", err)
		}
		return jwt, nil
	}
	jws, err := a.signer.Sign(buf)
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return jws.CompactSerialize()
}
