package client_test

// Regression tests for the two OpenID Foundation RP conformance modules
// that failed (oidcc-client-test-missing-iat and
// oidcc-client-test-signing-key-rotation).

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/partest"
)

// TestIDTokenWithoutIAT: iat is REQUIRED (OIDC Core §2); an ID token
// without it is refused at the code exchange and after a refresh.
func TestIDTokenWithoutIAT(t *testing.T) {
	t.Parallel()
	dropIAT := func(c map[string]any) { delete(c, "iat") }
	t.Run("exchange", func(t *testing.T) {
		t.Parallel()
		srv := secretServer(t, func(c *partest.Config) {
			c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: dropIAT}}
		})
		c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
		tok, err := c.Exchange(context.Background(), flow, params)
		if tok != nil || !errors.Is(err, client.ErrInvalidIDToken) {
			t.Fatalf("Exchange = %v, %v; want ErrInvalidIDToken", tok, err)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		t.Parallel()
		srv := secretServer(t)
		c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
		tok, err := c.Exchange(context.Background(), flow, params)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		srv.SetFault(partest.EndpointToken, partest.Fault{IDToken: dropIAT})
		got, err := c.Refresh(context.Background(), tok)
		if got != nil || !errors.Is(err, client.ErrInvalidIDToken) {
			t.Fatalf("RefreshTokens = %v, %v; want ErrInvalidIDToken", got, err)
		}
	})
}

// TestSigningKeyRotation: the provider rotates its signing key between two
// logins seconds apart (OIDC Core §10.1.1). The second login's ID token,
// signed with a kid the cached JWKS lacks, makes the client refetch at
// once — no 30 s lock-out — provided the last fetch is at least 5 s old
// (the flood guard); within those 5 s it is ErrUnknownKeyID.
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	hc := &http.Client{Transport: srv.Client().Transport} // a key set of its own
	cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), HTTPClient: hc, Now: now}
	c, flow, params := login(t, srv, cfg)
	if _, err := c.Exchange(context.Background(), flow, params); err != nil {
		t.Fatalf("first login: %v", err)
	}
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	loginAgain := func() error {
		flow, err := c.Push(context.Background())
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		u, err := c.AuthorizationURL(flow)
		if err != nil {
			t.Fatal(err)
		}
		params, err := srv.Login(u)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exchange(context.Background(), flow, params)
		return err
	}
	offset.Add(int64(2 * time.Second))
	if err := loginAgain(); !errors.Is(err, jwks.ErrUnknownKeyID) {
		t.Fatalf("login 2 s after the last JWKS fetch: %v; want ErrUnknownKeyID (flood guard)", err)
	}
	jwks := srv.Requests(partest.EndpointJWKS)
	offset.Add(int64(4 * time.Second))
	if err := loginAgain(); err != nil {
		t.Fatalf("login 6 s after the last JWKS fetch, with the rotated key: %v", err)
	}
	if n := srv.Requests(partest.EndpointJWKS) - jwks; n != 1 {
		t.Errorf("JWKS fetches for the rotated key = %d, want 1", n)
	}
}
