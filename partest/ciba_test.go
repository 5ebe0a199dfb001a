package partest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	reAuthReqID  = regexp.MustCompile(`^[0-9A-F]{64}-1$`)
	reRequestURI = regexp.MustCompile(`^urn:ietf:params:oauth:request_uri:[0-9A-F]{64}$`)
)

const brokerHint = `{"flow_type":"broker_oidc","idp_values":"mitid","prompt":"login","language":"da","idp_params":"{\"mitid\":{\"loa_value\":\"substantial\"}}"}`

// cibaServer is a broker-shaped server with the basic client, a second
// client and an injectable clock.
func cibaServer(t *testing.T) (*Server, *testClock) {
	t.Helper()
	clock := newClock()
	cfg := BrokerConfig(basicClient(), Client{ID: "other", Secret: "0ther", RedirectURIs: []string{testCallback}},
		Client{ID: "public", RedirectURIs: []string{testCallback}})
	cfg.Now = clock.Now
	return newServer(t, cfg), clock
}

// startCIBA sends a backchannel authentication request and requires 200.
func startCIBA(t *testing.T, srv *Server, form url.Values) response {
	t.Helper()
	r := post(t, srv, srv.endpointURL(pathCIBA), form, basic("app", "s3cret"))
	if r.status != http.StatusOK {
		t.Fatalf("CIBA status = %d %s, want 200", r.status, r.raw)
	}
	return r
}

func brokerCIBAForm() url.Values {
	return url.Values{"grant_type": {GrantTypeCIBA}, "scope": {"openid mitid"}, "login_hint_token": {brokerHint}}
}

func pollCIBA(t *testing.T, srv *Server, clientID, secret, id string) response {
	t.Helper()
	return post(t, srv, srv.endpointURL(pathToken), url.Values{"grant_type": {GrantTypeCIBA}, "auth_req_id": {id}}, basic(clientID, secret))
}

func initAuth(t *testing.T, srv *Server, form url.Values, header http.Header) response {
	t.Helper()
	return post(t, srv, srv.endpointURL(pathInitAuth), form, header)
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Errorf("%s = %d %s, want %d %s", what, r.status, r.raw, status, code)
	}
}

// TestCIBABridge runs the MitID broker's CIBA→PAR flow over raw HTTP:
// backchannel authentication, polling (pending, slow_down with the interval
// raised by 5 s), init-auth, the browser login ending on the "close this
// window" page, the tokens once, then invalid_grant.
func TestCIBABridge(t *testing.T) {
	t.Parallel()
	srv, clock := cibaServer(t)
	start := startCIBA(t, srv, brokerCIBAForm())
	id := start.str("auth_req_id")
	if !reAuthReqID.MatchString(id) || start.body["expires_in"] != 300.0 || start.body["interval"] != 3.0 {
		t.Fatalf("CIBA response = %s, want the broker's shape (auth_req_id 64 hex + -1, 300, 3)", start.raw)
	}

	// Polling: too soon, then after the raised interval, then too soon for
	// the raised interval again. The answers are the broker's bare bodies.
	for i, tt := range []struct {
		advance time.Duration
		code    string
	}{
		{0, "slow_down"},
		{8 * time.Second, "authorization_pending"},
		{7 * time.Second, "slow_down"},
		{13 * time.Second, "authorization_pending"},
	} {
		clock.Advance(tt.advance)
		r := pollCIBA(t, srv, "app", "s3cret", id)
		wantOAuthError(t, "poll "+string(rune('1'+i)), r, http.StatusBadRequest, tt.code)
		if string(r.raw) != `{"error":"`+tt.code+`"}` {
			t.Errorf("poll %d body = %s, want the bare error", i+1, r.raw)
		}
	}
	if r := pollCIBA(t, srv, "other", "0ther", id); r.str("error") != "invalid_grant" {
		t.Errorf("poll by another client = %s, want invalid_grant", r.raw)
	}

	ia := initAuth(t, srv, url.Values{"requestId": {id}}, basic("app", "s3cret"))
	if ia.status != http.StatusOK || !reRequestURI.MatchString(ia.str("request_uri")) || ia.body["expires_in"] != 600.0 {
		t.Fatalf("init-auth = %d %s", ia.status, ia.raw)
	}
	au, err := url.Parse(ia.str("authentication_uri"))
	if err != nil || au.Scheme+"://"+au.Host+au.Path != srv.Issuer()+"/connect/authorize" ||
		len(au.Query()) != 2 || au.Query().Get("client_id") != "app" || au.Query().Get("request_uri") != ia.str("request_uri") {
		t.Fatalf("authentication_uri = %q, want the authorize endpoint with client_id and request_uri only", ia.str("authentication_uri"))
	}
	params, err := srv.Login(ia.str("authentication_uri"))
	if err != nil || len(params) != 0 {
		t.Fatalf("Login(authentication_uri) = %v, %v; want empty parameters (close-window page)", params, err)
	}

	clock.Advance(20 * time.Second)
	tok := pollCIBA(t, srv, "app", "s3cret", id)
	if tok.status != http.StatusOK || tok.str("token_type") != "Bearer" || tok.str("access_token") == "" || tok.body["expires_in"] != 10800.0 {
		t.Fatalf("token = %d %s", tok.status, tok.raw)
	}
	claims := verifyIDToken(t, srv, tok.str("id_token"))
	// As recorded, the mitid.* claims are not in the ID token (they are in
	// UserInfo and the userinfo_token).
	if claims["sub"] != BrokerUsers()[0].Subject || claims["aud"] != "app" || claims["idtoken_type"] != "ciba" ||
		claims["mitid.age"] != nil || claims["at_hash"] != atHash(tok.str("access_token")) {
		t.Errorf("ID token claims = %v", claims)
	}
	clock.Advance(20 * time.Second)
	wantOAuthError(t, "second redemption", pollCIBA(t, srv, "app", "s3cret", id), http.StatusBadRequest, "invalid_grant")

	// The bridged request_uri is single-use, like any other.
	var ae *AuthorizeError
	if _, err := srv.Login(ia.str("authentication_uri")); !errors.As(err, &ae) || ae.Code != "invalid_request_uri" {
		t.Errorf("second Login = %v, want invalid_request_uri", err)
	}
	if n := srv.Requests(EndpointCIBA); n != 1 {
		t.Errorf("Requests(EndpointCIBA) = %d", n)
	}
}

// TestCIBARequestErrors checks the backchannel authentication request's
// validation (CIBA Core §7.1, §13).
func TestCIBARequestErrors(t *testing.T) {
	t.Parallel()
	srv, _ := cibaServer(t)
	with := func(change func(url.Values)) url.Values {
		f := brokerCIBAForm()
		change(f)
		return f
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		code   string
	}{
		// The broker answers invalid_client with 400 (broker-recorded.md).
		{"no client authentication", brokerCIBAForm(), nil, 400, "invalid_client"},
		{"wrong secret", brokerCIBAForm(), basic("app", "nope"), 400, "invalid_client"},
		{"public client", with(func(f url.Values) { f.Set("client_id", "public") }), nil, 400, "unauthorized_client"},
		{"no scope", with(func(f url.Values) { f.Del("scope") }), basic("app", "s3cret"), 400, "invalid_scope"},
		{"scope without openid", with(func(f url.Values) { f.Set("scope", "mitid") }), basic("app", "s3cret"), 400, "invalid_scope"},
		{"no hint", with(func(f url.Values) { f.Del("login_hint_token") }), basic("app", "s3cret"), 400, "invalid_request"},
		{"two hints", with(func(f url.Values) { f.Set("login_hint", "alice") }), basic("app", "s3cret"), 400, "invalid_request"},
		{"hint not JSON", with(func(f url.Values) { f.Set("login_hint_token", "eyJhbGciOi.x.y") }), basic("app", "s3cret"), 400, "invalid_request"},
		{"unknown flow_type", with(func(f url.Values) { f.Set("login_hint_token", `{"flow_type":"mitid_flex_app"}`) }), basic("app", "s3cret"), 400, "invalid_request"},
		{"redirect_uri in hint", with(func(f url.Values) {
			f.Set("login_hint_token", `{"flow_type":"broker_oidc","redirect_uri":"https://evil.example/"}`)
		}), basic("app", "s3cret"), 400, "invalid_request"},
		{"other grant_type", with(func(f url.Values) { f.Set("grant_type", "authorization_code") }), basic("app", "s3cret"), 400, "invalid_request"},
		{"unknown login_hint", url.Values{"scope": {"openid"}, "login_hint": {"nobody"}}, basic("app", "s3cret"), 400, "unknown_user_id"},
		{"bad id_token_hint", url.Values{"scope": {"openid"}, "id_token_hint": {"a.b.c"}}, basic("app", "s3cret"), 400, "invalid_request"},
		{"bad requested_expiry", with(func(f url.Values) { f.Set("requested_expiry", "-5") }), basic("app", "s3cret"), 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantOAuthError(t, "CIBA", post(t, srv, srv.endpointURL(pathCIBA), tt.form, tt.header), tt.status, tt.code)
		})
	}
	t.Run("requested_expiry shortens expires_in", func(t *testing.T) {
		t.Parallel()
		f := brokerCIBAForm()
		f.Set("requested_expiry", "120")
		if r := startCIBA(t, srv, f); r.body["expires_in"] != 120.0 {
			t.Errorf("expires_in = %v, want 120", r.body["expires_in"])
		}
	})
	t.Run("GET", func(t *testing.T) {
		t.Parallel()
		r := get(t, srv, srv.endpointURL(pathCIBA), nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
			t.Errorf("GET = %d Allow %q", r.status, r.header.Get("Allow"))
		}
	})
}

// TestCIBAOutcomes covers expiry, denial (test hook and browser), cancel
// and approval without a browser.
func TestCIBAOutcomes(t *testing.T) {
	t.Parallel()
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		srv, clock := cibaServer(t)
		id := startCIBA(t, srv, brokerCIBAForm()).str("auth_req_id")
		clock.Advance(300 * time.Second)
		wantOAuthError(t, "poll after expires_in", pollCIBA(t, srv, "app", "s3cret", id), 400, "expired_token")
		wantOAuthError(t, "init-auth after expires_in", initAuth(t, srv, url.Values{"requestId": {id}}, basic("app", "s3cret")), 400, "expired_token")
		if err := srv.DenyCIBA(id); err == nil {
			t.Error("DenyCIBA of an expired request succeeded")
		}
	})
	t.Run("denied by hook", func(t *testing.T) {
		t.Parallel()
		srv, clock := cibaServer(t)
		id := startCIBA(t, srv, brokerCIBAForm()).str("auth_req_id")
		if err := srv.DenyCIBA(id); err != nil {
			t.Fatal(err)
		}
		if err := srv.DenyCIBA(id); err == nil {
			t.Error("second DenyCIBA succeeded")
		}
		clock.Advance(3 * time.Second)
		r := pollCIBA(t, srv, "app", "s3cret", id)
		wantOAuthError(t, "poll", r, 400, "access_denied")
		if r.str("error_description") != "mitid_user_aborted" {
			t.Errorf("description = %q", r.str("error_description"))
		}
		clock.Advance(3 * time.Second)
		wantOAuthError(t, "poll after the result", pollCIBA(t, srv, "app", "s3cret", id), 400, "invalid_grant")
	})
	t.Run("failed in the browser, redirectUri and state", func(t *testing.T) {
		t.Parallel()
		srv, clock := cibaServer(t)
		f := brokerCIBAForm()
		f.Set("login_hint_token", `{"flow_type":"broker_oidc","prompt":"none"}`)
		id := startCIBA(t, srv, f).str("auth_req_id")
		ia := initAuth(t, srv, url.Values{"requestId": {id}, "redirectUri": {testCallback}, "state": {"st-1"}}, basic("app", "s3cret"))
		params, err := srv.Login(ia.str("authentication_uri"))
		// As recorded, an error callback carries session_state and no iss.
		if err != nil || params.Get("error") != "login_required" || params.Get("state") != "st-1" || params.Has("iss") || !params.Has("session_state") {
			t.Fatalf("Login = %v, %v; want login_required with state and session_state, without iss", params, err)
		}
		clock.Advance(3 * time.Second)
		wantOAuthError(t, "poll", pollCIBA(t, srv, "app", "s3cret", id), 400, "access_denied")
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		srv, clock := cibaServer(t)
		id := startCIBA(t, srv, brokerCIBAForm()).str("auth_req_id")
		ia := initAuth(t, srv, url.Values{"requestId": {id}}, basic("app", "s3cret"))
		cancelURL := srv.Issuer() + "/api/v1/ciba/" + id
		if r := get(t, srv, cancelURL, nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "DELETE" {
			t.Errorf("GET cancel = %d", r.status)
		}
		del := func() int {
			req, _ := http.NewRequest(http.MethodDelete, cancelURL, nil)
			return do(t, srv, req).status
		}
		if st := del(); st != http.StatusNoContent {
			t.Fatalf("DELETE = %d, want 204", st)
		}
		if st := del(); st != http.StatusNotFound {
			t.Errorf("second DELETE = %d, want 404", st)
		}
		clock.Advance(3 * time.Second)
		wantOAuthError(t, "poll after cancel", pollCIBA(t, srv, "app", "s3cret", id), 400, "invalid_grant")
		var ae *AuthorizeError
		if _, err := srv.Login(ia.str("authentication_uri")); !errors.As(err, &ae) || ae.Code != "invalid_request" {
			t.Errorf("Login after cancel = %v, want an error page", err)
		}
		if n := srv.Requests(EndpointCIBACancel); n != 3 {
			t.Errorf("Requests(EndpointCIBACancel) = %d, want 3", n)
		}
	})
	t.Run("login_hint approved without a browser", func(t *testing.T) {
		t.Parallel()
		srv, clock := cibaServer(t)
		sub := BrokerUsers()[2].Subject
		id := startCIBA(t, srv, url.Values{"scope": {"openid"}, "login_hint": {sub}}).str("auth_req_id")
		wantOAuthError(t, "init-auth of a login_hint request",
			initAuth(t, srv, url.Values{"requestId": {id}}, basic("app", "s3cret")), 400, "invalid_request")
		if err := srv.ApproveCIBA(id, ""); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Second)
		r := pollCIBA(t, srv, "app", "s3cret", id)
		if claims := verifyIDToken(t, srv, r.str("id_token")); claims["sub"] != sub || claims["identity_type"] != "professional" {
			t.Errorf("claims = %v, want the hinted professional user", claims)
		}
		if err := srv.ApproveCIBA("nope", ""); err == nil {
			t.Error("ApproveCIBA of an unknown id succeeded")
		}
	})
	t.Run("grant type off without CIBA", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, Config{Clients: []Client{basicClient()}})
		wantOAuthError(t, "poll", pollCIBA(t, srv, "app", "s3cret", "x"), 400, "unsupported_grant_type")
		if r := post(t, srv, srv.Issuer()+"/connect/ciba", brokerCIBAForm(), basic("app", "s3cret")); r.status != http.StatusNotFound {
			t.Errorf("CIBA endpoint without Config.CIBA = %d, want 404", r.status)
		}
		if _, ok := srv.Metadata()["backchannel_authentication_endpoint"]; ok {
			t.Error("backchannel_authentication_endpoint advertised without Config.CIBA")
		}
	})
}

// TestInitAuth checks the CIBA→PAR bridge's request handling.
func TestInitAuth(t *testing.T) {
	t.Parallel()
	srv, _ := cibaServer(t)
	newID := func() string { return startCIBA(t, srv, brokerCIBAForm()).str("auth_req_id") }
	jsonPost := func(body string) response {
		req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathInitAuth), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return do(t, srv, req)
	}
	t.Run("JSON without authentication, redirectUri", func(t *testing.T) {
		t.Parallel()
		b, _ := json.Marshal(map[string]string{"requestId": newID(), "redirectUri": testCallback, "state": "s-2"})
		r := jsonPost(string(b))
		if r.status != http.StatusOK {
			t.Fatalf("init-auth = %d %s", r.status, r.raw)
		}
		params, err := srv.Login(r.str("authentication_uri"))
		if err != nil || params.Get("state") != "s-2" || params.Get("iss") != srv.Issuer() || params.Has("code") {
			t.Errorf("Login = %v, %v; want state and iss, no code", params, err)
		}
	})
	for _, tt := range []struct {
		name   string
		send   func() response
		status int
		code   string
	}{
		{"unknown requestId", func() response { return jsonPost(`{"requestId":"nope"}`) }, 400, "invalid_request"},
		{"no requestId", func() response { return jsonPost(`{}`) }, 400, "invalid_request"},
		{"not a JSON object", func() response { return jsonPost(`["x"]`) }, 400, "invalid_request"},
		{"another client's request", func() response {
			return initAuth(t, srv, url.Values{"requestId": {newID()}}, basic("other", "0ther"))
		}, 400, "invalid_request"},
		{"bad client authentication", func() response {
			return initAuth(t, srv, url.Values{"requestId": {newID()}}, basic("app", "wrong"))
		}, 400, "invalid_client"}, // as the broker answers (broker-recorded.md)
		{"unregistered redirectUri", func() response {
			return initAuth(t, srv, url.Values{"requestId": {newID()}, "redirectUri": {"https://evil.example/cb"}}, basic("app", "s3cret"))
		}, 400, "invalid_request"},
		{"text/plain", func() response {
			req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathInitAuth), strings.NewReader("requestId=x"))
			req.Header.Set("Content-Type", "text/plain")
			return do(t, srv, req)
		}, 400, "invalid_request"},
		{"GET", func() response { return get(t, srv, srv.endpointURL(pathInitAuth), nil) }, 405, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantOAuthError(t, "init-auth", tt.send(), tt.status, tt.code)
		})
	}
}

// TestCIBAInProcess runs a bridged flow on the in-process transport inside
// a synctest bubble: the server's default clock is the bubble's fake one,
// so the 3 s interval costs no real time.
func TestCIBAInProcess(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := BrokerConfig(basicClient())
		cfg.InProcess = true
		srv := NewServer(cfg)
		defer srv.Close()
		if srv.URL != "https://partest.test" || srv.Certificate() != nil {
			t.Fatalf("URL = %q", srv.URL)
		}
		id := startCIBA(t, srv, brokerCIBAForm()).str("auth_req_id")
		time.Sleep(3 * time.Second)
		wantOAuthError(t, "poll at the interval", pollCIBA(t, srv, "app", "s3cret", id), 400, "authorization_pending")
		time.Sleep(time.Second)
		wantOAuthError(t, "poll too soon", pollCIBA(t, srv, "app", "s3cret", id), 400, "slow_down")
		ia := initAuth(t, srv, url.Values{"requestId": {id}}, basic("app", "s3cret"))
		if params, err := srv.Login(ia.str("authentication_uri")); err != nil || len(params) != 0 {
			t.Fatalf("Login = %v, %v", params, err)
		}
		time.Sleep(8 * time.Second)
		if r := pollCIBA(t, srv, "app", "s3cret", id); r.status != http.StatusOK {
			t.Fatalf("poll = %d %s", r.status, r.raw)
		}
	})
}

// FuzzLoginHintToken checks that the login_hint_token parser never panics
// and never lets the reserved parameters through.
func FuzzLoginHintToken(f *testing.F) {
	f.Add(brokerHint)
	f.Add(`{"flow_type":"broker_oidc","max_age":0,"x":true,"y":null,"z":{"a":[1]}}`)
	f.Add(`{"client_id":"x"}`)
	f.Add(`{} {}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := parseLoginHintToken(raw)
		if err != nil {
			return
		}
		for _, k := range []string{"client_id", "response_type", "request_uri", "request", "redirect_uri"} {
			if v.Has(k) {
				t.Fatalf("%q passed with %s", raw, k)
			}
		}
		for k, vs := range v {
			if len(vs) != 1 {
				t.Fatalf("%q: %s has %d values", raw, k, len(vs))
			}
		}
	})
}

// FuzzCIBAEndpoints sends arbitrary bodies to the backchannel
// authentication, init-auth and token endpoints of an in-process broker
// server: none may panic or answer with a server error.
func FuzzCIBAEndpoints(f *testing.F) {
	cfg := BrokerConfig(basicClient())
	cfg.InProcess = true
	srv := NewServer(cfg)
	f.Cleanup(srv.Close)
	f.Add(uint8(0), brokerCIBAForm().Encode())
	f.Add(uint8(1), "requestId=x&redirectUri=%zz")
	f.Add(uint8(2), `{"requestId":1}`)
	f.Add(uint8(3), "grant_type="+url.QueryEscape(GrantTypeCIBA)+"&auth_req_id=")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path, ct := pathCIBA, "application/x-www-form-urlencoded"
		switch which % 4 {
		case 1:
			path = pathInitAuth
		case 2:
			path, ct = pathInitAuth, "application/json"
		case 3:
			path = pathToken
		}
		req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(path), strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.SetBasicAuth("app", "s3cret")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s with %q = %d", path, body, resp.StatusCode)
		}
	})
}
