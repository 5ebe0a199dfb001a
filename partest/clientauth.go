package partest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// parseBasic decodes an RFC 6749 §2.3.1 Basic Authorization header: base64
// of form-urlencoded client_id ":" form-urlencoded secret.
func parseBasic(header string) (id, secret string, ok bool) {
	scheme, rest, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil || id == "" {
		return "", "", false
	}
	return id, secret, true
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// basicChallenge adds the WWW-Authenticate challenge RFC 6749 §5.2 asks
// for when Basic authentication failed.
func (s *Server) basicChallenge(e *oauthError) *oauthError {
	e.header = http.Header{"Www-Authenticate": {`Basic realm="` + s.Issuer() + `"`}}
	return e
}

// readAuthenticated reads a back-channel form POST and authenticates its
// client: the first steps of the PAR, token and CIBA endpoints.
func (s *Server) readAuthenticated(w http.ResponseWriter, r *http.Request) (url.Values, *Client, *oauthError) {
	form, e := readForm(w, r)
	if e != nil {
		return nil, nil, e
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		return nil, nil, e
	}
	return form, c, nil
}

// authenticateClient applies the token endpoint's client authentication
// rules (RFC 6749 §2.3, RFC 7523 §3, RFC 8705 §2), which RFC 9126 §2 also
// applies at the PAR endpoint. Exactly one method may be used, and it must
// be the client's registered one.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*Client, *oauthError) {
	authz := r.Header.Get("Authorization")
	hasBasic := authz != "" && len(authz) > 6 && strings.EqualFold(authz[:6], "basic ")
	hasPost := form.Has("client_secret")
	hasJWT := form.Has("client_assertion") || form.Has("client_assertion_type")
	n := 0
	for _, b := range []bool{hasBasic, hasPost, hasJWT} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, invalidRequest("client authentication must use exactly one method")
	}
	formID := form.Get("client_id")
	switch {
	case hasBasic:
		id, secret, ok := parseBasic(authz)
		if !ok {
			// A header that does not decode is a malformed request
			// (RFC 6749 §5.2 invalid_request), not failed authentication.
			return nil, invalidRequest("malformed Basic credentials")
		}
		if formID != "" && formID != id {
			return nil, invalidRequest("client_id does not match the authenticated client")
		}
		c := s.clients[id]
		if c == nil || c.AuthMethod != AuthClientSecretBasic || !equalSecret(secret, c.Secret) {
			return nil, s.basicChallenge(s.authFailure(c, AuthClientSecretBasic))
		}
		return c, nil
	case hasPost:
		if formID == "" {
			return nil, invalidRequest("client_id is required with client_secret_post")
		}
		c := s.clients[formID]
		if c == nil || c.AuthMethod != AuthClientSecretPost || !equalSecret(form.Get("client_secret"), c.Secret) {
			return nil, s.authFailure(c, AuthClientSecretPost)
		}
		return c, nil
	case hasJWT:
		return s.authenticateAssertion(form)
	}
	if formID == "" {
		return nil, invalidClient("no client authentication and no client_id")
	}
	c := s.clients[formID]
	if c == nil {
		return nil, invalidClient("client authentication failed")
	}
	switch c.AuthMethod {
	case AuthNone:
		return c, nil
	case AuthTLSClientAuth:
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, invalidClient("client certificate required for tls_client_auth")
		}
		cert := r.TLS.PeerCertificates[0]
		sum := sha256.Sum256(cert.Raw)
		tp := base64.RawURLEncoding.EncodeToString(sum[:])
		if (c.TLSSubjectDN != "" && cert.Subject.String() == c.TLSSubjectDN) ||
			(c.TLSCertThumbprint != "" && tp == c.TLSCertThumbprint) {
			return c, nil
		}
		return nil, invalidClient("client certificate does not match the registration")
	}
	return nil, s.authFailure(c, "")
}

// authFailure explains a failed authentication without revealing secrets.
func (s *Server) authFailure(c *Client, used string) *oauthError {
	switch {
	case c == nil:
		return invalidClient("client authentication failed")
	case used == "":
		return invalidClient("client authentication required (%s)", c.AuthMethod)
	case c.AuthMethod != used:
		return invalidClient("client is registered for %s, not %s", c.AuthMethod, used)
	}
	return invalidClient("client authentication failed")
}

// authenticateAssertion checks a client_secret_jwt or private_key_jwt
// client assertion (RFC 7523 §3, RFC 9126 §2, RFC 10070).
func (s *Server) authenticateAssertion(form url.Values) (*Client, *oauthError) {
	if form.Get("client_assertion_type") != assertionType {
		return nil, invalidRequest("client_assertion_type must be %s", assertionType)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, invalidRequest("client_assertion is missing")
	}
	obj, err := jose.ParseSignedCompact(raw, append(slices.Clone(asymmetricAlgs), hmacAlgs...))
	if err != nil || len(obj.Signatures) != 1 {
		return nil, invalidClient("client_assertion is not a supported JWS")
	}
	h := obj.Signatures[0].Protected
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok {
		if t := strings.ToLower(typ); t != "jwt" && t != "client-authentication+jwt" && t != "application/client-authentication+jwt" {
			return nil, invalidClient("client_assertion typ %q not accepted", typ)
		}
	}
	unverified, err := decodeClaims(obj.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, invalidClient("client_assertion payload is not a JSON object")
	}
	// The assertion's sub names the client (RFC 7523 §3 item 2); a
	// client_id parameter naming another one makes the request
	// contradictory (RFC 6749 §5.2 invalid_request).
	id := stringClaim(unverified, "sub")
	if id == "" {
		return nil, invalidClient("client_assertion sub is missing")
	}
	if formID := form.Get("client_id"); formID != "" && formID != id {
		return nil, invalidRequest("client_id does not match the client_assertion sub")
	}
	c := s.clients[id]
	if c == nil {
		return nil, invalidClient("client authentication failed")
	}
	var payload []byte
	switch {
	case c.AuthMethod == AuthClientSecretJWT && isHMAC(h.Algorithm):
		payload, err = verifyHMAC(raw, h.Algorithm, []byte(c.Secret))
	case c.AuthMethod == AuthPrivateKeyJWT && !isHMAC(h.Algorithm):
		payload, err = verifyWithJWKS(obj, c.JWKS)
	case c.AuthMethod == AuthClientSecretJWT || c.AuthMethod == AuthPrivateKeyJWT:
		return nil, invalidClient("client_assertion alg %s does not fit %s", h.Algorithm, c.AuthMethod)
	default:
		used := AuthPrivateKeyJWT
		if isHMAC(h.Algorithm) {
			used = AuthClientSecretJWT
		}
		return nil, s.authFailure(c, used)
	}
	if err != nil {
		return nil, invalidClient("client_assertion signature is invalid")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, invalidClient("client_assertion payload is not a JSON object")
	}
	if stringClaim(claims, "iss") != c.ID || stringClaim(claims, "sub") != c.ID {
		return nil, invalidClient("client_assertion iss and sub must both be the client_id")
	}
	auds, single, err := audiences(claims)
	if err != nil {
		return nil, invalidClient("client_assertion %v", err)
	}
	if s.Config.StrictAssertionAudience {
		if !single || auds[0] != s.Issuer() {
			return nil, invalidClient("client_assertion aud must be the issuer as a single string")
		}
	} else {
		// RFC 7523 §3 item 3: aud must contain a value identifying this
		// server; other members of an array are other audiences (RFC
		// 7519 §4.1.3).
		accepted := []string{s.Issuer(), s.endpointURL(pathToken), s.endpointURL(pathPAR)}
		if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(accepted, a) }) {
			return nil, invalidClient("client_assertion aud does not name this server")
		}
	}
	now := s.Config.Now()
	exp, ok, err := numericDate(claims, "exp")
	if err != nil || !ok {
		return nil, invalidClient("client_assertion exp is missing or malformed")
	}
	if !now.Before(exp) {
		return nil, invalidClient("client_assertion has expired")
	}
	if exp.Sub(now) > s.Config.MaxAssertionLifetime+s.Config.ClockSkew {
		return nil, invalidClient("client_assertion lifetime is too long")
	}
	if iat, ok, err := numericDate(claims, "iat"); err != nil {
		return nil, invalidClient("client_assertion %v", err)
	} else if ok {
		if iat.After(now.Add(s.Config.ClockSkew)) {
			return nil, invalidClient("client_assertion iat is in the future")
		}
		if exp.Sub(iat) > s.Config.MaxAssertionLifetime {
			return nil, invalidClient("client_assertion lifetime is too long")
		}
	}
	if nbf, ok, err := numericDate(claims, "nbf"); err != nil {
		return nil, invalidClient("client_assertion %v", err)
	} else if ok && nbf.After(now.Add(s.Config.ClockSkew)) {
		return nil, invalidClient("client_assertion is not valid yet")
	}
	jti := stringClaim(claims, "jti")
	if jti == "" {
		return nil, invalidClient("client_assertion jti is missing")
	}
	if !s.remember("assertion\x00"+c.ID+"\x00"+jti, exp) {
		return nil, invalidClient("client_assertion jti has already been used")
	}
	return c, nil
}

// verifyWithJWKS verifies obj with the key its kid names, or with every
// signing key of set when there is no kid.
func verifyWithJWKS(obj *jose.JSONWebSignature, set jose.JSONWebKeySet) ([]byte, error) {
	kid := obj.Signatures[0].Protected.KeyID
	var lastErr error = errNoKey
	for _, k := range set.Keys {
		if (kid != "" && k.KeyID != kid) || k.Use == "enc" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != obj.Signatures[0].Protected.Algorithm {
			continue
		}
		payload, err := obj.Verify(k.Public())
		if err == nil {
			return payload, nil
		}
		lastErr = err
	}
	return nil, lastErr
}
