package bench_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/partest"
)

// boundedHTTPClient is newHTTPClient with at most 64 connections, so that
// thousands of goroutines share sockets instead of exhausting them.
func boundedHTTPClient() *http.Client {
	hc := newHTTPClient()
	hc.Transport.(*http.Transport).MaxConnsPerHost = 64
	return hc
}

// TestOneDiscoveryFetchFor10000ConcurrentPushes releases 10,000 goroutines
// at once; each gets the metadata from one discovery.Cache, builds a client
// from it and pushes. The provider sees one discovery request.
func TestOneDiscoveryFetchFor10000ConcurrentPushes(t *testing.T) {
	t.Parallel()
	const n = 10_000
	s := startStub(t, nil)
	hc := boundedHTTPClient()
	cache := discovery.NewCache(discovery.CacheConfig{HTTPClient: hc})
	ctx := context.Background()
	gate := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range n {
		wg.Go(func() {
			<-gate
			md, err := cache.Get(ctx, s.URL)
			if err == nil {
				var c *client.Client
				c, err = client.New(ctx, client.Config{Metadata: md, ClientID: clientID,
					Auth: client.ClientSecretBasic(secret), RedirectURL: redirectURL, HTTPClient: hc})
				if err == nil {
					_, err = c.Push(ctx)
				}
			}
			if err != nil && failed.Add(1) == 1 {
				t.Error(err)
			}
		})
	}
	close(gate)
	wg.Wait()
	if got := s.DiscoveryFetches(); got != 1 {
		t.Errorf("discovery fetched %d times for %d pushes, want 1", got, n)
	}
	if got := s.Pushes(); got != n {
		t.Errorf("stub answered %d pushes, want %d", got, n)
	}
	t.Logf("%d concurrent pushes, %d discovery fetch(es)", s.Pushes(), s.DiscoveryFetches())
}

// loginServer starts a partest server with the benchmark client.
func loginServer(t *testing.T, alg jose.SignatureAlgorithm) *partest.Server {
	t.Helper()
	srv := partest.NewServer(partest.Config{IDTokenAlg: alg, Clients: []partest.Client{{
		ID: clientID, Secret: secret, RedirectURIs: []string{redirectURL}}}})
	t.Cleanup(srv.Close)
	return srv
}

// loginOnce runs one full SDK login against srv.
func loginOnce(ctx context.Context, c *client.Client, srv *partest.Server) error {
	flow, err := c.Push(ctx)
	if err != nil {
		return err
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		return err
	}
	params, err := srv.Login(u)
	if err != nil {
		return err
	}
	_, err = c.Exchange(ctx, flow, params)
	return err
}

var endpoints = []string{partest.EndpointDiscovery, partest.EndpointJWKS, partest.EndpointPAR,
	partest.EndpointAuthorize, partest.EndpointToken, partest.EndpointUserinfo, partest.EndpointEndSession}

func counts(srv *partest.Server) map[string]int {
	m := map[string]int{}
	for _, e := range endpoints {
		m[e] = srv.Requests(e)
	}
	return m
}

// TestTwoBackChannelRequestsPerLogin: once metadata and keys are cached, a
// login costs the provider exactly one PAR and one token request on the
// back channel (plus the browser's authorization request).
func TestTwoBackChannelRequestsPerLogin(t *testing.T) {
	t.Parallel()
	srv := loginServer(t, jose.RS256)
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: clientID,
		Auth: client.ClientSecretBasic(secret), RedirectURL: redirectURL, HTTPClient: newHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	if err := loginOnce(ctx, c, srv); err != nil { // fetches the JWKS
		t.Fatal(err)
	}
	before := counts(srv)
	const logins, conc = 40, 4
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for range logins / conc {
				if err := loginOnce(ctx, c, srv); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	after := counts(srv)
	want := map[string]int{partest.EndpointPAR: logins, partest.EndpointToken: logins, partest.EndpointAuthorize: logins}
	backChannel := 0
	for _, e := range endpoints {
		d := after[e] - before[e]
		if d != want[e] {
			t.Errorf("%s: %d requests for %d logins, want %d", e, d, logins, want[e])
		}
		if e != partest.EndpointAuthorize {
			backChannel += d
		}
	}
	if backChannel != 2*logins {
		t.Errorf("%d back-channel requests for %d logins, want %d", backChannel, logins, 2*logins)
	}
	t.Logf("%d logins: %d back-channel requests (%.1f per login)", logins, backChannel, float64(backChannel)/logins)
}

// clock is a settable clock for the client: its start plus what the test
// advanced, so that real time spent under load (the -race run of every
// package on a busy machine) does not count towards the refetch interval.
type clock struct {
	start  time.Time
	offset atomic.Int64
}

func newClock() *clock { return &clock{start: time.Now()} }

func (c *clock) now() time.Time          { return c.start.Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *clock) String() string          { return fmt.Sprint(time.Duration(c.offset.Load())) }
func forgeKid(i int) string              { return fmt.Sprintf("forged-%d-%s", i, rand.Text()[:6]) }
func isUnknownKid(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unknown key id")
}

// TestJWKSRefetchOnlyOnUnknownKidRateLimited forges 1,000 ID tokens with
// unknown kids, from 32 goroutines. The JWKS is fetched again at most once
// per 5 s however many arrive (the first load does not count), and a login
// after a key rotation succeeds at once.
func TestJWKSRefetchOnlyOnUnknownKidRateLimited(t *testing.T) {
	t.Parallel()
	srv := loginServer(t, jose.ES256)
	ctx := context.Background()
	clk := newClock()
	hc := newHTTPClient()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: clientID, Now: clk.now,
		Auth: client.ClientSecretBasic(secret), RedirectURL: redirectURL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	// The client's own key set (process-wide per JWKS URL and HTTP client),
	// fed the forged tokens directly.
	keySet := jwks.Shared(c.Metadata().JWKSURI, hc, nil, nil)
	if err := loginOnce(ctx, c, srv); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests(partest.EndpointJWKS); got != 1 {
		t.Fatalf("jwks fetched %d times after the first login, want 1", got)
	}

	forgeAll := func(n int) []string {
		key := keys().ec
		toks := make([]string, n)
		for i := range toks {
			now := clk.now().Unix()
			tok, err := srv.SignWithKey(key, jose.ES256, forgeKid(i), "JWT", map[string]any{
				"iss": srv.Issuer(), "sub": "mallory", "aud": clientID, "iat": now, "exp": now + 300, "nonce": "n"})
			if err != nil {
				t.Fatal(err)
			}
			toks[i] = tok
		}
		return toks
	}
	verifyAll := func(toks []string) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(toks)); i = next.Add(1) - 1 {
					_, err := keySet.VerifySignature(ctx, toks[i])
					if !isUnknownKid(err) {
						t.Errorf("forged token: got %v, want an unknown key id error", err)
						return
					}
				}
			})
		}
		wg.Wait()
	}

	for round, tc := range []struct {
		advance time.Duration
		forged  int
		want    int // JWKS requests after the round
	}{
		{0, 100, 2},                // first load just now: one refetch for the 100
		{3 * time.Second, 1000, 2}, // within 5 s of that refetch: none for 1,000 tokens
		{3 * time.Second, 100, 3},  // interval passed: one more
		{6 * time.Second, 100, 4},  // and one more after the next interval
	} {
		clk.advance(tc.advance)
		verifyAll(forgeAll(tc.forged))
		if got := srv.Requests(partest.EndpointJWKS); got != tc.want {
			t.Errorf("round %d (clock %s): jwks fetched %d times in all, want %d", round, clk, got, tc.want)
		}
	}
	if err := loginOnce(ctx, c, srv); err != nil {
		t.Errorf("login with the known kid: %v", err)
	}
	if got := srv.Requests(partest.EndpointJWKS); got != 4 {
		t.Errorf("a login with a known kid fetched the jwks: %d fetches, want 4", got)
	}

	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	clk.advance(6 * time.Second)
	if err := loginOnce(ctx, c, srv); err != nil {
		t.Errorf("login after key rotation: %v", err)
	}
	if got := srv.Requests(partest.EndpointJWKS); got != 5 {
		t.Errorf("after rotation: %d jwks fetches in all, want 5", got)
	}
	t.Logf("1,300 forged tokens and 3 logins: %d jwks fetches", srv.Requests(partest.EndpointJWKS))
}
