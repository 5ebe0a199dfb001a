package partest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
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
)

// TestBrokerLayout checks BrokerConfig against the MitID broker's shape
// (brokers-and-profiles.md §1.1, §7, §8.1, §8.2).
func TestBrokerLayout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, BrokerConfig(basicClient()))
	iss := srv.Issuer()
	if !strings.HasSuffix(iss, "/op") {
		t.Fatalf("issuer = %q, want the /op path", iss)
	}
	md := get(t, srv, iss+"/.well-known/openid-configuration", nil)
	for k, want := range map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + "/connect/authorize",
		"pushed_authorization_request_endpoint":          iss + "/connect/par",
		"token_endpoint":                                 iss + "/connect/token",
		"userinfo_endpoint":                              iss + "/connect/userinfo",
		"end_session_endpoint":                           iss + "/connect/endsession",
		"backchannel_authentication_endpoint":            iss + "/connect/ciba",
		"jwks_uri":                                       iss + "/.well-known/openid-configuration/jwks",
		"require_pushed_authorization_requests":          false,
		"backchannel_user_code_parameter_supported":      false,
		"authorization_response_iss_parameter_supported": true,
	} {
		if md.body[k] != want {
			t.Errorf("%s = %v, want %v", k, md.body[k], want)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, v := range md.body[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for k, want := range map[string][]string{
		"backchannel_token_delivery_modes_supported": {"poll"},
		"subject_types_supported":                    {"pairwise"},
		"prompt_values_supported":                    {"none", "login"},
		"ui_locales_supported":                       {"da", "en", "kl"},
		"id_token_signing_alg_values_supported":      {"RS256"},
		"token_endpoint_auth_methods_supported":      {"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"},
		"grant_types_supported":                      {"authorization_code", "refresh_token", GrantTypeCIBA},
		"scopes_supported":                           brokerScopes,
	} {
		if got := list(k); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	for _, c := range []string{"neb_sid", "loa", "mitid.age", "mitid.has_cpr", "nemlogin.cvr"} {
		if !slices.Contains(list("claims_supported"), c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}

	// JWKS: upper-case hex SHA-1 kids with x5c/x5t, and the XML-Enc enc key.
	jwks := get(t, srv, md.str("jwks_uri"), nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwks.raw, &set); err != nil {
		t.Fatal(err)
	}
	kid := regexp.MustCompile(`^[0-9A-F]{40}$`)
	var sig, enc int
	for _, k := range set.Keys {
		if !kid.MatchString(k["kid"].(string)) || k["x5c"] == nil {
			t.Errorf("key %v: kid is not 40 upper-case hex digits or x5c missing", k["kid"])
		}
		switch k["use"] {
		case "sig":
			sig++
		case "enc":
			enc++
			if k["alg"] != "http://www.w3.org/2001/04/xmlenc#rsa-oaep" {
				t.Errorf("enc key alg = %v", k["alg"])
			}
		}
	}
	if sig == 0 || enc != 1 {
		t.Errorf("JWKS has %d signing and %d encryption keys", sig, enc)
	}

	// PAR: 201, request_uri with 64 upper-case hex, expires_in 600.
	f := newFlow()
	r := post(t, srv, md.str("pushed_authorization_request_endpoint"), f.parParams("app"), basic("app", "s3cret"))
	if r.status != http.StatusCreated || !reRequestURI.MatchString(r.str("request_uri")) || r.body["expires_in"] != 600.0 {
		t.Fatalf("PAR = %d %s", r.status, r.raw)
	}
	params, err := srv.Login(authURL(srv, "app", r.str("request_uri")))
	if err != nil {
		t.Fatal(err)
	}
	tok := post(t, srv, md.str("token_endpoint"), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	claims := verifyIDToken(t, srv, tok.str("id_token"))
	u := BrokerUsers()[0]
	if claims["sub"] != u.Subject || claims["neb_sid"] != u.Claims["neb_sid"] || claims["mitid.age"] != "88" ||
		claims["mitid.has_cpr"] != "true" || claims["loa"] != "https://data.gov.dk/concept/core/nsis/Substantial" {
		t.Errorf("ID token claims = %v, want the first broker user with string-typed values", claims)
	}
	if _, ok := claims["idtoken_type"]; ok {
		t.Error("idtoken_type set on a code-flow ID token")
	}
	if tok.body["expires_in"] != 10800.0 {
		t.Errorf("access token expires_in = %v, want 10800", tok.body["expires_in"])
	}
}

// TestBrokerUsers checks that every broker claim value is a string or a
// list of strings, as the broker issues them.
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
		if _, ok := u.Claims["acr"]; ok {
			t.Errorf("%s has acr; the broker issues loa instead", u.Subject)
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

// TestBrokerLayoutMatchesFixture compares the BrokerLayout discovery
// document with the broker fixture (testdata/discovery/broker-pp.json,
// brokers-and-profiles.md §8.1): every member partest serves has the
// fixture's value (endpoints relative to the issuer), and every difference
// is one partest makes on purpose, listed here with its reason.
func TestBrokerLayoutMatchesFixture(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/discovery/broker-pp.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixture map[string]any
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, BrokerConfig(basicClient()))
	var served map[string]any
	if err := json.Unmarshal(get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil).raw, &served); err != nil {
		t.Fatal(err)
	}
	// Members partest leaves out: endpoints and logout mechanisms it does
	// not implement.
	omitted := []string{
		"check_session_iframe", "revocation_endpoint", "introspection_endpoint",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported",
		"backchannel_logout_supported", "backchannel_logout_session_supported",
	}
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
	// The served claims include every claim of the fixture.
	for _, c := range fixture["claims_supported"].([]any) {
		if !slices.Contains(served["claims_supported"].([]any), c) {
			t.Errorf("claims_supported lacks %v", c)
		}
	}
}
