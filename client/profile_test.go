package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
)

// TestFAPI2Refusals: every setting FAPI 2.0 forbids is refused by New, with
// the field named.
func TestFAPI2Refusals(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{})
	t.Cleanup(srv.Close)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	proofer, _ := dpop.NewProofer(ec, nil)
	rsProofer, _ := dpop.NewProofer(testRSAKey(), &dpop.Config{Algorithm: jose.RS256})
	rs256 := client.PrivateKeyJWT(ec, "k")
	rs256.Algorithm = jose.ES384
	base := func() client.Config {
		return client.Config{Profile: client.ProfileFAPI2, Issuer: srv.Issuer(), ClientID: "app",
			Auth: client.PrivateKeyJWT(ec, "k"), DPoP: proofer, RedirectURL: cb}
	}
	tests := []struct {
		name  string
		mod   func(*client.Config)
		field string
	}{
		{"client_secret_basic", func(c *client.Config) { c.Auth = client.ClientSecretBasic("s") }, "Auth"},
		{"client_secret_post", func(c *client.Config) { c.Auth = client.ClientSecretPost("s") }, "Auth"},
		{"client_secret_jwt", func(c *client.Config) { c.Auth = client.ClientSecretJWT("0123456789abcdef0123456789abcdef") }, "Auth"},
		{"public client", func(c *client.Config) { c.Auth = client.None() }, "Auth"},
		{"RSA 1024 key", func(c *client.Config) { c.Auth = client.PrivateKeyJWT(rsa1024, "k") }, "Auth"},
		{"assertion alg outside PS256/ES256/EdDSA", func(c *client.Config) { c.Auth = rs256 }, "Auth.Algorithm"},
		{"no sender-constrained tokens", func(c *client.Config) { c.DPoP = nil }, "DPoP"},
		{"DPoP proofs with RS256", func(c *client.Config) { c.DPoP = rsProofer }, "DPoP"},
		{"HS256 request object", func(c *client.Config) {
			c.RequestObject = &jar.Config{Secret: []byte("0123456789abcdef0123456789abcdef")}
		}, "RequestObject"},
		{"RS256 request object", func(c *client.Config) {
			c.RequestObject = &jar.Config{Signer: testRSAKey(), Algorithm: jose.RS256}
		}, "RequestObject.Algorithm"},
		{"RS256 id tokens", func(c *client.Config) { c.IDTokenAlgorithms = []string{"RS256"} }, "IDTokenAlgorithms"},
		{"front channel without PAR", func(c *client.Config) { c.InsecureFrontChannel = true }, "InsecureFrontChannel"},
		{"no issuer configured", func(c *client.Config) {
			md, _ := fetchMetadata(srv)
			c.Issuer, c.Metadata = "", md
		}, "Issuer"},
		{"TLS verification off", func(c *client.Config) {
			c.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		}, "HTTPClient"},
		{"TLS 1.1", func(c *client.Config) {
			c.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS11}}}
		}, "HTTPClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			tt.mod(&cfg)
			c, err := client.New(context.Background(), cfg)
			if c != nil || err == nil || !strings.HasPrefix(err.Error(), "client: config: "+tt.field+": fapi2 profile: ") {
				t.Fatalf("New() = %v, %v; want an error naming %s and the profile", c, err, tt.field)
			}
		})
	}
	// The base configuration itself is valid.
	if _, err := client.New(context.Background(), base()); err != nil {
		t.Fatalf("valid FAPI 2.0 config refused: %v", err)
	}
}

// testRSAKey returns one RSA 2048 key shared by the tests (generation is slow).
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func fetchMetadata(srv *partest.Server) (*discovery.Metadata, error) {
	return discovery.Fetch(context.Background(), srv.Client(), srv.Issuer())
}

// TestFAPI2Login runs a whole FAPI 2.0 login: private_key_jwt PS256 with a
// typed assertion, DPoP with nonces, iss required, PS256 ID tokens.
func TestFAPI2Login(t *testing.T) {
	t.Parallel()
	key := testRSAKey()
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", DPoPNonce: true, IDTokenAlg: jose.PS256,
		StrictAssertionAudience: true, Clients: []partest.Client{{ID: "app", AuthMethod: partest.AuthPrivateKeyJWT,
			RedirectURIs: []string{cb}, DPoPBound: true, RequirePAR: true,
			JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}}}}})
	t.Cleanup(srv.Close)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proofer, _ := dpop.NewProofer(ec, nil)
	c, flow, params := login(t, srv, client.Config{Profile: client.ProfileFAPI2, ClientID: "app",
		Auth: client.PrivateKeyJWT(key, "k"), DPoP: proofer,
		RequestObject: &jar.Config{Signer: key, KeyID: "k", Type: jar.TypeRequestObject}})
	tok, err := c.Exchange(context.Background(), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.Token.Type() != "DPoP" || tok.IDToken.Subject == "" {
		t.Errorf("tokens = %v", tok)
	}
	// iss is required in this profile.
	params.Del("iss")
	if _, err := c.Exchange(context.Background(), flow, params); !errors.Is(err, client.ErrIssuerMismatch) {
		t.Errorf("Exchange without iss = %v, want ErrIssuerMismatch", err)
	}
}
