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
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/partest"
)

// TestJWKSRefetchRateLimited floods the client with forged ID tokens whose
// kid the provider's JWKS does not hold (or whose signature does not
// match a known kid). A kid not seen before triggers an immediate refetch,
// but at most one per 5 s for the whole key set (the first load does not
// count); a kid that stayed unknown after a refetch causes none for 30 s; a
// known kid with a bad signature never refetches. So a flood cannot make
// the client hammer the provider.
func TestJWKSRefetchRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{frozenClock: true})
	defer e.close()
	ctx := context.Background()
	c := e.mustClient(ctx)
	keys := e.keySet(c)
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

	forged := 0
	flood := func(n int, kid string) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				kid := kid
				switch {
				case i%4 == 0:
					kid = knownKid // right kid, wrong key: never a refetch
				case kid == "":
					kid = "forged-" + rand.Text()
				}
				if _, err := keys.VerifySignature(ctx, forge(kid)); err == nil {
					t.Error("a forged token verified")
				}
			})
		}
		wg.Wait()
		forged += n
	}
	tests := []struct {
		name    string
		advance time.Duration
		kid     string // "" for a fresh random kid per token
		want    int    // JWKS requests in total afterwards
	}{
		{"fresh kids right after the login's first load: one refetch for the whole flood", 0, "", 2},
		{"fresh kids 3 s later: none", 3 * time.Second, "", 2},
		{"fresh kids 6 s after the refetch: one more", 3 * time.Second, "", 3},
		{"a new fixed kid 6 s later: one refetch", 6 * time.Second, "forged-fixed", 4},
		{"that kid again 6 s later: none, it stays unknown for 30 s", 6 * time.Second, "forged-fixed", 4},
		{"that kid 31 s after its refetch: one", 25 * time.Second, "forged-fixed", 5},
	}
	for _, tt := range tests {
		e.clock.advance(tt.advance)
		flood(500, tt.kid)
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
		if _, err := c.Exchange(ctx, flow, params); !errors.Is(err, jwks.ErrUnknownKeyID) {
			t.Errorf("Exchange with an unknown kid = %v, want ErrUnknownKeyID", err)
		}
	}
	if n := e.srv.Requests(partest.EndpointJWKS); n != before {
		t.Errorf("forged logins caused %d JWKS requests, want 0", n-before)
	}
	t.Logf("jwks: %d forged tokens and 5 forged logins over 43 s of client time caused %d JWKS requests",
		forged, e.srv.Requests(partest.EndpointJWKS))
}

// TestJWKSFreshKidFlood states the bound for a flood of fresh random kids:
// 100 forged tokens a second, each with a kid never seen before, for 60 s of
// client time cost the provider at most 12 JWKS fetches (one per 5 s).
func TestJWKSFreshKidFlood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{frozenClock: true})
	defer e.close()
	ctx := context.Background()
	c := e.mustClient(ctx)
	keys := e.keySet(c)
	forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens(ctx, c) // the login's fetch
	before := e.srv.Requests(partest.EndpointJWKS)
	start := e.clock.now()
	for range 60 {
		e.clock.advance(time.Second)
		now := e.clock.now()
		for range 100 {
			raw, err := e.srv.SignWithKey(forger, jose.ES256, "forged-"+rand.Text(), "JWT", map[string]any{
				"iss": e.srv.Issuer(), "sub": "mallory", "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keys.VerifySignature(ctx, raw); err == nil {
				t.Fatal("a forged token verified")
			}
		}
	}
	elapsed := e.clock.now().Sub(start)
	n := e.srv.Requests(partest.EndpointJWKS) - before
	if n > 12 || n < 1 {
		t.Errorf("6,000 fresh forged kids over %s caused %d JWKS fetches, want 1…12", elapsed, n)
	}
	t.Logf("jwks: 6,000 fresh forged kids over %s of client time caused %d JWKS fetches (bound 12: one per 5 s)", elapsed, n)
}

// keySet returns the key set that c verifies ID tokens with: the process-wide
// one for its JWKS URL and HTTP client (package internal/jwks), so forged
// tokens can be fed to it directly, many more than logins could carry.
func (e *env) keySet(c *client.Client) *jwks.KeySet {
	return jwks.Shared(c.Metadata().JWKSURI, e.ccfg.HTTPClient, nil, nil)
}
