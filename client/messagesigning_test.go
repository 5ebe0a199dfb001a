package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
)

// messageSigningServer is a FAPI 2.0 provider whose client app signs its
// JARM responses PS256.
func messageSigningServer(t *testing.T) *partest.Server {
	t.Helper()
	key := testRSAKey()
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", IDTokenAlg: jose.PS256, StrictAssertionAudience: true,
		Clients: []partest.Client{{ID: "app", AuthMethod: partest.AuthPrivateKeyJWT, RedirectURIs: []string{cb},
			DPoPBound: true, RequirePAR: true, AuthorizationSignedResponseAlg: jose.PS256,
			JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}}}}})
	t.Cleanup(srv.Close)
	return srv
}

func messageSigningConfig(t *testing.T, srv *partest.Server, ms client.MessageSigning) client.Config {
	t.Helper()
	key := testRSAKey()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proofer, err := dpop.NewProofer(ec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return client.Config{Profile: client.ProfileFAPI2, MessageSigning: ms, Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.PrivateKeyJWT(key, "k"), DPoP: proofer, RedirectURL: cb, HTTPClient: srv.Client(),
		RequestObject: &jar.Config{Signer: key, KeyID: "k", Type: jar.TypeRequestObject}, ResponseMode: "jwt"}
}

// TestMessageSigningRefusals: New refuses a Config that breaks the chosen
// FAPI 2.0 Message Signing parts, naming the field.
func TestMessageSigningRefusals(t *testing.T) {
	t.Parallel()
	srv := messageSigningServer(t)
	both := client.SignedRequests | client.SignedResponses
	tests := []struct {
		name  string
		ms    client.MessageSigning
		mod   func(*client.Config)
		field string // "" means accepted
	}{
		{"both", both, func(*client.Config) {}, ""},
		{"signed requests only, plain responses", client.SignedRequests, func(c *client.Config) { c.ResponseMode = "" }, ""},
		{"signed responses only, plain requests", client.SignedResponses, func(c *client.Config) { c.RequestObject = nil }, ""},
		{"form_post.jwt", both, func(c *client.Config) { c.ResponseMode = "form_post.jwt" }, ""},
		{"no request object", client.SignedRequests, func(c *client.Config) { c.RequestObject = nil }, "RequestObject"},
		{"no response mode", client.SignedResponses, func(c *client.Config) { c.ResponseMode = "" }, "ResponseMode"},
		{"form_post", both, func(c *client.Config) { c.ResponseMode = "form_post" }, "ResponseMode"},
		{"without the FAPI 2.0 profile", both, func(c *client.Config) {
			c.Profile, c.Auth = client.ProfileDefault, client.ClientSecretBasic(secret)
		}, "MessageSigning"},
		{"unknown flag", 8, func(*client.Config) {}, "MessageSigning"},
		{"HS256 request object", both, func(c *client.Config) {
			c.RequestObject = &jar.Config{Secret: []byte("0123456789abcdef0123456789abcdef")}
		}, "RequestObject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := messageSigningConfig(t, srv, tt.ms)
			tt.mod(&cfg)
			c, err := client.New(context.Background(), cfg)
			switch {
			case tt.field == "" && err != nil:
				t.Fatal(err)
			case tt.field != "" && (c != nil || err == nil || !strings.HasPrefix(err.Error(), "client: config: "+tt.field+": ")):
				t.Fatalf("New() = %v, %v; want an error naming %s", c, err, tt.field)
			}
		})
	}
	if got := both.String(); got != "SignedRequests|SignedResponses" {
		t.Errorf("String() = %q", got)
	}
}

// TestMessageSigningLogin: a FAPI 2.0 Message Signing login (signed request
// object, JARM); a per-push response_mode outside JARM and a plain
// response are refused.
func TestMessageSigningLogin(t *testing.T) {
	t.Parallel()
	srv := messageSigningServer(t)
	cfg := messageSigningConfig(t, srv, client.SignedRequests|client.SignedResponses)
	ctx := context.Background()
	c, err := client.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, client.WithParam("response_mode", "query")); err == nil || !strings.Contains(err.Error(), "response_mode") {
		t.Fatalf("Push with response_mode query: %v", err)
	}
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	params, err := srv.Login(u)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := c.ResponseParams(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	// The same code and state in the clear: refused, whatever the flow.
	plain := url.Values{"code": {inner.Get("code")}, "state": {inner.Get("state")}, "iss": {inner.Get("iss")}}
	flow2 := *flow
	flow2.ResponseMode = "" // a flow stored before it had the field: the profile still requires JARM
	if _, err := c.Exchange(ctx, &flow2, plain); !errors.Is(err, client.ErrInvalidResponseJWT) {
		t.Fatalf("plain response: %v", err)
	}
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token.Type() != "DPoP" || tok.IDToken == nil {
		t.Errorf("tokens %v", tok)
	}
}
