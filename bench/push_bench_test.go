package bench_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// BenchmarkPush pushes one request at a time (concurrency 1) with the SDK
// and with the hand-written baseline, against the same stub endpoint.
func BenchmarkPush(b *testing.B) {
	s := startStub(b, nil)
	ctx := context.Background()
	// Variant-major order: SDK and baseline of one variant run back to
	// back, so a change of machine load hits both alike.
	for _, v := range variants {
		for _, impl := range impls {
			b.Run(impl+"/"+v.name, func(b *testing.B) {
				push := pushFunc(b, impl, v, s.URL)
				b.ReportAllocs()
				cpu := startCPU(b)
				for b.Loop() {
					if err := push(ctx); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report()
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
	for _, v := range variants {
		for _, impl := range impls {
			b.Run(impl+"/"+v.name+"/c"+strconv.Itoa(conc), func(b *testing.B) {
				push := pushFunc(b, impl, v, s.URL)
				if err := push(ctx); err != nil { // warm one connection
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := startCPU(b)
				runConcurrent(b, conc, func() error { return push(ctx) })
				cpu.report()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
			})
		}
	}
}

var impls = []string{"sdk", "baseline"}

// cpuMeter reports process CPU time per op (cpu-ns/op): client and
// in-process server together. Unlike ns/op it hardly moves when other
// processes load the machine.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{b, cpuTime()} }

func (m cpuMeter) report() {
	if m.start == 0 || m.b.N == 0 {
		return
	}
	m.b.ReportMetric(float64(cpuTime()-m.start)/float64(m.b.N), "cpu-ns/op")
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
	for _, impl := range impls {
		b.Run(impl, func(b *testing.B) {
			login := loginFunc(b, impl, srv)
			if err := login(ctx); err != nil { // metadata and keys cached
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU(b)
			for b.Loop() {
				if err := login(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report()
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

// BenchmarkPushDefaultClient pushes from 32 goroutines with the SDK's
// default HTTP client (Config.HTTPClient nil), against BenchmarkPushParallel's
// tuned transport: the default net/http transport keeps only 2 idle
// connections per host, so most concurrent pushes open a new connection.
func BenchmarkPushDefaultClient(b *testing.B) {
	s := startStub(b, nil)
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: s.URL, ClientID: clientID, RedirectURL: redirectURL,
		Scopes: []string{"openid", "mitid"}, Auth: client.ClientSecretBasic(secret)})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk/client_secret_basic/c32", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU(b)
		runConcurrent(b, 32, func() error { _, err := c.Push(ctx); return err })
		cpu.report()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
	})
}
