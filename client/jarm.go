package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" //nolint:gosec // crypto.SHA1: RSA-OAEP is OAEP with SHA-1 by definition (RFC 7518 §4.3)
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// JWT Secured Authorization Response Mode for OAuth 2.0 (JARM), as FAPI
// 2.0 Message Signing §5.4 profiles it: the provider sends the
// authorization response parameters as the claims of a JWT it signs (and
// may encrypt to the client), in the one parameter response.

// defaultResponseJWTMaxLifetime is how far ahead the exp of a JWT-secured
// authorization response may be when Config.ResponseJWTMaxLifetime is zero.
const defaultResponseJWTMaxLifetime = 10 * time.Minute

// isJWTMode reports whether mode is a JWT response mode (JARM §2.3): jwt,
// query.jwt, form_post.jwt or fragment.jwt.
func isJWTMode(mode string) bool {
	return mode == "jwt" || strings.HasSuffix(mode, ".jwt") && len(mode) > len(".jwt")
}

// plainResponseParams are the authorization response parameters of RFC 6749
// §4.1.2 and §4.1.2.1, RFC 9207 and OIDC (session_state, and the implicit
// and hybrid ones) that a JWT-secured response carries inside its JWT only.
// Other parameters (a query the redirect URI itself holds) are left alone.
var plainResponseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri",
	"session_state", "id_token", "access_token", "token_type", "expires_in", "scope"}

// checkResponseAlone refuses a response parameter given more than once or
// next to plain authorization response parameters: an attacker who adds
// code or state to a JWT-secured redirect must not get them read.
func checkResponseAlone(params url.Values) error {
	if n := len(params["response"]); n != 1 {
		return fmt.Errorf("%w: callback: parameter \"response\" given %d times", ErrInvalidResponse, n)
	}
	for _, p := range plainResponseParams {
		if params.Has(p) {
			return fmt.Errorf("%w: callback: %q next to a JWT-secured response (JARM §2.3: the parameters travel inside it only)",
				ErrInvalidResponse, p)
		}
	}
	return nil
}

// ResponseParams returns the authorization response parameters that
// params hold: params itself for a plain response, and for a JWT-secured
// one (JARM, a response parameter) the claims of its JWT, decrypted when it
// is encrypted and verified like an ID token (JARM §2.4): the provider's
// signature, from its key set, with an allowed algorithm (Config.IDTokenAlgorithms,
// else the asymmetric ones of the provider's
// authorization_signing_alg_values_supported; never none or HS*), iss the
// issuer, aud this client, and exp present, not past and at most
// ResponseJWTMaxLifetime ahead (with ClockSkew). Failures wrap
// ErrInvalidResponseJWT, a wrong or missing iss also ErrIssuerMismatch; a
// response next to plain parameters (code, state, iss, error, …) is
// ErrInvalidResponse.
//
// [Client.Exchange] does this itself and then checks state, iss and the
// provider's error. ResponseParams is for finding the flow before that: its
// state is inside the JWT (package login takes the flow out of its store by
// it). Give Exchange the original params, not the result.
func (c *Client) ResponseParams(ctx context.Context, params url.Values) (url.Values, error) {
	if !params.Has("response") {
		return params, nil
	}
	return c.openResponse(ctx, params)
}

// authorizationResponse returns the parameters Exchange checks: params of a
// plain response, or the verified claims of a JWT-secured one. A flow that
// asked for a JWT response mode, and every flow under MessageSigning with
// SignedResponses, must get one; a plain answer is refused before any
// token request, its provider error (if any) still reachable.
func (c *Client) authorizationResponse(ctx context.Context, flow *Flow, params url.Values) (url.Values, error) {
	if params.Has("response") {
		return c.openResponse(ctx, params)
	}
	if !isJWTMode(flow.ResponseMode) && !c.requireJARM {
		return params, nil
	}
	mode := flow.ResponseMode
	if !isJWTMode(mode) {
		mode = c.respMode
	}
	plain := fmt.Errorf("%w: a plain authorization response, but the flow asked for response_mode %s (JARM)", ErrInvalidResponseJWT, mode)
	if params.Get("error") != "" {
		// The provider's error stays reachable (errors.As), as in a plain
		// flow; it is not trusted any further than that.
		return nil, errors.Join(plain, c.checkCallback(ctx, flow, params))
	}
	return nil, plain
}

// openResponse decrypts (when encrypted) and verifies the response JWT of
// params and returns its claims as parameters.
func (c *Client) openResponse(ctx context.Context, params url.Values) (url.Values, error) {
	if err := checkResponseAlone(params); err != nil {
		return nil, err
	}
	raw := params.Get("response")
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidResponseJWT, fmt.Sprintf(format, args...))
	}
	switch strings.Count(raw, ".") {
	case 4: // JWE compact serialization (RFC 7516 §7.1)
		if c.decrypter == nil {
			return nil, bad("encrypted (JWE), but Config.ResponseDecryptionKey is not set")
		}
		inner, err := c.decryptResponse(raw)
		if err != nil {
			return nil, err
		}
		raw = inner
	case 2:
		if c.decrypter != nil {
			return nil, bad("not encrypted, although Config.ResponseDecryptionKey is set (JARM §2.2: the client registered encryption)")
		}
	default:
		return nil, bad("not a compact JWT")
	}
	claims, alg, err := unverifiedJWS(raw)
	if err != nil {
		return nil, bad("%v", err)
	}
	// The algorithm allow-list, said plainly before go-oidc says it too:
	// never none, never HS* (the provider must sign with its own key, not
	// with our secret).
	if !slices.Contains(c.jarmAlgs, alg) {
		return nil, bad("alg %.20q is not allowed (want one of %s; never none or HS*)", alg, strings.Join(c.jarmAlgs, ", "))
	}
	// iss and aud first, in our own words: go-oidc's errors quote the
	// provider-written values, which could echo a code.
	if iss, ok := jsonString(claims["iss"]); !ok || iss != c.issuer {
		what := "wrong"
		if _, has := claims["iss"]; !has {
			what = "missing"
		}
		return nil, also{bad("iss %s (JARM §2.1: the issuer)", what), ErrIssuerMismatch}
	}
	if !hasAudience(claims["aud"], c.clientID) {
		return nil, bad("aud does not name this client (JARM §2.1)")
	}
	if err := c.checkResponseExpiry(claims["exp"]); err != nil {
		return nil, err
	}
	// The signature, from the provider's key set (go-oidc under our key
	// set, as for ID tokens).
	if _, err := c.responseJWTs.Verify(ctx, raw); err != nil {
		return nil, keyError(fmt.Errorf("%w: %w", ErrInvalidResponseJWT, c.redactText(err)))
	}
	out := make(url.Values, len(claims))
	for k, v := range claims {
		switch k {
		case "aud", "exp", "iat", "nbf", "jti":
			continue
		}
		if s, ok := jsonString(v); ok {
			out.Set(k, s)
		}
	}
	return out, nil
}

// checkResponseExpiry applies JARM §2.1 and §2.4 to exp: required, not
// past, and no further ahead than the configured maximum (a response
// meant to be used at once; a far exp widens a leaked response's replay
// window), each with ClockSkew.
func (c *Client) checkResponseExpiry(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return fmt.Errorf("%w: exp missing (JARM §2.1)", ErrInvalidResponseJWT)
	}
	var n json.Number // a NumericDate (RFC 7519 §2), not a string holding one
	if err := json.Unmarshal(raw, &n); err != nil || raw[0] == '"' {
		return fmt.Errorf("%w: exp is not a number", ErrInvalidResponseJWT)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return fmt.Errorf("%w: exp is not a number", ErrInvalidResponseJWT)
	}
	exp, now := time.Unix(int64(f), 0), c.now()
	switch {
	case exp.Before(now.Add(-c.skew)):
		return fmt.Errorf("%w: expired at %s", ErrInvalidResponseJWT, exp.UTC().Format(time.RFC3339))
	case exp.After(now.Add(c.jarmMaxLife + c.skew)):
		return fmt.Errorf("%w: exp %s is more than %s ahead", ErrInvalidResponseJWT, exp.UTC().Format(time.RFC3339), c.jarmMaxLife)
	}
	return nil
}

// unverifiedJWS decodes the header's alg and the payload of a compact JWS
// without checking anything.
func unverifiedJWS(raw string) (claims map[string]json.RawMessage, alg string, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, "", errors.New("not a compact JWS")
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, "", errors.New("header is not base64url")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(h, &header); err != nil {
		return nil, "", errors.New("header is not a JSON object")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, "", errors.New("payload is not base64url")
	}
	if err := json.Unmarshal(b, &claims); err != nil || claims == nil {
		return nil, "", errors.New("payload is not a JSON object")
	}
	return claims, header.Alg, nil
}

// jsonString decodes a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// hasAudience reports whether aud (a string or an array of strings) names
// clientID.
func hasAudience(aud json.RawMessage, clientID string) bool {
	if s, ok := jsonString(aud); ok {
		return s == clientID
	}
	var list []string
	if err := json.Unmarshal(aud, &list); err != nil {
		return false
	}
	for _, a := range list {
		if a == clientID {
			return true
		}
	}
	return false
}

// jarmKeyAlgs and jarmEncs are the JWE algorithms accepted for encrypted
// responses (JARM §3 authorization_encrypted_response_alg/enc): RSA-OAEP
// and ECDH-ES, never RSA1_5 (RFC 8725 §3.2: padding oracles).
var (
	jarmKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256,
		jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A192KW, jose.ECDH_ES_A256KW}
	jarmEncs = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A192CBC_HS384, jose.A256CBC_HS512,
		jose.A128GCM, jose.A192GCM, jose.A256GCM}
)

// decryptResponse decrypts an encrypted response JWT (JARM §2.2, a nested
// JWT) and returns the signed JWT inside.
func (c *Client) decryptResponse(raw string) (string, error) {
	obj, err := jose.ParseEncryptedCompact(raw, jarmKeyAlgs, jarmEncs)
	if err != nil {
		return "", fmt.Errorf("%w: encrypted response: %w", ErrInvalidResponseJWT, err)
	}
	if cty := obj.Header.ExtraHeaders[jose.HeaderContentType]; cty != nil && !strings.EqualFold(fmt.Sprint(cty), "JWT") {
		return "", fmt.Errorf("%w: encrypted response: cty %.20q, want JWT (a nested JWT)", ErrInvalidResponseJWT, fmt.Sprint(cty))
	}
	inner, err := obj.Decrypt(c.decrypter)
	if err != nil {
		return "", fmt.Errorf("%w: encrypted response: %w", ErrInvalidResponseJWT, err)
	}
	return string(inner), nil
}

// responseDecrypter checks Config.ResponseDecryptionKey and returns what
// go-jose decrypts with: the key itself, or an RSA crypto.Decrypter (an
// HSM key) wrapped for RSA-OAEP.
func responseDecrypter(key crypto.PrivateKey) (any, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("client: config: ResponseDecryptionKey: %s", fmt.Sprintf(format, args...))
	}
	switch k := key.(type) {
	case nil:
		return nil, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fail("EC curve %s is not P-256, P-384 or P-521", k.Curve.Params().Name)
	case crypto.Decrypter:
		pub, ok := k.Public().(*rsa.PublicKey)
		if !ok {
			return nil, fail("%T has no RSA public key (RSA-OAEP) and is not an *ecdsa.PrivateKey (ECDH-ES)", key)
		}
		if pub.N.BitLen() < 2048 {
			return nil, fail("RSA key of %d bits; at least 2048 are required", pub.N.BitLen())
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return oaepDecrypter{k}, nil
	}
	return nil, fail("%T cannot decrypt (want *rsa.PrivateKey, *ecdsa.PrivateKey or an RSA crypto.Decrypter)", key)
}

// oaepDecrypter decrypts the content key of an RSA-OAEP JWE with a
// crypto.Decrypter (go-jose's jose.OpaqueKeyDecrypter).
type oaepDecrypter struct{ d crypto.Decrypter }

func (o oaepDecrypter) DecryptKey(encryptedKey []byte, h jose.Header) ([]byte, error) {
	var opts rsa.OAEPOptions
	switch jose.KeyAlgorithm(h.Algorithm) {
	case jose.RSA_OAEP:
		opts.Hash = crypto.SHA1
	case jose.RSA_OAEP_256:
		opts.Hash = crypto.SHA256
	default:
		return nil, fmt.Errorf("key algorithm %.20q needs an EC key", h.Algorithm)
	}
	return o.d.Decrypt(rand.Reader, encryptedKey, &opts)
}
