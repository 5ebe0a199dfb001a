package partest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestFaultResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, r response)
	}{
		{"429 with Retry-After", Fault{Status: 429, Body: `{"error":"slow_down"}`, Header: http.Header{"Retry-After": {"7"}}}, func(t *testing.T, r response) {
			if r.status != 429 || r.header.Get("Retry-After") != "7" || r.str("error") != "slow_down" {
				t.Errorf("got %d %q %s", r.status, r.header.Get("Retry-After"), r.raw)
			}
		}},
		{"405 text", Fault{Status: 405, Body: "nope"}, func(t *testing.T, r response) {
			if r.status != 405 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || string(r.raw) != "nope" {
				t.Errorf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.raw)
			}
		}},
		{"200 instead of 201", Fault{Status: 200, Body: `{"request_uri":"urn:x","expires_in":60}`}, func(t *testing.T, r response) {
			if r.status != 200 || r.str("request_uri") != "urn:x" {
				t.Errorf("got %d %s", r.status, r.raw)
			}
		}},
		{"redirect", Fault{Redirect: "https://evil.example/"}, func(t *testing.T, r response) {
			if r.status != 302 || r.header.Get("Location") != "https://evil.example/" {
				t.Errorf("got %d %q", r.status, r.header.Get("Location"))
			}
		}},
		{"truncated", Fault{TruncateBody: true}, func(t *testing.T, r response) {
			if r.status != 201 || json.Valid(r.raw) || len(r.raw) == 0 {
				t.Errorf("got %d %q, want a truncated JSON body", r.status, r.raw)
			}
		}},
		{"oversized", Fault{OversizeBody: true}, func(t *testing.T, r response) {
			if r.status != 201 || len(r.raw) <= 1<<20 || !json.Valid(r.raw) {
				t.Errorf("got %d, %d bytes, want more than 1 MiB of valid JSON", r.status, len(r.raw))
			}
		}},
		{"extra header only", Fault{Header: http.Header{"X-Test": {"1"}}}, func(t *testing.T, r response) {
			if r.status != 201 || r.header.Get("X-Test") != "1" {
				t.Errorf("got %d %v", r.status, r.header)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The raw response is needed: bypass do's JSON decoding of
			// truncated bodies.
			srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointPAR: tt.fault}})
			req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathPAR), strings.NewReader(newFlow().parParams("app").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basic("app", "s3cret").Get("Authorization"))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
			_ = json.Unmarshal(r.raw, &r.body)
			tt.check(t, r)
		})
	}
}

func TestFaultTimesAndClear(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	srv.SetFault(EndpointPAR, Fault{Status: 503, Body: `{"error":"temporarily_unavailable"}`, Times: 2})
	var got []int
	for range 3 {
		got = append(got, postTo(t, srv, pathPAR, newFlow().parParams("app"), basic("app", "s3cret")).status)
	}
	if got[0] != 503 || got[1] != 503 || got[2] != 201 {
		t.Errorf("statuses = %v, want [503 503 201]", got)
	}
	srv.SetFault(EndpointPAR, Fault{Status: 500})
	srv.ClearFault(EndpointPAR)
	if r := postTo(t, srv, pathPAR, newFlow().parParams("app"), basic("app", "s3cret")); r.status != 201 {
		t.Errorf("after ClearFault = %d", r.status)
	}
	if n := srv.Requests(EndpointPAR); n != 4 {
		t.Errorf("Requests(par) = %d, want 4", n)
	}
}

func TestFaultDelayRespectsContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Faults: map[string]Fault{EndpointDiscovery: {Delay: time.Minute}}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Issuer()+pathDiscovery, nil)
	start := time.Now()
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// Close must not hang on the stalled handler.
	srv.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	short := newServer(t, Config{Faults: map[string]Fault{EndpointDiscovery: {Delay: 20 * time.Millisecond}}})
	if r := get(t, short, short.Issuer()+pathDiscovery, nil); r.status != 200 {
		t.Errorf("short delay = %d", r.status)
	}
}

func TestFaultIssuers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, IssuerPath: "/op", Faults: map[string]Fault{
		EndpointDiscovery: {Issuer: "https://evil.example/op"},
	}})
	if md := get(t, srv, srv.Issuer()+pathDiscovery, nil); md.str("issuer") != "https://evil.example/op" {
		t.Errorf("discovery issuer = %q", md.str("issuer"))
	}
	srv.SetFault(EndpointAuthorize, Fault{Issuer: "https://mixup.example"})
	uri := push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Get("iss") != "https://mixup.example" || params.Get("code") == "" {
		t.Errorf("mix-up callback = %v %v", params, err)
	}
	srv.SetFault(EndpointAuthorize, Fault{OmitIss: true})
	uri = push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
	params, err = srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Has("iss") || params.Get("code") == "" {
		t.Errorf("OmitIss callback = %v %v", params, err)
	}
	noIss := newServer(t, Config{Clients: []Client{basicClient()}, NoIssParameter: true})
	uri = push(t, noIss, newFlow().parParams("app"), basic("app", "s3cret"))
	if params, err := noIss.Login(authURL(noIss, "app", uri)); err != nil || params.Has("iss") {
		t.Errorf("NoIssParameter callback = %v %v", params, err)
	}
}

// header decodes a JWT's protected header.
func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func jwtPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFaultIDTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, srv *Server, idt string)
	}{
		{"mutator", Fault{IDToken: func(c map[string]any) { c["aud"] = "someone-else"; delete(c, "nonce") }}, func(t *testing.T, srv *Server, idt string) {
			c := verifyIDToken(t, srv, idt)
			if c["aud"] != "someone-else" || c["nonce"] != nil {
				t.Errorf("claims = %v", c)
			}
		}},
		{"expired", Fault{IDToken: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }}, func(t *testing.T, srv *Server, idt string) {
			if exp := verifyIDToken(t, srv, idt)["exp"].(float64); exp > float64(time.Now().Unix()) {
				t.Errorf("exp = %v, want in the past", exp)
			}
		}},
		{"wrong issuer", Fault{Issuer: "https://evil.example"}, func(t *testing.T, srv *Server, idt string) {
			if iss := verifyIDToken(t, srv, idt)["iss"]; iss != "https://evil.example" {
				t.Errorf("iss = %v", iss)
			}
		}},
		{"alg none", Fault{IDTokenAlg: "none"}, func(t *testing.T, srv *Server, idt string) {
			if h := jwtHeader(t, idt); h["alg"] != "none" || !strings.HasSuffix(idt, ".") {
				t.Errorf("header = %v token %q", h, idt)
			}
		}},
		{"hs256 with client secret", Fault{IDTokenAlg: jose.HS256}, func(t *testing.T, srv *Server, idt string) {
			obj, err := jose.ParseSignedCompact(idt, []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifyHMAC(idt, obj.Signatures[0].Protected.Algorithm, []byte("s3cret")); err != nil {
				t.Errorf("not HMAC-signed with the client secret: %v", err)
			}
		}},
		{"other server key alg", Fault{IDTokenAlg: jose.ES256}, func(t *testing.T, srv *Server, idt string) {
			if h := jwtHeader(t, idt); h["alg"] != "ES256" {
				t.Errorf("alg = %v", h["alg"])
			}
			verifyIDToken(t, srv, idt) // the ES256 key is published
		}},
		{"key not in JWKS", Fault{IDTokenAlg: jose.ES256, IDTokenKey: ecKey(3)}, func(t *testing.T, srv *Server, idt string) {
			for _, k := range srv.PublicJWKS().Keys {
				if _, err := mustParse(t, idt).Verify(k); err == nil {
					t.Errorf("verified with JWKS key %s", k.KeyID)
				}
			}
		}},
		{"raw", Fault{RawIDToken: "not-a-jwt"}, func(t *testing.T, srv *Server, idt string) {
			if idt != "not-a-jwt" {
				t.Errorf("id_token = %q", idt)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointToken: tt.fault}})
			f := newFlow()
			r := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
			if r.status != 200 {
				t.Fatalf("token = %d %s", r.status, r.raw)
			}
			tt.check(t, srv, r.str("id_token"))
		})
	}
}

func mustParse(t *testing.T, raw string) *jose.JSONWebSignature {
	t.Helper()
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestRotateKeysAndSign(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, IDTokenAlg: jose.ES256})
	claims := map[string]any{"iss": srv.Issuer(), "sub": "alice", "aud": "app", "exp": time.Now().Add(time.Minute).Unix()}
	before, err := srv.SignIDToken(claims, "")
	if err != nil {
		t.Fatal(err)
	}
	verifyIDToken(t, srv, before)
	oldKid := srv.Keys()[0].KeyID
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	keys := srv.PublicJWKS().Keys
	if len(keys) != 1 || keys[0].KeyID == oldKid || !keys[0].IsPublic() {
		t.Fatalf("JWKS after rotation = %+v", keys)
	}
	if set := srv.PublicJWKS(); len(set.Key(oldKid)) != 0 {
		t.Errorf("old kid still published")
	}
	after, err := srv.SignIDToken(claims, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := verifyIDToken(t, srv, after)["sub"]; got != "alice" {
		t.Errorf("sub = %v", got)
	}
	if _, err := srv.verifyOwnJWT(before); err == nil {
		t.Errorf("token of the rotated-out key still verifies")
	}
	none, err := srv.SignIDToken(claims, "none")
	if err != nil || jwtHeader(t, none)["alg"] != "none" || jwtPayload(t, none)["sub"] != "alice" {
		t.Errorf("alg none token = %q, %v", none, err)
	}
	hs, err := srv.SignWithKey([]byte("short"), jose.HS256, "", "JWT", claims)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifyHMAC(hs, "HS256", []byte("short")); err != nil {
		t.Errorf("SignWithKey HS256: %v", err)
	}
	if _, err := srv.SignWithKey(42, jose.RS256, "", "", claims); err == nil {
		t.Errorf("SignWithKey(int) succeeded")
	}
}

func TestConfigPanics(t *testing.T) {
	t.Parallel()
	priv := jose.JSONWebKey{Key: ecKey(0), KeyID: "k"}
	tests := map[string]Config{
		"duplicate client":      {Clients: []Client{basicClient(), basicClient()}},
		"no id":                 {Clients: []Client{{Secret: "x"}}},
		"basic without secret":  {Clients: []Client{{ID: "a", AuthMethod: AuthClientSecretBasic}}},
		"pk without jwks":       {Clients: []Client{{ID: "a", AuthMethod: AuthPrivateKeyJWT}}},
		"tls without subject":   {Clients: []Client{{ID: "a", AuthMethod: AuthTLSClientAuth}}},
		"unknown method":        {Clients: []Client{{ID: "a", AuthMethod: "magic"}}},
		"private key in jwks":   {Clients: []Client{{ID: "a", JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{priv}}}}},
		"bad alg":               {IDTokenAlg: jose.HS256},
		"issuer path not slash": {IssuerPath: "op"},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("NewUnstartedServer did not panic")
				}
			}()
			NewUnstartedServer(cfg)
		})
	}
}

func TestMountedHandler(t *testing.T) {
	t.Parallel()
	srv := NewUnstartedServer(Config{URL: "https://op.example", IssuerPath: "/op"})
	req, _ := http.NewRequest(http.MethodGet, "https://op.example/op/.well-known/openid-configuration", nil)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var md map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || md["issuer"] != "https://op.example/op" {
		t.Errorf("mounted discovery = %d %s", rec.Code, rec.Body)
	}
	req, _ = http.NewRequest(http.MethodGet, "https://op.example/nowhere", nil)
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown path = %d", rec.Code)
	}
}

func TestFaultResponseAndUserinfo(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{
		EndpointToken:    {Response: func(b map[string]any) { b["token_type"] = "N_A"; delete(b, "id_token") }},
		EndpointUserinfo: {Userinfo: func(c map[string]any) { c["sub"] = "mallory" }},
		EndpointPAR:      {Response: func(b map[string]any) { b["expires_in"] = "60" }, Times: 1},
	}})
	f := newFlow()
	r := postTo(t, srv, pathPAR, f.parParams("app"), basic("app", "s3cret"))
	if r.status != 201 || r.body["expires_in"] != "60" {
		t.Errorf("PAR = %d %s, want expires_in as a string", r.status, r.raw)
	}
	tok := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
	if tok.str("token_type") != "N_A" || tok.body["id_token"] != nil || tok.header.Get("Content-Length") == "" {
		t.Errorf("token = %s", tok.raw)
	}
	ui := get(t, srv, srv.endpointURL(pathUserinfo), http.Header{"Authorization": {"Bearer " + tok.str("access_token")}})
	if ui.str("sub") != "mallory" {
		t.Errorf("userinfo sub = %q, want mallory", ui.str("sub"))
	}
}

// TestBrokerJWKS checks the MitID-broker-shaped JWKS of BrokerJWKS alone:
// the transaction key, the ID-token key and the encryption key, without
// alg (TestBrokerJWKSRecorded checks it in full).
func TestBrokerJWKS(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, BrokerJWKS: true, IssuerPath: "/op"})
	r := get(t, srv, srv.Metadata()["jwks_uri"].(string), nil)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.raw, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3: %s", len(raw.Keys), r.raw)
	}
	sig, enc := raw.Keys[1], raw.Keys[2]
	kid, _ := sig["kid"].(string)
	if len(kid) != 40 || strings.ToUpper(kid) != kid || sig["x5t"] == nil || sig["x5c"] == nil || sig["use"] != "sig" {
		t.Errorf("signing key = %v, want an upper-case hex SHA-1 kid with x5t and x5c", sig)
	}
	if x5t, _ := base64.RawURLEncoding.DecodeString(sig["x5t"].(string)); strings.ToUpper(hexString(x5t)) != kid {
		t.Errorf("kid %s is not the hex of x5t", kid)
	}
	if enc["use"] != "enc" || enc["alg"] != nil || sig["alg"] != nil || enc["d"] != nil {
		t.Errorf("encryption key = %v", enc)
	}
	f := newFlow()
	tok := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
	if h := jwtHeader(t, tok.str("id_token")); h["kid"] != kid {
		t.Errorf("id_token kid = %v, want %s", h["kid"], kid)
	}
	verifyIDToken(t, srv, tok.str("id_token"))
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
