package partest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// requestURIPrefix is the RFC 9126 §2.2 request_uri URN prefix.
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// subjectHeader lets LoginAs pick the user of a headless login.
const subjectHeader = "Partest-Subject"

// authzRequest is a validated authorization request.
type authzRequest struct {
	clientID     string
	redirectURI  string
	responseMode string
	state        string
	nonce        string
	scope        string
	challenge    string
	jkt          string
	loginHint    string
	prompt       string
	params       url.Values
	details      json.RawMessage // authorization_details as received (RFC 9396), or nil
	ciba         string          // auth_req_id of a request pushed by the CIBA→PAR bridge
	tx           *txText         // the transaction text to sign (BrokerLayout)
	acr          string          // the first acr_values requested
	loa          string          // the NSIS level URI of idp_params.mitid.loa_value (BrokerLayout)
	clientIP     string          // the browser's address at the authorization endpoint
}

type parRecord struct {
	req     *authzRequest
	expires time.Time
	used    bool
}

type txRecord struct {
	req     *authzRequest
	expires time.Time
}

// clientAuthParams are client authentication parameters: they are not
// authorization request parameters (RFC 9126 §2.1).
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// validateAuthz checks authorization request parameters for client c.
// When the error is returned with a non-nil request, its redirect_uri is
// valid and the error may be sent there (RFC 6749 §4.1.2.1).
func (s *Server) validateAuthz(c *Client, params url.Values, viaPAR bool) (*authzRequest, *oauthError) {
	req := &authzRequest{clientID: c.ID, params: params}
	ru := params.Get("redirect_uri")
	switch {
	case ru == "":
		return nil, invalidRequest("redirect_uri is required")
	case slices.Contains(c.RedirectURIs, ru):
	case viaPAR && c.AllowUnregisteredRedirectURIsViaPAR && validRedirectURI(ru):
	default:
		return nil, invalidRequest("redirect_uri is not registered for the client")
	}
	req.redirectURI = ru
	req.state = params.Get("state")
	switch rm := params.Get("response_mode"); {
	case rm == "" || rm == "query":
		req.responseMode = "query"
	case rm == "form_post":
		req.responseMode = "form_post"
	case s.jarm() && (rm == "jwt" || rm == "query.jwt"):
		// JARM §2.3.4: jwt is query.jwt for the code flow.
		req.responseMode = "query.jwt"
	case s.jarm() && rm == "form_post.jwt":
		req.responseMode = rm
	default:
		req.responseMode = "query"
		return req, invalidRequest("response_mode %q is not supported", rm)
	}
	switch rt := params.Get("response_type"); rt {
	case "code":
	case "":
		return req, invalidRequest("response_type is required")
	default:
		return req, newError(http.StatusBadRequest, "unsupported_response_type", "only response_type=code is supported")
	}
	if !viaPAR && (s.Config.RequirePAR || c.RequirePAR) {
		return req, invalidRequest("pushed authorization request must be used")
	}
	req.scope = params.Get("scope")
	if !hasScope(req.scope, "openid") {
		return req, newError(http.StatusBadRequest, "invalid_scope", "scope must include openid")
	}
	if len(c.Scopes) > 0 {
		for _, sc := range strings.Fields(req.scope) {
			if !slices.Contains(c.Scopes, sc) {
				return req, newError(http.StatusBadRequest, "invalid_scope", "scope %q is not allowed for the client", sc)
			}
		}
	}
	req.challenge = params.Get("code_challenge")
	switch m := params.Get("code_challenge_method"); {
	case req.challenge == "":
		return req, invalidRequest("code_challenge is required (PKCE)")
	case m == "":
		return req, invalidRequest("code_challenge_method is required; plain is not supported")
	case m != "S256":
		return req, invalidRequest("code_challenge_method %q is not supported, use S256", m)
	case !isBase64URL43(req.challenge):
		return req, invalidRequest("code_challenge is not a base64url S256 value")
	}
	req.nonce = params.Get("nonce")
	req.prompt = params.Get("prompt")
	for _, p := range strings.Fields(req.prompt) {
		if !slices.Contains([]string{"none", "login", "consent", "select_account"}, p) {
			return req, invalidRequest("prompt %q is not supported", p)
		}
	}
	if hasScope(req.prompt, "none") && len(strings.Fields(req.prompt)) > 1 {
		return req, invalidRequest("prompt none must not be combined with other values")
	}
	if ma := params.Get("max_age"); ma != "" {
		if n, err := strconv.Atoi(ma); err != nil || n < 0 {
			return req, invalidRequest("max_age must be a non-negative integer")
		}
	}
	if jkt := params.Get("dpop_jkt"); jkt != "" {
		if !isBase64URL43(jkt) {
			return req, invalidRequest("dpop_jkt is not a base64url SHA-256 thumbprint")
		}
		req.jkt = jkt
	}
	req.loginHint = params.Get("login_hint")
	if acr := strings.Fields(params.Get("acr_values")); len(acr) > 0 {
		req.acr = acr[0]
	}
	if params.Has("authorization_details") {
		details, e := parseAuthorizationDetails(params.Get("authorization_details"), c.AuthorizationDetailsTypes)
		if e != nil {
			return req, e
		}
		req.details = details
	}
	return req, nil
}

func validRedirectURI(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && u.Host != "" && u.Fragment == "" && !strings.Contains(v, "#")
}

// handlePAR serves the pushed authorization request endpoint (RFC 9126 §2).
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if s.Config.NoPAR {
		http.NotFound(w, r)
		return
	}
	s.addDPoPNonce(w)
	form, c, e := s.readAuthenticated(w, r)
	if e != nil {
		s.writeError(w, e)
		return
	}
	jkt, hasProof, e := s.checkDPoP(r, pathPAR, "")
	if e != nil {
		s.writeError(w, e)
		return
	}
	if form.Has("request_uri") {
		// RFC 9126 §2.1: request_uri must not be pushed; the PAR endpoint
		// does not support it (OIDC Core §3.1.2.6 request_uri_not_supported).
		s.writeError(w, newError(http.StatusBadRequest, "request_uri_not_supported", "request_uri must not be sent to the pushed authorization request endpoint"))
		return
	}
	params := url.Values{}
	if raw := form.Get("request"); raw != "" {
		// RFC 9126 §3: only the request object's parameters are used.
		params, e = s.verifyRequestObject(c, raw)
		if e != nil {
			s.writeError(w, e)
			return
		}
	} else {
		if c.RequireSignedRequestObject {
			s.writeError(w, invalidRequest("the client must use a request object"))
			return
		}
		for k, v := range form {
			if !slices.Contains(clientAuthParams, k) {
				params[k] = v
			}
		}
	}
	// client_id is a required authorization request parameter (RFC 6749
	// §4.1.1), so a push carries it even when Basic names the client.
	switch id := params.Get("client_id"); {
	case id == "":
		s.writeError(w, invalidRequest("client_id is required"))
		return
	case id != c.ID:
		s.writeError(w, invalidRequest("client_id does not match the authenticated client"))
		return
	}
	req, e := s.validateAuthz(c, params, true)
	if e == nil {
		e = s.checkBrokerParams(req, form.Get("request") != "")
	}
	if e != nil {
		s.writeError(w, e)
		return
	}
	if hasProof {
		if req.jkt != "" && req.jkt != jkt {
			s.writeError(w, invalidRequest("dpop_jkt does not match the DPoP proof key"))
			return
		}
		req.jkt = jkt
	}
	uri := newRequestURI()
	s.mu.Lock()
	s.pars[uri] = &parRecord{req: req, expires: s.Config.Now().Add(s.Config.RequestURILifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": uri,
		"expires_in":  int(s.Config.RequestURILifetime / time.Second),
	})
}

// takePAR consumes a pushed request (RFC 9126 §4: single use, not after
// expiry, bound to the client).
func (s *Server) takePAR(c *Client, uri string) (*authzRequest, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.pars[uri]
	switch {
	case rec == nil:
		return nil, newError(http.StatusBadRequest, "invalid_request_uri", "request_uri is invalid or expired")
	case rec.req.clientID != c.ID:
		return nil, newError(http.StatusBadRequest, "invalid_request_uri", "request_uri was pushed by another client")
	case rec.used:
		return nil, newError(http.StatusBadRequest, "invalid_request_uri", "request_uri has already been used")
	case !s.Config.Now().Before(rec.expires):
		return nil, newError(http.StatusBadRequest, "invalid_request_uri", "request_uri is invalid or expired")
	}
	rec.used = true
	return rec.req, nil
}

// handleAuthorize serves the authorization endpoint.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request, f *Fault) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, invalidRequest("malformed form body"))
			return
		}
		params = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	if e := checkSingle(params); e != nil {
		s.errorPage(w, e)
		return
	}
	// A missing client_id is a missing required parameter (RFC 6749
	// §4.1.2.1), an unknown one a client the server cannot identify.
	id := params.Get("client_id")
	if id == "" {
		s.errorPage(w, invalidRequest("client_id is required"))
		return
	}
	c := s.clients[id]
	if c == nil {
		s.errorPage(w, newError(http.StatusBadRequest, "invalid_client", "unknown client_id"))
		return
	}
	var req *authzRequest
	var e *oauthError
	if uri := params.Get("request_uri"); uri != "" {
		// RFC 9126 §4: every other parameter is ignored.
		if req, e = s.takePAR(c, uri); e != nil {
			s.errorPage(w, e)
			return
		}
	} else {
		signed := false
		if raw := params.Get("request"); raw != "" {
			ro, e := s.verifyRequestObject(c, raw)
			if e != nil {
				s.errorPage(w, e)
				return
			}
			if id := ro.Get("client_id"); id != "" && id != c.ID {
				s.errorPage(w, newError(http.StatusBadRequest, "invalid_request_object", "client_id claim does not match"))
				return
			}
			params, signed = ro, true
		} else if c.RequireSignedRequestObject {
			s.errorPage(w, invalidRequest("the client must use a request object"))
			return
		}
		req, e = s.validateAuthz(c, params, false)
		if e == nil {
			e = s.checkBrokerParams(req, signed)
		}
		if e != nil {
			// The recorded broker shows every error of the request on its
			// own page, never at the client.
			if req == nil || s.recorded() {
				s.errorPage(w, e)
			} else {
				s.redirectError(w, req, e, f)
			}
			return
		}
	}
	if s.recorded() {
		// broker-recorded.md: an unknown idp_values fails at the
		// authorization endpoint, on the broker's error page.
		if e := checkIDPValues(req); e != nil {
			s.errorPage(w, e)
			return
		}
	}
	req.clientIP = clientIP(r)
	if hasScope(req.prompt, "none") {
		// No session cookies: a headless server never has a session.
		s.redirectError(w, req, newError(http.StatusBadRequest, "login_required", "end-user authentication is required"), f)
		return
	}
	if s.Config.Interactive && r.Header.Get(subjectHeader) == "" {
		s.loginPage(w, req)
		return
	}
	u, e := s.pickUser(c, req, r.Header.Get(subjectHeader))
	if e != nil {
		s.errorPage(w, e)
		return
	}
	s.approve(w, req, u, f)
}

// pickUser chooses the user: explicit subject, else login_hint naming a
// user, else the client's default user, else the first user.
func (s *Server) pickUser(c *Client, req *authzRequest, subject string) (*User, *oauthError) {
	find := func(sub string) *User {
		for i := range s.users {
			if s.users[i].Subject == sub {
				return &s.users[i]
			}
		}
		return nil
	}
	if subject != "" {
		if u := find(subject); u != nil {
			return u, nil
		}
		return nil, invalidRequest("unknown user %q", subject)
	}
	if u := find(req.loginHint); u != nil && req.loginHint != "" {
		return u, nil
	}
	if c.DefaultUser != "" {
		if u := find(c.DefaultUser); u != nil {
			return u, nil
		}
	}
	return &s.users[0], nil
}

type codeRecord struct {
	req     *authzRequest
	sub     string
	sess    *loginSession
	expires time.Time
	used    bool
	grant   string // grant id: tokens issued from this code
}

// approve issues a code for user u and sends the authorization response,
// unless FailNextLogin queued a failure for this login.
func (s *Server) approve(w http.ResponseWriter, req *authzRequest, u *User, f *Fault) {
	if e := s.takeFailure(); e != nil {
		s.redirectError(w, req, e, f)
		return
	}
	sess := s.newSession(u, req.clientIP, req.tx)
	sess.acr, sess.loa = req.acr, capLevel(req.loa, u)
	if req.ciba != "" {
		s.finishCIBA(w, req, u, sess, nil, f)
		return
	}
	s.recordSession(sess, u.Subject, req.clientID)
	code := randomString(32)
	now := s.Config.Now()
	s.mu.Lock()
	s.codes[code] = &codeRecord{req: req, sub: u.Subject, sess: sess, expires: now.Add(s.Config.CodeLifetime), grant: randomString(12)}
	s.mu.Unlock()
	v := url.Values{"code": {code}}
	if s.recorded() {
		v.Set("session_state", sessionState(req.clientID, req.redirectURI, sess.sid))
	}
	s.respond(w, req, v, false, f)
}

// redirectError sends an error to the client (RFC 6749 §4.1.2.1): with
// state and iss, or as the recorded MitID broker does, with state and
// session_state and without iss.
func (s *Server) redirectError(w http.ResponseWriter, req *authzRequest, e *oauthError, f *Fault) {
	if req.ciba != "" {
		s.finishCIBA(w, req, nil, nil, e, f)
		return
	}
	v := url.Values{"error": {e.code}}
	if e.desc != "" {
		v.Set("error_description", e.desc)
	}
	s.respond(w, req, v, true, f)
}

// respond sends authorization response parameters to the client, with
// state and (RFC 9207) iss, as a 303 redirect or an auto-submitting form.
// The recorded MitID broker sends session_state in every response and
// leaves iss out of error responses (isError), although it advertises
// authorization_response_iss_parameter_supported; a Fault's Issuer still
// puts one there.
func (s *Server) respond(w http.ResponseWriter, req *authzRequest, v url.Values, isError bool, f *Fault) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	iss := s.Issuer()
	if f != nil && f.Issuer != "" {
		iss = f.Issuer
	}
	sendIss := !s.Config.NoIssParameter && (f == nil || !f.OmitIss)
	if s.recorded() {
		if isError && (f == nil || f.Issuer == "") {
			sendIss = false
		}
		if !v.Has("session_state") {
			v.Set("session_state", sessionState(req.clientID, req.redirectURI, newUUID()))
		}
	}
	if sendIss {
		v.Set("iss", iss)
	}
	if f != nil && f.AuthorizationResponse != nil {
		f.AuthorizationResponse(v)
	}
	if isJARM(req.responseMode) {
		jwt, err := s.jarmResponse(s.clients[req.clientID], v, iss, f)
		if err != nil {
			s.errorPage(w, newError(http.StatusInternalServerError, "server_error", "could not sign the authorization response"))
			return
		}
		plain := v
		v = url.Values{"response": {jwt}}
		if f != nil && f.JARMWithPlainParams {
			for k, vs := range plain {
				v[k] = vs
			}
		}
	}
	if req.responseMode == "form_post" || req.responseMode == "form_post.jwt" {
		s.formPost(w, req.redirectURI, v)
		return
	}
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		s.errorPage(w, invalidRequest("redirect_uri is malformed"))
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

var formPostTmpl = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Submit this form</title></head>
<body onload="javascript:document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}"/>
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form></body></html>
`))

type field struct{ Name, Value string }

// formPost renders the OAuth 2.0 Form Post Response Mode page.
func (s *Server) formPost(w http.ResponseWriter, action string, v url.Values) {
	var fields []field
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fields = append(fields, field{k, v.Get(k)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = formPostTmpl.Execute(w, struct {
		Action template.URL
		Fields []field
	}{template.URL(action), fields})
}

var errorTmpl = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><main id="error" data-error="{{.Code}}" data-error-description="{{.Desc}}">
<h1>{{.Code}}</h1><p>{{.Desc}}</p></main></body></html>
`))

// errorPage shows an error to the user instead of redirecting, for errors
// found before the redirect_uri is known to be valid (RFC 6749 §4.1.2.1).
// The recorded MitID broker sends the browser to its own error page for
// these and for every other error of the request (BrokerLayout).
func (s *Server) errorPage(w http.ResponseWriter, e *oauthError) {
	if s.recorded() {
		s.brokerErrorRedirect(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = errorTmpl.Execute(w, struct{ Code, Desc string }{e.code, e.desc})
}

var loginTmpl = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>partest login</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}button{display:block;width:100%;margin:.5em 0;padding:.8em;text-align:left}small{color:#555}.cancel{text-align:center}pre{white-space:pre-wrap;border:1px solid #999;padding:.5em}</style>
</head><body><h1>Choose a test identity</h1>
<p>Client <code>{{.Client}}</code> asks for <code>{{.Scope}}</code>. partest is a test server: no password is needed.</p>
{{if .Sign}}<section id="transaction-text"><h2>You are asked to sign ({{.SignType}})</h2><pre>{{.Sign}}</pre></section>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Tx}}"/>
{{range .Users}}<button type="submit" name="sub" value="{{.Subject}}"{{if .Hinted}} autofocus{{end}}><strong>{{.Name}}</strong>{{if .Kind}} <small>{{.Kind}}</small>{{end}}{{if .Levels}}<br><span class="levels">{{.Levels}}</span>{{end}}{{if .Details}}<br><small>{{.Details}}</small>{{end}}<br><small>sub {{.Subject}}</small></button>
{{end}}<button type="submit" name="cancel" value="1" class="cancel">Cancel</button>
</form></body></html>
`))

type loginUser struct {
	Subject, Name, Kind, Levels, Details string
	Hinted                               bool
}

// describeUser returns what the identity page shows of u: a display name
// (name, mitid.identity_name, nemlogin.name, given and family name, else
// the subject), the kind of identity, its assurance levels and a few
// details.
func describeUser(u User) loginUser {
	str := func(k string) string {
		v, _ := stringValue(u.Claims[k])
		s, _ := v.(string)
		return s
	}
	out := loginUser{Subject: u.Subject}
	for _, k := range []string{"name", "mitid.identity_name", "nemlogin.name"} {
		if out.Name = str(k); out.Name != "" {
			break
		}
	}
	if out.Name == "" {
		out.Name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if out.Name == "" {
		out.Name = u.Subject
	}
	var kind []string
	switch idp := str("idp"); idp {
	case "mitid":
		kind = append(kind, "MitID")
	case "mitid_erhverv":
		kind = append(kind, "MitID Erhverv")
	case "":
	default:
		kind = append(kind, idp)
	}
	if t := str("identity_type"); t != "" {
		kind = append(kind, t)
	}
	out.Kind = strings.Join(kind, ", ")
	var levels []string
	for _, l := range []struct{ claim, label string }{{"loa", "LoA"}, {"ial", "IAL"}, {"aal", "AAL"}, {"acr", "acr"}} {
		if v := str(l.claim); v != "" {
			levels = append(levels, l.label+" "+v[strings.LastIndex(v, "/")+1:])
		}
	}
	out.Levels = strings.Join(levels, " · ")
	var details []string
	if v := str("mitid.date_of_birth"); v != "" {
		details = append(details, "born "+v)
	}
	if v := str("mitid.age"); v != "" {
		details = append(details, "age "+v)
	}
	if v := str("mitid.has_cpr"); v != "" {
		details = append(details, "CPR "+v)
	}
	if v := str("nemlogin.org_name"); v != "" {
		details = append(details, v)
	}
	if v := str("nemlogin.cvr"); v != "" {
		details = append(details, "CVR "+v)
	}
	if v := str("email"); v != "" {
		details = append(details, v)
	}
	out.Details = strings.Join(details, ", ")
	return out
}

// loginPage renders the interactive identity picker (Config.Interactive):
// each user with name, levels and details, the transaction text to sign,
// and a Cancel button.
func (s *Server) loginPage(w http.ResponseWriter, req *authzRequest) {
	tx := randomString(24)
	s.mu.Lock()
	s.txs[tx] = &txRecord{req: req, expires: s.Config.Now().Add(10 * time.Minute)}
	s.mu.Unlock()
	var users []loginUser
	for _, u := range s.users {
		lu := describeUser(u)
		lu.Hinted = u.Subject == req.loginHint
		users = append(users, lu)
	}
	data := map[string]any{
		"Client": req.clientID, "Scope": req.scope, "Tx": tx, "Users": users,
		"Action": template.URL(s.endpointURL(pathLoginForm)),
	}
	if req.tx != nil {
		data["SignType"] = req.tx.textType
		if req.tx.textType == "pdf" {
			data["Sign"] = fmt.Sprintf("a PDF document of %d bytes", len(req.tx.decodedText()))
		} else {
			data["Sign"] = req.tx.decodedText()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = loginTmpl.Execute(w, data)
}

// handleLoginForm completes an interactive login: the user picked sub, or
// pressed Cancel.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request, f *Fault) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.errorPage(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, invalidRequest("malformed form body"))
		return
	}
	tx := r.PostForm.Get("tx")
	s.mu.Lock()
	rec := s.txs[tx]
	delete(s.txs, tx)
	s.mu.Unlock()
	if rec == nil || !s.Config.Now().Before(rec.expires) {
		s.errorPage(w, invalidRequest("login transaction is unknown, used or expired"))
		return
	}
	if r.PostForm.Has("cancel") {
		s.redirectError(w, rec.req, s.cancelError(), f)
		return
	}
	c := s.clients[rec.req.clientID]
	u, e := s.pickUser(c, rec.req, r.PostForm.Get("sub"))
	if e != nil {
		s.errorPage(w, e)
		return
	}
	s.approve(w, rec.req, u, f)
}

// verifyRequestObject verifies an RFC 9101 request object of client c,
// signed with a key of the client's JWKS or HS256/384/512 with its secret,
// and returns its claims as authorization parameters.
func (s *Server) verifyRequestObject(c *Client, raw string) (url.Values, *oauthError) {
	bad := func(format string, args ...any) *oauthError {
		e := newError(http.StatusBadRequest, "invalid_request_object", format, args...)
		e.brokerDesc = "Invalid JWT request" // broker-recorded.md, "Back channel"
		return e
	}
	if strings.Count(raw, ".") == 4 {
		// RFC 9101 §6.1: a nested JWT, signed and then encrypted.
		if !s.Config.BrokerJWKS {
			return nil, bad("encrypted request objects are not supported (no encryption key published)")
		}
		inner, err := s.decryptRequestObject(raw)
		if err != nil {
			return nil, bad("request object could not be decrypted")
		}
		raw = inner
	}
	obj, err := jose.ParseSignedCompact(raw, append(slices.Clone(asymmetricAlgs), hmacAlgs...))
	if err != nil || len(obj.Signatures) != 1 {
		return nil, bad("request object is not a supported signed JWT (alg none is refused)")
	}
	h := obj.Signatures[0].Protected
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok {
		if t := strings.ToLower(typ); t != "jwt" && t != "oauth-authz-req+jwt" && t != "application/oauth-authz-req+jwt" {
			return nil, bad("request object typ %q not accepted", typ)
		}
	}
	var payload []byte
	if isHMAC(h.Algorithm) {
		if c.Secret == "" {
			return nil, bad("HMAC request objects need a client secret")
		}
		payload, err = verifyHMAC(raw, h.Algorithm, []byte(c.Secret))
	} else {
		payload, err = verifyWithJWKS(obj, c.JWKS)
	}
	if err != nil {
		return nil, bad("request object signature is invalid")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, bad("request object payload is not a JSON object")
	}
	if stringClaim(claims, "iss") != c.ID {
		return nil, bad("request object iss must be the client_id")
	}
	if id, ok := claims["client_id"]; !ok || id != c.ID {
		return nil, bad("request object client_id claim must be the client_id")
	}
	auds, _, err := audiences(claims)
	if err != nil || !slices.Contains(auds, s.Issuer()) {
		return nil, bad("request object aud must be the issuer")
	}
	now := s.Config.Now()
	exp, ok, err := numericDate(claims, "exp")
	if err != nil || !ok {
		return nil, bad("request object exp is missing or malformed")
	}
	if !now.Before(exp) {
		return nil, bad("request object has expired")
	}
	nbf, ok, err := numericDate(claims, "nbf")
	switch {
	case err != nil || (ok && nbf.After(now.Add(s.Config.ClockSkew))):
		return nil, bad("request object is not valid yet")
	case ok && exp.Sub(nbf) > time.Hour:
		// FAPI 2.0 Message Signing §5.3.1: exp at most 60 minutes after nbf.
		return nil, bad("request object lifetime exceeds 60 minutes")
	}
	if _, has := claims["request"]; has {
		return nil, bad("request object must not contain request")
	}
	if _, has := claims["request_uri"]; has {
		return nil, bad("request object must not contain request_uri")
	}
	if jti := stringClaim(claims, "jti"); jti != "" {
		if !s.remember("request\x00"+c.ID+"\x00"+jti, exp) {
			return nil, bad("request object jti has already been used")
		}
	}
	// JSON-valued claims (authorization_details, claims, idp_params) keep
	// their text as sent: no float64 detour for large numbers, members in
	// their order.
	var raws map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raws); err != nil {
		return nil, bad("request object payload is not a JSON object")
	}
	out := url.Values{}
	for k, v := range claims {
		switch k {
		case "iss", "aud", "exp", "iat", "nbf", "jti":
			continue
		}
		switch x := v.(type) {
		case string:
			out.Set(k, x)
		case json.Number:
			out.Set(k, x.String())
		case bool:
			out.Set(k, strconv.FormatBool(x))
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, raws[k]); err != nil {
				return nil, bad("request object claim %s is malformed", k)
			}
			out.Set(k, buf.String())
		}
	}
	return out, nil
}
