package partest

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The logout paths below the issuer path: the provider's own logout page
// (a user who logs out at the provider), which ends a session by sid.
const pathProviderLogout = "/connect/endsession/provider"

// logoutEvent is the events member of a logout token (OIDC Back-Channel
// Logout 1.0 §2.4).
const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime is the exp of the logout tokens the server sends.
const logoutTokenLifetime = 2 * time.Minute

// provSession is a provider session: one login of a user, and the clients
// that received tokens in it.
type provSession struct {
	sess    *loginSession
	sub     string
	clients []string
	ended   bool
}

// recordSession notes that client got tokens in the login sess of user sub.
func (s *Server) recordSession(sess *loginSession, sub, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.sessions[sess.sid]
	if ps == nil || ps.ended {
		// A new session (a user's own neb_sid is reused for every login).
		ps = &provSession{sess: sess, sub: sub}
		s.sessions[sess.sid] = ps
	}
	if !slices.Contains(ps.clients, clientID) {
		ps.clients = append(ps.clients, clientID)
	}
}

// hasLogout reports whether c registered a back- or front-channel logout
// URI: its ID tokens then carry sid (OIDC Back-Channel Logout 1.0 §2.1,
// Front-Channel Logout 1.0 §3).
func (c *Client) hasLogout() bool {
	return c.BackchannelLogoutURI != "" || c.FrontchannelLogoutURI != ""
}

// SignLogoutToken signs claims as a logout token: the server's current key
// for Config.IDTokenAlg and typ logout+jwt (OIDC Back-Channel Logout 1.0
// §2.4). The claims are taken as they are: tests build valid or forged
// logout tokens with it.
func (s *Server) SignLogoutToken(claims map[string]any) (string, error) {
	k, err := s.signingKey(s.Config.IDTokenAlg)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return signJWT(k.Key.(crypto.Signer), s.Config.IDTokenAlg, k.KeyID, "logout+jwt", claims)
}

// LogoutTokenClaims returns the claims of the logout token the server
// sends to clientID for its session sid (OIDC Back-Channel Logout 1.0
// §2.4): iss, aud, iat, exp (two minutes), a fresh jti, events, sid and
// the sub the client sees. Tests change them and sign them with
// [Server.SignLogoutToken] to forge a token.
func (s *Server) LogoutTokenClaims(clientID, sid string) (map[string]any, error) {
	c := s.clients[clientID]
	if c == nil {
		return nil, fmt.Errorf("partest: unknown client %q", clientID)
	}
	s.mu.Lock()
	ps := s.sessions[sid]
	s.mu.Unlock()
	if ps == nil {
		return nil, fmt.Errorf("partest: no session %q", sid)
	}
	now := s.Config.Now()
	return map[string]any{
		"iss": s.Issuer(), "aud": c.ID, "iat": now.Unix(), "exp": now.Add(logoutTokenLifetime).Unix(),
		"jti": randomString(16), "sid": sid, "sub": s.subjectFor(c, ps.sub),
		"events": map[string]any{logoutEvent: map[string]any{}},
	}, nil
}

// Sessions returns the sid of every provider session (one per login)
// that has not ended in which clientID received tokens, oldest first is
// not guaranteed; tests use it to end the session a login made.
func (s *Server) Sessions(clientID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for sid, ps := range s.sessions {
		if !ps.ended && slices.Contains(ps.clients, clientID) {
			out = append(out, sid)
		}
	}
	slices.Sort(out)
	return out
}

// EndSession ends the provider session sid as the provider does when the
// user logs out (OIDC Back-Channel Logout 1.0 §2.7): it POSTs a logout
// token (logout_token, form-encoded, no redirects followed) to the
// BackchannelLogoutURI of every client that received tokens in the session,
// and returns an error joining the deliveries that did not answer 200.
// Front-channel logout needs a browser: see [Server.LogoutPageURL].
func (s *Server) EndSession(ctx context.Context, sid string) error {
	clients, err := s.endSession(sid)
	if err != nil {
		return err
	}
	return s.sendBackchannelLogouts(ctx, sid, clients)
}

// endSession marks sid ended and returns its clients.
func (s *Server) endSession(sid string) ([]*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.sessions[sid]
	if ps == nil {
		return nil, fmt.Errorf("partest: no session %q", sid)
	}
	ps.ended = true
	var out []*Client
	for _, id := range ps.clients {
		if c := s.clients[id]; c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// sendBackchannelLogouts posts a logout token to each client's
// BackchannelLogoutURI.
func (s *Server) sendBackchannelLogouts(ctx context.Context, sid string, clients []*Client) error {
	var errs []error
	for _, c := range clients {
		if c.BackchannelLogoutURI == "" {
			continue
		}
		claims, err := s.LogoutTokenClaims(c.ID, sid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tok, err := s.SignLogoutToken(claims)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := PostLogoutToken(ctx, c.BackchannelLogoutURI, tok); err != nil {
			errs = append(errs, fmt.Errorf("partest: back-channel logout of client %q: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// PostLogoutToken posts logoutToken to a client's back-channel logout URI
// as a provider does (OIDC Back-Channel Logout 1.0 §2.5: a form-encoded
// logout_token, no redirects followed) and returns an error unless the
// answer is 200 OK. Tests post forged or replayed tokens with it.
func PostLogoutToken(ctx context.Context, uri, logoutToken string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri,
		strings.NewReader(url.Values{"logout_token": {logoutToken}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// LogoutPageURL returns the URL of the provider's own logout page for the
// session sid, as a user who logs out at the provider meets it: opened in
// a browser it ends the session, sends the back-channel logout tokens, and
// shows an iframe per client with a FrontchannelLogoutURI, loading it with
// iss and sid (OIDC Front-Channel Logout 1.0 §2, §3). Once every iframe
// has loaded, the page's title becomes "Signed out". It is a test hook: a
// real provider ends the session of the browser's own cookie.
func (s *Server) LogoutPageURL(sid string) string {
	return s.endpointURL(pathProviderLogout) + "?" + url.Values{"sid": {sid}}.Encode()
}

// frontchannelPage shows the front-channel logout iframes.
var frontchannelPage = template.Must(template.New("fc").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signing out</title></head>
<body onload="document.title='Signed out'"><h1>Signed out</h1>
{{range .}}<iframe src="{{.}}" width="1" height="1" title="front-channel logout"></iframe>
{{end}}</body></html>
`))

// handleProviderLogout serves the page of LogoutPageURL.
func (s *Server) handleProviderLogout(w http.ResponseWriter, r *http.Request, _ *Fault) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		s.errorPage(w, newError(http.StatusMethodNotAllowed, "invalid_request", "method not allowed"))
		return
	}
	sid := r.URL.Query().Get("sid")
	clients, err := s.endSession(sid)
	if err != nil {
		s.errorPage(w, invalidRequest("no such session"))
		return
	}
	s.frontchannelLogout(w, r, sid, clients, "")
}

// frontchannelLogout sends the back-channel logout tokens of sid and
// answers with the page of front-channel iframes (then, when next is set,
// a link on to next).
func (s *Server) frontchannelLogout(w http.ResponseWriter, r *http.Request, sid string, clients []*Client, next string) {
	// Deliveries that fail do not stop the logout (§2.8 leaves retries to
	// the provider); a test sees them through its own client.
	_ = s.sendBackchannelLogouts(r.Context(), sid, clients)
	var frames []template.URL
	for _, c := range clients {
		if c.FrontchannelLogoutURI == "" {
			continue
		}
		u, err := url.Parse(c.FrontchannelLogoutURI)
		if err != nil {
			continue
		}
		q := u.Query()
		q.Set("iss", s.Issuer())
		q.Set("sid", sid)
		u.RawQuery = q.Encode()
		frames = append(frames, template.URL(u.String())) // a registered URI
	}
	if len(frames) == 0 && next != "" {
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if next != "" {
		// Continue to the client once the iframes have loaded.
		w.Header().Set("Refresh", "1; url="+next)
	}
	_ = frontchannelPage.Execute(w, frames)
}

// The assurance a login is asked for (step-up, RFC 9470 §4 on the client's
// side): acr_values, or at the MitID broker idp_params.mitid.loa_value.

// parseLoA reads idp_params.mitid.loa_value and enable_step_up (the MitID
// broker's idps/mitid.md): a level of low, substantial or high gives its
// NSIS URI; enable_step_up needs a level and prompt=login, as the broker
// requires (broker-recorded.md).
func parseLoA(idpParams, prompt string) (string, *oauthError) {
	if idpParams == "" {
		return "", nil
	}
	var p struct {
		MitID struct {
			LoA    *string `json:"loa_value"`
			StepUp bool    `json:"enable_step_up"`
		} `json:"mitid"`
	}
	if json.Unmarshal([]byte(idpParams), &p) != nil {
		return "", nil // passed on to the identity provider unchecked
	}
	loa := ""
	if p.MitID.LoA != nil {
		switch strings.ToLower(*p.MitID.LoA) {
		case "low":
			loa = nsisURI + "Low"
		case "substantial":
			loa = nsisURI + "Substantial"
		case "high":
			loa = nsisURI + "High"
		default:
			return "", invalidRequest("idp_params.mitid.loa_value must be low, substantial or high")
		}
	}
	if p.MitID.StepUp {
		if !hasScope(prompt, "login") {
			return "", invalidRequest("idp_params.mitid.enable_step_up requires prompt=login")
		}
		if loa == "" {
			return "", invalidRequest("idp_params.mitid.enable_step_up requires loa_value")
		}
	}
	return loa, nil
}

// nsisURI prefixes the NSIS levels as the MitID broker issues them.
const nsisURI = "https://data.gov.dk/concept/core/nsis/"

// capLevel returns the level a login asked for at loa reaches for user u:
// no higher than the user's identity assurance (its ial claim, else its
// loa), as a MitID user cannot log in above the level of the identity.
// Empty loa stays empty (the user's own level applies).
func capLevel(loa string, u *User) string {
	if loa == "" || u == nil {
		return loa
	}
	most, _ := u.Claims["ial"].(string)
	if most == "" {
		most, _ = u.Claims["loa"].(string)
	}
	if r := levelRank(most); r > 0 && r < levelRank(loa) {
		return most
	}
	return loa
}

// levelRank orders NSIS level URIs (either spelling): 1 Low, 2
// Substantial, 3 High, 0 for anything else.
func levelRank(uri string) int {
	name, ok := strings.CutPrefix(uri, nsisURI)
	if !ok {
		return 0
	}
	switch strings.TrimPrefix(name, "loa/") {
	case "Low":
		return 1
	case "Substantial":
		return 2
	case "High":
		return 3
	}
	return 0
}

// loginACR is the acr of g's login: the level asked for with acr_values or
// (broker) loa_value, else the user's acr or loa claim.
func (s *Server) loginACR(g *grant) string {
	if g.sess != nil && g.sess.loa != "" {
		return g.sess.loa
	}
	if g.sess != nil && g.sess.acr != "" && !s.Config.BrokerLayout {
		return g.sess.acr
	}
	u := s.user(g.sub)
	if a, _ := u.Claims["acr"].(string); a != "" {
		return a
	}
	a, _ := u.Claims["loa"].(string)
	return a
}
