package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
)

// TestDPoPLogin runs PAR + token + userinfo with DPoP-bound tokens, with and
// without server nonce challenges, with a proof or only dpop_jkt at PAR.
func TestDPoPLogin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		nonce   bool
		jktOnly bool
	}{{"proof", false, false}, {"proof with nonce challenges", true, false}, {"dpop_jkt only", false, true}, {"dpop_jkt with nonce", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := partest.NewServer(partest.Config{IssuerPath: "/op", DPoPNonce: tt.nonce, Clients: []partest.Client{
				{ID: "app", Secret: secret, RedirectURIs: []string{cb}, DPoPBound: true}}})
			t.Cleanup(srv.Close)
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			proofer, err := dpop.NewProofer(key, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret),
				DPoP: proofer, DPoPJKTOnly: tt.jktOnly})
			if flow.DPoPJKT != proofer.Thumbprint() {
				t.Errorf("flow.DPoPJKT = %q, want the key thumbprint", flow.DPoPJKT)
			}
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.Token.Type() != "DPoP" {
				t.Errorf("token_type = %q, want DPoP", tok.Token.Type())
			}
			if _, err := c.UserInfo(context.Background(), tok); err != nil {
				t.Fatalf("UserInfo: %v", err)
			}
			// A resource call through the client's HTTP client (dpop.Transport).
			resp, err := c.ResourceClient(tok).Get(c.Metadata().UserinfoEndpoint)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"alice"`) {
				t.Errorf("resource call: %d %s", resp.StatusCode, b)
			}
			wantPAR := 1
			if tt.nonce && !tt.jktOnly {
				wantPAR = 2 // one challenge, one retry
			}
			if n := srv.Requests(partest.EndpointPAR); n != wantPAR {
				t.Errorf("PAR requests = %d, want %d", n, wantPAR)
			}
		})
	}
}

// A Bearer token where DPoP was asked is an error, never a silent downgrade.
// A transport rewrites the token response's token_type to Bearer.
func TestDPoPBearerRefused(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", Clients: []partest.Client{
		{ID: "app", Secret: secret, RedirectURIs: []string{cb}, DPoPBound: true}}})
	t.Cleanup(srv.Close)
	downgrade := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || !strings.HasSuffix(r.URL.Path, "/token") {
			return resp, err
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		body["token_type"] = "Bearer"
		b, _ := json.Marshal(body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return resp, nil
	})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proofer, _ := dpop.NewProofer(key, nil)
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), DPoP: proofer,
		HTTPClient: &http.Client{Transport: downgrade}})
	tok, err := c.Exchange(context.Background(), flow, params)
	if !errors.Is(err, client.ErrInvalidResponse) || tok != nil {
		t.Fatalf("Exchange = %v, %v; want ErrTokenType", tok, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRequestObjectLogin pushes signed (and encrypted) request objects.
func TestRequestObjectLogin(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		pub  any
		ro   jar.Config
	}{
		{"HS256 with the client secret (MitID broker)", nil, jar.Config{Secret: []byte(secret)}},
		{"PS256", &rsaKey.PublicKey, jar.Config{Signer: rsaKey, Algorithm: jose.PS256, KeyID: "k", Type: jar.TypeRequestObject}},
		{"ES256", &ecKey.PublicKey, jar.Config{Signer: ecKey, KeyID: "k"}},
		{"EdDSA", edKey.Public(), jar.Config{Signer: edKey, KeyID: "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pc := partest.Client{ID: "app", Secret: secret, RedirectURIs: []string{cb}, RequireSignedRequestObject: true}
			if tt.pub != nil {
				pc.JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: tt.pub, KeyID: "k", Use: "sig"}}}
				pc.AuthMethod = partest.AuthClientSecretBasic
			}
			srv := partest.NewServer(partest.Config{IssuerPath: "/op", Clients: []partest.Client{pc}})
			t.Cleanup(srv.Close)
			ro := tt.ro
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), RequestObject: &ro},
				client.WithParam("login_hint", "alice"))
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.IDToken.Subject != "alice" {
				t.Errorf("sub = %q", tok.IDToken.Subject)
			}
		})
	}
}
