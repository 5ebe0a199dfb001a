package bench_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-par/par/partest"
)

// BenchmarkPush pushes one request at a time (concurrency 1) with the SDK
// and with the hand-written baseline, against the same stub endpoint.
func BenchmarkPush(b *testing.B) {
	s := startStub(b, nil)
	ctx := context.Background()
	for _, impl := range []string{"sdk", "baseline"} {
		for _, v := range variants {
			b.Run(impl+"/"+v.name, func(b *testing.B) {
				push := pushFunc(b, impl, v, s.URL)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := push(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPushParallel pushes from 32 goroutines at once, the issue's
// throughput point; ns/op is wall time per push across all of them.
func BenchmarkPushParallel(b *testing.B) {
	s := startStub(b, nil)
	ctx := context.Background()
	const conc = 32
	for _, impl := range []string{"sdk", "baseline"} {
		for _, v := range variants {
			b.Run(impl+"/"+v.name+"/c"+strconv.Itoa(conc), func(b *testing.B) {
				push := pushFunc(b, impl, v, s.URL)
				if err := push(ctx); err != nil { // warm one connection
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				runConcurrent(b, conc, func() error { return push(ctx) })
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
			})
		}
	}
}

// runConcurrent calls fn b.N times in total from conc goroutines.
func runConcurrent(b *testing.B, conc int, fn func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// pushFunc returns one push by the implementation impl.
func pushFunc(tb testing.TB, impl string, v variant, issuer string) func(context.Context) error {
	c, base := pushers(tb, v, issuer)
	if impl == "sdk" {
		return func(ctx context.Context) error {
			f, err := c.Push(ctx)
			if err == nil && f.RequestURI == "" {
				tb.Error("no request_uri")
			}
			return err
		}
	}
	return func(ctx context.Context) error {
		f, err := base.Push(ctx)
		if err == nil && f.RequestURI == "" {
			tb.Error("no request_uri")
		}
		return err
	}
}

// BenchmarkLogin runs whole logins against partest: push, the authorize
// step (partest's headless user), the callback checks, the code exchange
// and the ID token verification (RS256).
func BenchmarkLogin(b *testing.B) {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{
		ID: clientID, Secret: secret, RedirectURIs: []string{redirectURL}}}})
	b.Cleanup(srv.Close)
	ctx := context.Background()
	for _, impl := range []string{"sdk", "baseline"} {
		b.Run(impl, func(b *testing.B) {
			login := loginFunc(b, impl, srv)
			if err := login(ctx); err != nil { // metadata and keys cached
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := login(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loginFunc returns one full login by the implementation impl against srv.
func loginFunc(tb testing.TB, impl string, srv *partest.Server) func(context.Context) error {
	tb.Helper()
	c, base := pushers(tb, variants[0], srv.Issuer())
	if impl == "sdk" {
		return func(ctx context.Context) error {
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
			tok, err := c.Exchange(ctx, flow, params)
			if err == nil && tok.IDToken.Subject != "alice" {
				tb.Errorf("subject %q", tok.IDToken.Subject)
			}
			return err
		}
	}
	authz := c.Metadata().AuthorizationEndpoint
	return func(ctx context.Context) error {
		flow, err := base.Push(ctx)
		if err != nil {
			return err
		}
		params, err := srv.Login(base.AuthorizationURL(authz, flow))
		if err != nil {
			return err
		}
		tok, err := base.Exchange(ctx, flow, params)
		if err == nil && tok.Claims.Sub != "alice" {
			tb.Errorf("subject %q", tok.Claims.Sub)
		}
		return err
	}
}
