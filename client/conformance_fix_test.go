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
			t.Fatalf("Refresh = %v, %v; want ErrInvalidIDToken", got, err)
		}
	})
}

// TestSigningKeyRotation: the provider rotates its signing key between two
// logins seconds apart (OIDC Core §10.1.1). The second login's ID token,
// signed with a kid the cached JWKS lacks, makes the client refetch at
// once — no 30 s lock-out. Only a refetch for an unknown kid within 5 s of
// the previous one is refused (ErrUnknownKeyID: the flood guard).
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
	steps := []struct {
		name    string
		advance time.Duration
		rotate  bool
		wantErr error
		fetches int // JWKS fetches caused by this login
	}{
		{"rotated, 1 s after the first login", time.Second, true, nil, 1},
		{"rotated again, 2 s after that refetch", 2 * time.Second, true, jwks.ErrUnknownKeyID, 0},
		{"the same key, 6 s after the refetch", 4 * time.Second, false, nil, 1},
		{"no rotation", time.Second, false, nil, 0},
	}
	for _, st := range steps {
		if st.rotate {
			if err := srv.RotateKeys(); err != nil {
				t.Fatal(err)
			}
		}
		offset.Add(int64(st.advance))
		before := srv.Requests(partest.EndpointJWKS)
		if err := loginAgain(); !errors.Is(err, st.wantErr) {
			t.Errorf("%s: login: %v; want %v", st.name, err, st.wantErr)
		}
		if n := srv.Requests(partest.EndpointJWKS) - before; n != st.fetches {
			t.Errorf("%s: JWKS fetches = %d, want %d", st.name, n, st.fetches)
		}
	}
}
