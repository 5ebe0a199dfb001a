package partest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// specialSecret holds every character RFC 6749 §2.3.1 form-encoding
// changes, like the MitID broker's secrets.
const specialSecret = "a+b/c=d%e:f g&h"

func TestClientSecretBasic(t *testing.T) {
	t.Parallel()
	special := Client{ID: "id:with space", Secret: specialSecret, RedirectURIs: []string{testCallback}}
	post := Client{ID: "poster", Secret: "p", AuthMethod: AuthClientSecretPost, RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{special, post}})
	tests := []struct {
		name       string
		clientID   string
		header     http.Header
		extra      url.Values
		wantStatus int
		wantError  string
	}{
		{"form-encoded credentials", special.ID, basic(special.ID, specialSecret), nil, http.StatusCreated, ""},
		// Raw, the secret's "%e:" is not a percent-encoding: malformed (as in node-oidc-provider).
		{"raw credentials fail", special.ID, rawBasic(special.ID, specialSecret), nil, http.StatusBadRequest, "invalid_request"},
		{"wrong secret", special.ID, basic(special.ID, "nope"), nil, http.StatusUnauthorized, "invalid_client"},
		{"unknown client", "ghost", basic("ghost", "x"), nil, http.StatusUnauthorized, "invalid_client"},
		{"not base64", special.ID, http.Header{"Authorization": {"Basic %%%"}}, nil, http.StatusBadRequest, "invalid_request"},
		{"two methods", special.ID, basic(special.ID, specialSecret), url.Values{"client_secret": {specialSecret}}, http.StatusBadRequest, "invalid_request"},
		{"client registered for post", "poster", basic("poster", "p"), nil, http.StatusUnauthorized, "invalid_client"},
		{"client_id differs from Basic", "poster", basic(special.ID, specialSecret), nil, http.StatusBadRequest, "invalid_request"},
		{"no client_id", "", basic(special.ID, specialSecret), nil, http.StatusBadRequest, "invalid_request"},
		{"no authentication", special.ID, nil, nil, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := newFlow().parParams(special.ID)
			form.Set("client_id", tt.clientID)
			for k, v := range tt.extra {
				form[k] = v
			}
			r := postTo(t, srv, pathPAR, form, tt.header)
			if r.status != tt.wantStatus || r.str("error") != tt.wantError {
				t.Fatalf("PAR = %d %s, want %d %q", r.status, r.raw, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus == http.StatusUnauthorized && tt.header != nil {
				if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Basic ") {
					t.Errorf("WWW-Authenticate = %q, want a Basic challenge", ch)
				}
			}
			if strings.Contains(string(r.raw), specialSecret) {
				t.Errorf("error body reveals the secret: %s", r.raw)
			}
		})
	}
}

func postTo(t *testing.T, srv *Server, p string, form url.Values, header http.Header) response {
	t.Helper()
	return post(t, srv, srv.endpointURL(p), form, header)
}

func TestClientSecretPost(t *testing.T) {
	t.Parallel()
	c := Client{ID: "poster", Secret: specialSecret, AuthMethod: AuthClientSecretPost, RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{c}})
	form := newFlow().parParams("poster")
	form.Set("client_secret", specialSecret)
	if r := postTo(t, srv, pathPAR, form, nil); r.status != http.StatusCreated {
		t.Fatalf("PAR = %d %s", r.status, r.raw)
	}
	form.Set("client_secret", "wrong")
	if r := postTo(t, srv, pathPAR, form, nil); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
		t.Errorf("wrong secret = %d %s", r.status, r.raw)
	}
	form.Del("client_id")
	form.Set("client_secret", specialSecret)
	if r := postTo(t, srv, pathPAR, form, nil); r.status != http.StatusBadRequest {
		t.Errorf("no client_id = %d %s, want 400", r.status, r.raw)
	}
}

// TestPrivateKeyJWT covers private_key_jwt with ES256 and RS256, and the
// client_secret_jwt variant, with the RFC 7523 / RFC 10070 claim checks.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	ec := ecKey(0)
	rsaKey, err := pooledRSAKey(0)
	if err != nil {
		t.Fatal(err)
	}
	pk := Client{ID: "pk", RedirectURIs: []string{testCallback}, JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ec, "ec1"), publicJWK(rsaKey, "rsa1")}}}
	sj := Client{ID: "sj", Secret: "shared-secret-of-32-bytes-or-more!", AuthMethod: AuthClientSecretJWT, RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{pk, sj}})

	type tc struct {
		name      string
		client    string
		key       any
		alg       jose.SignatureAlgorithm
		headers   map[jose.HeaderKey]any
		change    func(map[string]any)
		wantError string
	}
	ecH := map[jose.HeaderKey]any{"kid": "ec1"}
	tests := []tc{
		{"es256", "pk", ec, jose.ES256, ecH, nil, ""},
		{"rs256", "pk", rsaKey, jose.RS256, map[jose.HeaderKey]any{"kid": "rsa1"}, nil, ""},
		{"ps256 no kid", "pk", rsaKey, jose.PS256, nil, nil, ""},
		{"typ client-authentication+jwt", "pk", ec, jose.ES256, map[jose.HeaderKey]any{"kid": "ec1", "typ": "client-authentication+jwt"}, nil, ""},
		{"aud token endpoint", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["aud"] = srv.endpointURL(pathToken) }, ""},
		{"aud par endpoint array", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["aud"] = []string{srv.endpointURL(pathPAR)} }, ""},
		{"client_secret_jwt", "sj", []byte(sj.Secret), jose.HS256, nil, nil, ""},
		{"wrong aud", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["aud"] = "https://other.example" }, "invalid_client"},
		{"expired", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["exp"] = time.Now().Add(-time.Second).Unix() }, "invalid_client"},
		{"no exp", "pk", ec, jose.ES256, ecH, func(m map[string]any) { delete(m, "exp") }, "invalid_client"},
		{"too long", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["exp"] = time.Now().Add(time.Hour).Unix() }, "invalid_client"},
		{"no jti", "pk", ec, jose.ES256, ecH, func(m map[string]any) { delete(m, "jti") }, "invalid_client"},
		{"iss differs", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["iss"] = "other" }, "invalid_client"},
		{"iat in future", "pk", ec, jose.ES256, ecH, func(m map[string]any) { m["iat"] = time.Now().Add(time.Minute).Unix() }, "invalid_client"},
		{"wrong typ", "pk", ec, jose.ES256, map[jose.HeaderKey]any{"kid": "ec1", "typ": "dpop+jwt"}, nil, "invalid_client"},
		{"unregistered key", "pk", ecKey(3), jose.ES256, ecH, nil, "invalid_client"},
		{"hs256 for private_key_jwt client", "pk", []byte("whatever-secret-whatever-secret!"), jose.HS256, nil, nil, "invalid_client"},
		{"wrong secret", "sj", []byte("another-secret-of-32-bytes-or-more"), jose.HS256, nil, nil, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := assertionClaims(srv, tt.client)
			if tt.change != nil {
				tt.change(claims)
			}
			a := sign(t, tt.key, tt.alg, tt.headers, claims)
			r := postTo(t, srv, pathPAR, withAssertion(newFlow().parParams(tt.client), a), nil)
			if tt.wantError != "" {
				if r.status != http.StatusUnauthorized || r.str("error") != tt.wantError {
					t.Fatalf("PAR = %d %s, want 401 %s", r.status, r.raw, tt.wantError)
				}
				return
			}
			if r.status != http.StatusCreated {
				t.Fatalf("PAR = %d %s, want 201", r.status, r.raw)
			}
			// The same assertion again: jti replay (RFC 7523 §3 item 7).
			r = postTo(t, srv, pathPAR, withAssertion(newFlow().parParams(tt.client), a), nil)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.str("error_description"), "jti") {
				t.Errorf("replay = %d %s, want 401 about jti", r.status, r.raw)
			}
		})
	}

	// Assertion plus Basic is two methods.
	a := sign(t, ec, jose.ES256, ecH, assertionClaims(srv, "pk"))
	if r := postTo(t, srv, pathPAR, withAssertion(newFlow().parParams("pk"), a), basic("pk", "x")); r.str("error") != "invalid_request" {
		t.Errorf("assertion + Basic = %d %s, want invalid_request", r.status, r.raw)
	}
	// Wrong assertion type.
	form := withAssertion(newFlow().parParams("pk"), a)
	form.Set("client_assertion_type", "urn:other")
	if r := postTo(t, srv, pathPAR, form, nil); r.str("error") != "invalid_request" {
		t.Errorf("assertion type = %d %s, want invalid_request", r.status, r.raw)
	}
}

func TestStrictAssertionAudience(t *testing.T) {
	t.Parallel()
	ec := ecKey(0)
	pk := Client{ID: "pk", RedirectURIs: []string{testCallback}, JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ec, "ec1")}}}
	srv := newServer(t, Config{Clients: []Client{pk}, StrictAssertionAudience: true})
	for aud, want := range map[string]int{"issuer": http.StatusCreated, "array": http.StatusUnauthorized, "token": http.StatusUnauthorized} {
		claims := assertionClaims(srv, "pk")
		switch aud {
		case "array":
			claims["aud"] = []string{srv.Issuer()}
		case "token":
			claims["aud"] = srv.endpointURL(pathToken)
		}
		a := sign(t, ec, jose.ES256, nil, claims)
		if r := postTo(t, srv, pathPAR, withAssertion(newFlow().parParams("pk"), a), nil); r.status != want {
			t.Errorf("aud %s: PAR = %d %s, want %d", aud, r.status, r.raw, want)
		}
	}
}

// TestPARRequest covers the RFC 9126 §2 request checks.
func TestPARRequest(t *testing.T) {
	t.Parallel()
	open := basicClient()
	open.ID = "open"
	open.AllowUnregisteredRedirectURIsViaPAR = true
	scoped := basicClient()
	scoped.ID = "scoped"
	scoped.Scopes = []string{"openid", "mitid"}
	srv := newServer(t, Config{Clients: []Client{basicClient(), open, scoped}})
	tests := []struct {
		name       string
		client     string
		change     func(url.Values)
		wantStatus int
		wantError  string
	}{
		{"ok", "app", nil, 201, ""},
		{"request_uri in body", "app", func(v url.Values) { v.Set("request_uri", "urn:x") }, 400, "request_uri_not_supported"},
		{"response_type token", "app", func(v url.Values) { v.Set("response_type", "token") }, 400, "unsupported_response_type"},
		{"no redirect_uri", "app", func(v url.Values) { v.Del("redirect_uri") }, 400, "invalid_request"},
		{"unregistered redirect_uri", "app", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, 400, "invalid_request"},
		{"unregistered allowed via PAR", "open", func(v url.Values) { v.Set("redirect_uri", "https://any.example/cb") }, 201, ""},
		{"relative redirect refused", "open", func(v url.Values) { v.Set("redirect_uri", "/cb") }, 400, "invalid_request"},
		{"no openid", "app", func(v url.Values) { v.Set("scope", "profile") }, 400, "invalid_scope"},
		{"scope not allowed", "scoped", func(v url.Values) { v.Set("scope", "openid ssn") }, 400, "invalid_scope"},
		{"scope allowed", "scoped", func(v url.Values) { v.Set("scope", "openid mitid") }, 201, ""},
		{"plain PKCE", "app", func(v url.Values) { v.Set("code_challenge_method", "plain") }, 400, "invalid_request"},
		{"no PKCE method", "app", func(v url.Values) { v.Del("code_challenge_method") }, 400, "invalid_request"},
		{"no PKCE", "app", func(v url.Values) { v.Del("code_challenge") }, 400, "invalid_request"},
		{"bad challenge", "app", func(v url.Values) { v.Set("code_challenge", "short") }, 400, "invalid_request"},
		{"client_id differs", "app", func(v url.Values) { v.Set("client_id", "open") }, 400, "invalid_request"},
		{"bad response_mode", "app", func(v url.Values) { v.Set("response_mode", "fragment") }, 400, "invalid_request"},
		{"bad dpop_jkt", "app", func(v url.Values) { v.Set("dpop_jkt", "x") }, 400, "invalid_request"},
		{"bad max_age", "app", func(v url.Values) { v.Set("max_age", "soon") }, 400, "invalid_request"},
		{"extension params pass", "app", func(v url.Values) { v.Set("idp_values", "mitid"); v.Set("language", "da") }, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := newFlow().parParams(tt.client)
			if tt.change != nil {
				tt.change(form)
			}
			r := postTo(t, srv, pathPAR, form, basic(tt.client, "s3cret"))
			if r.status != tt.wantStatus || r.str("error") != tt.wantError {
				t.Errorf("PAR = %d %s, want %d %q", r.status, r.raw, tt.wantStatus, tt.wantError)
			}
		})
	}

	t.Run("transport", func(t *testing.T) {
		t.Parallel()
		u := srv.endpointURL(pathPAR)
		if r := get(t, srv, u, nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
			t.Errorf("GET = %d Allow %q, want 405 POST", r.status, r.header.Get("Allow"))
		}
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"client_id":"app"}`))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range basic("app", "s3cret") {
			req.Header[k] = v
		}
		if r := do(t, srv, req); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("JSON body = %d %s, want 400 invalid_request", r.status, r.raw)
		}
		form := newFlow().parParams("app")
		raw := form.Encode() + "&state=twice"
		req, _ = http.NewRequest(http.MethodPost, u, strings.NewReader(raw))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		for k, v := range basic("app", "s3cret") {
			req.Header[k] = v
		}
		if r := do(t, srv, req); r.status != http.StatusBadRequest || !strings.Contains(r.str("error_description"), "state") {
			t.Errorf("duplicate state = %d %s, want 400", r.status, r.raw)
		}
		big := url.Values{"x": {strings.Repeat("a", maxForm)}}
		if r := postTo(t, srv, pathPAR, big, basic("app", "s3cret")); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body = %d, want 413", r.status)
		}
	})
}

// TestTLSClientAuth covers RFC 8705 tls_client_auth by subject DN and by
// certificate thumbprint.
func TestTLSClientAuth(t *testing.T) {
	t.Parallel()
	key := ecKey(2)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "rp.example", Organization: []string{"Test RP"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(der)
	byDN := Client{ID: "dn", TLSSubjectDN: cert.Subject.String(), RedirectURIs: []string{testCallback}}
	byTP := Client{ID: "tp", TLSCertThumbprint: base64.RawURLEncoding.EncodeToString(sum[:]), RedirectURIs: []string{testCallback}}
	other := Client{ID: "other", TLSSubjectDN: "CN=someone else", RedirectURIs: []string{testCallback}}
	srv := newServer(t, Config{Clients: []Client{byDN, byTP, other}})
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL = %q, want https (tls_client_auth implies TLS)", srv.URL)
	}
	withCert := srv.ClientWithCertificate(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})

	send := func(hc *http.Client, id string) int {
		form := newFlow().parParams(id)
		req, _ := http.NewRequest(http.MethodPost, srv.endpointURL(pathPAR), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		id   string
		hc   *http.Client
		want int
	}{
		{"dn", withCert, 201}, {"tp", withCert, 201}, {"other", withCert, 401}, {"dn", srv.Client(), 401},
	} {
		if got := send(tt.hc, tt.id); got != tt.want {
			t.Errorf("client %s: PAR = %d, want %d", tt.id, got, tt.want)
		}
	}
}
