package partest

import (
	"crypto"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

type tokenRecord struct {
	clientID, sub, scope, jkt, grant string
	x5t                              string // RFC 8705 §3 certificate binding (x5t#S256)
	expires                          time.Time
	sess                             *loginSession
}

type refreshRecord struct {
	clientID, sub, scope, jkt, grant string
	sess                             *loginSession
	used                             bool
	details                          json.RawMessage // RFC 9396 authorization_details granted
}

// grant is what a token response is issued for.
type grant struct {
	client *Client
	sub    string
	scope  string
	nonce  string
	jkt    string
	id     string
	sess   *loginSession // the login the grant comes from
	// fresh is set for the grant of a login (code, CIBA), not of a
	// refresh: only it gets a transaction_token.
	fresh bool
	// redirectURI is the login's redirect_uri (for the transaction token).
	redirectURI string
	// granted is the scope of the whole grant, which a refresh request may
	// narrow for one access token only (RFC 6749 §6). Empty: scope.
	granted string
	// x5t binds the access token to a client certificate (RFC 8705 §3).
	x5t string
	// extra claims for the ID token.
	extra map[string]any
	// details are the authorization_details granted (RFC 9396), as the
	// client sent them; nil for none.
	details json.RawMessage
}

// handleToken serves the token endpoint (RFC 6749 §3.2, §4.1.3, §6).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, f *Fault) {
	s.addDPoPNonce(w)
	form, c, e := s.readAuthenticated(w, r)
	if e != nil {
		s.writeError(w, e)
		return
	}
	jkt, hasProof, e := s.checkDPoP(r, pathToken, "")
	if e != nil {
		s.writeError(w, e)
		return
	}
	if (c.DPoPBound || s.Config.RequireDPoP) && !hasProof {
		// RFC 9449 §5.2 names no error code for a missing proof; like
		// node-oidc-provider, the grant cannot be redeemed: invalid_grant.
		s.writeError(w, invalidGrant("the client must send a DPoP proof"))
		return
	}
	var g *grant
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		g, e = s.codeGrant(c, form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"), jkt, hasProof)
	case "refresh_token":
		g, e = s.refreshGrant(c, form.Get("refresh_token"), form.Get("scope"), jkt, hasProof)
	case GrantTypeCIBA:
		if !s.Config.CIBA {
			e = newError(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported", GrantTypeCIBA)
			break
		}
		g, e = s.cibaGrant(c, form.Get("auth_req_id"))
	case "":
		e = invalidRequest("grant_type is required")
	default:
		e = newError(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if e != nil {
		s.writeError(w, e)
		return
	}
	if c.AuthMethod == AuthTLSClientAuth {
		g.x5t = peerThumbprint(r)
	}
	resp, err := s.issue(g, f)
	if err != nil {
		s.writeError(w, newError(http.StatusInternalServerError, "server_error", "could not sign tokens"))
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// codeGrant redeems an authorization code: single use, same client and
// redirect_uri, unexpired, PKCE S256 (RFC 7636 §4.6), DPoP key (RFC 9449
// §10). A second use revokes the tokens issued from the code (RFC 6749
// §4.1.2).
func (s *Server) codeGrant(c *Client, code, redirectURI, verifier, jkt string, hasProof bool) (*grant, *oauthError) {
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.codes[code]
	switch {
	case rec == nil:
		return nil, invalidGrant("authorization code is invalid or expired")
	case rec.req.clientID != c.ID:
		return nil, invalidGrant("authorization code was issued to another client")
	case rec.used:
		s.revokeLocked(rec.grant)
		return nil, invalidGrant("authorization code has already been used")
	case !s.Config.Now().Before(rec.expires):
		return nil, invalidGrant("authorization code is invalid or expired")
	case redirectURI != rec.req.redirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	case verifier == "":
		return nil, invalidGrant("code_verifier is required (PKCE)")
	case !isPKCEVerifier(verifier) || s256(verifier) != rec.req.challenge:
		return nil, invalidGrant("PKCE verification failed")
	case rec.req.jkt != "" && !hasProof:
		return nil, invalidGrant("the code is bound to a DPoP key; a DPoP proof is required")
	case rec.req.jkt != "" && jkt != rec.req.jkt:
		return nil, invalidGrant("DPoP proof key does not match the key the code is bound to")
	}
	rec.used = true
	if !hasProof {
		jkt = ""
	}
	return &grant{client: c, sub: rec.sub, scope: rec.req.scope, nonce: rec.req.nonce, jkt: jkt, id: rec.grant,
		sess: rec.sess, fresh: true, redirectURI: rec.req.redirectURI, details: rec.req.details}, nil
}

// refreshGrant redeems a refresh token, rotating it (RFC 6749 §6, OAuth
// 2.0 Security BCP §4.14); reuse of a rotated token revokes the grant.
func (s *Server) refreshGrant(c *Client, token, scope, jkt string, hasProof bool) (*grant, *oauthError) {
	if token == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.refresh[token]
	switch {
	case rec == nil:
		return nil, invalidGrant("refresh token is invalid")
	case rec.clientID != c.ID:
		return nil, invalidGrant("refresh token was issued to another client")
	case rec.used:
		s.revokeLocked(rec.grant)
		return nil, invalidGrant("refresh token has already been used")
	case rec.jkt != "" && (!hasProof || jkt != rec.jkt):
		return nil, invalidGrant("refresh token is bound to another DPoP key")
	}
	granted := rec.scope
	if scope != "" {
		for _, sc := range strings.Fields(scope) {
			if !hasScope(rec.scope, sc) {
				return nil, newError(http.StatusBadRequest, "invalid_scope", "scope %q exceeds the original grant", sc)
			}
		}
		granted = scope
	}
	rec.used = true
	if rec.jkt != "" {
		jkt = rec.jkt
	} else if !hasProof {
		jkt = ""
	}
	return &grant{client: c, sub: rec.sub, scope: granted, jkt: jkt, id: rec.grant, sess: rec.sess, granted: rec.scope, details: rec.details}, nil
}

// revokeLocked drops every token of a grant. Guarded by s.mu.
func (s *Server) revokeLocked(id string) {
	for k, t := range s.access {
		if t.grant == id {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if t.grant == id {
			delete(s.refresh, k)
		}
	}
}

func (s *Server) user(sub string) *User {
	for i := range s.users {
		if s.users[i].Subject == sub {
			return &s.users[i]
		}
	}
	return &User{Subject: sub}
}

// issue mints the token response of g.
func (s *Server) issue(g *grant, f *Fault) (map[string]any, error) {
	now := s.Config.Now()
	var at string
	if s.Config.OpaqueAccessTokens {
		at = randomString(32)
	} else {
		claims := map[string]any{
			"iss": s.Issuer(), "sub": s.subjectFor(g.client, g.sub), "aud": s.Issuer(), "client_id": g.client.ID,
			"scope": g.scope, "iat": now.Unix(), "exp": now.Add(s.Config.AccessTokenLifetime).Unix(),
			"jti": randomString(16), "auth_time": g.sess.authTime.Unix(),
		}
		if cnf := confirmation(g); cnf != nil {
			claims["cnf"] = cnf
		}
		if acr := s.loginACR(g); acr != "" {
			claims["acr"] = acr // RFC 9068 §2.2.1, for resource servers' step-up decisions (RFC 9470)
		}
		if g.details != nil {
			claims["authorization_details"] = g.details // RFC 9396 §9.1
		}
		k, err := s.signingKey(s.Config.IDTokenAlg)
		if err != nil {
			return nil, err
		}
		if at, err = signJWT(k.Key.(crypto.Signer), s.Config.IDTokenAlg, k.KeyID, "at+jwt", claims); err != nil {
			return nil, err
		}
	}
	tokenType := "Bearer"
	if g.jkt != "" {
		tokenType = "DPoP"
	}
	resp := map[string]any{
		"access_token": at,
		"token_type":   tokenType,
		"expires_in":   int(s.Config.AccessTokenLifetime / time.Second),
		"scope":        g.scope,
	}
	if g.details != nil {
		resp["authorization_details"] = g.details // RFC 9396 §7, as received
	}
	s.mu.Lock()
	s.access[at] = &tokenRecord{clientID: g.client.ID, sub: g.sub, scope: g.scope, jkt: g.jkt, x5t: g.x5t, grant: g.id,
		expires: now.Add(s.Config.AccessTokenLifetime), sess: g.sess}
	whole := g.granted
	if whole == "" {
		whole = g.scope
	}
	if s.Config.RefreshTokens || hasScope(whole, "offline_access") {
		rt := randomString(32)
		s.refresh[rt] = &refreshRecord{clientID: g.client.ID, sub: g.sub, scope: whole, jkt: g.jkt, grant: g.id, sess: g.sess, details: g.details}
		resp["refresh_token"] = rt
	}
	s.mu.Unlock()
	if hasScope(g.scope, "openid") {
		idt, err := s.idToken(g, at, f)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	if s.Config.BrokerLayout {
		if err := s.addBrokerTokens(g, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// addBrokerTokens adds the MitID broker's extra tokens to a token
// response: the userinfo_token (always, as recorded; with
// Config.BrokerDocumented only for the userinfo_token scope) and, for the
// grant of a login with the transaction_token scope, the
// transaction_token and transaction_token_ocsp_resp.
func (s *Server) addBrokerTokens(g *grant, resp map[string]any) error {
	if !s.Config.BrokerDocumented || hasScope(g.scope, "userinfo_token") {
		ut, err := s.userinfoToken(g)
		if err != nil {
			return err
		}
		resp["userinfo_token"] = ut
	}
	if g.fresh && hasScope(g.scope, "transaction_token") {
		tt, ocspResp, err := s.transactionToken(g)
		if err != nil {
			return err
		}
		resp["transaction_token"] = tt
		resp["transaction_token_ocsp_resp"] = ocspResp
	}
	return nil
}

// idToken builds and signs the ID token (OIDC Core §2, §3.1.3.6), applying
// the fault's forgeries.
func (s *Server) idToken(g *grant, accessToken string, f *Fault) (string, error) {
	if f != nil && f.RawIDToken != "" {
		return f.RawIDToken, nil
	}
	alg := s.Config.IDTokenAlg
	if f != nil && f.IDTokenAlg != "" {
		alg = f.IDTokenAlg
	}
	now := s.Config.Now()
	var claims map[string]any
	if s.Config.BrokerLayout {
		claims = s.brokerIDTokenClaims(g, now)
	} else if claims = maps.Clone(s.user(g.sub).Claims); claims == nil {
		claims = map[string]any{}
	}
	maps.Copy(claims, map[string]any{
		"iss": s.Issuer(), "sub": s.subjectFor(g.client, g.sub), "aud": g.client.ID,
		"iat": now.Unix(), "exp": now.Add(s.Config.IDTokenLifetime).Unix(),
		"auth_time": g.sess.authTime.Unix(),
	})
	if alg != "none" {
		claims["at_hash"] = halfHash(alg, accessToken)
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if g.sess.acr != "" && !s.Config.BrokerLayout {
		claims["acr"] = g.sess.acr // the level asked for (OIDC Core §3.1.2.1)
	}
	if g.client.hasLogout() && claims["sid"] == nil {
		claims["sid"] = g.sess.sid // Back-Channel Logout 1.0 §2.1
	}
	maps.Copy(claims, g.extra)
	if f != nil && f.Issuer != "" {
		claims["iss"] = f.Issuer
	}
	if f != nil && f.IDToken != nil {
		f.IDToken(claims)
	}
	if f != nil && f.RotateKeys {
		if err := s.RotateKeys(); err != nil {
			return "", err
		}
	}
	tok, err := s.signIDToken(g, claims, alg, f)
	if err == nil && f != nil && f.CorruptIDTokenSignature {
		tok = corruptSignature(tok)
	}
	return tok, err
}

// signWithoutKeyID signs claims with the server's key for alg, without kid.
func (s *Server) signWithoutKeyID(claims map[string]any, alg jose.SignatureAlgorithm) (string, error) {
	k, err := s.signingKey(alg)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return signWithKey(k.Key, alg, "", "JWT", claims)
}

// signIDToken signs the ID token claims with alg: the fault's key, the
// client secret for HS*, else the server's key (without kid when the fault
// says so).
func (s *Server) signIDToken(g *grant, claims map[string]any, alg jose.SignatureAlgorithm, f *Fault) (string, error) {
	switch {
	case f != nil && f.IDTokenKey != nil:
		return signWithKey(f.IDTokenKey, alg, "", "JWT", claims)
	case isHMAC(string(alg)):
		if g.client.Secret == "" {
			return signWithKey([]byte("partest-no-client-secret"), alg, "", "JWT", claims)
		}
		return signWithKey([]byte(g.client.Secret), alg, "", "JWT", claims)
	case f != nil && f.NoKeyID && alg != "none":
		return s.signWithoutKeyID(claims, alg)
	}
	return s.SignIDToken(claims, alg)
}

// handleUserinfo serves the UserInfo endpoint (OIDC Core §5.3) with Bearer
// (RFC 6750) or DPoP (RFC 9449 §7) access tokens.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request, f *Fault) {
	s.addDPoPNonce(w)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	isDPoP := strings.EqualFold(scheme, "DPoP")
	unauthorized := func(code, desc string) {
		if s.recorded() && !isDPoP {
			// broker-recorded.md: the code only in the challenge, an
			// empty body.
			w.Header().Set("WWW-Authenticate", `Bearer realm="IdentityServer", error="invalid_token"`)
			setBrokerNoCache(w.Header())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		e := newError(http.StatusUnauthorized, code, "%s", desc)
		ch := `Bearer realm="` + s.Issuer() + `"`
		if isDPoP {
			ch = `DPoP algs="ES256 ES384 PS256 RS256 EdDSA"`
		}
		if code != "" {
			ch += `, error="` + code + `", error_description="` + desc + `"`
		}
		e.header = http.Header{"Www-Authenticate": {ch}}
		if code == "" {
			e.code = "invalid_token"
		}
		s.writeError(w, e)
	}
	if tok == "" || (!isDPoP && !strings.EqualFold(scheme, "Bearer")) {
		unauthorized("", "no access token")
		return
	}
	s.mu.Lock()
	rec := s.access[tok]
	s.mu.Unlock()
	if rec == nil || !s.Config.Now().Before(rec.expires) {
		unauthorized("invalid_token", "access token is invalid or expired")
		return
	}
	if rec.jkt != "" {
		if !isDPoP {
			unauthorized("invalid_token", "DPoP-bound access token sent as a Bearer token")
			return
		}
		jkt, has, e := s.checkDPoP(r, pathUserinfo, tok)
		if e != nil {
			s.writeError(w, e)
			return
		}
		if !has {
			s.writeError(w, s.dpopError(true, "invalid_dpop_proof", "DPoP proof is required"))
			return
		}
		if jkt != rec.jkt {
			s.writeError(w, s.dpopError(true, "invalid_dpop_proof", "DPoP proof key does not match the token"))
			return
		}
	} else if isDPoP {
		unauthorized("invalid_token", "access token is not DPoP-bound")
		return
	}
	if rec.x5t != "" && peerThumbprint(r) != rec.x5t {
		// RFC 8705 §3: the presented certificate must be the bound one.
		unauthorized("invalid_token", "access token is bound to another client certificate")
		return
	}
	c := s.clients[rec.clientID]
	var claims map[string]any
	if s.Config.BrokerLayout {
		claims = s.brokerUserinfo(c, rec.sub, rec.sess)
	} else if claims = maps.Clone(s.user(rec.sub).Claims); claims == nil {
		claims = map[string]any{}
	}
	claims["sub"] = s.subjectFor(c, rec.sub)
	if f != nil && f.Userinfo != nil {
		f.Userinfo(claims)
	}
	if (c != nil && c.SignedUserinfo) || strings.Contains(r.Header.Get("Accept"), "application/jwt") {
		claims["iss"] = s.Issuer()
		claims["aud"] = rec.clientID
		claims["iat"] = s.Config.Now().Unix()
		sign := s.SignIDToken
		if f != nil && f.NoKeyID {
			sign = s.signWithoutKeyID
		}
		jwt, err := sign(claims, s.Config.IDTokenAlg)
		if err != nil {
			s.writeError(w, newError(http.StatusInternalServerError, "server_error", "could not sign userinfo"))
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(jwt))
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// handleEndSession serves RP-Initiated Logout 1.0: id_token_hint is
// required (as at the MitID broker) and must be an ID token of this server;
// post_logout_redirect_uri must be registered.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, invalidRequest("malformed request"))
		return
	}
	params := r.Form
	if e := checkSingle(params); e != nil {
		s.errorPage(w, e)
		return
	}
	hint := params.Get("id_token_hint")
	if hint == "" && s.recorded() {
		// broker-recorded.md: without id_token_hint the broker shows its
		// own logout page and ignores post_logout_redirect_uri.
		signedOut(w)
		return
	}
	if hint == "" {
		s.errorPage(w, invalidRequest("id_token_hint is required"))
		return
	}
	claims, err := s.verifyOwnJWT(hint)
	if err != nil || stringClaim(claims, "iss") != s.Issuer() {
		s.errorPage(w, invalidRequest("id_token_hint is not a valid ID token of this issuer"))
		return
	}
	auds, _, err := audiences(claims)
	if err != nil || len(auds) == 0 {
		s.errorPage(w, invalidRequest("id_token_hint has no audience"))
		return
	}
	clientID := params.Get("client_id")
	if clientID == "" {
		clientID = auds[0]
	} else if !slices.Contains(auds, clientID) {
		s.errorPage(w, invalidRequest("client_id is not an audience of id_token_hint"))
		return
	}
	c := s.clients[clientID]
	if c == nil {
		s.errorPage(w, newError(http.StatusBadRequest, "invalid_client", "unknown client"))
		return
	}
	next := ""
	if plr := params.Get("post_logout_redirect_uri"); plr != "" {
		if !slices.Contains(c.PostLogoutRedirectURIs, plr) {
			s.errorPage(w, invalidRequest("post_logout_redirect_uri is not registered"))
			return
		}
		u, err := parseAbs(plr)
		if err != nil {
			s.errorPage(w, invalidRequest("post_logout_redirect_uri is malformed"))
			return
		}
		if st := params.Get("state"); st != "" {
			q := u.Query()
			q.Set("state", st)
			u.RawQuery = q.Encode()
		}
		next = u.String()
	}
	// The hint's session ends: every client that got tokens in it hears
	// of it on the back channel, and by iframe on the front channel (OIDC
	// Back-Channel Logout 1.0 §2.7, Front-Channel Logout 1.0 §4).
	if sid := stringClaim(claims, "sid"); sid != "" {
		if clients, err := s.endSession(sid); err == nil {
			s.frontchannelLogout(w, r, sid, clients, next)
			return
		}
	}
	if next != "" {
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	signedOut(w)
}

// signedOut shows the provider's own logout page.
func signedOut(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!DOCTYPE html><html><body><h1>Signed out</h1></body></html>\n"))
}

// handleDiscovery serves OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request, f *Fault) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	writeJSON(w, http.StatusOK, s.metadata(f))
}

// Metadata returns the discovery document the server publishes (OpenID
// Connect Discovery 1.0 §3, RFC 8414 §2, RFC 9126 §5, RFC 9207 §3, RFC 9449
// §5.1).
func (s *Server) Metadata() map[string]any { return s.metadata(nil) }

func (s *Server) metadata(f *Fault) map[string]any {
	algs := func(list []jose.SignatureAlgorithm) []string {
		out := make([]string, len(list))
		for i, a := range list {
			out[i] = string(a)
		}
		return out
	}
	claims := map[string]bool{"sub": true, "iss": true, "aud": true, "exp": true, "iat": true, "auth_time": true, "nonce": true, "at_hash": true}
	for _, u := range s.users {
		for k := range u.Claims {
			claims[k] = true
		}
	}
	md := map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                s.endpointURL(pathAuthorize),
		"token_endpoint":                        s.endpointURL(pathToken),
		"userinfo_endpoint":                     s.endpointURL(pathUserinfo),
		"jwks_uri":                              s.endpointURL(pathJWKS),
		"end_session_endpoint":                  s.endpointURL(pathEndSession),
		"pushed_authorization_request_endpoint": s.endpointURL(pathPAR),
		"require_pushed_authorization_requests": s.Config.RequirePAR,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"public"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported":                      slices.Sorted(maps.Keys(claims)),
		"prompt_values_supported":               []string{"none", "login", "consent", "select_account"},
		"token_endpoint_auth_methods_supported": []string{
			AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT, AuthTLSClientAuth, AuthNone,
		},
		"token_endpoint_auth_signing_alg_values_supported": algs(append(slices.Clone(asymmetricAlgs), hmacAlgs...)),
		"request_parameter_supported":                      true,
		"request_uri_parameter_supported":                  false,
		"request_object_signing_alg_values_supported":      algs(append(slices.Clone(asymmetricAlgs), hmacAlgs...)),
		"id_token_signing_alg_values_supported":            []string{string(s.Config.IDTokenAlg)},
		"userinfo_signing_alg_values_supported":            []string{string(s.Config.IDTokenAlg)},
		"dpop_signing_alg_values_supported":                algs(dpopAlgs),
		"claims_parameter_supported":                       false,
		"backchannel_logout_supported":                     true,
		"backchannel_logout_session_supported":             true,
		"frontchannel_logout_supported":                    true,
		"frontchannel_logout_session_supported":            true,
	}
	if !s.Config.NoIssParameter {
		md["authorization_response_iss_parameter_supported"] = true
	}
	if s.jarm() {
		// JARM §4.
		md["response_modes_supported"] = append([]string{"query", "form_post"}, jarmModes...)
		md["authorization_signing_alg_values_supported"] = algs(idTokenAlgs)
		var keyAlgs, encs []string
		for _, a := range jarmKeyAlgs {
			keyAlgs = append(keyAlgs, string(a))
		}
		for _, e := range jarmEncs {
			encs = append(encs, string(e))
		}
		md["authorization_encryption_alg_values_supported"] = keyAlgs
		md["authorization_encryption_enc_values_supported"] = encs
	}
	if types := s.authorizationDetailsTypes(); len(types) > 0 {
		md["authorization_details_types_supported"] = types // RFC 9396 §10.1
	}
	if s.Config.BrokerJWKS {
		var keyAlgs []string
		for _, a := range s.requestKeyAlgs() {
			keyAlgs = append(keyAlgs, string(a))
		}
		md["request_object_encryption_alg_values_supported"] = keyAlgs
		md["request_object_encryption_enc_values_supported"] = []string{
			string(jose.A128CBC_HS256), string(jose.A256CBC_HS512), string(jose.A128GCM), string(jose.A256GCM),
		}
	}
	s.extendMetadata(md)
	s.mtlsAliases(md)
	if s.Config.NoPAR {
		delete(md, "pushed_authorization_request_endpoint")
		if !s.Config.RequirePAR {
			delete(md, "require_pushed_authorization_requests")
		}
		if a, ok := md["mtls_endpoint_aliases"].(map[string]any); ok {
			delete(a, "pushed_authorization_request_endpoint")
		}
	}
	if f != nil && f.Issuer != "" {
		md["issuer"] = f.Issuer
	}
	return md
}

// handleJWKS serves the server's public keys.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	b, err := s.publishedJWKS()
	if err != nil {
		s.writeError(w, newError(http.StatusInternalServerError, "server_error", "could not write the JWKS"))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// Grant describes tokens for [Server.IssueTokensFor].
type Grant struct {
	ClientID string // a registered client
	Subject  string // a user's subject; default: the first user
	Scope    string // default "openid"
	Nonce    string // put into the ID token when set
	DPoPJKT  string // binds the access token to this RFC 7638 thumbprint
	// CertThumbprint binds the access token to the client certificate with
	// this base64url SHA-256 thumbprint (x5t#S256, RFC 8705 §3).
	CertThumbprint string
}

// IssueTokensFor mints a token response (access_token, token_type,
// expires_in, scope, id_token, refresh_token when due, and with
// BrokerLayout the broker's userinfo_token and, for the transaction_token
// scope, transaction_token) as the token endpoint would after a login,
// without running a flow. The tokens work at
// the userinfo and token endpoints. Faults of the token endpoint are not
// applied.
func (s *Server) IssueTokensFor(g Grant) (map[string]any, error) {
	c := s.clients[g.ClientID]
	if c == nil {
		return nil, fmt.Errorf("partest: unknown client %q", g.ClientID)
	}
	if g.Subject == "" {
		g.Subject = s.users[0].Subject
	}
	if g.Scope == "" {
		g.Scope = "openid"
	}
	sess := s.newSession(s.user(g.Subject), "127.0.0.1", nil)
	s.recordSession(sess, g.Subject, c.ID)
	return s.issue(&grant{client: c, sub: g.Subject, scope: g.Scope, nonce: g.Nonce, jkt: g.DPoPJKT,
		x5t: g.CertThumbprint, id: randomString(12), sess: sess, fresh: true}, nil)
}
