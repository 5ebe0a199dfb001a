package partest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The client side of JARM, written by hand with go-jose: decrypt, verify
// against the JWKS found through discovery, read the claims.

var (
	encRSAOnce sync.Once
	encRSA     *rsa.PrivateKey
)

// clientEncRSA is the RSA key a client registers for encrypted responses.
func clientEncRSA() *rsa.PrivateKey {
	encRSAOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		encRSA = k
	})
	return encRSA
}

// jarmClient is the basic client with an encryption key and algorithm
// when alg is set.
func jarmClient(sigAlg jose.SignatureAlgorithm, alg jose.KeyAlgorithm, enc jose.ContentEncryption) Client {
	c := basicClient()
	c.AuthorizationSignedResponseAlg = sigAlg
	if alg == "" {
		return c
	}
	c.AuthorizationEncryptedResponseAlg, c.AuthorizationEncryptedResponseEnc = alg, enc
	var pub any = &clientEncRSA().PublicKey
	if strings.HasPrefix(string(alg), "ECDH") {
		pub = &ecKey(2).PublicKey
	}
	c.JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		publicJWK(ecKey(1), "sig-1"), // a signing key the server must step over
		{Key: pub, KeyID: "enc-1", Use: "enc"},
	}}
	return c
}

// jarmLogin pushes f with response_mode mode for client app and returns the
// HTTP answer of the authorization endpoint (a 303 or a form_post page)
// and the callback parameters.
func jarmLogin(t *testing.T, srv *Server, f flow, mode string) (*http.Response, url.Values) {
	t.Helper()
	form := f.parParams("app")
	form.Set("response_mode", mode)
	uri := push(t, srv, form, basic("app", "s3cret"))
	resp, body := noRedirect(t, srv, authURL(srv, "app", uri))
	switch resp.StatusCode {
	case http.StatusSeeOther:
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return resp, u.Query()
	case http.StatusOK:
		_, v, ok := parseFormPost(string(body))
		if !ok {
			t.Fatalf("authorize: not a form_post page: %s", body)
		}
		return resp, v
	}
	t.Fatalf("authorize = %d %s", resp.StatusCode, body)
	return nil, nil
}

// openJARM decrypts (when the client registered encryption) and verifies a
// response JWT as a client does (JARM §2.4), against the JWKS named by
// discovery, and returns the JWS header and the claims.
func openJARM(t *testing.T, srv *Server, raw string, enc jose.KeyAlgorithm) (jose.Header, map[string]any) {
	t.Helper()
	if enc != "" {
		obj, err := jose.ParseEncryptedCompact(raw, jarmKeyAlgs, jarmEncs)
		if err != nil {
			t.Fatalf("response is not a JWE: %v", err)
		}
		if obj.Header.KeyID != "enc-1" || obj.Header.ExtraHeaders["cty"] != "JWT" || obj.Header.Algorithm != string(enc) {
			t.Errorf("JWE header = %+v, want kid enc-1, cty JWT, alg %s", obj.Header, enc)
		}
		var key any = clientEncRSA()
		if strings.HasPrefix(string(enc), "ECDH") {
			key = ecKey(2)
		}
		inner, err := obj.Decrypt(key)
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		raw = string(inner)
	}
	md := get(t, srv, srv.Issuer()+pathDiscovery, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(get(t, srv, md.str("jwks_uri"), nil).raw, &set); err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseSignedCompact(raw, idTokenAlgs)
	if err != nil {
		t.Fatalf("response JWT: %v", err)
	}
	h := obj.Signatures[0].Protected
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q", len(keys), h.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		t.Fatalf("response JWT signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return h, claims
}

// TestJARM runs a login in each JWT response mode, signed and encrypted:
// the response parameter alone reaches the client, as a redirect (jwt,
// query.jwt) or a form_post page (form_post.jwt), holding iss, aud, exp,
// code and state (JARM §2.1); the code works at the token endpoint.
func TestJARM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mode   string
		sigAlg jose.SignatureAlgorithm
		alg    jose.KeyAlgorithm
		enc    jose.ContentEncryption
	}{
		{"jwt", "jwt", "", "", ""},
		{"query.jwt PS256", "query.jwt", jose.PS256, "", ""},
		{"form_post.jwt ES256", "form_post.jwt", jose.ES256, "", ""},
		{"jwt EdDSA", "jwt", jose.EdDSA, "", ""},
		{"query.jwt RSA-OAEP-256 A256GCM", "query.jwt", jose.PS256, jose.RSA_OAEP_256, jose.A256GCM},
		{"form_post.jwt RSA-OAEP default enc", "form_post.jwt", "", jose.RSA_OAEP, ""},
		{"jwt ECDH-ES A128GCM", "jwt", jose.ES256, jose.ECDH_ES, jose.A128GCM},
		{"query.jwt ECDH-ES+A256KW", "query.jwt", "", jose.ECDH_ES_A256KW, jose.A256CBC_HS512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{jarmClient(tt.sigAlg, tt.alg, tt.enc)}})
			f := newFlow()
			start := time.Now()
			resp, params := jarmLogin(t, srv, f, tt.mode)
			wantStatus := http.StatusSeeOther
			if tt.mode == "form_post.jwt" {
				wantStatus = http.StatusOK
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("authorize status = %d, want %d", resp.StatusCode, wantStatus)
			}
			if len(params) != 1 || params.Get("response") == "" {
				t.Fatalf("callback parameters = %v, want response alone", keysOf(params))
			}
			h, c := openJARM(t, srv, params.Get("response"), tt.alg)
			wantAlg := tt.sigAlg
			if wantAlg == "" {
				wantAlg = jose.RS256
			}
			if h.Algorithm != string(wantAlg) || h.ExtraHeaders[jose.HeaderType] != nil {
				t.Errorf("header alg %s typ %v, want %s and no typ", h.Algorithm, h.ExtraHeaders[jose.HeaderType], wantAlg)
			}
			if c["iss"] != srv.Issuer() || c["aud"] != "app" || c["state"] != f.state {
				t.Errorf("claims iss %v aud %v state %v", c["iss"], c["aud"], c["state"])
			}
			exp, _ := c["exp"].(float64)
			if d := time.Unix(int64(exp), 0).Sub(start); d < 4*time.Minute || d > 5*time.Minute+time.Second {
				t.Errorf("exp is %v ahead, want the default 5 min", d)
			}
			code, _ := c["code"].(string)
			if r := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret")); r.status != http.StatusOK {
				t.Errorf("token = %d %s", r.status, r.raw)
			}
		})
	}
}

func keysOf(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestJARMErrors: errors sent to the client are JWT-secured too (JARM
// §2.1: error, error_description, state), a refused login's and a bad
// request's on the front channel; fragment.jwt is refused (plainly: no
// JWT mode was agreed), at the PAR endpoint and on the front channel.
func TestJARMErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, AuthorizationResponseLifetime: 2 * time.Minute})

	t.Run("cancelled login", func(t *testing.T) {
		t.Parallel()
		f := newFlow()
		form := f.parParams("app")
		form.Set("response_mode", "form_post.jwt")
		uri := push(t, srv, form, basic("app", "s3cret"))
		srv.FailNextLogin("access_denied", "the user cancelled")
		params, err := srv.Login(authURL(srv, "app", uri))
		if err != nil || len(params) != 1 {
			t.Fatalf("Login = %v %v, want response alone", params, err)
		}
		_, c := openJARM(t, srv, params.Get("response"), "")
		if c["error"] != "access_denied" || c["error_description"] != "the user cancelled" || c["state"] != f.state || c["iss"] != srv.Issuer() || c["code"] != nil {
			t.Errorf("claims = %v", c)
		}
		if exp, _ := c["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) > 2*time.Minute {
			t.Errorf("exp %v beyond AuthorizationResponseLifetime", exp)
		}
	})

	t.Run("front channel bad request", func(t *testing.T) {
		t.Parallel()
		f := newFlow()
		q := f.parParams("app")
		q.Set("response_mode", "jwt")
		q.Set("code_challenge_method", "plain")
		params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + q.Encode())
		if err != nil || len(params) != 1 {
			t.Fatalf("Login = %v %v, want response alone", params, err)
		}
		_, c := openJARM(t, srv, params.Get("response"), "")
		if c["error"] != "invalid_request" || c["state"] != f.state {
			t.Errorf("claims = %v", c)
		}
	})

	t.Run("fragment.jwt", func(t *testing.T) {
		t.Parallel()
		form := newFlow().parParams("app")
		form.Set("response_mode", "fragment.jwt")
		if r := postTo(t, srv, pathPAR, form, basic("app", "s3cret")); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("PAR = %d %s, want 400 invalid_request", r.status, r.raw)
		}
		params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + form.Encode())
		if err != nil || params.Get("error") != "invalid_request" || params.Has("response") {
			t.Errorf("front channel = %v %v, want a plain invalid_request", params, err)
		}
	})
}

// TestJARMDiscovery: the JWT modes and algorithms are advertised (JARM §4),
// not by a BrokerLayout server, which refuses the modes like the broker.
func TestJARMDiscovery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	md := srv.Metadata()
	if got := md["response_modes_supported"]; !slices.Equal(got.([]string), []string{"query", "form_post", "jwt", "query.jwt", "form_post.jwt"}) {
		t.Errorf("response_modes_supported = %v", got)
	}
	for k, want := range map[string][]string{
		"authorization_signing_alg_values_supported":    {"RS256", "PS256", "ES256", "EdDSA"},
		"authorization_encryption_alg_values_supported": {"RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"},
		"authorization_encryption_enc_values_supported": {"A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"},
	} {
		if got, _ := md[k].([]string); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, md[k], want)
		}
	}

	broker := newBroker(t)
	bmd := broker.Metadata()
	if modes := bmd["response_modes_supported"].([]string); slices.ContainsFunc(modes, isJARM) || bmd["authorization_signing_alg_values_supported"] != nil {
		t.Errorf("broker metadata advertises JARM: %v", modes)
	}
	form := newFlow().parParams("app")
	form.Set("scope", "openid mitid")
	if r := postTo(t, broker, pathPAR, form, basic("app", "s3cret")); r.status != http.StatusCreated {
		t.Fatalf("broker PAR = %d %s, want 201", r.status, r.raw)
	}
	form.Set("response_mode", "jwt")
	if r := postTo(t, broker, pathPAR, form, basic("app", "s3cret")); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Errorf("broker PAR with response_mode jwt = %d %s, want 400 invalid_request", r.status, r.raw)
	}
}

// TestJARMClientPanics: an unusable JARM registration is refused at
// NewServer, naming the field.
func TestJARMClientPanics(t *testing.T) {
	t.Parallel()
	noKey := basicClient()
	noKey.AuthorizationEncryptedResponseAlg = jose.RSA_OAEP_256
	wrongKey := jarmClient("", jose.RSA_OAEP_256, "")
	wrongKey.JWKS.Keys[1].Key = &ecKey(2).PublicKey
	tests := []struct {
		name string
		c    Client
		want string
	}{
		{"enc without alg", func() Client { c := basicClient(); c.AuthorizationEncryptedResponseEnc = jose.A128GCM; return c }(), "AuthorizationEncryptedResponseEnc"},
		{"unknown key alg", func() Client {
			c := jarmClient("", jose.RSA_OAEP, "")
			c.AuthorizationEncryptedResponseAlg = "A128KW"
			return c
		}(), "AuthorizationEncryptedResponseAlg"},
		{"unknown enc", jarmClient("", jose.RSA_OAEP, "A192GCM"), "AuthorizationEncryptedResponseEnc"},
		{"no enc key", noKey, "no JWKS key with use enc"},
		{"EC key for RSA-OAEP", wrongKey, "no JWKS key with use enc"},
		{"HS256 signing", jarmClient(jose.HS256, "", ""), "AuthorizationSignedResponseAlg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %v, want one naming %s", r, tt.want)
				}
			}()
			NewUnstartedServer(Config{Clients: []Client{tt.c}})
		})
	}
	// A client with only an encryption key and no secret is not taken for
	// a private_key_jwt client.
	c := Client{ID: "public", RedirectURIs: []string{testCallback}, JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ecKey(2).PublicKey, Use: "enc"}}},
		AuthorizationEncryptedResponseAlg: jose.ECDH_ES}
	if got := NewUnstartedServer(Config{Clients: []Client{c}}).clients["public"].AuthMethod; got != AuthNone {
		t.Errorf("AuthMethod = %q, want none", got)
	}
}

// TestFaultJARM: each JARM fault gives the forgery a client must refuse
// (JARM §2.4), checked as a client would check it.
func TestFaultJARM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, srv *Server, f flow, params url.Values)
	}{
		{"alg none", Fault{JARMAlg: "none"}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			raw := params.Get("response")
			if h := jwtHeader(t, raw); h["alg"] != "none" || !strings.HasSuffix(raw, ".") || jwtPayload(t, raw)["state"] != f.state {
				t.Errorf("header %v, response %q", h, raw)
			}
		}},
		{"HS256 with the client secret", Fault{JARMAlg: jose.HS256}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			raw := params.Get("response")
			if _, err := verifyHMAC(raw, "HS256", []byte("s3cret")); err != nil || jwtHeader(t, raw)["alg"] != "HS256" {
				t.Errorf("not HMAC-signed with the client secret: %v", err)
			}
			if jwtPayload(t, raw)["aud"] != "app" {
				t.Errorf("claims = %v", jwtPayload(t, raw))
			}
		}},
		{"wrong iss", Fault{Issuer: "https://evil.example"}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["iss"] != "https://evil.example" {
				t.Errorf("iss = %v", c["iss"])
			}
		}},
		{"no iss", Fault{OmitIss: true}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["iss"] != nil || c["code"] == nil {
				t.Errorf("claims = %v", c)
			}
		}},
		{"wrong aud", Fault{JARMClaims: func(c map[string]any) { c["aud"] = "other-client" }}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["aud"] != "other-client" {
				t.Errorf("aud = %v", c["aud"])
			}
		}},
		{"expired", Fault{JARMClaims: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["exp"].(float64) > float64(time.Now().Unix()) {
				t.Errorf("exp = %v, want in the past", c["exp"])
			}
		}},
		{"no exp", Fault{JARMClaims: func(c map[string]any) { delete(c, "exp") }}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["exp"] != nil {
				t.Errorf("exp = %v", c["exp"])
			}
		}},
		{"exp a day ahead", Fault{JARMClaims: func(c map[string]any) { c["exp"] = time.Now().Add(24 * time.Hour).Unix() }}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["exp"].(float64) < float64(time.Now().Add(23*time.Hour).Unix()) {
				t.Errorf("exp = %v", c["exp"])
			}
		}},
		{"key not in JWKS", Fault{JARMAlg: jose.ES256, JARMKey: ecKey(3)}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			obj := mustParse(t, params.Get("response"))
			for _, k := range srv.PublicJWKS().Keys {
				if _, err := obj.Verify(k); err == nil {
					t.Errorf("verified with JWKS key %s", k.KeyID)
				}
			}
			if _, err := obj.Verify(&ecKey(3).PublicKey); err != nil {
				t.Errorf("not signed with the fault's key: %v", err)
			}
		}},
		{"plain parameters next to response", Fault{JARMWithPlainParams: true}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			_, c := openJARM(t, srv, params.Get("response"), "")
			if params.Get("code") == "" || params.Get("code") != c["code"] || params.Get("state") != f.state || params.Get("iss") != srv.Issuer() {
				t.Errorf("callback = %v", keysOf(params))
			}
		}},
		{"state changed inside", Fault{AuthorizationResponse: func(v url.Values) { v.Set("state", "forged") }}, func(t *testing.T, srv *Server, f flow, params url.Values) {
			if _, c := openJARM(t, srv, params.Get("response"), ""); c["state"] != "forged" || len(params) != 1 {
				t.Errorf("state = %v, callback %v", c["state"], keysOf(params))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointAuthorize: tt.fault}})
			f := newFlow()
			_, params := jarmLogin(t, srv, f, "jwt")
			tt.check(t, srv, f, params)
		})
	}
}

// TestFaultReplayJARM: ReplayJARM sends the previous flow's genuine
// response, with that flow's state and code, to the next flow; an
// encrypted client gets the same JWE again.
func TestFaultReplayJARM(t *testing.T) {
	t.Parallel()
	for _, alg := range []jose.KeyAlgorithm{"", jose.ECDH_ES} {
		t.Run(string(alg)+"-", func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{jarmClient("", alg, "")}})
			first := newFlow()
			_, p1 := jarmLogin(t, srv, first, "query.jwt")
			srv.SetFault(EndpointAuthorize, Fault{ReplayJARM: true, Times: 1})
			second := newFlow()
			_, p2 := jarmLogin(t, srv, second, "form_post.jwt")
			if p2.Get("response") != p1.Get("response") {
				t.Fatal("the second flow did not get the first flow's response")
			}
			if _, c := openJARM(t, srv, p2.Get("response"), alg); c["state"] != first.state {
				t.Errorf("state = %v, want the first flow's", c["state"])
			}
			// Without the fault, fresh responses again.
			third := newFlow()
			if _, p3 := jarmLogin(t, srv, third, "jwt"); p3.Get("response") == p1.Get("response") {
				t.Error("fault outlived Times")
			}
		})
	}
}

// TestFaultJARMEncrypted: a forged response is still encrypted to the
// client, so the client finds the forgery only after decrypting.
func TestFaultJARMEncrypted(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{jarmClient("", jose.RSA_OAEP_256, jose.A256GCM)},
		Faults: map[string]Fault{EndpointAuthorize: {JARMAlg: "none"}}})
	_, params := jarmLogin(t, srv, newFlow(), "jwt")
	obj, err := jose.ParseEncryptedCompact(params.Get("response"), jarmKeyAlgs, jarmEncs)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := obj.Decrypt(clientEncRSA())
	if err != nil {
		t.Fatal(err)
	}
	if h := jwtHeader(t, string(inner)); h["alg"] != "none" || jwtPayload(t, string(inner))["code"] == nil {
		t.Errorf("inner JWT = %s", inner)
	}
}
