package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/bench/internal/baseline"
	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/internal/httpx"
)

// The client registration every implementation uses (the stub checks
// none of it beyond presence).
const (
	clientID    = "0a775a87-878c-4b83-abe3-ee29c720c3e7"
	secret      = "rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr="
	redirectURL = "https://app.example/callback"
)

// runChild is the "run" mode: push with one Go implementation for a fixed
// time and print one result line.
func runChild(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	impl := fs.String("impl", implGoPar, "go-par or baseline")
	issuer := fs.String("issuer", "", "stub issuer URL (loopback)")
	auth := fs.String("auth", auths[0], "auth method")
	conc := fs.Int("concurrency", 1, "concurrent pushers")
	seconds := fs.Float64("seconds", 3, "measured seconds")
	warmup := fs.Float64("warmup", 0.5, "warm-up seconds")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*issuer)
	if err != nil || !httpx.IsLoopback(u.Hostname()) {
		return errors.New("compare: run: -issuer must be a loopback URL")
	}
	if *conc < 1 || *conc > 1024 || !(*seconds > 0 && *seconds <= 600) || *warmup < 0 || *warmup > 60 {
		return errors.New("compare: run: concurrency 1..1024, seconds in (0, 600], warmup in [0, 60]")
	}
	push, err := newPusher(*impl, *auth, *issuer, *conc)
	if err != nil {
		return err
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r := measure(push, *conc, time.Duration(*warmup*float64(time.Second)), time.Duration(*seconds*float64(time.Second)))
	r.Impl, r.Auth, r.Concurrency = *impl, *auth, *conc
	return json.NewEncoder(w).Encode(r)
}

// httpClient keeps enough idle connections for conc concurrent pushes;
// both Go implementations get the same.
func httpClient(conc int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * conc
	t.MaxIdleConnsPerHost = 2 * conc
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func newPusher(impl, auth, issuer string, conc int) (func(context.Context) error, error) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	switch impl {
	case implGoPar:
		cfg := client.Config{Issuer: issuer, ClientID: clientID, RedirectURL: redirectURL,
			Scopes: []string{"openid", "mitid"}, HTTPClient: httpClient(conc)}
		switch auth {
		case "client_secret_basic":
			cfg.Auth = client.ClientSecretBasic(secret)
		case "private_key_jwt_ES256":
			cfg.Auth = client.PrivateKeyJWT(key, "es-1")
		default:
			return nil, fmt.Errorf("compare: unknown auth %q", auth)
		}
		c, err := client.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { _, err := c.Push(ctx); return err }, nil
	case implBaseline:
		hc := httpClient(conc)
		md, err := discovery.Fetch(ctx, hc, issuer)
		if err != nil {
			return nil, err
		}
		cfg := baseline.Config{HTTPClient: hc, Issuer: md.Issuer, PARURL: md.PushedAuthorizationRequestEndpoint,
			ClientID: clientID, RedirectURL: redirectURL, Scope: "openid mitid"}
		switch auth {
		case "client_secret_basic":
			cfg.Secret = secret
		case "private_key_jwt_ES256":
			cfg.Key, cfg.KeyAlg, cfg.KeyID = key, jose.ES256, "es-1"
		default:
			return nil, fmt.Errorf("compare: unknown auth %q", auth)
		}
		b, err := baseline.New(cfg)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { _, err := b.Push(ctx); return err }, nil
	}
	return nil, fmt.Errorf("compare: unknown impl %q", impl)
}

// measure runs conc loops of push: warm-up first, then counts successes
// and errors for d.
func measure(push func(context.Context) error, conc int, warmup, d time.Duration) result {
	ctx := context.Background()
	var counting, stop atomic.Bool
	var pushes, errs atomic.Int64
	var lastErr atomic.Value
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for !stop.Load() {
				err := push(ctx)
				if !counting.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					lastErr.Store(err.Error())
				} else {
					pushes.Add(1)
				}
			}
		})
	}
	time.Sleep(warmup)
	counting.Store(true)
	start, cpu := time.Now(), cpuTime()
	time.Sleep(d)
	counting.Store(false)
	elapsed, cpu := time.Since(start), cpuTime()-cpu
	stop.Store(true)
	wg.Wait()
	r := result{Pushes: pushes.Load(), Errors: errs.Load(), Seconds: elapsed.Seconds(), CPUSeconds: cpu.Seconds()}
	if s, ok := lastErr.Load().(string); ok {
		r.LastError = s
	}
	return r
}
