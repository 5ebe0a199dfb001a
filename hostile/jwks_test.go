package hostile_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestJWKSRefetchRateLimited floods the client with forged ID tokens whose
// kid the provider's JWKS does not hold (or whose signature does not
// match a known kid): the client refetches the JWKS at most once per
// interval (30 s), so the flood cannot make it hammer the provider.
func TestJWKSRefetchRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	defer e.close()
	ctx := context.Background()
	c := e.mustClient(ctx)
	forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forge := func(kid string) string {
		now := e.clock.now()
		raw, err := e.srv.SignWithKey(forger, jose.ES256, kid, "JWT", map[string]any{
			"iss": e.srv.Issuer(), "sub": "mallory", "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// A real login first: the JWKS is fetched once and cached.
	e.tokens(ctx, c)
	if n := e.srv.Requests(partest.EndpointJWKS); n != 1 {
		t.Fatalf("JWKS requests after one login = %d, want 1", n)
	}
	knownKid := e.srv.PublicJWKS().Keys[0].KeyID

	flood := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				kid := "forged-" + rand.Text()
				if i%4 == 0 {
					kid = knownKid // right kid, wrong key: never a refetch
				}
				if _, err := c.Verifier().Verify(ctx, forge(kid)); err == nil {
					t.Error("a forged token verified")
				}
			})
		}
		wg.Wait()
	}
	tests := []struct {
		name    string
		advance time.Duration
		want    int // JWKS requests in total afterwards
	}{
		{"within the interval", 0, 1},
		{"after 31 s: one refetch for the whole flood", 31 * time.Second, 2},
		{"10 s later: none", 10 * time.Second, 2},
		{"31 s later: one more", 21 * time.Second, 3},
	}
	for _, tt := range tests {
		e.clock.advance(tt.advance)
		flood(500)
		if n := e.srv.Requests(partest.EndpointJWKS); n != tt.want {
			t.Errorf("%s: JWKS requests = %d, want %d", tt.name, n, tt.want)
		}
	}

	// The same through Exchange: a forged ID token with an unknown kid is
	// ErrUnknownKeyID and costs no JWKS request inside the interval.
	before := e.srv.Requests(partest.EndpointJWKS)
	for range 5 {
		flow, params := e.authorize(ctx, c)
		e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, RawIDToken: func() string {
			now := e.clock.now()
			raw, err := e.srv.SignWithKey(forger, jose.ES256, "forged-"+rand.Text(), "JWT", map[string]any{
				"iss": e.srv.Issuer(), "sub": "mallory", "aud": clientID, "nonce": flow.Nonce,
				"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			})
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}()})
		if _, err := c.Exchange(ctx, flow, params); !errors.Is(err, client.ErrUnknownKeyID) {
			t.Errorf("Exchange with an unknown kid = %v, want ErrUnknownKeyID", err)
		}
	}
	if n := e.srv.Requests(partest.EndpointJWKS); n != before {
		t.Errorf("forged logins caused %d JWKS requests, want 0", n-before)
	}
	t.Logf("jwks: 2,000 forged tokens and 5 forged logins over 62 s of client time caused %d JWKS requests",
		e.srv.Requests(partest.EndpointJWKS))
}
