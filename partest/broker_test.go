package partest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/ocsp"
)

// The tests of this file check partest's broker mode against the MitID
// broker as it was recorded answering (broker-recorded.md) at the HTTP
// level: raw net/http and go-jose, no go-par package.

var (
	reSessionState = regexp.MustCompile(`^[A-Za-z0-9_-]{43}\.[0-9A-F]{32}$`)
	reUUID         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reUpperHexKID  = regexp.MustCompile(`^[0-9A-F]{40}$`)
)

// recordedIDTokenClaims returns the claim set of the recorded code-flow ID
// tokens: that of testdata/mitid/id_token_claims.json.
func recordedIDTokenClaims(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/mitid/id_token_claims.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return keys(m)
}

// newBroker starts a BrokerConfig server with the usual client, changed
// by the options.
func newBroker(t *testing.T, opts ...func(*Config)) *Server {
	t.Helper()
	cfg := BrokerConfig(basicClient())
	for _, o := range opts {
		o(&cfg)
	}
	return newServer(t, cfg)
}

func documented(cfg *Config) { cfg.BrokerDocumented = true }

// noRedirect GETs u without following redirects.
func noRedirect(t *testing.T, srv *Server, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, []byte(b.String())
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// brokerJWKS fetches and parses the served JWKS.
func brokerJWKS(t *testing.T, srv *Server) (jose.JSONWebKeySet, []map[string]any) {
	t.Helper()
	r := get(t, srv, srv.Metadata()["jwks_uri"].(string), nil)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.raw, &raw); err != nil {
		t.Fatal(err)
	}
	// go-jose refuses the documentation's hex x5t: leave it out.
	var lenient struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(r.raw, &lenient)
	for _, k := range lenient.Keys {
		if x5t, _ := k["x5t"].(string); len(x5t) == 40 {
			delete(k, "x5t")
		}
	}
	b, _ := json.Marshal(lenient)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS does not parse: %v: %s", err, r.raw)
	}
	return set, raw.Keys
}

// verifyByKID verifies a JWS with the served JWKS entry its kid names and
// returns its claims.
func verifyByKID(t *testing.T, srv *Server, raw string) map[string]any {
	t.Helper()
	set, _ := brokerJWKS(t, srv)
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("not an RS256 JWS: %v", err)
	}
	ks := set.Key(obj.Signatures[0].Protected.KeyID)
	if len(ks) != 1 {
		t.Fatalf("%d JWKS keys with kid %q", len(ks), obj.Signatures[0].Protected.KeyID)
	}
	payload, err := obj.Verify(ks[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// brokerLogin pushes f's parameters (plus extra), logs in the first
// broker user and redeems the code.
func brokerLogin(t *testing.T, srv *Server, f flow, extra url.Values) response {
	t.Helper()
	form := f.parParams("app")
	for k, v := range extra {
		form[k] = v
	}
	uri := push(t, srv, form, basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Get("code") == "" {
		t.Fatalf("Login = %v, %v", params, err)
	}
	tok := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	if tok.status != http.StatusOK {
		t.Fatalf("token = %d %s", tok.status, tok.raw)
	}
	return tok
}

// TestBrokerDiscoveryRecorded checks that BrokerConfig serves the broker's
// recorded discovery document (testdata/discovery/broker-pp.json) member
// for member, with the endpoints below partest's issuer.
func TestBrokerDiscoveryRecorded(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/discovery/broker-pp.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := newBroker(t)
	raw = []byte(strings.ReplaceAll(string(raw), "https://pp.netseidbroker.dk/op", srv.Issuer()))
	var fixture, served map[string]any
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil).raw, &served); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys(served), keys(fixture)) {
		t.Errorf("members:\n served  %v\n fixture %v", keys(served), keys(fixture))
	}
	for k, want := range fixture {
		if got := served[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, recorded %v", k, got, want)
		}
	}
	for _, k := range []string{"scopes_supported", "claims_supported", "acr_values_supported", "ui_locales_supported", "request_object_encryption_enc_values_supported"} {
		if _, ok := served[k]; ok {
			t.Errorf("%s is served; the broker leaves it out", k)
		}
	}
}

// TestBrokerDiscoveryDocumented compares the BrokerDocumented discovery
// document with the documented fixture (testdata/discovery/
// broker-pp-documented.json, brokers-and-profiles.md §8.1): every member
// partest serves has the fixture's value (endpoints relative to the
// issuer), and every difference is one partest makes on purpose, listed
// here with its reason.
func TestBrokerDiscoveryDocumented(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/discovery/broker-pp-documented.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixture map[string]any
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	srv := newBroker(t, documented)
	var served map[string]any
	if err := json.Unmarshal(get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil).raw, &served); err != nil {
		t.Fatal(err)
	}
	// Members partest leaves out: endpoints it does not implement (it
	// implements front- and back-channel logout, issue 19).
	omitted := []string{"check_session_iframe", "revocation_endpoint", "introspection_endpoint"}
	// Members whose value differs because partest supports less (and says
	// so), or accepts more.
	differs := map[string]string{
		"grant_types_supported":                            "no client_credentials or implicit grant",
		"response_types_supported":                         "code only",
		"response_modes_supported":                         "no fragment (code flow only)",
		"code_challenge_methods_supported":                 "S256 only; plain is refused",
		"token_endpoint_auth_signing_alg_values_supported": "every RS/PS/ES/HS algorithm and EdDSA",
		"request_object_signing_alg_values_supported":      "EdDSA too",
		"claims_supported":                                 "the fixture's claims plus those of Config.Users",
	}
	const fixtureIssuer = "https://pp.netseidbroker.dk/op"
	for k, want := range fixture {
		got, ok := served[k]
		switch {
		case slices.Contains(omitted, k):
			if ok {
				t.Errorf("%s is served but listed as omitted", k)
			}
			continue
		case !ok:
			t.Errorf("%s missing", k)
			continue
		}
		if s, isString := want.(string); isString && strings.HasPrefix(s, fixtureIssuer) {
			want = srv.Issuer() + strings.TrimPrefix(s, fixtureIssuer)
		}
		if reflect.DeepEqual(got, want) {
			if _, listed := differs[k]; listed {
				t.Errorf("%s now equals the fixture; drop it from the list of differences", k)
			}
			continue
		}
		if _, listed := differs[k]; !listed {
			t.Errorf("%s = %v, fixture has %v", k, got, want)
		}
	}
	for _, c := range fixture["claims_supported"].([]any) {
		if !slices.Contains(served["claims_supported"].([]any), c) {
			t.Errorf("claims_supported lacks %v", c)
		}
	}
}

// TestBrokerJWKSRecorded checks the recorded JWKS shape: three RSA keys,
// each with an upper-case hex kid that is the SHA-1 of its certificate, a
// base64url x5t of the same, x5c and use, and no alg: first the
// transaction-signing key (CN=NEB Transact PP, issued by the CA of
// TransactionCA), then the ID-token key, then the encryption key.
func TestBrokerJWKSRecorded(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	_, raw := brokerJWKS(t, srv)
	if len(raw) != 3 {
		t.Fatalf("JWKS has %d keys, want 3", len(raw))
	}
	var uses []string
	certs := make([]*x509.Certificate, len(raw))
	for i, k := range raw {
		uses = append(uses, k["use"].(string))
		if _, has := k["alg"]; has {
			t.Errorf("key %d has alg %v; the broker's keys have none", i, k["alg"])
		}
		kid, _ := k["kid"].(string)
		x5c, _ := k["x5c"].([]any)
		if k["kty"] != "RSA" || !reUpperHexKID.MatchString(kid) || len(x5c) != 1 || k["n"] == nil || k["e"] == nil {
			t.Fatalf("key %d = %v, want an RSA key with an upper-case hex kid, n, e and one x5c", i, k)
		}
		der, err := base64.StdEncoding.DecodeString(x5c[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(der)
		if kid != strings.ToUpper(hex.EncodeToString(sum[:])) || k["x5t"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("key %d: kid %s, x5t %v, want the hex and base64url SHA-1 of its certificate", i, kid, k["x5t"])
		}
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(uses, []string{"sig", "sig", "enc"}) {
		t.Errorf("uses = %v, want sig (transaction), sig (ID token), enc", uses)
	}
	// Each key has the members of the recorded fixture's key.
	fixture, err := os.ReadFile("../testdata/keys/broker-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(fixture, &fx); err != nil || len(fx.Keys) != len(raw) {
		t.Fatalf("fixture: %v, %d keys", err, len(fx.Keys))
	}
	for i := range raw {
		if got, want := keys(raw[i]), keys(fx.Keys[i]); !slices.Equal(got, want) || raw[i]["use"] != fx.Keys[i]["use"] {
			t.Errorf("key %d members = %v, fixture %v", i, got, want)
		}
	}
	if certs[0].Subject.CommonName != "NEB Transact PP" {
		t.Errorf("first key's certificate = %s, want CN=NEB Transact PP", certs[0].Subject)
	}
	if err := certs[0].CheckSignatureFrom(srv.TransactionCA()); err != nil {
		t.Errorf("transaction certificate not issued by TransactionCA: %v", err)
	}
	// The ID token is signed with the second key, not the transaction key.
	tok := brokerLogin(t, srv, newFlow(), nil)
	if h := jwtHeader(t, tok.str("id_token")); h["kid"] != raw[1]["kid"] || h["alg"] != "RS256" || h["typ"] != "JWT" {
		t.Errorf("ID token header = %v, want RS256, typ JWT and the second key's kid", h)
	}
}

// TestBrokerJWKSDocumented checks the documentation's JWKS variant: alg
// RS256 on the signing keys, the encryption key with a hex x5t and the
// XML-Enc alg URI.
func TestBrokerJWKSDocumented(t *testing.T) {
	t.Parallel()
	srv := newBroker(t, documented)
	r := get(t, srv, srv.Metadata()["jwks_uri"].(string), nil)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.raw, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 3 {
		t.Fatalf("JWKS has %d keys", len(raw.Keys))
	}
	for _, k := range raw.Keys[:2] {
		if k["alg"] != "RS256" {
			t.Errorf("signing key alg = %v", k["alg"])
		}
	}
	if enc := raw.Keys[2]; enc["use"] != "enc" || enc["alg"] != "http://www.w3.org/2001/04/xmlenc#rsa-oaep" || enc["x5t"] != enc["kid"] {
		t.Errorf("encryption key = %v, want the XML-Enc alg and a hex x5t", enc)
	}
}

// TestBrokerBackChannelErrors checks the recorded error shape of the PAR
// and token endpoints: bare {"error":…} bodies with 400, invalid_client
// included and without WWW-Authenticate, an error_description only for
// invalid_request_object, and the broker's Cache-Control.
func TestBrokerBackChannelErrors(t *testing.T) {
	t.Parallel()
	srv := newBroker(t, func(cfg *Config) {
		cfg.Clients = append(cfg.Clients, Client{ID: "public", RedirectURIs: []string{testCallback}})
	})
	f := newFlow()
	ro := func(secret string) string {
		m := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}
		for k, v := range f.parParams("app") {
			m[k] = v[0]
		}
		return hsJWT(t, secret, jose.HS256, nil, m)
	}
	tests := []struct {
		name     string
		endpoint string
		form     url.Values
		header   http.Header
		body     string
	}{
		{"PAR, wrong secret", pathPAR, f.parParams("app"), basic("app", "wrong"), `{"error":"invalid_client"}`},
		{"PAR, unknown client", pathPAR, f.parParams("nobody"), basic("nobody", "x"), `{"error":"invalid_client"}`},
		{"PAR, no authentication", pathPAR, f.parParams("app"), nil, `{"error":"invalid_client"}`},
		{"PAR, bad request object", pathPAR, url.Values{"client_id": {"app"}, "request": {ro("wrong")}}, basic("app", "s3cret"), `{"error":"invalid_request_object","error_description":"Invalid JWT request"}`},
		{"PAR, no redirect_uri", pathPAR, func() url.Values { v := f.parParams("app"); v.Del("redirect_uri"); return v }(), basic("app", "s3cret"), `{"error":"invalid_request"}`},
		{"token, wrong secret", pathToken, tokenForm("x", f), basic("app", "wrong"), `{"error":"invalid_client"}`},
		{"token, unknown code", pathToken, tokenForm("x", f), basic("app", "s3cret"), `{"error":"invalid_grant"}`},
		{"token, no grant_type", pathToken, url.Values{"code": {"x"}}, basic("app", "s3cret"), `{"error":"invalid_request"}`},
		{"CIBA, public client", pathCIBA, url.Values{"client_id": {"public"}, "scope": {"openid"}, "login_hint": {"x"}}, nil, `{"error":"unauthorized_client"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := postTo(t, srv, tt.endpoint, tt.form, tt.header)
			if r.status != http.StatusBadRequest || string(r.raw) != tt.body {
				t.Errorf("= %d %s, want 400 %s", r.status, r.raw, tt.body)
			}
			if v := r.header.Values("WWW-Authenticate"); len(v) != 0 {
				t.Errorf("WWW-Authenticate = %q, want none", v)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store, no-cache, max-age=0" {
				t.Errorf("Cache-Control = %q", cc)
			}
		})
	}

	// The documented variant answers as RFC 6749 §5.2 says.
	doc := newBroker(t, documented)
	r := postTo(t, doc, pathPAR, f.parParams("app"), basic("app", "wrong"))
	if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || r.str("error_description") == "" ||
		!strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("documented invalid_client = %d %v %q", r.status, r.body, r.header.Get("WWW-Authenticate"))
	}
}

// TestBrokerUserinfoErrors checks the recorded UserInfo challenge: 401, an
// empty body, the code only in WWW-Authenticate.
func TestBrokerUserinfoErrors(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	for name, authz := range map[string]string{"bad token": "Bearer nope", "no token": ""} {
		req, _ := http.NewRequest(http.MethodGet, srv.endpointURL(pathUserinfo), nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		r := do(t, srv, req)
		if r.status != http.StatusUnauthorized || len(r.raw) != 0 ||
			r.header.Get("WWW-Authenticate") != `Bearer realm="IdentityServer", error="invalid_token"` {
			t.Errorf("%s: %d %q WWW-Authenticate %q", name, r.status, r.raw, r.header.Get("WWW-Authenticate"))
		}
	}
	doc := newBroker(t, documented)
	req, _ := http.NewRequest(http.MethodGet, doc.endpointURL(pathUserinfo), nil)
	req.Header.Set("Authorization", "Bearer nope")
	if r := do(t, doc, req); r.status != http.StatusUnauthorized || r.str("error") != "invalid_token" {
		t.Errorf("documented: %d %s", r.status, r.raw)
	}
}

// TestBrokerCallbacks checks the recorded front-channel shapes: success
// with code, state, session_state and iss; a cancel (FailNextLogin) and
// login_required with error, error_description, state and session_state
// but no iss. The documented variant and a non-broker server send iss.
func TestBrokerCallbacks(t *testing.T) {
	t.Parallel()
	type want struct {
		members []string
		values  map[string]string
	}
	tests := []struct {
		name  string
		cfg   func(*Config)
		setup func(srv *Server, form url.Values)
		want  want
	}{
		{"success", nil, nil, want{[]string{"code", "iss", "session_state", "state"}, nil}},
		{"cancel", nil, func(srv *Server, _ url.Values) { srv.FailNextLogin("access_denied", "mitid_user_aborted") },
			want{[]string{"error", "error_description", "session_state", "state"}, map[string]string{"error": "access_denied", "error_description": "mitid_user_aborted"}}},
		{"login_required", nil, func(_ *Server, form url.Values) { form.Set("prompt", "none") },
			want{[]string{"error", "error_description", "session_state", "state"}, map[string]string{"error": "login_required"}}},
		{"documented cancel", documented, func(srv *Server, _ url.Values) { srv.FailNextLogin("access_denied", "mitid_user_aborted") },
			want{[]string{"error", "error_description", "iss", "state"}, map[string]string{"error": "access_denied"}}},
		{"non-broker cancel", func(cfg *Config) { *cfg = Config{Clients: cfg.Clients} }, func(srv *Server, _ url.Values) { srv.FailNextLogin("access_denied", "") },
			want{[]string{"error", "iss", "state"}, map[string]string{"error": "access_denied"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*Config)
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			srv := newBroker(t, opts...)
			f := newFlow()
			form := f.parParams("app")
			if tt.setup != nil {
				tt.setup(srv, form)
			}
			uri := push(t, srv, form, basic("app", "s3cret"))
			resp, _ := noRedirect(t, srv, authURL(srv, "app", uri))
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), testCallback+"?") {
				t.Fatalf("authorize = %d %q, want a redirect to the client", resp.StatusCode, resp.Header.Get("Location"))
			}
			q := loc.Query()
			if got := keys(func() map[string]any {
				m := map[string]any{}
				for k := range q {
					m[k] = true
				}
				return m
			}()); !slices.Equal(got, tt.want.members) {
				t.Errorf("callback members = %v, want %v (%s)", got, tt.want.members, loc.RawQuery)
			}
			for k, v := range tt.want.values {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			if q.Get("state") != f.state {
				t.Errorf("state = %q", q.Get("state"))
			}
			if q.Has("session_state") && !reSessionState.MatchString(q.Get("session_state")) {
				t.Errorf("session_state = %q", q.Get("session_state"))
			}
			if q.Has("iss") && q.Get("iss") != srv.Issuer() {
				t.Errorf("iss = %q", q.Get("iss"))
			}
		})
	}
}

// TestFailNextLogin checks that FailNextLogin fails exactly the queued
// number of logins, in order, through Login as well.
func TestFailNextLogin(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	srv.FailNextLogin("access_denied", "mitid_user_aborted")
	srv.FailNextLogin("access_denied", "mitid_erhverv_user_aborted")
	var got []string
	for range 3 {
		uri := push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
		params, err := srv.Login(authURL(srv, "app", uri))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, params.Get("error_description"))
		if params.Has("iss") != params.Has("code") {
			t.Errorf("params = %v: iss only with a code", params)
		}
	}
	if !slices.Equal(got, []string{"mitid_user_aborted", "mitid_erhverv_user_aborted", ""}) {
		t.Errorf("outcomes = %q", got)
	}
}

// TestBrokerErrorPage checks that the recorded broker never calls the
// client for an invalid authorization request: it sends the browser (302)
// to its own /op/Error?errorId=… page, served as HTML with 200, and Login
// reports it as an *AuthorizeError.
func TestBrokerErrorPage(t *testing.T) {
	t.Parallel()
	clock := newClock()
	srv := newBroker(t, func(cfg *Config) { cfg.Now = clock.Now })
	pushed := func(extra url.Values) string {
		form := newFlow().parParams("app")
		for k, v := range extra {
			form[k] = v
		}
		return authURL(srv, "app", push(t, srv, form, basic("app", "s3cret")))
	}
	used := pushed(nil)
	if _, err := srv.Login(used); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  func() string
		code string
	}{
		{"unknown idp_values", func() string { return pushed(url.Values{"idp_values": {"mitid nosuchidp"}}) }, "invalid_request"},
		{"reused request_uri", func() string { return used }, "invalid_request_uri"},
		{"unknown request_uri", func() string { return authURL(srv, "app", requestURIPrefix+strings.Repeat("A", 64)) }, "invalid_request_uri"},
		{"expired request_uri", func() string {
			u := pushed(nil)
			clock.Advance(601 * time.Second)
			return u
		}, "invalid_request_uri"},
		{"missing scope", func() string {
			v := newFlow().parParams("app")
			v.Del("scope")
			return srv.endpointURL(pathAuthorize) + "?" + v.Encode()
		}, "invalid_scope"},
		{"plain PKCE", func() string {
			v := newFlow().parParams("app")
			v.Set("code_challenge_method", "plain")
			return srv.endpointURL(pathAuthorize) + "?" + v.Encode()
		}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url()
			resp, _ := noRedirect(t, srv, u)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, srv.Issuer()+"/Error?errorId=") {
				t.Fatalf("authorize = %d Location %q, want 302 to the broker's error page", resp.StatusCode, loc)
			}
			page, body := noRedirect(t, srv, loc)
			if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(body), `data-error="`+tt.code+`"`) {
				t.Errorf("error page = %d %q %s", page.StatusCode, page.Header.Get("Content-Type"), body)
			}
			// Login follows the browser there (with a fresh URL where the
			// first try consumed the request_uri).
			if tt.name == "unknown idp_values" || tt.name == "expired request_uri" {
				u = tt.url()
			}
			_, err := srv.Login(u)
			var ae *AuthorizeError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusOK || ae.Code != tt.code || ae.ErrorID == "" {
				t.Errorf("Login = %v, want an *AuthorizeError for the error page", err)
			}
		})
	}
	// An unknown errorId still shows the page.
	if resp, body := noRedirect(t, srv, srv.Issuer()+"/Error?errorId=nope"); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-error=""`) {
		t.Errorf("unknown errorId = %d %s", resp.StatusCode, body)
	}
	// The documented variant sends the error to the client, with iss.
	doc := newBroker(t, documented)
	v := newFlow().parParams("app")
	v.Del("scope")
	resp, _ := noRedirect(t, doc, doc.endpointURL(pathAuthorize)+"?"+v.Encode())
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, testCallback+"?") || !strings.Contains(loc, "iss=") {
		t.Errorf("documented missing scope = %d %q", resp.StatusCode, loc)
	}
}

// TestBrokerTokens checks the recorded token response, ID token, UserInfo
// and userinfo_token of a code-flow login.
func TestBrokerTokens(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	f := newFlow()
	tok := brokerLogin(t, srv, f, url.Values{"scope": {"openid mitid"}})
	if tok.body["expires_in"] != 10800.0 || tok.str("token_type") != "Bearer" || tok.str("scope") != "openid mitid" {
		t.Errorf("token response = %v", tok.body)
	}
	for _, k := range []string{"transaction_token", "transaction_token_ocsp_resp"} {
		if _, ok := tok.body[k]; ok {
			t.Errorf("%s without the transaction_token scope", k)
		}
	}
	u := BrokerUsers()[0]

	id := verifyByKID(t, srv, tok.str("id_token"))
	if got, want := keys(id), recordedIDTokenClaims(t); !slices.Equal(got, want) {
		t.Errorf("ID token claims = %v, want the recorded set %v", got, want)
	}
	for k, want := range map[string]any{
		"sub": u.Subject, "aud": "app", "nonce": f.nonce, "idp": "mitid", "identity_type": "private",
		"loa": u.Claims["loa"], "acr": u.Claims["loa"], "ial": u.Claims["ial"], "aal": u.Claims["aal"],
		"idtoken_type": "strict", "subject_type": "org_mapped", "at_hash": atHash(tok.str("access_token")),
	} {
		if id[k] != want {
			t.Errorf("ID token %s = %v, want %v", k, id[k], want)
		}
	}
	if amr, _ := id["amr"].([]any); len(amr) != 1 || amr[0] != "code_app" {
		t.Errorf("ID token amr = %v, want [code_app]", id["amr"])
	}
	exp, _ := id["session_expiry"].(string)
	if n, err := json.Number(exp).Int64(); err != nil || n <= int64(id["iat"].(float64)) {
		t.Errorf("session_expiry = %#v, want a string holding a later time", id["session_expiry"])
	}
	if id["sid"] != id["neb_sid"] || !reUUID.MatchString(id["sid"].(string)) || !reUUID.MatchString(id["transaction_id"].(string)) {
		t.Errorf("sid %v neb_sid %v transaction_id %v", id["sid"], id["neb_sid"], id["transaction_id"])
	}
	if id["nbf"] != id["iat"] || id["auth_time"] == nil {
		t.Errorf("nbf %v iat %v auth_time %v", id["nbf"], id["iat"], id["auth_time"])
	}

	// UserInfo: every value a string; the mitid.* claims are here.
	req, _ := http.NewRequest(http.MethodGet, srv.endpointURL(pathUserinfo), nil)
	req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
	ui := do(t, srv, req)
	if ui.status != http.StatusOK {
		t.Fatalf("userinfo = %d %s", ui.status, ui.raw)
	}
	for k, v := range ui.body {
		if _, ok := v.(string); !ok {
			t.Errorf("userinfo %s = %#v, want a string", k, v)
		}
	}
	for k, want := range map[string]any{
		"sub": u.Subject, "amr": "code_app", "mitid.age": "88", "mitid.identity_name": "Karen Test Hansen",
		"mitid.transaction_id": id["idp_transaction_id"], "auth_time": fmt.Sprintf("%.0f", id["auth_time"]),
		"idp_identity_id": u.Claims["mitid.uuid"], "session_is_active": "true", "session_expiry": id["session_expiry"],
	} {
		if ui.body[k] != want {
			t.Errorf("userinfo %s = %#v, want %#v", k, ui.body[k], want)
		}
	}
	if _, ok := ui.body["idp_environment"]; ok {
		t.Error("userinfo has idp_environment, which the broker never sent")
	}

	// userinfo_token: typ at+jwt, the ID-token key, string values.
	ut := tok.str("userinfo_token")
	h := jwtHeader(t, ut)
	if h["typ"] != "at+jwt" || h["kid"] != jwtHeader(t, tok.str("id_token"))["kid"] {
		t.Errorf("userinfo_token header = %v", h)
	}
	uc := verifyByKID(t, srv, ut)
	for k, v := range uc {
		switch k {
		case "iat", "nbf", "exp":
			if _, ok := v.(float64); !ok {
				t.Errorf("userinfo_token %s = %#v, want a number", k, v)
			}
		case "amr":
			if a, _ := v.([]any); len(a) != 1 || a[0] != "code_app" {
				t.Errorf("userinfo_token amr = %#v", v)
			}
		default:
			if _, ok := v.(string); !ok {
				t.Errorf("userinfo_token %s = %#v, want a string", k, v)
			}
		}
	}
	// The recorded userinfo_token members.
	if got, want := keys(uc), []string{"aal", "acr", "amr", "aud", "auth_time", "exp", "ial", "iat", "identity_type", "idp",
		"idp_identity_id", "iss", "loa", "mitid.age", "mitid.date_of_birth", "mitid.has_cpr", "mitid.identity_name",
		"mitid.transaction_id", "mitid.uuid", "nbf", "sub", "transaction_id"}; !slices.Equal(got, want) {
		t.Errorf("userinfo_token members = %v, want %v", got, want)
	}
	if uc["sub"] != u.Subject || uc["aud"] != "app" || uc["iss"] != srv.Issuer() || uc["mitid.age"] != "88" ||
		uc["auth_time"] != ui.body["auth_time"] || uc["transaction_id"] != id["transaction_id"] {
		t.Errorf("userinfo_token claims = %v", uc)
	}
}

// TestBrokerTokensDocumented checks the documented variant's ID token
// (mitid.uuid, mitid.age, mitid.has_cpr, mitid.psd2 in it, as in the
// documented pre-production token) and the userinfo_token only for its
// scope.
func TestBrokerTokensDocumented(t *testing.T) {
	t.Parallel()
	srv := newBroker(t, documented)
	tok := brokerLogin(t, srv, newFlow(), nil)
	id := verifyByKID(t, srv, tok.str("id_token"))
	want := []string{"amr", "at_hash", "aud", "auth_time", "exp", "iat", "identity_type", "idp", "iss", "loa",
		"mitid.age", "mitid.has_cpr", "mitid.psd2", "mitid.uuid", "nbf", "neb_sid", "nonce", "sub"}
	if got := keys(id); !slices.Equal(got, want) {
		t.Errorf("documented ID token claims = %v, want %v", got, want)
	}
	if id["mitid.age"] != "88" {
		t.Errorf("mitid.age = %#v", id["mitid.age"])
	}
	if _, ok := tok.body["userinfo_token"]; ok {
		t.Error("userinfo_token without the userinfo_token scope")
	}
	tok = brokerLogin(t, srv, newFlow(), url.Values{"scope": {"openid userinfo_token"}})
	if tok.str("userinfo_token") == "" {
		t.Error("no userinfo_token for the userinfo_token scope")
	}
}

// The transaction text and digest recorded by the recording project
// (CAP-031): the digest is the standard base64 SHA-256 of the decoded
// text, not of the base64 string as sent.
const (
	recordedTxText   = "U3R1YklEIHRyYW5zYWN0aW9uIHRleHQgb25l"
	recordedTxSHA256 = "KJjd1jCP2c+GnkLNl8cAEquyjsxVf6FI6EtoVddhHR8="
)

// signingRequest returns a PAR form carrying f's parameters in an HS256
// request object with idp_params as a JSON string.
func signingRequest(t *testing.T, srv *Server, f flow, scope, idpParams string) url.Values {
	t.Helper()
	m := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix(), "jti": randomString(8)}
	for k, v := range f.parParams("app") {
		m[k] = v[0]
	}
	m["scope"] = scope
	m["idp_values"] = "mitid"
	if idpParams != "" {
		m["idp_params"] = idpParams
	}
	return url.Values{"client_id": {"app"}, "request": {hsJWT(t, "s3cret", jose.HS256, nil, m)}}
}

// TestBrokerTransactionSigning runs a signing login as recorded: the
// transaction text in idp_params inside a signed request object, the
// transaction_token scope; the token response carries a transaction_token
// signed with the transaction key (found by kid in the JWKS) with the
// recorded members, and an OCSP response for that key's certificate.
func TestBrokerTransactionSigning(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	f := newFlow()
	idpParams := `{"mitid":{"transaction_text":"` + recordedTxText + `","transaction_text_type":"text"}}`
	uri := push(t, srv, signingRequest(t, srv, f, "openid mitid transaction_token", idpParams), basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	tok := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	tt := tok.str("transaction_token")
	if tok.status != http.StatusOK || tt == "" {
		t.Fatalf("token = %d %s", tok.status, tok.raw)
	}
	_, raw := brokerJWKS(t, srv)
	h := jwtHeader(t, tt)
	if h["kid"] != raw[0]["kid"] || h["kid"] == jwtHeader(t, tok.str("id_token"))["kid"] || h["alg"] != "RS256" {
		t.Errorf("transaction_token header = %v, want the transaction key %v", h, raw[0]["kid"])
	}
	c := verifyByKID(t, srv, tt)
	want := []string{
		"aal", "acr", "amr", "aud", "auth_time", "exp", "iat", "identity_type", "idp", "idp_identity_id", "iss", "loa", "ial",
		"mitid.age", "mitid.date_of_birth", "mitid.geo_ip_distance_km", "mitid.has_cpr", "mitid.identity_name",
		"mitid.psd2", "mitid.transaction_id", "mitid.transaction_text", "mitid.transaction_text_sha256",
		"mitid.transaction_text_type", "mitid.uuid", "nbf", "nonce", "redirect_uri", "requested_scope", "sub",
		"transaction_actions", "transaction_client_ip", "transaction_id", "transaction_text", "transaction_text_sha256",
		"transaction_text_type",
	}
	slices.Sort(want)
	if got := keys(c); !slices.Equal(got, want) {
		t.Errorf("transaction_token members = %v, want %v", got, want)
	}
	for k, v := range map[string]any{
		"transaction_text": recordedTxText, "mitid.transaction_text": recordedTxText,
		"transaction_text_type": "text", "mitid.transaction_text_type": "text",
		"transaction_text_sha256": recordedTxSHA256, "mitid.transaction_text_sha256": recordedTxSHA256,
		"amr": "code_app", "requested_scope": "openid mitid transaction_token", "redirect_uri": testCallback,
		"nonce": f.nonce, "aud": "app", "iss": srv.Issuer(), "sub": BrokerUsers()[0].Subject,
		"transaction_client_ip": "127.0.0.1", "mitid.age": "88",
	} {
		if c[k] != v {
			t.Errorf("transaction_token %s = %#v, want %#v", k, c[k], v)
		}
	}
	if a, _ := c["transaction_actions"].([]any); len(a) != 2 || a[0] != "mitid.login" || a[1] != "mitid.transaction_signing" {
		t.Errorf("transaction_actions = %#v", c["transaction_actions"])
	}
	if _, ok := c["auth_time"].(string); !ok {
		t.Errorf("auth_time = %#v, want a string", c["auth_time"])
	}
	if life := c["exp"].(float64) - c["iat"].(float64); life != 189388800 {
		t.Errorf("lifetime = %v s, want six years (189388800 s)", life)
	}
	// The digest is that of the text the user was shown.
	decoded, _ := base64.StdEncoding.DecodeString(recordedTxText)
	if sum := sha256.Sum256(decoded); base64.StdEncoding.EncodeToString(sum[:]) != c["transaction_text_sha256"] {
		t.Error("transaction_text_sha256 is not the SHA-256 of the decoded text")
	}

	// The OCSP response: standard base64, DER, "good" for the transaction
	// certificate, signed by a responder the CA issued.
	ocspB64 := tok.str("transaction_token_ocsp_resp")
	der, err := base64.StdEncoding.DecodeString(ocspB64)
	if err != nil {
		t.Fatalf("transaction_token_ocsp_resp is not standard base64: %v", err)
	}
	x5c := raw[0]["x5c"].([]any)[0].(string)
	certDER, _ := base64.StdEncoding.DecodeString(x5c)
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(der, cert, srv.TransactionCA())
	if err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	if resp.Status != ocsp.Good || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Errorf("OCSP status %d serial %v, want good for %v", resp.Status, resp.SerialNumber, cert.SerialNumber)
	}

	// UserInfo carries the type and digest, not the text.
	req, _ := http.NewRequest(http.MethodGet, srv.endpointURL(pathUserinfo), nil)
	req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
	ui := do(t, srv, req)
	if ui.body["mitid.transaction_text_sha256"] != recordedTxSHA256 || ui.body["mitid.transaction_text_type"] != "text" || ui.body["mitid.transaction_text"] != nil {
		t.Errorf("userinfo = %v", ui.body)
	}

	// A login with the scope and no text: one action, as a string.
	f2 := newFlow()
	uri = push(t, srv, signingRequest(t, srv, f2, "openid transaction_token", ""), basic("app", "s3cret"))
	params, err = srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	tok = postTo(t, srv, pathToken, tokenForm(params.Get("code"), f2), basic("app", "s3cret"))
	c = verifyByKID(t, srv, tok.str("transaction_token"))
	if c["transaction_actions"] != "mitid.login" || c["transaction_text"] != nil {
		t.Errorf("login-only transaction token: actions %#v text %#v", c["transaction_actions"], c["transaction_text"])
	}
}

// TestBrokerTransactionTextRefused checks the requests partest refuses: a
// transaction text outside a signed request object, one that is not
// base64, an unknown type.
func TestBrokerTransactionTextRefused(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	f := newFlow()
	unsigned := f.parParams("app")
	unsigned.Set("scope", "openid transaction_token")
	unsigned.Set("idp_params", `{"mitid":{"transaction_text":"`+recordedTxText+`","transaction_text_type":"text"}}`)
	for name, form := range map[string]url.Values{
		"unsigned":     unsigned,
		"not base64":   signingRequest(t, srv, f, "openid transaction_token", `{"mitid":{"transaction_text":"not base64!","transaction_text_type":"text"}}`),
		"unknown type": signingRequest(t, srv, f, "openid transaction_token", `{"mitid":{"transaction_text":"`+recordedTxText+`","transaction_text_type":"docx"}}`),
	} {
		if r := postTo(t, srv, pathPAR, form, basic("app", "s3cret")); r.status != http.StatusBadRequest || string(r.raw) != `{"error":"invalid_request"}` {
			t.Errorf("%s: PAR = %d %s", name, r.status, r.raw)
		}
	}
}

// TestBrokerOrganisationSubject checks organisation-mapped subjects: two
// clients of one organisation see the same sub, a client of another
// organisation another one, a client without an organisation the user's
// Subject; ID token, UserInfo and userinfo_token agree.
func TestBrokerOrganisationSubject(t *testing.T) {
	t.Parallel()
	cl := func(id, org string) Client {
		return Client{ID: id, Secret: "s3cret", RedirectURIs: []string{testCallback}, Organisation: org}
	}
	srv := newServer(t, BrokerConfig(cl("a1", "org-a"), cl("a2", "org-a"), cl("b", "org-b"), cl("none", "")))
	subs := map[string]string{}
	for _, id := range []string{"a1", "a2", "b", "none"} {
		f := newFlow()
		uri := push(t, srv, f.parParams(id), basic(id, "s3cret"))
		params, err := srv.Login(authURL(srv, id, uri))
		if err != nil {
			t.Fatal(err)
		}
		tok := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic(id, "s3cret"))
		sub := verifyByKID(t, srv, tok.str("id_token"))["sub"].(string)
		req, _ := http.NewRequest(http.MethodGet, srv.endpointURL(pathUserinfo), nil)
		req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
		if ui := do(t, srv, req); ui.str("sub") != sub || verifyByKID(t, srv, tok.str("userinfo_token"))["sub"] != sub {
			t.Errorf("%s: userinfo sub %q, ID token sub %q", id, ui.str("sub"), sub)
		}
		if sub != srv.SubjectFor(id, BrokerUsers()[0].Subject) {
			t.Errorf("%s: sub %q != SubjectFor", id, sub)
		}
		subs[id] = sub
	}
	if subs["a1"] != subs["a2"] || subs["a1"] == subs["b"] || subs["none"] != BrokerUsers()[0].Subject || !reUUID.MatchString(subs["a1"]) {
		t.Errorf("subjects = %v: want a1 = a2 (a UUID), b another, none the user's Subject", subs)
	}
}

// TestBrokerIdentityPage checks the interactive page: names and levels,
// not bare UUIDs, and a Cancel button that ends the login with
// access_denied / mitid_user_aborted without iss.
func TestBrokerIdentityPage(t *testing.T) {
	t.Parallel()
	srv := newBroker(t, func(cfg *Config) { cfg.Interactive = true })
	f := newFlow()
	uri := push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	resp, body := noRedirect(t, srv, authURL(srv, "app", uri))
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page = %d", resp.StatusCode)
	}
	for _, want := range []string{
		"<strong>Karen Test Hansen</strong>", "<strong>Emil Test Jensen</strong>", "<strong>Lene Test Nielsen</strong>",
		"MitID, private", "MitID Erhverv, professional", "LoA Substantial · IAL Substantial · AAL Substantial", "LoA Low",
		"CVR 12345678", "age 88", `name="cancel"`, ">Cancel</button>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("identity page lacks %q", want)
		}
	}
	p, ok := parseLoginPage(page)
	if !ok {
		t.Fatal("login page not recognised")
	}
	form := url.Values{"tx": {p.tx}, "cancel": {"1"}}
	req, _ := http.NewRequest(http.MethodPost, p.action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	if r.StatusCode != http.StatusSeeOther || q.Get("error") != "access_denied" || q.Get("error_description") != "mitid_user_aborted" ||
		q.Get("state") != f.state || q.Has("iss") || !q.Has("session_state") || q.Has("code") {
		t.Errorf("Cancel = %d %s", r.StatusCode, loc)
	}
}

// TestBrokerEncryptedRequestObjects checks the advertised request-object
// key management: RSA-OAEP-256, RSA-OAEP-384 and RSA-OAEP-512 accepted,
// RSA-OAEP (not advertised) refused; the documented variant takes RSA-OAEP.
func TestBrokerEncryptedRequestObjects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		documented bool
		ok, bad    []jose.KeyAlgorithm
	}{
		{false, []jose.KeyAlgorithm{jose.RSA_OAEP_256, "RSA-OAEP-384", "RSA-OAEP-512"}, []jose.KeyAlgorithm{jose.RSA_OAEP}},
		{true, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}, []jose.KeyAlgorithm{"RSA-OAEP-512"}},
	} {
		var opts []func(*Config)
		if tt.documented {
			opts = append(opts, documented)
		}
		srv := newBroker(t, opts...)
		set, _ := brokerJWKS(t, srv)
		var enc jose.JSONWebKey
		for _, k := range set.Keys {
			if k.Use == "enc" {
				enc = k
			}
		}
		f := newFlow()
		m := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}
		for k, v := range f.parParams("app") {
			m[k] = v[0]
		}
		signed := hsJWT(t, "s3cret", jose.HS256, nil, m)
		for _, alg := range append(slices.Clone(tt.ok), tt.bad...) {
			r := postTo(t, srv, pathPAR, url.Values{"client_id": {"app"}, "request": {encryptRequest(t, alg, enc, signed)}}, basic("app", "s3cret"))
			if want := slices.Contains(tt.ok, alg); (r.status == http.StatusCreated) != want {
				t.Errorf("documented=%v %s: PAR = %d %s", tt.documented, alg, r.status, r.raw)
			}
		}
	}
}

// encryptRequest encrypts payload to key with alg and A256GCM by hand
// (RFC 7516 §5.1), as go-jose cannot write RSA-OAEP-384 and -512.
func encryptRequest(t *testing.T, alg jose.KeyAlgorithm, key jose.JSONWebKey, payload string) string {
	t.Helper()
	if alg == jose.RSA_OAEP || alg == jose.RSA_OAEP_256 {
		e, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key.Key, KeyID: key.KeyID},
			(&jose.EncrypterOptions{}).WithContentType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.Encrypt([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s, err := oaepGCM(alg, key, payload)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// oaepGCM encrypts payload to key's RSA public key with alg (RSA-OAEP-384
// or RSA-OAEP-512) and A256GCM as a compact JWE.
func oaepGCM(alg jose.KeyAlgorithm, key jose.JSONWebKey, payload string) (string, error) {
	h := sha512.New()
	if alg == "RSA-OAEP-384" {
		h = sha512.New384()
	}
	header, err := json.Marshal(map[string]string{"alg": string(alg), "enc": "A256GCM", "cty": "JWT", "kid": key.KeyID})
	if err != nil {
		return "", err
	}
	cek := make([]byte, 32)
	iv := make([]byte, 12)
	_, _ = rand.Read(cek)
	_, _ = rand.Read(iv)
	ek, err := rsa.EncryptOAEP(h, rand.Reader, key.Key.(*rsa.PublicKey), cek, nil)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	h64 := enc.EncodeToString(header)
	sealed := gcm.Seal(nil, iv, []byte(payload), []byte(h64))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return strings.Join([]string{h64, enc.EncodeToString(ek), enc.EncodeToString(iv), enc.EncodeToString(ct), enc.EncodeToString(tag)}, "."), nil
}

// TestBrokerEndSessionWithoutHint checks that, as recorded, the end-session
// endpoint without id_token_hint shows the broker's own logout page and
// ignores post_logout_redirect_uri.
func TestBrokerEndSessionWithoutHint(t *testing.T) {
	t.Parallel()
	srv := newBroker(t)
	resp, body := noRedirect(t, srv, srv.endpointURL(pathEndSession)+"?post_logout_redirect_uri="+url.QueryEscape(testCallback))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "Signed out") {
		t.Errorf("end session = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestBrokerUsers checks that every broker claim value is a string or a
// list of strings, as the broker issues them, and that the claims the
// broker never sent are not there.
func TestBrokerUsers(t *testing.T) {
	t.Parallel()
	for _, u := range BrokerUsers() {
		for k, v := range u.Claims {
			switch v.(type) {
			case string, []string:
			default:
				t.Errorf("%s: %s is %T, want a string", u.Subject, k, v)
			}
		}
		for _, k := range []string{"acr", "idp_environment", "spec_ver", "recipient_info"} {
			if _, ok := u.Claims[k]; ok {
				t.Errorf("%s has %s", u.Subject, k)
			}
		}
	}
}

// TestMTLSBoundTokens covers RFC 8705 §3: tokens of a tls_client_auth
// client carry cnf.x5t#S256, and userinfo takes them only over a
// connection presenting that certificate.
func TestMTLSBoundTokens(t *testing.T) {
	t.Parallel()
	newCert := func(cn string, i int) (tls.Certificate, string) {
		key := ecKey(i)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 10)), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, base64.RawURLEncoding.EncodeToString(sum[:])
	}
	cert, tp := newCert("rp.example", 0)
	otherCert, _ := newCert("rp.example", 1) // same subject, other key
	for _, inProcess := range []bool{false, true} {
		name := "tls"
		if inProcess {
			name = "in-process"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{InProcess: inProcess, Clients: []Client{
				{ID: "mtls", TLSSubjectDN: "CN=rp.example", RedirectURIs: []string{testCallback}},
				basicClient(),
			}})
			if srv.Metadata()["tls_client_certificate_bound_access_tokens"] != true {
				t.Error("tls_client_certificate_bound_access_tokens not advertised")
			}
			withCert, withOther := srv.ClientWithCertificate(cert), srv.ClientWithCertificate(otherCert)
			send := func(hc *http.Client, req *http.Request) response {
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out response
				out.status, out.header = resp.StatusCode, resp.Header
				_ = json.NewDecoder(resp.Body).Decode(&out.body)
				return out
			}
			form := func(path string, v url.Values) *http.Request {
				req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(path), strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			}
			f := newFlow()
			par := send(withCert, form(pathPAR, f.parParams("mtls")))
			params, err := srv.Login(authURL(srv, "mtls", par.str("request_uri")))
			if err != nil {
				t.Fatal(err)
			}
			tf := tokenForm(params.Get("code"), f)
			tf.Set("client_id", "mtls")
			tok := send(withCert, form(pathToken, tf))
			at := tok.str("access_token")
			if tok.status != http.StatusOK || tok.str("token_type") != "Bearer" {
				t.Fatalf("token = %d %v", tok.status, tok.body)
			}
			claims, err := srv.verifyOwnJWT(at)
			if err != nil {
				t.Fatal(err)
			}
			if cnf, _ := claims["cnf"].(map[string]any); cnf["x5t#S256"] != tp {
				t.Errorf("access token cnf = %v, want x5t#S256 %s", claims["cnf"], tp)
			}
			userinfo := func(hc *http.Client) response {
				req, _ := http.NewRequest(http.MethodGet, srv.endpointURL(pathUserinfo), nil)
				req.Header.Set("Authorization", "Bearer "+at)
				return send(hc, req)
			}
			if r := userinfo(withCert); r.status != http.StatusOK || r.str("sub") != "alice" {
				t.Errorf("userinfo with the bound certificate = %d %v", r.status, r.body)
			}
			for what, hc := range map[string]*http.Client{"another certificate": withOther, "no certificate": srv.Client()} {
				r := userinfo(hc)
				if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
					t.Errorf("userinfo with %s = %d %v", what, r.status, r.body)
				}
			}

			// A client_secret client's tokens stay plain bearer tokens.
			plain := loginCode(t, srv, f)
			ptok := send(srv.Client(), func() *http.Request {
				req := form(pathToken, tokenForm(plain, f))
				req.SetBasicAuth("app", "s3cret")
				return req
			}())
			if pc, err := srv.verifyOwnJWT(ptok.str("access_token")); err != nil || pc["cnf"] != nil {
				t.Errorf("client_secret token cnf = %v (%v), want none", pc["cnf"], err)
			}

			// IssueTokensFor binds too.
			issued, err := srv.IssueTokensFor(Grant{ClientID: "mtls", CertThumbprint: tp})
			if err != nil {
				t.Fatal(err)
			}
			at = issued["access_token"].(string)
			if r := userinfo(withOther); r.status != http.StatusUnauthorized {
				t.Errorf("IssueTokensFor token with another certificate = %d", r.status)
			}
			if r := userinfo(withCert); r.status != http.StatusOK {
				t.Errorf("IssueTokensFor token with its certificate = %d", r.status)
			}
		})
	}
}
