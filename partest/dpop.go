package partest

import (
	"crypto"
	"encoding/base64"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// dpopAlgs are the DPoP proof algorithms accepted (asymmetric only, RFC
// 9449 §4.2), advertised as dpop_signing_alg_values_supported.
var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.PS256, jose.RS256, jose.EdDSA}

// DPoPNonce returns the nonce the server currently demands when
// Config.DPoPNonce is set.
func (s *Server) DPoPNonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonce
}

// RotateDPoPNonce replaces the DPoP nonce: proofs carrying the old one get
// use_dpop_nonce again (RFC 9449 §8.2).
func (s *Server) RotateDPoPNonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nonce = randomString(24)
	return s.nonce
}

func (s *Server) addDPoPNonce(w http.ResponseWriter) {
	if s.Config.DPoPNonce {
		w.Header().Set("DPoP-Nonce", s.DPoPNonce())
	}
}

// dpopError builds an RFC 9449 §7.1/§8 error: at the token and PAR
// endpoints a 400 JSON error, at userinfo (resource) a 401 with a DPoP
// WWW-Authenticate challenge.
func (s *Server) dpopError(resource bool, code, desc string) *oauthError {
	e := newError(http.StatusBadRequest, code, "%s", desc)
	if code == "use_dpop_nonce" {
		e.header = http.Header{"Dpop-Nonce": {s.DPoPNonce()}}
	}
	if resource {
		e.status = http.StatusUnauthorized
		if e.header == nil {
			e.header = http.Header{}
		}
		e.header.Set("WWW-Authenticate", `DPoP error="`+code+`", error_description="`+desc+`", algs="ES256 ES384 PS256 RS256 EdDSA"`)
	}
	return e
}

// checkDPoP verifies the DPoP proof of r, if any, for the endpoint at path
// p (RFC 9449 §4.3). accessToken, when set, must be bound by the ath claim
// and marks a resource request. It returns the proof key's RFC 7638
// thumbprint and whether a proof was present.
func (s *Server) checkDPoP(r *http.Request, p, accessToken string) (string, bool, *oauthError) {
	resource := accessToken != ""
	vals := r.Header.Values("DPoP")
	if len(vals) == 0 {
		return "", false, nil
	}
	bad := func(desc string) (string, bool, *oauthError) {
		return "", true, s.dpopError(resource, "invalid_dpop_proof", desc)
	}
	if len(vals) > 1 {
		return bad("more than one DPoP header")
	}
	claims, jkt, desc := s.parseDPoPProof(vals[0])
	if desc != "" {
		return bad(desc)
	}
	if stringClaim(claims, "htm") != r.Method {
		return bad("htm does not match the request method")
	}
	if !sameEndpoint(stringClaim(claims, "htu"), s.endpointURL(p)) {
		return bad("htu does not match the endpoint URL")
	}
	now := s.Config.Now()
	iat, ok, err := numericDate(claims, "iat")
	if err != nil || !ok {
		return bad("iat is missing or malformed")
	}
	if iat.After(now.Add(s.Config.ClockSkew)) || iat.Before(now.Add(-s.Config.DPoPProofLifetime)) {
		return bad("iat is outside the accepted window")
	}
	jti := stringClaim(claims, "jti")
	if jti == "" {
		return bad("jti is missing")
	}
	if resource {
		sum := s256(accessToken)
		if stringClaim(claims, "ath") != sum {
			return bad("ath does not match the access token")
		}
	}
	if s.Config.DPoPNonce && stringClaim(claims, "nonce") != s.DPoPNonce() {
		return "", true, s.dpopError(resource, "use_dpop_nonce", "authorization server requires nonce in DPoP proof")
	}
	if !s.remember("dpop\x00"+jti, iat.Add(s.Config.DPoPProofLifetime+2*s.Config.ClockSkew)) {
		return bad("jti has already been used")
	}
	return jkt, true, nil
}

// parseDPoPProof checks a proof's form and signature (RFC 9449 §4.2-4.3
// items 1-6) and returns its claims and the key thumbprint, or a reason.
func (s *Server) parseDPoPProof(raw string) (map[string]any, string, string) {
	obj, err := jose.ParseSignedCompact(raw, dpopAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return nil, "", "not a JWS with an accepted asymmetric algorithm"
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, "", "typ must be dpop+jwt"
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() {
		return nil, "", "jwk header is missing or invalid"
	}
	if !jwk.IsPublic() {
		return nil, "", "jwk header must be a public key"
	}
	payload, err := obj.Verify(jwk)
	if err != nil {
		return nil, "", "signature is invalid"
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, "", "payload is not a JSON object"
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", "jwk thumbprint failed"
	}
	return claims, base64.RawURLEncoding.EncodeToString(tp), ""
}
