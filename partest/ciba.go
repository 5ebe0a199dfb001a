package partest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GrantTypeCIBA is the CIBA grant type (OpenID CIBA Core 1.0 §10.1).
const GrantTypeCIBA = "urn:openid:params:grant-type:ciba"

// flowTypeBrokerOIDC is the MitID broker's login_hint_token flow_type for
// the CIBA→PAR bridge.
const flowTypeBrokerOIDC = "broker_oidc"

type cibaStatus int

const (
	cibaPending cibaStatus = iota
	cibaApproved
	cibaDenied
	cibaDone // result returned once; later polls get invalid_grant
)

// cibaRecord is one backchannel authentication request (CIBA Core §7).
type cibaRecord struct {
	clientID string
	scope    string
	params   url.Values // OIDC parameters from login_hint_token
	hint     string     // subject named by login_hint or id_token_hint
	bridged  bool       // flow_type broker_oidc: completed through init-auth
	expires  time.Time
	interval time.Duration
	lastPoll time.Time // creation or last answered poll
	status   cibaStatus
	sub      string
	sess     *loginSession
	denial   *oauthError
	grant    string
}

// handleCIBA serves the backchannel authentication endpoint (CIBA Core
// §7.1–§7.3, §13) as the MitID broker does: client authentication as at
// the token endpoint, scope, and exactly one of login_hint_token (the
// broker's JSON object with flow_type broker_oidc and the OIDC parameters),
// login_hint or id_token_hint.
func (s *Server) handleCIBA(w http.ResponseWriter, r *http.Request, _ *Fault) {
	form, c, e := s.readAuthenticated(w, r)
	if e != nil {
		s.writeError(w, e)
		return
	}
	rec, e := s.newCIBA(c, form)
	if e != nil {
		s.writeError(w, e)
		return
	}
	id := newCIBAID()
	s.mu.Lock()
	s.cibas[id] = rec
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"auth_req_id": id,
		"expires_in":  int(rec.expires.Sub(rec.lastPoll) / time.Second),
		"interval":    int(rec.interval / time.Second),
	})
}

// newCIBAID mimics the broker's auth_req_id: 64 upper-case hex and "-1".
func newCIBAID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b)) + "-1"
}

func (s *Server) newCIBA(c *Client, form url.Values) (*cibaRecord, *oauthError) {
	if c.AuthMethod == AuthNone {
		return nil, newError(http.StatusBadRequest, "unauthorized_client", "CIBA requires an authenticated client")
	}
	if gt := form.Get("grant_type"); gt != "" && gt != GrantTypeCIBA {
		return nil, invalidRequest("grant_type must be %s when sent", GrantTypeCIBA)
	}
	scope := form.Get("scope")
	if !hasScope(scope, "openid") {
		return nil, newError(http.StatusBadRequest, "invalid_scope", "scope must include openid")
	}
	if len(c.Scopes) > 0 {
		for _, sc := range strings.Fields(scope) {
			if !slices.Contains(c.Scopes, sc) {
				return nil, newError(http.StatusBadRequest, "invalid_scope", "scope %q is not allowed for the client", sc)
			}
		}
	}
	n := 0
	for _, k := range []string{"login_hint_token", "id_token_hint", "login_hint"} {
		if form.Get(k) != "" {
			n++
		}
	}
	if n != 1 {
		return nil, invalidRequest("exactly one of login_hint_token, id_token_hint and login_hint is required")
	}
	now := s.Config.Now()
	rec := &cibaRecord{clientID: c.ID, scope: scope, params: url.Values{}, lastPoll: now,
		expires: now.Add(s.Config.CIBALifetime), interval: s.Config.CIBAInterval, grant: randomString(12)}
	switch {
	case form.Get("login_hint_token") != "":
		params, err := parseLoginHintToken(form.Get("login_hint_token"))
		if err != nil {
			return nil, invalidRequest("login_hint_token: %v", err)
		}
		if ft := params.Get("flow_type"); ft != flowTypeBrokerOIDC {
			return nil, invalidRequest("login_hint_token flow_type %q is not supported, use %s", ft, flowTypeBrokerOIDC)
		}
		params.Del("flow_type")
		rec.params, rec.bridged = params, true
	case form.Get("login_hint") != "":
		rec.hint = form.Get("login_hint")
	default:
		claims, err := s.verifyOwnJWT(form.Get("id_token_hint"))
		if err != nil || stringClaim(claims, "iss") != s.Issuer() {
			return nil, invalidRequest("id_token_hint is not a valid ID token of this issuer")
		}
		rec.hint = s.userSubject(c, stringClaim(claims, "sub"))
	}
	if rec.hint != "" && !slices.ContainsFunc(s.users, func(u User) bool { return u.Subject == rec.hint }) {
		return nil, newError(http.StatusBadRequest, "unknown_user_id", "the hinted user is not known")
	}
	if re := form.Get("requested_expiry"); re != "" {
		n, err := strconv.Atoi(re)
		if err != nil || n <= 0 {
			return nil, invalidRequest("requested_expiry must be a positive integer")
		}
		rec.expires = now.Add(min(time.Duration(n)*time.Second, s.Config.CIBALifetime))
	}
	return rec, nil
}

// parseLoginHintToken reads the broker's login_hint_token: a JSON object
// (not a JWT) whose members are authorization parameters. Non-string
// values are kept as their JSON text, as in request objects.
func parseLoginHintToken(raw string) (url.Values, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	out := url.Values{}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out.Set(k, x)
		case json.Number:
			out.Set(k, x.String())
		case bool:
			out.Set(k, strconv.FormatBool(x))
		case nil:
		default:
			b, _ := json.Marshal(x)
			out.Set(k, string(b))
		}
	}
	for _, k := range []string{"client_id", "response_type", "request_uri", "request", "redirect_uri"} {
		if out.Has(k) {
			return nil, fmt.Errorf("%s cannot be set in login_hint_token", k)
		}
	}
	return out, nil
}

// handleInitAuth serves the MitID broker's CIBA→PAR bridge
// (ciba-par-oidc-integration.md): it turns a pending broker_oidc request into
// a pushed authorization request and returns request_uri, expires_in and
// authentication_uri (the authorization URL with client_id and request_uri
// only). The members requestId, redirectUri and state come either
// form-encoded with the client's authentication, or as the documented JSON
// object without authentication (the auth_req_id is the capability).
func (s *Server) handleInitAuth(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method %s not allowed, use POST", r.Method))
		return
	}
	var in url.Values
	var c *Client
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		form, cl, e := s.readAuthenticated(w, r)
		if e != nil {
			s.writeError(w, e)
			return
		}
		c = cl
		in = form
	case "application/json":
		var m map[string]string
		b, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
		if err != nil || len(b) > maxForm || json.Unmarshal(b, &m) != nil || m == nil {
			s.writeError(w, invalidRequest("body must be a JSON object of strings"))
			return
		}
		in = url.Values{}
		for k, v := range m {
			in.Set(k, v)
		}
	default:
		s.writeError(w, invalidRequest("content type must be application/x-www-form-urlencoded or application/json"))
		return
	}
	id := in.Get("requestId")
	if id == "" {
		s.writeError(w, invalidRequest("requestId is required"))
		return
	}
	now := s.Config.Now()
	s.mu.Lock()
	rec := s.cibas[id]
	var e *oauthError
	switch {
	case rec == nil || (c != nil && rec.clientID != c.ID):
		e = invalidRequest("requestId is unknown")
	case !rec.bridged:
		e = invalidRequest("requestId was not started with flow_type %s", flowTypeBrokerOIDC)
	case rec.status != cibaPending:
		e = invalidRequest("requestId is no longer pending")
	case !now.Before(rec.expires):
		e = newError(http.StatusBadRequest, "expired_token", "requestId has expired")
	}
	var clientID, scope string
	var params url.Values
	if e == nil {
		clientID, scope, params = rec.clientID, rec.scope, rec.params
	}
	s.mu.Unlock()
	if e != nil {
		s.writeError(w, e)
		return
	}
	c = s.clients[clientID]
	ru := in.Get("redirectUri")
	if ru != "" && !slices.Contains(c.RedirectURIs, ru) && !(c.AllowUnregisteredRedirectURIsViaPAR && validRedirectURI(ru)) {
		s.writeError(w, invalidRequest("redirectUri is not registered for the client"))
		return
	}
	req := &authzRequest{
		clientID: clientID, redirectURI: ru, responseMode: "query", state: in.Get("state"),
		nonce: params.Get("nonce"), scope: scope, loginHint: params.Get("login_hint"),
		prompt: params.Get("prompt"), params: params, ciba: id,
	}
	uri := newRequestURI()
	s.mu.Lock()
	s.pars[uri] = &parRecord{req: req, expires: now.Add(s.Config.RequestURILifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"request_uri": uri,
		"expires_in":  int(s.Config.RequestURILifetime / time.Second),
		"authentication_uri": s.endpointURL(pathAuthorize) + "?" +
			url.Values{"client_id": {clientID}, "request_uri": {uri}}.Encode(),
	})
}

// newRequestURI returns a request_uri shaped like the MitID broker's: the
// RFC 9126 URN prefix and 64 upper-case hex digits.
func newRequestURI() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return requestURIPrefix + strings.ToUpper(hex.EncodeToString(b))
}

// handleCIBACancel serves DELETE {issuer}/api/v1/ciba/{auth_req_id}, the
// broker's cancel API (enterprise/flex-app-ciba.md). Like the broker's
// documentation it asks for no authentication: the auth_req_id is the
// capability. A cancelled request is forgotten: polls get invalid_grant.
func (s *Server) handleCIBACancel(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if r.Method != http.MethodDelete {
		w.Header().Set("Allow", http.MethodDelete)
		s.writeError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method %s not allowed, use DELETE", r.Method))
		return
	}
	id := strings.TrimPrefix(r.URL.Path, s.Config.IssuerPath+pathCIBACancel)
	s.mu.Lock()
	_, ok := s.cibas[id]
	delete(s.cibas, id)
	s.mu.Unlock()
	if !ok {
		s.writeError(w, newError(http.StatusNotFound, "invalid_request", "unknown auth_req_id"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cibaGrant answers a token request with the CIBA grant (CIBA Core §10.1,
// §11): authorization_pending while the user has not finished; slow_down
// when polled sooner than the interval after the last answered poll, which
// also adds 5 s to the interval; access_denied when the user refused;
// expired_token after expires_in; the tokens once, then invalid_grant.
func (s *Server) cibaGrant(c *Client, id string) (*grant, *oauthError) {
	if id == "" {
		return nil, invalidRequest("auth_req_id is required")
	}
	now := s.Config.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.cibas[id]
	switch {
	case rec == nil || rec.clientID != c.ID:
		return nil, invalidGrant("auth_req_id is invalid or was cancelled")
	case rec.status == cibaDone:
		return nil, invalidGrant("the result of auth_req_id was already returned")
	case !now.Before(rec.expires):
		return nil, newError(http.StatusBadRequest, "expired_token", "auth_req_id has expired")
	}
	switch rec.status {
	case cibaDenied:
		rec.status = cibaDone
		return nil, rec.denial
	case cibaApproved:
		rec.status = cibaDone
		g := &grant{client: c, sub: rec.sub, scope: rec.scope, nonce: rec.params.Get("nonce"), id: rec.grant, sess: rec.sess, fresh: true}
		if s.Config.BrokerLayout {
			g.extra = map[string]any{"idtoken_type": "ciba"}
		}
		return g, nil
	}
	if now.Sub(rec.lastPoll) < rec.interval {
		rec.interval += 5 * time.Second
		return nil, newError(http.StatusBadRequest, "slow_down", "polled sooner than the interval; it is now %d s", int(rec.interval/time.Second))
	}
	rec.lastPoll = now
	return nil, newError(http.StatusBadRequest, "authorization_pending", "the user has not finished yet")
}

// finishCIBA ends the browser part of a bridged request: the user u
// approved in login session sess (e == nil) or the login failed with e.
// Without a redirectUri the browser lands on a page saying the window may
// be closed (or on an error page); with one, it is redirected there with
// state and iss, and error and error_description on failure.
func (s *Server) finishCIBA(w http.ResponseWriter, req *authzRequest, u *User, sess *loginSession, e *oauthError, f *Fault) {
	now := s.Config.Now()
	s.mu.Lock()
	rec := s.cibas[req.ciba]
	ok := rec != nil && rec.status == cibaPending && now.Before(rec.expires)
	if ok {
		if e == nil {
			rec.status, rec.sub, rec.sess = cibaApproved, u.Subject, sess
		} else {
			rec.status, rec.denial = cibaDenied, cibaDenial(e)
		}
	}
	s.mu.Unlock()
	if !ok {
		s.errorPage(w, invalidRequest("the backchannel authentication request is no longer pending"))
		return
	}
	if req.redirectURI != "" {
		v := url.Values{}
		if e != nil {
			v.Set("error", e.code)
			if e.desc != "" {
				v.Set("error_description", e.desc)
			}
		}
		s.respond(w, req, v, e != nil, f)
		return
	}
	if e != nil {
		s.errorPage(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = doneTmpl.Execute(w, nil)
}

// doneMarker identifies the landing page of a completed bridged login.
const doneMarker = `id="ciba-done"`

var doneTmpl = template.Must(template.New("done").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Login completed</title></head>
<body><main ` + doneMarker + `><h1>Login completed</h1>
<p>You may close this window.</p></main></body></html>
`))

// DenyCIBA makes the pending backchannel authentication request
// authReqID fail as if the user had aborted: its next poll gets
// access_denied with error_description mitid_user_aborted (the broker's
// documented code), later ones invalid_grant.
func (s *Server) DenyCIBA(authReqID string) error {
	return s.settleCIBA(authReqID, func(rec *cibaRecord) error {
		rec.status = cibaDenied
		rec.denial = cibaDenial(newError(http.StatusBadRequest, "access_denied", "mitid_user_aborted"))
		return nil
	})
}

// ApproveCIBA approves the pending backchannel authentication request
// authReqID for the user with the given subject, without a browser: empty
// means the user named by login_hint or id_token_hint, else the client's
// default user, else the first user. Requests started with
// login_hint_token are usually approved by logging in at their
// authentication_uri instead (see [Server.Login]).
func (s *Server) ApproveCIBA(authReqID, subject string) error {
	return s.settleCIBA(authReqID, func(rec *cibaRecord) error {
		c := s.clients[rec.clientID]
		u, e := s.pickUser(c, &authzRequest{loginHint: rec.hint}, subject)
		if e != nil {
			return fmt.Errorf("partest: %s", e.desc)
		}
		rec.status, rec.sub, rec.sess = cibaApproved, u.Subject, s.newSession(u, "127.0.0.1", nil)
		return nil
	})
}

// cibaDenial is the poll answer after a browser login that failed with e:
// access_denied, described by the broker's code (e's description for an
// access_denied, else e's code). The broker's bare error bodies keep that
// description: it is the documented way to tell a cancel from other
// denials, and no recording of a CIBA denial says otherwise.
func cibaDenial(e *oauthError) *oauthError {
	desc := e.code
	if e.code == "access_denied" && e.desc != "" {
		desc = e.desc
	}
	d := newError(http.StatusBadRequest, "access_denied", "%s", desc)
	d.brokerDesc = desc
	return d
}

func (s *Server) settleCIBA(id string, apply func(*cibaRecord) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.cibas[id]
	switch {
	case rec == nil:
		return errors.New("partest: unknown auth_req_id")
	case rec.status != cibaPending:
		return errors.New("partest: auth_req_id is no longer pending")
	case !s.Config.Now().Before(rec.expires):
		return errors.New("partest: auth_req_id has expired")
	}
	return apply(rec)
}
