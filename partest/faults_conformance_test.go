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
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The faults the OpenID conformance suite's relying-party modules need.

func TestFaultIDTokenSignatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, srv *Server, idt string, kidsBefore []string)
	}{
		{"no kid", Fault{NoKeyID: true}, func(t *testing.T, srv *Server, idt string, _ []string) {
			if h := jwtHeader(t, idt); h["kid"] != nil || h["alg"] != "RS256" {
				t.Errorf("header = %v, want RS256 without kid", h)
			}
			if _, err := mustParse(t, idt).Verify(srv.PublicJWKS().Keys[0]); err != nil {
				t.Errorf("not signed with the published key: %v", err)
			}
		}},
		{"corrupt signature", Fault{CorruptIDTokenSignature: true}, func(t *testing.T, srv *Server, idt string, _ []string) {
			obj := mustParse(t, idt)
			set := srv.PublicJWKS()
			keys := set.Key(obj.Signatures[0].Header.KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q is not the published key's", obj.Signatures[0].Header.KeyID)
			}
			if _, err := obj.Verify(keys[0]); err == nil {
				t.Error("the corrupted token still verifies")
			}
			if jwtPayload(t, idt)["sub"] != "alice" {
				t.Error("the claims were changed too")
			}
		}},
		{"corrupt HS256", Fault{IDTokenAlg: jose.HS256, CorruptIDTokenSignature: true}, func(t *testing.T, _ *Server, idt string, _ []string) {
			if _, err := verifyHMAC(idt, "HS256", []byte("s3cret")); err == nil {
				t.Error("the corrupted HS256 token still verifies with the client secret")
			}
		}},
		{"rotate before signing", Fault{RotateKeys: true}, func(t *testing.T, srv *Server, idt string, before []string) {
			kid := mustParse(t, idt).Signatures[0].Header.KeyID
			if kid == before[0] {
				t.Errorf("kid %q is the key from before the rotation", kid)
			}
			verifyIDToken(t, srv, idt) // the new key is published
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointToken: tt.fault}})
			var kids []string
			for _, k := range srv.PublicJWKS().Keys {
				kids = append(kids, k.KeyID)
			}
			f := newFlow()
			r := postTo(t, srv, pathToken, tokenForm(loginCode(t, srv, f), f), basic("app", "s3cret"))
			if r.status != 200 {
				t.Fatalf("token = %d %s", r.status, r.raw)
			}
			tt.check(t, srv, r.str("id_token"), kids)
		})
	}
}

func TestFaultAuthorizationResponse(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointAuthorize: {
		AuthorizationResponse: func(v url.Values) { v.Set("state", v.Get("state")+"1"); v.Del("iss") },
	}}})
	f := newFlow()
	uri := push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	if params.Get("state") != f.state+"1" || params.Has("iss") || params.Get("code") == "" {
		t.Errorf("callback = %v, want the state with 1 appended, no iss, a code", params)
	}
}

func TestFaultJWKSShapes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3} {
		srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{
			EndpointJWKS: {JWKSWithoutKeyIDs: true, JWKSKeysPerType: n},
		}})
		r := get(t, srv, srv.endpointURL(pathJWKS), nil)
		keys, _ := r.body["keys"].([]any)
		own, err := srv.PublicJWKS().Keys[0].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		ownN := jwtField(t, own, "n")
		count := map[string]int{}
		hasOwn := false
		for _, k := range keys {
			m := k.(map[string]any)
			if m["kid"] != nil {
				t.Errorf("n=%d: key %v has a kid", n, m)
			}
			hasOwn = hasOwn || m["n"] == ownN
			typ := m["kty"].(string)
			if crv, ok := m["crv"].(string); ok {
				typ += "/" + crv
			}
			count[typ]++
		}
		for _, typ := range []string{"RSA", "EC/P-256", "EC/secp256k1", "OKP/Ed25519"} {
			if count[typ] != n {
				t.Errorf("n=%d: %d %s keys, want %d (all: %v)", n, count[typ], typ, n, count)
			}
		}
		if !hasOwn {
			t.Errorf("n=%d: the server's own signing key is not published", n)
		}
	}
	// Concurrent fetches share the decoy keys: each response gets its own
	// copies (a data race under -race otherwise).
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{
		EndpointJWKS: {JWKSWithoutKeyIDs: true, JWKSKeysPerType: 2},
	}})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			resp, err := srv.Client().Get(srv.endpointURL(pathJWKS))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	// Without the fault, kids stay.
	srv = newServer(t, Config{Clients: []Client{basicClient()}})
	r := get(t, srv, srv.endpointURL(pathJWKS), nil)
	if k := r.body["keys"].([]any)[0].(map[string]any); k["kid"] == nil {
		t.Errorf("plain JWKS key without kid: %v", k)
	}
}

func TestFaultChallengeScheme(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}, Faults: map[string]Fault{EndpointUserinfo: {ChallengeScheme: "dPoP"}}})
	r := get(t, srv, srv.endpointURL(pathUserinfo), http.Header{"Authorization": {"DPoP nope"}})
	if ch := r.header.Get("WWW-Authenticate"); r.status != http.StatusUnauthorized || !strings.HasPrefix(ch, "dPoP ") {
		t.Errorf("userinfo = %d, WWW-Authenticate %q; want 401 with the scheme spelled dPoP", r.status, ch)
	}
}

func TestMTLSEndpointAliases(t *testing.T) {
	t.Parallel()
	key := ecKey(1)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "alias.rp.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	c := Client{ID: "m", TLSCertThumbprint: base64.RawURLEncoding.EncodeToString(sum[:]), RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{c}, MTLSEndpointAliases: true})
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL = %q, want https", srv.URL)
	}
	aliases, _ := srv.Metadata()["mtls_endpoint_aliases"].(map[string]any)
	alias, _ := aliases["pushed_authorization_request_endpoint"].(string)
	if alias != srv.Issuer()+"/mtls/connect/par" || aliases["token_endpoint"] != srv.Issuer()+"/mtls/connect/token" {
		t.Fatalf("mtls_endpoint_aliases = %v", aliases)
	}
	withCert := srv.ClientWithCertificate(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	send := func(u string) int {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(newFlow().parParams("m").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := withCert.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(alias); got != http.StatusCreated {
		t.Errorf("PAR at the alias with the certificate = %d, want 201", got)
	}
	if got := send(srv.endpointURL(pathPAR)); got != http.StatusUnauthorized {
		t.Errorf("PAR at the plain endpoint with the certificate = %d, want 401 (the plain host ignores certificates)", got)
	}
	if got := srv.Requests(EndpointPAR); got != 2 {
		t.Errorf("Requests(par) = %d, want both counted", got)
	}
}

func jwtField(t *testing.T, raw []byte, k string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	v, _ := m[k].(string)
	return v
}
