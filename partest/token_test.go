package partest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCodeExchange covers the token endpoint's authorization_code checks.
func TestCodeExchange(t *testing.T) {
	t.Parallel()
	other := Client{ID: "other", Secret: "o", RedirectURIs: []string{testCallback}}
	tests := []struct {
		name      string
		change    func(url.Values)
		header    http.Header
		advance   time.Duration
		wantError string
	}{
		{"ok", nil, nil, 0, ""},
		{"PKCE mismatch", func(v url.Values) { v.Set("code_verifier", randomString(32)) }, nil, 0, "invalid_grant"},
		{"no verifier", func(v url.Values) { v.Del("code_verifier") }, nil, 0, "invalid_grant"},
		{"verifier is the challenge", nil, nil, 0, "invalid_grant"},
		{"redirect_uri mismatch", func(v url.Values) { v.Set("redirect_uri", "https://rp.example/other") }, nil, 0, "invalid_grant"},
		{"no redirect_uri", func(v url.Values) { v.Del("redirect_uri") }, nil, 0, "invalid_grant"},
		{"unknown code", func(v url.Values) { v.Set("code", "nope") }, nil, 0, "invalid_grant"},
		{"other client", nil, basic("other", "o"), 0, "invalid_grant"},
		{"expired code", nil, nil, 61 * time.Second, "invalid_grant"},
		{"no grant_type", func(v url.Values) { v.Del("grant_type") }, nil, 0, "invalid_request"},
		{"unsupported grant", func(v url.Values) { v.Set("grant_type", "password") }, nil, 0, "unsupported_grant_type"},
		{"bad client auth", nil, basic("app", "wrong"), 0, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			srv := newServer(t, Config{Clients: []Client{basicClient(), other}, Now: clock.Now, OpaqueAccessTokens: true})
			f := newFlow()
			code := loginCode(t, srv, f)
			form := tokenForm(code, f)
			if tt.name == "verifier is the challenge" {
				form.Set("code_verifier", s256(f.verifier))
			}
			if tt.change != nil {
				tt.change(form)
			}
			header := basic("app", "s3cret")
			if tt.header != nil {
				header = tt.header
			}
			clock.Advance(tt.advance)
			r := postTo(t, srv, pathToken, form, header)
			if tt.wantError == "" {
				if r.status != http.StatusOK || r.str("id_token") == "" {
					t.Fatalf("token = %d %s", r.status, r.raw)
				}
				return
			}
			if r.str("error") != tt.wantError || (r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized) {
				t.Fatalf("token = %d %s, want %s", r.status, r.raw, tt.wantError)
			}
			if strings.Contains(string(r.raw), code) || strings.Contains(string(r.raw), f.verifier) {
				t.Errorf("error reveals the code or verifier: %s", r.raw)
			}
		})
	}
}

// TestCodeReuse: a second redemption fails and revokes what the first gave.
func TestCodeReuse(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, RefreshTokens: true})
	f := newFlow()
	code := loginCode(t, srv, f)
	first := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret"))
	if first.status != http.StatusOK {
		t.Fatalf("first = %d %s", first.status, first.raw)
	}
	bearer := http.Header{"Authorization": {"Bearer " + first.str("access_token")}}
	if r := get(t, srv, srv.endpointURL(pathUserinfo), bearer); r.status != http.StatusOK {
		t.Fatalf("userinfo = %d", r.status)
	}
	second := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret"))
	if second.status != http.StatusBadRequest || second.str("error") != "invalid_grant" {
		t.Fatalf("second = %d %s, want invalid_grant", second.status, second.raw)
	}
	if r := get(t, srv, srv.endpointURL(pathUserinfo), bearer); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo after reuse = %d, want 401 (tokens revoked)", r.status)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}}
	if r := postTo(t, srv, pathToken, rf, basic("app", "s3cret")); r.str("error") != "invalid_grant" {
		t.Errorf("refresh after reuse = %d %s, want invalid_grant", r.status, r.raw)
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	f := newFlow()
	v := f.parParams("app")
	v.Set("scope", "openid offline_access")
	uri := push(t, srv, v, basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	tok := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	rt := tok.str("refresh_token")
	if rt == "" {
		t.Fatalf("no refresh_token with offline_access: %s", tok.raw)
	}
	refresh := func(token, scope string) response {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return postTo(t, srv, pathToken, form, basic("app", "s3cret"))
	}
	if r := refresh(rt, "openid profile"); r.str("error") != "invalid_scope" {
		t.Errorf("wider scope = %d %s, want invalid_scope", r.status, r.raw)
	}
	r := refresh(rt, "openid")
	if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("refresh_token") == rt || r.str("scope") != "openid" {
		t.Fatalf("refresh = %d %s, want a rotated token", r.status, r.raw)
	}
	claims := verifyIDToken(t, srv, r.str("id_token"))
	if claims["sub"] != "alice" || claims["nonce"] != nil {
		t.Errorf("refreshed id_token = %v", claims)
	}
	if r2 := refresh(rt, ""); r2.str("error") != "invalid_grant" {
		t.Errorf("reuse of rotated token = %d %s, want invalid_grant", r2.status, r2.raw)
	}
	// Reuse revoked the family: the new refresh token is gone too.
	if r3 := refresh(r.str("refresh_token"), ""); r3.str("error") != "invalid_grant" {
		t.Errorf("family after reuse = %d %s, want invalid_grant", r3.status, r3.raw)
	}
}

func TestUserinfo(t *testing.T) {
	t.Parallel()
	signed := basicClient()
	signed.ID = "signed"
	signed.SignedUserinfo = true
	srv := newServer(t, Config{Clients: []Client{basicClient(), signed}, RefreshTokens: true})
	f := newFlow()
	tok := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
	at := tok.str("access_token")
	ui := srv.endpointURL(pathUserinfo)
	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
		wantChal   string
	}{
		{"bearer", http.Header{"Authorization": {"Bearer " + at}}, 200, ""},
		{"no token", nil, 401, `Bearer realm=`},
		{"unknown token", http.Header{"Authorization": {"Bearer nope"}}, 401, `error="invalid_token"`},
		{"DPoP scheme for a bearer token", http.Header{"Authorization": {"DPoP " + at}}, 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		r := get(t, srv, ui, tt.header)
		if r.status != tt.wantStatus || !strings.Contains(r.header.Get("WWW-Authenticate"), tt.wantChal) {
			t.Errorf("%s: userinfo = %d %q, want %d %q", tt.name, r.status, r.header.Get("WWW-Authenticate"), tt.wantStatus, tt.wantChal)
		}
	}
	// Signed userinfo when asked for with Accept.
	r := get(t, srv, ui, http.Header{"Authorization": {"Bearer " + at}, "Accept": {"application/jwt"}})
	if r.status != 200 || r.header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("signed userinfo = %d %q", r.status, r.header.Get("Content-Type"))
	}
	if claims := verifyIDToken(t, srv, string(r.raw)); claims["sub"] != "alice" || claims["aud"] != "app" || claims["iss"] != srv.Issuer() {
		t.Errorf("signed userinfo claims = %v", claims)
	}
	// Expired access token.
	clock := newClock()
	srv2 := newServer(t, Config{Clients: []Client{basicClient()}, Now: clock.Now, AccessTokenLifetime: time.Minute})
	tok = postTo(t, srv2, pathToken, tokenForm(loginCode(t, srv2, f), f), basic("app", "s3cret"))
	clock.Advance(time.Minute)
	if r := get(t, srv2, srv2.endpointURL(pathUserinfo), http.Header{"Authorization": {"Bearer " + tok.str("access_token")}}); r.status != 401 {
		t.Errorf("expired token: userinfo = %d, want 401", r.status)
	}
}

func TestJWTAccessToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	f := newFlow()
	tok := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
	claims := verifyIDToken(t, srv, tok.str("access_token"))
	if claims["client_id"] != "app" || claims["sub"] != "alice" || claims["scope"] != "openid" || claims["cnf"] != nil {
		t.Errorf("access token claims = %v", claims)
	}
}

func TestIssueTokensFor(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Users: append(DefaultUsers(), User{Subject: "bob"})})
	tok, err := srv.IssueTokensFor(Grant{ClientID: "app", Subject: "bob", Scope: "openid offline_access", Nonce: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyIDToken(t, srv, tok["id_token"].(string))
	if claims["sub"] != "bob" || claims["nonce"] != "n1" || claims["aud"] != "app" || tok["refresh_token"] == nil {
		t.Errorf("tokens = %v, claims %v", tok, claims)
	}
	r := get(t, srv, srv.endpointURL(pathUserinfo), http.Header{"Authorization": {"Bearer " + tok["access_token"].(string)}})
	if r.status != 200 || r.str("sub") != "bob" {
		t.Errorf("userinfo = %d %s", r.status, r.raw)
	}
	if _, err := srv.IssueTokensFor(Grant{ClientID: "ghost"}); err == nil {
		t.Errorf("unknown client accepted")
	}
}

// TestConcurrentFlows runs many flows at once while faults are switched,
// for the race detector.
func TestConcurrentFlows(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, RefreshTokens: true})
	const n = 16
	errs := make(chan string, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			if i%2 == 0 {
				srv.SetFault(EndpointJWKS, Fault{Header: http.Header{"X-Flip": {"1"}}})
			} else {
				srv.ClearFault(EndpointJWKS)
			}
			_ = srv.Requests(EndpointToken)
		}
	}()
	for range n {
		go func() {
			f := newFlow()
			uri, err := pushQuiet(srv, f.parParams("app"))
			if err != nil {
				errs <- err.Error()
				return
			}
			params, err := srv.Login(authURL(srv, "app", uri))
			if err != nil || params.Get("code") == "" {
				errs <- "login failed"
				return
			}
			form := tokenForm(params.Get("code"), f)
			req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathToken), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basic("app", "s3cret").Get("Authorization"))
			resp, err := srv.Client().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- resp.Status
				return
			}
			errs <- ""
		}()
	}
	for range n {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	<-done
	if got := srv.Requests(EndpointToken); got != n {
		t.Errorf("Requests(token) = %d, want %d", got, n)
	}
}

// pushQuiet pushes without *testing.T (for goroutines).
func pushQuiet(srv *Server, form url.Values) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathPAR), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basic("app", "s3cret").Get("Authorization"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("push: %d %v", resp.StatusCode, err)
	}
	return body.RequestURI, nil
}
