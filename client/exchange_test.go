package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

const (
	cb     = "https://app.example/callback"
	secret = "s3cr+t/=-a-broker-like-secret-of-32+-bytes"
)

// login runs push → authorize (partest's headless user) and returns the
// client, flow and callback parameters.
func login(t *testing.T, srv *partest.Server, cfg client.Config, opts ...oauth2.AuthCodeOption) (*client.Client, *client.Flow, url.Values) {
	t.Helper()
	ctx := context.Background()
	if cfg.Issuer == "" {
		cfg.Issuer = srv.Issuer()
	}
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = cb
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = srv.Client()
	}
	c, err := client.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	flow, err := c.Push(ctx, opts...)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatalf("AuthorizationURL: %v", err)
	}
	params, err := srv.Login(u)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return c, flow, params
}

func secretServer(t *testing.T, mod ...func(*partest.Config)) *partest.Server {
	t.Helper()
	cfg := partest.Config{IssuerPath: "/op", RefreshTokens: true, Clients: []partest.Client{
		{ID: "app", Secret: secret, RedirectURIs: []string{cb}},
	}}
	for _, m := range mod {
		m(&cfg)
	}
	srv := partest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

func TestExchangeFullLogin(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name string
		pc   partest.Client
		auth client.AuthMethod
	}{
		{"client_secret_basic", partest.Client{ID: "app", Secret: "s3cr+t/= %:x", RedirectURIs: []string{cb}}, client.ClientSecretBasic("s3cr+t/= %:x")},
		{"client_secret_post", partest.Client{ID: "app", Secret: secret, AuthMethod: "client_secret_post", RedirectURIs: []string{cb}}, client.ClientSecretPost(secret)},
		{"client_secret_jwt", partest.Client{ID: "app", Secret: "a-shared-secret-of-32-bytes-ok!!", AuthMethod: "client_secret_jwt", RedirectURIs: []string{cb}}, client.ClientSecretJWT("a-shared-secret-of-32-bytes-ok!!")},
		{"private_key_jwt", partest.Client{ID: "app", AuthMethod: "private_key_jwt", RedirectURIs: []string{cb},
			JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ecKey.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}},
			client.PrivateKeyJWT(ecKey, "k1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := partest.NewServer(partest.Config{IssuerPath: "/op", RefreshTokens: true, Clients: []partest.Client{tt.pc}})
			t.Cleanup(srv.Close)
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: tt.auth, Scopes: []string{"openid", "profile"}})
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.IDToken.Subject != "alice" || tok.IDToken.Nonce != flow.Nonce || tok.Token.AccessToken == "" {
				t.Errorf("tokens: sub=%q nonce ok=%v", tok.IDToken.Subject, tok.IDToken.Nonce == flow.Nonce)
			}
			if s := tok.String(); strings.Contains(s, tok.Token.AccessToken) || strings.Contains(s, tok.RawIDToken) {
				t.Errorf("Tokens.String leaks a token: %s", s)
			}
			ui, err := c.UserInfo(context.Background(), tok)
			if err != nil || ui.Subject != "alice" {
				t.Fatalf("UserInfo = %v, %v", ui, err)
			}
			// Exactly PAR + token on the back channel per login (discovery and
			// JWKS are fetched once per client / key set).
			if n := srv.Requests(partest.EndpointPAR); n != 1 {
				t.Errorf("PAR requests = %d, want 1", n)
			}
			if n := srv.Requests(partest.EndpointToken); n != 1 {
				t.Errorf("token requests = %d, want 1", n)
			}
			// Refresh, with the same client authentication (fresh assertion).
			rt, err := c.Refresh(context.Background(), tok)
			if err != nil || rt.Token.AccessToken == "" {
				t.Fatalf("Refresh = %v, %v", rt, err)
			}
			// The code is single-use: a second exchange fails at the provider.
			_, err = c.Exchange(context.Background(), flow, params)
			var re *client.ResponseError
			if !errors.As(err, &re) || re.Code != "invalid_grant" {
				t.Errorf("second Exchange = %v, want invalid_grant", err)
			}
		})
	}
}

// TestExchangeRejects is the negative table: each case a distinct
// typed error and no tokens.
func TestExchangeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(*partest.Config)
		fault  *partest.Fault
		faultE string
		cfg    func(*client.Config)
		params func(url.Values)
		check  func(error) bool
	}{
		{name: "state mismatch", params: func(v url.Values) { v.Set("state", "forged") },
			check: func(err error) bool { return errors.Is(err, client.ErrStateMismatch) }},
		{name: "missing state", params: func(v url.Values) { v.Del("state") },
			check: func(err error) bool { return errors.Is(err, client.ErrStateMismatch) }},
		{name: "iss mismatch", fault: &partest.Fault{Issuer: "https://evil.example/op"}, faultE: partest.EndpointAuthorize,
			check: func(err error) bool { return errors.Is(err, client.ErrIssuerMismatch) }},
		{name: "iss missing while advertised", fault: &partest.Fault{OmitIss: true}, faultE: partest.EndpointAuthorize,
			check: func(err error) bool { return errors.Is(err, client.ErrIssuerMismatch) }},
		{name: "iss missing, required by config", server: func(c *partest.Config) { c.NoIssParameter = true },
			cfg:   func(c *client.Config) { c.RequireIssuerParameter = true },
			check: func(err error) bool { return errors.Is(err, client.ErrIssuerMismatch) }},
		{name: "access_denied", params: func(v url.Values) {
			v.Del("code")
			v.Set("error", "access_denied")
			v.Set("error_description", "mitid_user_aborted")
		}, check: func(err error) bool {
			var ae *client.AuthorizationError
			return errors.As(err, &ae) && ae.Code == "access_denied" && ae.Description == "mitid_user_aborted"
		}},
		{name: "error without state (reused request_uri)", params: func(v url.Values) {
			v.Del("code")
			v.Del("state")
			v.Set("error", "invalid_request_uri")
		}, check: func(err error) bool {
			var ae *client.AuthorizationError
			return errors.Is(err, client.ErrStateMismatch) && errors.As(err, &ae) && ae.Code == "invalid_request_uri"
		}},
		{name: "missing code", params: func(v url.Values) { v.Del("code") },
			check: func(err error) bool { return errors.Is(err, client.ErrMissingCode) }},
		{name: "nonce mismatch", fault: &partest.Fault{IDToken: func(c map[string]any) { c["nonce"] = "other" }}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "nonce missing", fault: &partest.Fault{IDToken: func(c map[string]any) { delete(c, "nonce") }}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "other audience", fault: &partest.Fault{IDToken: func(c map[string]any) { c["aud"] = "someone-else" }}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "expired id token", fault: &partest.Fault{IDToken: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }}, faultE: partest.EndpointToken,
			check: func(err error) bool {
				var te *oidc.TokenExpiredError
				return errors.Is(err, client.ErrInvalidIDToken) && errors.As(err, &te)
			}},
		{name: "wrong id token issuer", fault: &partest.Fault{Issuer: "https://evil.example/op"}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "alg none", fault: &partest.Fault{IDTokenAlg: "none"}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "HS256 signed with the client secret", fault: &partest.Fault{IDTokenAlg: jose.HS256}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "at_hash mismatch", fault: &partest.Fault{IDToken: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }}, faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "signed by a key not in the jwks", fault: func() *partest.Fault {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return &partest.Fault{IDTokenAlg: jose.ES256, IDTokenKey: k}
		}(), faultE: partest.EndpointToken,
			check: func(err error) bool { return errors.Is(err, client.ErrInvalidIDToken) }},
		{name: "token endpoint 400", fault: &partest.Fault{Status: 400, Body: `{"error":"invalid_grant","error_description":"code expired"}`}, faultE: partest.EndpointToken,
			check: func(err error) bool {
				var re *client.ResponseError
				return errors.As(err, &re) && re.Code == "invalid_grant" && re.StatusCode == 400
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				if tt.server != nil {
					tt.server(c)
				}
				if tt.fault != nil {
					c.Faults = map[string]partest.Fault{tt.faultE: *tt.fault}
				}
			})
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, flow, params := login(t, srv, cfg)
			if tt.params != nil {
				tt.params(params)
			}
			tok, err := c.Exchange(context.Background(), flow, params)
			if tok != nil || err == nil || !tt.check(err) {
				t.Fatalf("Exchange() = %v, %v (%T)", tok, err, err)
			}
			for _, secret := range []string{flow.CodeVerifier, params.Get("code"), secret} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks a secret", err)
				}
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	get := httptest.NewRequest(http.MethodGet, "/cb?code=c&state=s&iss=https%3A%2F%2Fas", nil)
	post := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader("code=c&state=s&iss=https%3A%2F%2Fas"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, r := range []*http.Request{get, post} {
		v, err := client.ParseResponse(r)
		if err != nil || v.Get("code") != "c" || v.Get("state") != "s" || v.Get("iss") != "https://as" {
			t.Errorf("ParseResponse(%s) = %v, %v", r.Method, v, err)
		}
	}
	dup := httptest.NewRequest(http.MethodGet, "/cb?code=c&state=s&state=t", nil)
	bigPost := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader("code="+strings.Repeat("a", 70<<10)))
	bigPost.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	jsonPost := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(`{"code":"c"}`))
	jsonPost.Header.Set("Content-Type", "application/json")
	put := httptest.NewRequest(http.MethodPut, "/cb", nil)
	// HEAD is safe (RFC 9110 §9.2.1): a link checker's or prefetcher's HEAD
	// must not redeem the code.
	head := httptest.NewRequest(http.MethodHead, "/cb?code=c&state=s&iss=https%3A%2F%2Fas", nil)
	options := httptest.NewRequest(http.MethodOptions, "/cb?code=c&state=s", nil)
	for _, r := range []*http.Request{dup, bigPost, jsonPost, put, head, options} {
		if _, err := client.ParseResponse(r); !errors.Is(err, client.ErrInvalidResponse) {
			t.Errorf("ParseResponse(%s %s) error = %v, want ErrInvalidResponse", r.Method, r.URL, err)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"code=c&state=s", "error=access_denied&error_description=mitid_user_aborted&state=x", "%zz", "a=1&a=2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(q))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		v, err := client.ParseResponse(r)
		if err == nil {
			for k, vals := range v {
				if len(vals) != 1 {
					t.Fatalf("accepted duplicate %q", k)
				}
			}
		}
	})
}

func TestLogoutURL(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	tok, err := c.Exchange(context.Background(), flow, params)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.LogoutURL(tok.RawIDToken, "", "st")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	if q.Query().Get("id_token_hint") != tok.RawIDToken || q.Query().Get("state") != "st" {
		t.Errorf("LogoutURL = %s", u)
	}
	if _, err := c.LogoutURL("", "", ""); err == nil {
		t.Error("LogoutURL without id_token_hint succeeded")
	}
}

// TestTLSClientAuth logs in with tls_client_auth (RFC 8705 §2): the
// certificate in the HTTP client authenticates at PAR and token.
func TestTLSClientAuth(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app", Organization: []string{"Test RP"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", Clients: []partest.Client{{ID: "app",
		AuthMethod: partest.AuthTLSClientAuth, TLSSubjectDN: cert.Subject.String(), RedirectURIs: []string{cb}}}})
	t.Cleanup(srv.Close)
	hc := srv.Client()
	tr := hc.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	hc = &http.Client{Transport: tr}
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.TLSClientAuth(), HTTPClient: hc})
	tok, err := c.Exchange(context.Background(), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.IDToken.Subject != "alice" {
		t.Errorf("sub = %q", tok.IDToken.Subject)
	}
	// Without the certificate the provider refuses the push.
	c2, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.TLSClientAuth(),
		RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Push(context.Background())
	var re *client.ResponseError
	if !errors.As(err, &re) || re.Code != "invalid_client" {
		t.Errorf("Push without certificate = %v, want invalid_client", err)
	}
}
