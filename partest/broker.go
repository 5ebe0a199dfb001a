package partest

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BrokerConfig returns a Config shaped like the Signaturgruppen MitID
// broker as it was recorded answering in pre-production
// (broker-recorded.md; where the recording and the broker's documentation
// disagree, the recording wins, and Config.BrokerDocumented switches to the
// documentation's variant):
//
//   - layout: issuer path /op, endpoints below /connect, the recorded
//     discovery document (no scopes_supported, claims_supported,
//     acr_values_supported, ui_locales_supported or
//     request_object_encryption_enc_values_supported; public subjects;
//     plain and S256 advertised, although partest verifies S256 only;
//     RS256 only; RSA-OAEP-256/384/512 for request objects; seven
//     response types, of which partest serves code), request_uri values of
//     64 upper-case hex digits living 600 s, 3 h access tokens
//     (expires_in 10800);
//   - keys: a JWKS of three RSA keys without alg (BrokerJWKS): the
//     transaction-signing key, the ID-token key and the encryption key;
//   - front channel: every callback carries session_state; a cancelled
//     login ([Server.FailNextLogin], the Cancel button of the interactive
//     page) and login_required come back with error, error_description and
//     state but without iss; an invalid authorization request (an unknown
//     idp_values, an expired, reused or unknown request_uri, a missing
//     scope, any other error found at the authorization endpoint) sends the
//     browser (302) to the broker's own error page {issuer}/Error?errorId=…
//     and never to the client;
//   - back channel: bare {"error":…} bodies with 400 for every PAR and token
//     error, invalid_client included (no 401, no WWW-Authenticate), an
//     error_description only for invalid_request_object ("Invalid JWT
//     request"), Cache-Control no-store, no-cache, max-age=0; UserInfo
//     with a bad token answers 401 with an empty body and
//     WWW-Authenticate: Bearer realm="IdentityServer", error="invalid_token";
//   - tokens: the recorded ID-token claim set (no mitid.* claims: they are
//     in UserInfo and the userinfo_token), string-typed UserInfo values, a
//     userinfo_token in every token response, and with the transaction_token
//     scope a transaction_token and transaction_token_ocsp_resp (see
//     [Server.SubjectFor] for organisation-mapped subjects, and the package
//     documentation for transaction signing);
//   - CIBA with the CIBA→PAR bridge (auth_req_id lifetime 300 s, interval
//     3 s) and [BrokerUsers].
//
// Change any field before passing it to [NewServer].
func BrokerConfig(clients ...Client) Config {
	return Config{
		Clients:             slices.Clone(clients),
		Users:               BrokerUsers(),
		IssuerPath:          "/op",
		RequestURILifetime:  600 * time.Second,
		AccessTokenLifetime: 3 * time.Hour,
		IDTokenLifetime:     5 * time.Minute,
		BrokerJWKS:          true,
		BrokerLayout:        true,
		CIBA:                true,
		CIBALifetime:        300 * time.Second,
		CIBAInterval:        3 * time.Second,
	}
}

// BrokerUsers returns test identities with the MitID broker's claims
// (broker-recorded.md, issued-claims-tokens.md, idps/mitid.md): subjects
// that look like the broker's UUIDs, idp, identity_type, loa/ial/aal as
// NSIS URIs without /loa/, amr, and mitid.* values that are strings even
// when they hold a number or a boolean ("88", "true"). The first is a
// private MitID user at Substantial, the second a minor at Low, the third
// a MitID Erhverv (professional) user. The per-login claims (sid and
// neb_sid, transaction_id, idp_transaction_id and mitid.transaction_id,
// session_expiry, auth_time) are made at each login.
func BrokerUsers() []User {
	const nsis = "https://data.gov.dk/concept/core/nsis/"
	return []User{
		{Subject: "7c9484f5-44bf-4e29-a683-84548951d3b8", Claims: map[string]any{
			"idp": "mitid", "identity_type": "private",
			"loa": nsis + "Substantial", "ial": nsis + "Substantial", "aal": nsis + "Substantial",
			"amr":        []string{"code_app"},
			"mitid.uuid": "eee4b272-6a33-40da-ab0b-5ce2abd42e78", "mitid.identity_name": "Karen Test Hansen",
			"mitid.date_of_birth": "1936-01-27", "mitid.age": "88", "mitid.has_cpr": "true", "mitid.psd2": "false",
			"mitid.geo_ip_distance_km": "12",
		}},
		{Subject: "0d1f5b9e-2c3a-4d5e-8f70-1a2b3c4d5e6f", Claims: map[string]any{
			"idp": "mitid", "identity_type": "private",
			"loa": nsis + "Low", "ial": nsis + "Low", "aal": nsis + "Low",
			"amr":        []string{"password"},
			"mitid.uuid": "1b6e3c9a-8d7f-4e21-9c3b-5a4d6e7f8091", "mitid.identity_name": "Emil Test Jensen",
			"mitid.date_of_birth": "2009-05-14", "mitid.age": "17", "mitid.has_cpr": "false", "mitid.psd2": "false",
			"mitid.geo_ip_distance_km": "3",
		}},
		{Subject: "3f2e1d0c-9b8a-4765-8432-10fedcba9876", Claims: map[string]any{
			"idp": "mitid_erhverv", "identity_type": "professional",
			"loa": nsis + "Substantial", "ial": nsis + "Substantial", "aal": nsis + "Substantial",
			"amr":          []string{"mitid:code_app"},
			"nemlogin.cvr": "12345678", "nemlogin.name": "Lene Test Nielsen", "nemlogin.org_name": "Testfirma ApS",
			"nemlogin.persistent_professional_id": "urn:uuid:8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968",
		}},
	}
}

// recorded reports whether the server answers as the MitID broker was
// recorded answering: BrokerLayout without BrokerDocumented.
func (s *Server) recorded() bool { return s.Config.BrokerLayout && !s.Config.BrokerDocumented }

// brokerSessionLifetime is how long after a login its session_expiry lies
// (4.5 h, as in the recorded ID tokens).
const brokerSessionLifetime = 16200 * time.Second

// transactionTokenLifetime is the recorded lifetime of a transaction
// token: six years (189 388 800 s), as it is evidence, not a session.
const transactionTokenLifetime = 189388800 * time.Second

// knownIDPs are the identity providers the broker documents
// (idps/identity-providers.md); any other idp_values is refused.
var knownIDPs = []string{"mitid", "mitid_erhverv", "soloid", "passkeyid", "eboks", "mobilepay", "euid", "euav", "nemid"}

// loginSession is what one login at the broker makes: its identifiers,
// its time and what the user signed.
type loginSession struct {
	authTime time.Time
	sid      string    // sid, and neb_sid: the broker sends one value under both names
	txID     string    // transaction_id, the broker's
	idpTxID  string    // idp_transaction_id and mitid.transaction_id, the identity provider's
	expiry   time.Time // session_expiry
	clientIP string    // transaction_client_ip
	tx       *txText   // the transaction text the user signed, if any
	// acr is the first acr_values requested, the acr of the login's ID
	// token; loa the NSIS level URI requested with the MitID broker's
	// idp_params.mitid.loa_value, its loa, aal and acr. Empty: the user's.
	acr, loa string
}

// newSession starts the login of u. A user's own neb_sid claim, when
// set, is kept as the session id.
func (s *Server) newSession(u *User, clientIP string, tx *txText) *loginSession {
	now := s.Config.Now()
	sess := &loginSession{authTime: now, sid: newUUID(), txID: newUUID(), idpTxID: newUUID(),
		expiry: now.Add(brokerSessionLifetime), clientIP: clientIP, tx: tx}
	if u != nil {
		if v, ok := u.Claims["neb_sid"].(string); ok && v != "" {
			sess.sid = v
		}
	}
	return sess
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// subjectNamespace is the UUID namespace of organisation-mapped subjects.
var subjectNamespace = [16]byte{0x9b, 0x3c, 0x61, 0x0e, 0x5f, 0x4a, 0x4c, 0x1d, 0x8e, 0x27, 0x3a, 0x90, 0x6d, 0x12, 0xc4, 0x55}

// SubjectFor returns the sub the client with clientID sees for the user
// whose Subject is subject: subject itself for a client without an
// Organisation (or an unknown client), else a name-based UUID (RFC 9562
// §5.5) of the organisation and the subject, the same for every client of
// that organisation, as the MitID broker's organisation-mapped subjects
// (subject_type "org_mapped") are.
func (s *Server) SubjectFor(clientID, subject string) string {
	return s.subjectFor(s.clients[clientID], subject)
}

func (s *Server) subjectFor(c *Client, subject string) string {
	if c == nil || c.Organisation == "" {
		return subject
	}
	h := sha1.New()
	h.Write(subjectNamespace[:])
	h.Write([]byte(c.Organisation + "|" + subject))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// userSubject returns the Subject of the user whom client c sees as sub,
// or sub itself.
func (s *Server) userSubject(c *Client, sub string) string {
	for _, u := range s.users {
		if s.subjectFor(c, u.Subject) == sub {
			return u.Subject
		}
	}
	return sub
}

// sessionState returns an OpenID Connect Session Management 1.0 §3
// session_state for a callback to redirectURI: a salted SHA-256 of the
// client, the origin and the browser's session, base64url, a dot and the
// salt in upper-case hex, as the broker sends it.
func sessionState(clientID, redirectURI, sid string) string {
	origin := redirectURI
	if u, err := url.Parse(redirectURI); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	saltHex := strings.ToUpper(hex.EncodeToString(salt))
	sum := sha256.Sum256([]byte(clientID + origin + sid + saltHex))
	return base64.RawURLEncoding.EncodeToString(sum[:]) + "." + saltHex
}

// clientIP returns the host part of r's remote address.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	if r.RemoteAddr != "" {
		return r.RemoteAddr
	}
	return "127.0.0.1"
}

// checkIDPValues refuses an idp_values naming a provider the broker does
// not know (space- or comma-separated).
func checkIDPValues(req *authzRequest) *oauthError {
	v := req.params.Get("idp_values")
	for _, idp := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
		if !slices.Contains(knownIDPs, idp) {
			return invalidRequest("idp_values names an unknown identity provider %q", idp)
		}
	}
	return nil
}

// checkBrokerParams checks the broker-specific parameters of a validated
// request at the PAR endpoint or a front-channel request: the transaction
// text to sign (idp_params.mitid.transaction_text, which must come inside
// a signed request object) and, with Config.BrokerDocumented, idp_values
// (the recorded broker checks idp_values at the authorization endpoint
// instead, see handleAuthorize).
func (s *Server) checkBrokerParams(req *authzRequest, signed bool) *oauthError {
	if !s.Config.BrokerLayout {
		return nil
	}
	if s.Config.BrokerDocumented {
		if e := checkIDPValues(req); e != nil {
			return invalidRequest("Requested IDP is not enabled for this client")
		}
	}
	tx, e := parseTxText(req.params.Get("idp_params"), signed)
	if e != nil {
		return e
	}
	req.tx = tx
	if req.loa, e = parseLoA(req.params.Get("idp_params"), req.prompt); e != nil {
		return e
	}
	return nil
}

// stringValue returns v as the broker types UserInfo values: strings, a
// list of strings for a list of several values, and the one value of a
// one-element list (amr).
func stringValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		return x, true
	case []string:
		if len(x) == 1 {
			return x[0], true
		}
		return slices.Clone(x), true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := stringValue(e); ok {
				out = append(out, fmt.Sprint(s))
			}
		}
		if len(out) == 1 {
			return out[0], true
		}
		return out, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case int, int64, float64:
		return fmt.Sprint(x), true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// stringList returns a claim as a list of strings (amr).
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return slices.Clone(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// stringClaims returns the user's claims typed as the broker types them.
func stringClaims(u *User) map[string]any {
	out := make(map[string]any, len(u.Claims))
	for k, v := range u.Claims {
		if sv, ok := stringValue(v); ok {
			out[k] = sv
		}
	}
	return out
}

// brokerIDTokenClaims returns the MitID broker's ID-token claims of g
// besides iss, sub, aud, iat, exp, auth_time, nonce and at_hash: the
// recorded set (sid, neb_sid, idp, acr, loa, aal, ial, identity_type, amr,
// transaction_id, idp_transaction_id, session_expiry as a string,
// idtoken_type, subject_type, nbf), or with Config.BrokerDocumented the
// documented pre-production token (brokers-and-profiles.md §8.2): idp,
// neb_sid, identity_type, loa, amr and mitid.uuid, mitid.age,
// mitid.has_cpr, mitid.psd2.
func (s *Server) brokerIDTokenClaims(g *grant, now time.Time) map[string]any {
	u := s.user(g.sub)
	out := map[string]any{"nbf": now.Unix()}
	copyStr := func(keys ...string) {
		for _, k := range keys {
			if v, ok := stringValue(u.Claims[k]); ok {
				out[k] = v
			}
		}
	}
	if amr := stringList(u.Claims["amr"]); len(amr) > 0 {
		out["amr"] = amr
	}
	out["neb_sid"] = g.sess.sid
	if s.Config.BrokerDocumented {
		copyStr("idp", "identity_type", "loa", "mitid.uuid", "mitid.age", "mitid.has_cpr", "mitid.psd2")
		return out
	}
	copyStr("idp", "identity_type", "loa", "aal", "ial", "acr")
	if g.sess.loa != "" {
		out["loa"], out["aal"], out["acr"] = g.sess.loa, g.sess.loa, g.sess.loa
	}
	if _, ok := out["acr"]; !ok && out["loa"] != nil {
		out["acr"] = out["loa"]
	}
	out["sid"] = g.sess.sid
	out["transaction_id"] = g.sess.txID
	out["idp_transaction_id"] = g.sess.idpTxID
	out["session_expiry"] = strconv.FormatInt(g.sess.expiry.Unix(), 10)
	out["idtoken_type"] = "strict"
	out["subject_type"] = "org_mapped"
	return out
}

// brokerUserinfo returns the UserInfo claims of the user sub as client c
// sees them: as recorded, every value a string (amr a single string when
// it has one value, auth_time and session_expiry as strings), with
// session_is_active, subject_type, idp_identity_id, the identity
// provider's mitid.transaction_id and, after a signing login,
// mitid.transaction_text_type and mitid.transaction_text_sha256 (not the
// text). With Config.BrokerDocumented, the user's claims as they are, and
// the documented idp_environment.
func (s *Server) brokerUserinfo(c *Client, sub string, sess *loginSession) map[string]any {
	u := s.user(sub)
	if s.Config.BrokerDocumented {
		out := maps.Clone(u.Claims)
		if out == nil {
			out = map[string]any{}
		}
		out["idp_environment"] = "pp"
		out["sub"] = s.subjectFor(c, sub)
		return out
	}
	out := stringClaims(u)
	out["session_is_active"] = "true"
	out["subject_type"] = "org_mapped"
	if id, ok := out["mitid.uuid"].(string); ok {
		out["idp_identity_id"] = id
	}
	if sess != nil {
		if sess.loa != "" {
			out["loa"], out["aal"] = sess.loa, sess.loa
		}
		out["session_expiry"] = strconv.FormatInt(sess.expiry.Unix(), 10)
		out["auth_time"] = strconv.FormatInt(sess.authTime.Unix(), 10)
		if out["idp"] == "mitid" {
			out["mitid.transaction_id"] = sess.idpTxID
		}
		if tx := sess.tx; tx != nil {
			if tx.textType != "" {
				out["mitid.transaction_text_type"] = tx.textType
			}
			out["mitid.transaction_text_sha256"] = tx.sha256
		}
	}
	out["sub"] = s.subjectFor(c, sub)
	return out
}

// FailNextLogin makes the next login at the authorization endpoint (any
// client's, headless or interactive, a CIBA→PAR bridged one included) end
// with the error code and description instead of a code, as if the user
// had stopped or MitID had failed: for the broker's user cancel,
// FailNextLogin("access_denied", "mitid_user_aborted"). The callback then
// carries error, error_description, state and, as recorded from the
// broker, session_state and no iss (with BrokerLayout; other servers send
// iss, RFC 9207). Each call queues one failure; logins take them in order.
func (s *Server) FailNextLogin(code, description string) {
	if code == "" {
		panic("partest: FailNextLogin without an error code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &oauthError{status: http.StatusBadRequest, code: code, desc: description})
}

// takeFailure returns the next queued FailNextLogin outcome, or nil.
func (s *Server) takeFailure() *oauthError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return nil
	}
	e := s.failures[0]
	s.failures = s.failures[1:]
	return e
}

// cancelError is the outcome of the interactive page's Cancel button: the
// broker's access_denied with mitid_user_aborted, elsewhere access_denied.
func (s *Server) cancelError() *oauthError {
	if s.Config.BrokerLayout {
		return newError(http.StatusBadRequest, "access_denied", "mitid_user_aborted")
	}
	return newError(http.StatusBadRequest, "access_denied", "the user cancelled the login")
}

// errPage is an error shown on the broker's own error page.
type errPage struct {
	e       *oauthError
	expires time.Time
}

// brokerErrorRedirect sends the browser (302 Found) to the broker's own
// error page for e, {issuer}/Error?errorId=…, as the recorded broker does
// for an invalid authorization request.
func (s *Server) brokerErrorRedirect(w http.ResponseWriter, e *oauthError) {
	id := randomString(32)
	now := s.Config.Now()
	s.mu.Lock()
	if len(s.errPages) > 1000 {
		for k, p := range s.errPages {
			if !now.Before(p.expires) {
				delete(s.errPages, k)
			}
		}
	}
	s.errPages[id] = errPage{e: e, expires: now.Add(time.Hour)}
	s.mu.Unlock()
	w.Header().Set("Location", s.endpointURL(pathErrorPage)+"?"+url.Values{"errorId": {id}}.Encode())
	setBrokerNoCache(w.Header())
	w.WriteHeader(http.StatusFound)
}

var brokerErrorTmpl = template.Must(template.New("broker-error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Error</title></head>
<body><main id="error" data-error-id="{{.ID}}" data-error="{{.Code}}" data-error-description="{{.Desc}}">
<h1>Sorry, there was an error</h1>
{{if .Code}}<p><code>{{.Code}}</code>{{if .Desc}}: {{.Desc}}{{end}}</p>{{else}}<p>The error is unknown or has expired.</p>{{end}}
<p>partest: the MitID broker shows errors of the authorization request on its own page and never calls the client.</p>
</main></body></html>
`))

// handleErrorPage serves the broker's own error page: 200, HTML, the error
// stored under errorId (an unknown id shows a page without a code).
func (s *Server) handleErrorPage(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := r.URL.Query().Get("errorId")
	s.mu.Lock()
	p, ok := s.errPages[id]
	s.mu.Unlock()
	data := struct{ ID, Code, Desc string }{ID: id}
	if ok && s.Config.Now().Before(p.expires) {
		data.Code, data.Desc = p.e.code, p.e.desc
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	setBrokerNoCache(w.Header())
	_ = brokerErrorTmpl.Execute(w, data)
}

// Discovery members of the recorded broker document (broker-recorded.md,
// "Discovery"; the pre-production document of 2026).
var (
	brokerJOSEAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"}
	brokerDPoPAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
	brokerAuthMeth = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT}
)

// brokerScopes and brokerClaims are the MitID broker's documented lists
// (brokers-and-profiles.md §8.1), published with Config.BrokerDocumented.
var (
	brokerScopes = []string{
		"openid", "mitid", "ssn", "nemid.pid", "ssn.details_name", "ssn.details_address",
		"nemlogin", "privileges", "transaction_token", "userinfo_token", "minimal", "offline_access",
	}
	brokerClaims = []string{
		"sub", "idp", "idp_environment", "identity_type", "neb_sid", "transaction_id", "session_expiry",
		"loa", "ial", "aal", "amr", "mitid.uuid", "mitid.date_of_birth", "mitid.age", "mitid.identity_name",
		"mitid.transaction_id", "mitid.has_cpr", "mitid.psd2", "dk.cpr", "nemid.pid", "nemid.pid_status",
		"nemlogin.cvr", "nemlogin.persistent_professional_id", "nemlogin.name",
	}
)

// extendMetadata adds the CIBA (CIBA Core §4), RFC 8705 and broker-layout
// members to a discovery document.
func (s *Server) extendMetadata(md map[string]any) {
	if s.Config.TLS {
		md["tls_client_certificate_bound_access_tokens"] = true
	}
	if s.Config.CIBA {
		md["backchannel_authentication_endpoint"] = s.endpointURL(pathCIBA)
		md["backchannel_token_delivery_modes_supported"] = []string{"poll"}
		md["backchannel_user_code_parameter_supported"] = false
		md["grant_types_supported"] = []string{"authorization_code", "refresh_token", GrantTypeCIBA}
	}
	switch {
	case !s.Config.BrokerLayout:
		return
	case s.Config.BrokerDocumented:
		s.documentedMetadata(md)
	default:
		s.recordedMetadata(md)
	}
	if !s.Config.BrokerJWKS {
		delete(md, "request_object_encryption_alg_values_supported") // no encryption key
	}
	if s.Config.TLS {
		md["token_endpoint_auth_methods_supported"] = append(md["token_endpoint_auth_methods_supported"].([]string), AuthTLSClientAuth)
	}
}

// recordedMetadata shapes md like the broker's recorded document. It
// advertises what the broker advertises, also where partest serves less
// (response types other than code, the fragment response mode, plain
// PKCE, front- and back-channel logout, client_credentials and implicit):
// a client must not trust such members blindly, and the test should show
// it.
func (s *Server) recordedMetadata(md map[string]any) {
	for _, k := range []string{
		"scopes_supported", "claims_supported", "acr_values_supported", "ui_locales_supported",
		"request_object_encryption_enc_values_supported", "claims_parameter_supported",
	} {
		delete(md, k)
	}
	maps.Copy(md, map[string]any{
		"frontchannel_logout_supported":                            true,
		"frontchannel_logout_session_supported":                    true,
		"backchannel_logout_supported":                             true,
		"backchannel_logout_session_supported":                     true,
		"grant_types_supported":                                    []string{"authorization_code", "client_credentials", "refresh_token", "implicit", GrantTypeCIBA},
		"response_types_supported":                                 []string{"code", "token", "id_token", "id_token token", "code id_token", "code token", "code id_token token"},
		"response_modes_supported":                                 []string{"form_post", "query", "fragment"},
		"token_endpoint_auth_methods_supported":                    slices.Clone(brokerAuthMeth),
		"token_endpoint_auth_signing_alg_values_supported":         slices.Clone(brokerJOSEAlgs),
		"revocation_endpoint_auth_methods_supported":               slices.Clone(brokerAuthMeth),
		"revocation_endpoint_auth_signing_alg_values_supported":    slices.Clone(brokerJOSEAlgs),
		"introspection_endpoint_auth_methods_supported":            slices.Clone(brokerAuthMeth),
		"introspection_endpoint_auth_signing_alg_values_supported": slices.Clone(brokerJOSEAlgs),
		"userinfo_signing_alg_values_supported":                    []string{string(s.Config.IDTokenAlg)},
		"subject_types_supported":                                  []string{"public"},
		"code_challenge_methods_supported":                         []string{"plain", "S256"},
		"request_parameter_supported":                              true,
		"request_uri_parameter_supported":                          true,
		"request_object_signing_alg_values_supported":              slices.Clone(brokerJOSEAlgs),
		"prompt_values_supported":                                  []string{"login", "none", "select_account"},
		"dpop_signing_alg_values_supported":                        slices.Clone(brokerDPoPAlgs),
		"request_object_encryption_alg_values_supported":           []string{"RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512"},
	})
	if s.Config.CIBA {
		md["backchannel_user_code_parameter_supported"] = true
		md["backchannel_authentication_request_signing_alg_values_supported"] = slices.Clone(brokerJOSEAlgs)
	}
}

// documentedMetadata shapes md like the broker's documented discovery
// document (brokers-and-profiles.md §8.1).
func (s *Server) documentedMetadata(md map[string]any) {
	claims := map[string]bool{}
	for _, c := range brokerClaims {
		claims[c] = true
	}
	for _, c := range md["claims_supported"].([]string) {
		claims[c] = true
	}
	md["claims_supported"] = slices.Sorted(maps.Keys(claims))
	md["scopes_supported"] = slices.Clone(brokerScopes)
	md["subject_types_supported"] = []string{"pairwise"}
	md["prompt_values_supported"] = []string{"none", "login"}
	md["ui_locales_supported"] = []string{"da", "en", "kl"}
	md["token_endpoint_auth_methods_supported"] = []string{
		AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT,
	}
	md["request_object_encryption_alg_values_supported"] = []string{"RSA-OAEP", "RSA-OAEP-256"}
}
