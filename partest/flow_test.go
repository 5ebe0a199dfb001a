package partest

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestFullFlow runs the whole flow by hand: discovery, PAR with Basic
// authentication, authorize, token, ID token verification against the
// JWKS, userinfo.
func TestFullFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		issuerPath string
		alg        jose.SignatureAlgorithm
	}{
		{"rs256 root issuer", "", jose.RS256},
		{"ps256 path issuer", "/op", jose.PS256},
		{"es256", "/op", jose.ES256},
		{"eddsa", "", jose.EdDSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{basicClient()}, IssuerPath: tt.issuerPath, IDTokenAlg: tt.alg})
			if got, want := srv.Issuer(), srv.URL+tt.issuerPath; got != want {
				t.Fatalf("Issuer() = %q, want %q", got, want)
			}
			md := get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil)
			if md.status != http.StatusOK || md.str("issuer") != srv.Issuer() {
				t.Fatalf("discovery = %d issuer %q, want 200 %q", md.status, md.str("issuer"), srv.Issuer())
			}

			f := newFlow()
			r := post(t, srv, md.str("pushed_authorization_request_endpoint"), f.parParams("app"), basic("app", "s3cret"))
			if r.status != http.StatusCreated {
				t.Fatalf("PAR status = %d %s, want 201", r.status, r.raw)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("PAR Cache-Control = %q, want no-store", cc)
			}
			uri := r.str("request_uri")
			if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || len(uri) != len("urn:ietf:params:oauth:request_uri:")+64 {
				t.Errorf("request_uri = %q, want the URN prefix and 64 hex chars", uri)
			}
			if got := r.body["expires_in"]; got != float64(60) {
				t.Errorf("expires_in = %v, want 60", got)
			}

			au := md.str("authorization_endpoint") + "?" + url.Values{"client_id": {"app"}, "request_uri": {uri}}.Encode()
			params, err := srv.Login(au)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if params.Get("state") != f.state || params.Get("iss") != srv.Issuer() || params.Get("code") == "" {
				t.Fatalf("callback = %v, want code, state %q, iss %q", params, f.state, srv.Issuer())
			}

			tok := post(t, srv, md.str("token_endpoint"), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
			if tok.status != http.StatusOK {
				t.Fatalf("token status = %d %s", tok.status, tok.raw)
			}
			if tok.str("token_type") != "Bearer" || tok.body["expires_in"] != float64(3600) || tok.str("access_token") == "" {
				t.Errorf("token response = %v", tok.body)
			}
			if tok.header.Get("Cache-Control") != "no-store" {
				t.Errorf("token Cache-Control = %q, want no-store", tok.header.Get("Cache-Control"))
			}
			if _, ok := tok.body["refresh_token"]; ok {
				t.Errorf("refresh_token issued without RefreshTokens or offline_access")
			}
			claims := verifyIDToken(t, srv, tok.str("id_token"))
			at := tok.str("access_token")
			wantHash := atHash(at)
			if tt.alg == jose.EdDSA {
				sum := sha512.Sum512([]byte(at))
				wantHash = base64.RawURLEncoding.EncodeToString(sum[:32])
			}
			for k, want := range map[string]any{
				"iss": srv.Issuer(), "sub": "alice", "aud": "app", "nonce": f.nonce,
				"at_hash": wantHash, "name": "Alice Andersen",
			} {
				if claims[k] != want {
					t.Errorf("id_token %s = %v, want %v", k, claims[k], want)
				}
			}
			now := float64(time.Now().Unix())
			if exp, _ := claims["exp"].(float64); exp <= now {
				t.Errorf("id_token exp = %v, want after %v", exp, now)
			}
			for _, k := range []string{"iat", "auth_time"} {
				if _, ok := claims[k].(float64); !ok {
					t.Errorf("id_token %s missing", k)
				}
			}

			ui := get(t, srv, md.str("userinfo_endpoint"), http.Header{"Authorization": {"Bearer " + at}})
			if ui.status != http.StatusOK || ui.str("sub") != "alice" || ui.str("email") != "alice@example.com" {
				t.Errorf("userinfo = %d %v", ui.status, ui.body)
			}
			for ep, want := range map[string]int{EndpointDiscovery: 2, EndpointJWKS: 1, EndpointPAR: 1, EndpointAuthorize: 1, EndpointToken: 1, EndpointUserinfo: 1} {
				if got := srv.Requests(ep); got != want {
					t.Errorf("Requests(%s) = %d, want %d", ep, got, want)
				}
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, IssuerPath: "/op", RequirePAR: true})
	for _, p := range []string{"/op/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/op"} {
		md := get(t, srv, srv.URL+p, nil)
		if md.status != http.StatusOK {
			t.Fatalf("GET %s = %d", p, md.status)
		}
		checks := map[string]any{
			"issuer":                                         srv.Issuer(),
			"pushed_authorization_request_endpoint":          srv.Issuer() + "/connect/par",
			"require_pushed_authorization_requests":          true,
			"authorization_response_iss_parameter_supported": true,
		}
		for k, want := range checks {
			if md.body[k] != want {
				t.Errorf("%s: %s = %v, want %v", p, k, md.body[k], want)
			}
		}
		if got, _ := md.body["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
			t.Errorf("%s: code_challenge_methods_supported = %v, want [S256]", p, got)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint",
			"token_endpoint_auth_methods_supported", "dpop_signing_alg_values_supported", "request_object_signing_alg_values_supported",
			"id_token_signing_alg_values_supported"} {
			if md.body[k] == nil {
				t.Errorf("%s: %s missing", p, k)
			}
		}
	}
	noIss := newServer(t, Config{NoIssParameter: true})
	if md := noIss.Metadata(); md["authorization_response_iss_parameter_supported"] != nil {
		t.Errorf("NoIssParameter: iss support advertised")
	}
	if r := post(t, srv, srv.Issuer()+"/.well-known/openid-configuration", url.Values{}, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST discovery = %d, want 405", r.status)
	}
}

// TestRequestURI covers RFC 9126 §4: single use, expiry, client binding,
// other parameters ignored.
func TestRequestURI(t *testing.T) {
	t.Parallel()
	clock := newClock()
	other := Client{ID: "other", Secret: "x", RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{basicClient(), other}, Now: clock.Now, RequestURILifetime: 600 * time.Second})

	f := newFlow()
	uri := push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	// Parameters next to request_uri are ignored: state stays the pushed one.
	au := authURL(srv, "app", uri) + "&state=evil&redirect_uri=https%3A%2F%2Fevil.example%2F"
	params, err := srv.Login(au)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if params.Get("state") != f.state {
		t.Errorf("state = %q, want the pushed %q", params.Get("state"), f.state)
	}
	_, err = srv.Login(authURL(srv, "app", uri))
	var ae *AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "invalid_request_uri" || ae.StatusCode != http.StatusBadRequest {
		t.Errorf("second use: err = %v, want invalid_request_uri", err)
	}

	uri = push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	clock.Advance(600 * time.Second)
	if _, err := srv.Login(authURL(srv, "app", uri)); !errors.As(err, &ae) || ae.Code != "invalid_request_uri" {
		t.Errorf("expired: err = %v, want invalid_request_uri", err)
	}

	uri = push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	if _, err := srv.Login(authURL(srv, "other", uri)); !errors.As(err, &ae) || ae.Code != "invalid_request_uri" {
		t.Errorf("other client: err = %v, want invalid_request_uri", err)
	}
	if _, err := srv.Login(authURL(srv, "app", requestURIPrefix+"unknown")); !errors.As(err, &ae) || ae.Code != "invalid_request_uri" {
		t.Errorf("unknown: err = %v, want invalid_request_uri", err)
	}
	if _, err := srv.Login(authURL(srv, "nobody", uri)); !errors.As(err, &ae) || ae.Code != "invalid_client" {
		t.Errorf("unknown client: err = %v, want invalid_client", err)
	}
}

// TestFrontChannel covers classic authorization requests and RequirePAR.
func TestFrontChannel(t *testing.T) {
	t.Parallel()
	f := newFlow()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + f.parParams("app").Encode())
	if err != nil || params.Get("code") == "" {
		t.Fatalf("classic request: %v %v", params, err)
	}

	tests := []struct {
		name      string
		cfg       Config
		change    func(url.Values)
		wantError string // in the redirect
		wantPage  string // error page code instead
	}{
		{"server requires PAR", Config{RequirePAR: true}, nil, "invalid_request", ""},
		{"unregistered redirect", Config{}, func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, "", "invalid_request"},
		{"no redirect_uri", Config{}, func(v url.Values) { v.Del("redirect_uri") }, "", "invalid_request"},
		{"implicit refused", Config{}, func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type", ""},
		{"plain PKCE refused", Config{}, func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request", ""},
		{"no PKCE", Config{}, func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request", ""},
		{"no openid", Config{}, func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope", ""},
		{"prompt none", Config{}, func(v url.Values) { v.Set("prompt", "none") }, "login_required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Clients = []Client{basicClient()}
			srv := newServer(t, cfg)
			v := f.parParams("app")
			if tt.change != nil {
				tt.change(v)
			}
			params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + v.Encode())
			if tt.wantPage != "" {
				var ae *AuthorizeError
				if !errors.As(err, &ae) || ae.Code != tt.wantPage {
					t.Fatalf("Login = %v, %v; want error page %s", params, err, tt.wantPage)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if params.Get("error") != tt.wantError || params.Get("state") != f.state || params.Get("iss") != srv.Issuer() || params.Get("code") != "" {
				t.Errorf("callback = %v, want error %s with state and iss", params, tt.wantError)
			}
		})
	}
}

// TestNoPAR covers a provider without PAR: nothing advertised, the path
// 404 (and counted), front-channel requests (plain and a request object by
// value) log in, and the code is redeemed as usual.
func TestNoPAR(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, NoPAR: true, MTLSEndpointAliases: true})
	md := get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil)
	for _, m := range []string{"pushed_authorization_request_endpoint", "require_pushed_authorization_requests"} {
		if v, ok := md.body[m]; ok {
			t.Errorf("discovery has %s = %v", m, v)
		}
	}
	if aliases, _ := md.body["mtls_endpoint_aliases"].(map[string]any); aliases["pushed_authorization_request_endpoint"] != nil || aliases["token_endpoint"] == nil {
		t.Errorf("mtls_endpoint_aliases = %v, want token and userinfo aliases only", aliases)
	}
	if md9 := get(t, srv, srv.Issuer()+"/.well-known/oauth-authorization-server", nil); md9.body["pushed_authorization_request_endpoint"] != nil {
		t.Errorf("RFC 8414 metadata advertises PAR")
	}
	f := newFlow()
	for _, u := range []string{srv.endpointURL(pathPAR), srv.endpointURL(pathMTLS + pathPAR)} {
		if r := post(t, srv, u, f.parParams("app"), basic("app", "s3cret")); r.status != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", u, r.status)
		}
	}
	if n := srv.Requests(EndpointPAR); n != 2 {
		t.Errorf("Requests(EndpointPAR) = %d, want the 2 refused pushes counted", n)
	}

	params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + f.parParams("app").Encode())
	if err != nil || params.Get("code") == "" || params.Get("state") != f.state || params.Get("iss") != srv.Issuer() {
		t.Fatalf("front-channel login = %v, %v", params, err)
	}
	if tok := post(t, srv, srv.endpointURL(pathToken), tokenForm(params.Get("code"), f), basic("app", "s3cret")); tok.status != http.StatusOK {
		t.Fatalf("token = %d %s", tok.status, tok.raw)
	} else if claims := verifyIDToken(t, srv, tok.str("id_token")); claims["nonce"] != f.nonce {
		t.Errorf("ID token nonce = %v, want %s", claims["nonce"], f.nonce)
	}

	// A request object by value (RFC 9101 §5).
	f = newFlow()
	m := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}
	for k, v := range f.parParams("app") {
		m[k] = v[0]
	}
	ro := hsJWT(t, "s3cret", jose.HS256, nil, m)
	q := url.Values{"client_id": {"app"}, "request": {ro}, "response_type": {"code"}, "scope": {"openid"}}
	if params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + q.Encode()); err != nil || params.Get("code") == "" || params.Get("state") != f.state {
		t.Errorf("front-channel request object = %v, %v", params, err)
	}

	// Requiring PAR without an endpoint: advertised, and front-channel
	// requests refused.
	both := newServer(t, Config{Clients: []Client{basicClient()}, NoPAR: true, RequirePAR: true})
	md = get(t, both, both.Issuer()+"/.well-known/openid-configuration", nil)
	if md.body["pushed_authorization_request_endpoint"] != nil || md.body["require_pushed_authorization_requests"] != true {
		t.Errorf("NoPAR+RequirePAR discovery: endpoint %v, require %v", md.body["pushed_authorization_request_endpoint"], md.body["require_pushed_authorization_requests"])
	}
	f = newFlow()
	if params, err := both.Login(both.endpointURL(pathAuthorize) + "?" + f.parParams("app").Encode()); err != nil || params.Get("error") != "invalid_request" {
		t.Errorf("NoPAR+RequirePAR front channel = %v, %v; want invalid_request", params, err)
	}
}

func TestClientRequirePAR(t *testing.T) {
	t.Parallel()
	c := basicClient()
	c.RequirePAR = true
	srv := newServer(t, Config{Clients: []Client{c}})
	f := newFlow()
	params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + f.parParams("app").Encode())
	if err != nil || params.Get("error") != "invalid_request" {
		t.Errorf("front channel = %v, %v; want invalid_request", params, err)
	}
}

func TestFormPostAndLoginHint(t *testing.T) {
	t.Parallel()
	users := append(DefaultUsers(), User{Subject: "bob", Claims: map[string]any{"name": "Bob"}})
	for _, interactive := range []bool{false, true} {
		srv := newServer(t, Config{Clients: []Client{basicClient()}, Users: users, Interactive: interactive})
		f := newFlow()
		v := f.parParams("app")
		v.Set("response_mode", "form_post")
		v.Set("login_hint", "bob")
		v.Set("state", "a+b&c<d>")
		uri := push(t, srv, v, basic("app", "s3cret"))
		params, err := srv.Login(authURL(srv, "app", uri))
		if err != nil {
			t.Fatalf("interactive=%v: Login: %v", interactive, err)
		}
		if params.Get("state") != "a+b&c<d>" || params.Get("code") == "" || params.Get("iss") != srv.Issuer() {
			t.Fatalf("interactive=%v: form_post params = %v", interactive, params)
		}
		f.state = "a+b&c<d>"
		tok := post(t, srv, srv.endpointURL(pathToken), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
		if claims := verifyIDToken(t, srv, tok.str("id_token")); claims["sub"] != "bob" {
			t.Errorf("interactive=%v: sub = %v, want bob (login_hint)", interactive, claims["sub"])
		}
		// LoginAs picks another user.
		uri = push(t, srv, f.parParams("app"), basic("app", "s3cret"))
		params, err = srv.LoginAs(authURL(srv, "app", uri), "alice")
		if err != nil {
			t.Fatal(err)
		}
		tok = post(t, srv, srv.endpointURL(pathToken), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
		if claims := verifyIDToken(t, srv, tok.str("id_token")); claims["sub"] != "alice" {
			t.Errorf("interactive=%v: LoginAs sub = %v, want alice", interactive, claims["sub"])
		}
	}
}

func TestInteractivePage(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Interactive: true})
	uri := push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
	r := get(t, srv, authURL(srv, "app", uri), nil)
	page := string(r.raw)
	if r.status != http.StatusOK || !strings.Contains(page, "Alice Andersen") || !strings.Contains(page, `value="alice"`) {
		t.Fatalf("login page = %d %s", r.status, page)
	}
	p, ok := parseLoginPage(page)
	if !ok || p.action != srv.endpointURL(pathLoginForm) {
		t.Fatalf("parseLoginPage = %+v, %v", p, ok)
	}
	// The transaction is single-use.
	form := url.Values{"tx": {p.tx}, "sub": {"alice"}}
	if r := post(t, srv, p.action, form, nil); r.status != http.StatusSeeOther {
		t.Fatalf("first submit = %d, want 303", r.status)
	}
	if r := post(t, srv, p.action, form, nil); r.status != http.StatusBadRequest {
		t.Errorf("second submit = %d, want 400", r.status)
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	c := basicClient()
	c.PostLogoutRedirectURIs = []string{"https://rp.example/bye"}
	srv := newServer(t, Config{Clients: []Client{c}})
	f := newFlow()
	tok := post(t, srv, srv.endpointURL(pathToken), tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
	idt := tok.str("id_token")
	end := srv.Metadata()["end_session_endpoint"].(string)

	r := get(t, srv, end+"?"+url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"st"}}.Encode(), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "https://rp.example/bye?state=st" {
		t.Errorf("logout = %d %q", r.status, r.header.Get("Location"))
	}
	forged, err := srv.SignWithKey(ecKey(0), jose.ES256, "x", "JWT", map[string]any{"iss": srv.Issuer(), "aud": "app", "sub": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]url.Values{
		"no hint":           {},
		"forged hint":       {"id_token_hint": {forged}},
		"unregistered uri":  {"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"client not in aud": {"id_token_hint": {idt}, "client_id": {"other"}},
	} {
		if r := get(t, srv, end+"?"+q.Encode(), nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", name, r.status)
		}
	}
	if r := get(t, srv, end+"?"+url.Values{"id_token_hint": {idt}}.Encode(), nil); r.status != http.StatusOK {
		t.Errorf("logout without redirect = %d, want 200", r.status)
	}
}

func TestRequestObject(t *testing.T) {
	t.Parallel()
	ec := ecKey(1)
	hsc := basicClient()
	pk := Client{ID: "pk", JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ec, "k1")}}, RedirectURIs: []string{testCallback}, RequireSignedRequestObject: true}
	srv := newServer(t, Config{Clients: []Client{hsc, pk}})
	f := newFlow()
	claims := func(clientID string) map[string]any {
		m := map[string]any{"iss": clientID, "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix(), "nbf": time.Now().Unix(), "jti": randomString(8)}
		for k, v := range f.parParams(clientID) {
			m[k] = v[0]
		}
		m["idp_params"] = map[string]any{"mitid": map[string]any{"loa_value": "substantial"}}
		return m
	}

	// HS256 with the client secret, as the MitID broker does. Parameters
	// outside the request object are ignored.
	ro := hsJWT(t, "s3cret", jose.HS256, map[string]any{"typ": "oauth-authz-req+jwt"}, claims("app"))
	uri := push(t, srv, url.Values{"client_id": {"app"}, "request": {ro}, "state": {"outside"}}, basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Get("state") != f.state {
		t.Fatalf("HS256 request object: %v %v, want state %q", params, err, f.state)
	}

	// private_key_jwt client with an ES256 request object.
	assertion := sign(t, ec, jose.ES256, map[jose.HeaderKey]any{"kid": "k1"}, assertionClaims(srv, "pk"))
	ro = sign(t, ec, jose.ES256, map[jose.HeaderKey]any{"kid": "k1", "typ": "oauth-authz-req+jwt"}, claims("pk"))
	push(t, srv, withAssertion(url.Values{"client_id": {"pk"}, "request": {ro}}, assertion), nil)

	bad := []struct {
		name   string
		change func(map[string]any)
		key    any
		alg    jose.SignatureAlgorithm
	}{
		{"wrong aud", func(m map[string]any) { m["aud"] = "https://other.example" }, []byte("s3cret"), jose.HS256},
		{"expired", func(m map[string]any) { m["exp"] = time.Now().Add(-time.Minute).Unix() }, []byte("s3cret"), jose.HS256},
		{"no exp", func(m map[string]any) { delete(m, "exp") }, []byte("s3cret"), jose.HS256},
		{"lives over an hour", func(m map[string]any) { m["exp"] = time.Now().Add(2 * time.Hour).Unix() }, []byte("s3cret"), jose.HS256},
		{"nbf in the future", func(m map[string]any) { m["nbf"] = time.Now().Add(time.Minute).Unix() }, []byte("s3cret"), jose.HS256},
		{"client_id claim differs", func(m map[string]any) { m["client_id"] = "pk" }, []byte("s3cret"), jose.HS256},
		{"contains request_uri", func(m map[string]any) { m["request_uri"] = "urn:x" }, []byte("s3cret"), jose.HS256},
		{"wrong secret", nil, []byte("not-the-secret"), jose.HS256},
		{"unknown key", nil, ecKey(2), jose.ES256},
	}
	for _, tt := range bad {
		m := claims("app")
		if tt.change != nil {
			tt.change(m)
		}
		var ro string
		if secret, ok := tt.key.([]byte); ok {
			ro = hsJWT(t, string(secret), tt.alg, nil, m)
		} else {
			ro = sign(t, tt.key, tt.alg, nil, m)
		}
		r := post(t, srv, srv.endpointURL(pathPAR), url.Values{"client_id": {"app"}, "request": {ro}}, basic("app", "s3cret"))
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request_object" {
			t.Errorf("%s: PAR = %d %s, want 400 invalid_request_object", tt.name, r.status, r.raw)
		}
	}
	// alg none is refused.
	none, _ := unsignedJWT(claims("app"))
	if r := post(t, srv, srv.endpointURL(pathPAR), url.Values{"client_id": {"app"}, "request": {none}}, basic("app", "s3cret")); r.str("error") != "invalid_request_object" {
		t.Errorf("alg none: %d %s", r.status, r.raw)
	}
	// The client that requires request objects cannot push plain parameters.
	assertion = sign(t, ec, jose.ES256, map[jose.HeaderKey]any{"kid": "k1"}, assertionClaims(srv, "pk"))
	if r := post(t, srv, srv.endpointURL(pathPAR), withAssertion(f.parParams("pk"), assertion), nil); r.status != http.StatusBadRequest {
		t.Errorf("plain push by RequireSignedRequestObject client = %d, want 400", r.status)
	}
}

// TestAuthorizeTransport covers the authorization endpoint's methods,
// duplicate parameters and front-channel request objects.
func TestAuthorizeTransport(t *testing.T) {
	t.Parallel()
	jarOnly := basicClient()
	jarOnly.ID = "jar"
	jarOnly.RequireSignedRequestObject = true
	srv := newServer(t, Config{Clients: []Client{basicClient(), jarOnly}})
	au := srv.endpointURL(pathAuthorize)
	f := newFlow()

	// POST form (OIDC Core §3.1.2.1).
	r := post(t, srv, au, f.parParams("app"), nil)
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "code=") {
		t.Errorf("POST authorize = %d %q", r.status, r.header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodPut, au, nil)
	if r := do(t, srv, req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT authorize = %d, want 405", r.status)
	}
	_, err := srv.Login(au + "?" + f.parParams("app").Encode() + "&scope=openid")
	var ae *AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "invalid_request" || !strings.Contains(ae.Error(), "more than once") {
		t.Errorf("duplicate scope: %v", err)
	}

	// A signed request object on the front channel; outside parameters are
	// ignored.
	m := map[string]any{"iss": "jar", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}
	for k, v := range f.parParams("jar") {
		m[k] = v[0]
	}
	ro := hsJWT(t, "s3cret", jose.HS256, nil, m)
	params, err := srv.Login(au + "?" + url.Values{"client_id": {"jar"}, "request": {ro}, "state": {"outside"}}.Encode())
	if err != nil || params.Get("state") != f.state || params.Get("code") == "" {
		t.Errorf("front-channel request object = %v %v", params, err)
	}
	if _, err := srv.Login(au + "?" + f.parParams("jar").Encode()); !errors.As(err, &ae) || ae.Code != "invalid_request" {
		t.Errorf("plain request by RequireSignedRequestObject client = %v", err)
	}
	m["client_id"] = "app"
	ro = hsJWT(t, "s3cret", jose.HS256, nil, m)
	if _, err := srv.Login(au + "?" + url.Values{"client_id": {"jar"}, "request": {ro}}.Encode()); !errors.As(err, &ae) || ae.Code != "invalid_request_object" {
		t.Errorf("request object for another client = %v", err)
	}
	if _, err := srv.Login(au + "?" + url.Values{"client_id": {"jar"}, "request": {"garbage"}}.Encode()); !errors.As(err, &ae) || ae.Code != "invalid_request_object" {
		t.Errorf("garbage request object = %v", err)
	}
	// The JWKS endpoint answers GET only.
	if r := post(t, srv, srv.endpointURL(pathJWKS), url.Values{}, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks = %d", r.status)
	}
	if srv.Certificate() != nil {
		t.Errorf("Certificate() without TLS = non-nil")
	}
	tlsSrv := newServer(t, Config{TLS: true})
	if tlsSrv.Certificate() == nil || !strings.HasPrefix(tlsSrv.Issuer(), "https://") {
		t.Errorf("TLS server: certificate %v issuer %q", tlsSrv.Certificate() != nil, tlsSrv.Issuer())
	}
}

// TestEncryptedRequestObject pushes a nested (signed, then encrypted)
// request object to a BrokerJWKS server.
func TestEncryptedRequestObject(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, BrokerJWKS: true})
	var enc jose.JSONWebKey
	for _, k := range srv.PublicJWKS().Keys {
		if k.Use == "enc" {
			enc = k
		}
	}
	if enc.Key == nil {
		t.Fatal("no encryption key in the JWKS")
	}
	md := srv.Metadata()
	if md["request_object_encryption_alg_values_supported"] == nil {
		t.Errorf("encryption algorithms not advertised")
	}
	f := newFlow()
	m := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}
	for k, v := range f.parParams("app") {
		m[k] = v[0]
	}
	signed := hsJWT(t, "s3cret", jose.HS256, nil, m)
	encrypt := func(alg jose.KeyAlgorithm, kid string) string {
		e, err := jose.NewEncrypter(jose.A256CBC_HS512, jose.Recipient{Algorithm: alg, Key: enc.Key, KeyID: kid},
			(&jose.EncrypterOptions{}).WithContentType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.Encrypt([]byte(signed))
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// RSA-OAEP-256, as the broker advertises (TestBrokerEncryptedRequestObjects
	// covers the other algorithms).
	uri := push(t, srv, url.Values{"client_id": {"app"}, "request": {encrypt(jose.RSA_OAEP_256, enc.KeyID)}}, basic("app", "s3cret"))
	if params, err := srv.Login(authURL(srv, "app", uri)); err != nil || params.Get("state") != f.state {
		t.Errorf("login = %v %v", params, err)
	}
	r := postTo(t, srv, pathPAR, url.Values{"client_id": {"app"}, "request": {encrypt(jose.RSA_OAEP_256, "other-kid")}}, basic("app", "s3cret"))
	if r.str("error") != "invalid_request_object" {
		t.Errorf("wrong kid = %d %s", r.status, r.raw)
	}
	plain := newServer(t, Config{Clients: []Client{basicClient()}})
	r = postTo(t, plain, pathPAR, url.Values{"client_id": {"app"}, "request": {encrypt(jose.RSA_OAEP_256, "")}}, basic("app", "s3cret"))
	if r.str("error") != "invalid_request_object" {
		t.Errorf("encrypted object without BrokerJWKS = %d %s", r.status, r.raw)
	}
}
