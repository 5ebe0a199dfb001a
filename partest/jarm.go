package partest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// JWT Secured Authorization Response Mode for OAuth 2.0 (JARM), as FAPI 2.0
// Message Signing §5.4 profiles it: the authorization response parameters
// become the claims of a JWT the server signs (and optionally encrypts to
// the client), sent as the one parameter response.

// jarmModes are the JWT response modes served (JARM §2.3). jwt means
// query.jwt for the code flow; fragment.jwt is refused, as plain fragment
// is: partest serves the code flow with query and form_post responses only.
var jarmModes = []string{"jwt", "query.jwt", "form_post.jwt"}

// jarmKeyAlgs are the key management algorithms for encrypted responses
// (JARM §3 authorization_encrypted_response_alg).
var jarmKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256, jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A256KW}

// jarmEncs are the content encryption algorithms for encrypted responses
// (authorization_encrypted_response_enc); the first is JARM §3's default.
var jarmEncs = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256CBC_HS512, jose.A128GCM, jose.A256GCM}

// isJARM reports whether mode is a JWT response mode.
func isJARM(mode string) bool { return strings.HasSuffix(mode, ".jwt") }

// jarm reports whether the server offers JWT response modes: the MitID
// broker (BrokerLayout) does not.
func (s *Server) jarm() bool { return !s.Config.BrokerLayout }

// checkJARMClient validates a client's JARM registration and fills in the
// default content encryption.
func checkJARMClient(c *Client) error {
	if !slices.Contains(idTokenAlgs, c.AuthorizationSignedResponseAlg) {
		return fmt.Errorf("unsupported AuthorizationSignedResponseAlg %q", c.AuthorizationSignedResponseAlg)
	}
	if c.AuthorizationEncryptedResponseAlg == "" {
		if c.AuthorizationEncryptedResponseEnc != "" {
			return errors.New("AuthorizationEncryptedResponseEnc needs AuthorizationEncryptedResponseAlg (JARM §3)")
		}
		return nil
	}
	if c.AuthorizationEncryptedResponseEnc == "" {
		c.AuthorizationEncryptedResponseEnc = jarmEncs[0]
	}
	if !slices.Contains(jarmKeyAlgs, c.AuthorizationEncryptedResponseAlg) {
		return fmt.Errorf("unsupported AuthorizationEncryptedResponseAlg %q", c.AuthorizationEncryptedResponseAlg)
	}
	if !slices.Contains(jarmEncs, c.AuthorizationEncryptedResponseEnc) {
		return fmt.Errorf("unsupported AuthorizationEncryptedResponseEnc %q", c.AuthorizationEncryptedResponseEnc)
	}
	if _, err := jarmEncryptionKey(c); err != nil {
		return err
	}
	return nil
}

// jarmEncryptionKey picks the client's first JWKS key with use "enc" that
// fits its AuthorizationEncryptedResponseAlg.
func jarmEncryptionKey(c *Client) (jose.JSONWebKey, error) {
	alg := c.AuthorizationEncryptedResponseAlg
	for _, k := range c.JWKS.Keys {
		if k.Use != "enc" || (k.Algorithm != "" && k.Algorithm != string(alg)) {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey:
			if alg == jose.RSA_OAEP || alg == jose.RSA_OAEP_256 {
				return k, nil
			}
		case *ecdsa.PublicKey:
			if strings.HasPrefix(string(alg), "ECDH-ES") {
				return k, nil
			}
		}
	}
	return jose.JSONWebKey{}, fmt.Errorf("no JWKS key with use enc fits %s", alg)
}

// jarmResponse builds the response JWT of a JWT response mode (JARM §2.1):
// the parameters v (without iss) as claims with iss (the issuer, or the
// fault's), aud (the client_id) and exp, signed with the client's
// AuthorizationSignedResponseAlg and without typ (JARM defines none), then
// encrypted when the client registered an encryption algorithm (§2.2),
// with cty JWT and the key's kid. The fault's JARM fields forge it.
func (s *Server) jarmResponse(c *Client, v url.Values, iss string, f *Fault) (string, error) {
	if f != nil && f.ReplayJARM {
		s.mu.Lock()
		last := s.lastJARM[c.ID]
		s.mu.Unlock()
		if last != "" {
			return last, nil
		}
	}
	claims := make(map[string]any, len(v)+3)
	for k := range v {
		if k != "iss" {
			claims[k] = v.Get(k)
		}
	}
	if f == nil || !f.OmitIss {
		claims["iss"] = iss
	}
	claims["aud"] = c.ID
	claims["exp"] = s.Config.Now().Add(s.Config.AuthorizationResponseLifetime).Unix()
	alg := c.AuthorizationSignedResponseAlg
	if f != nil {
		if f.JARMClaims != nil {
			f.JARMClaims(claims)
		}
		if f.JARMAlg != "" {
			alg = f.JARMAlg
		}
	}
	var jwt string
	var err error
	switch {
	case f != nil && f.JARMKey != nil:
		jwt, err = signWithKey(f.JARMKey, alg, "", "", claims)
	case alg == "none":
		jwt, err = unsignedJWT(claims)
	case isHMAC(string(alg)):
		secret := []byte(c.Secret)
		if len(secret) == 0 {
			secret = []byte("partest-no-client-secret")
		}
		jwt, err = hmacJWT(secret, alg, "", "", claims)
	default:
		var k jose.JSONWebKey
		if k, err = s.signingKey(alg); err == nil {
			jwt, err = signJWT(k.Key.(crypto.Signer), alg, k.KeyID, "", claims)
		}
	}
	if err != nil {
		return "", err
	}
	if c.AuthorizationEncryptedResponseAlg != "" {
		if jwt, err = encryptJARM(c, jwt); err != nil {
			return "", err
		}
	}
	s.mu.Lock()
	s.lastJARM[c.ID] = jwt
	s.mu.Unlock()
	return jwt, nil
}

// encryptJARM encrypts a signed response JWT to the client (JARM §2.2, a
// nested JWT as in OIDC Core §16.14).
func encryptJARM(c *Client, jwt string) (string, error) {
	k, err := jarmEncryptionKey(c)
	if err != nil {
		return "", err
	}
	enc, err := jose.NewEncrypter(c.AuthorizationEncryptedResponseEnc,
		jose.Recipient{Algorithm: c.AuthorizationEncryptedResponseAlg, Key: k.Key, KeyID: k.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	obj, err := enc.Encrypt([]byte(jwt))
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return obj.CompactSerialize()
}
