package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/bench/internal/baseline"
	"github.com/go-par/par/bench/internal/stub"
	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/httpx"
)

// The client registration every implementation uses (the stub checks
// none of it beyond presence).
const (
	clientID    = "0a775a87-878c-4b83-abe3-ee29c720c3e7"
	secret      = "rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr="
	redirectURL = "https://app.example/callback"
)

// runChild is the "run" mode: push (or log in) with one Go implementation
// for a fixed time and print one result line; Pushes counts the completed
// operations.
func runChild(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	impl := fs.String("impl", implGoPar, "go-par or baseline")
	issuer := fs.String("issuer", "", "stub issuer URL (loopback)")
	auth := fs.String("auth", auths[0], "auth method")
	conc := fs.Int("concurrency", 1, "concurrent pushers")
	seconds := fs.Float64("seconds", 3, "measured seconds")
	warmup := fs.Float64("warmup", 0.5, "warm-up seconds")
	mode := fs.String("mode", "push", "push, login or cold")
	tlsSetting := fs.String("tls", "off", "off, h2 or h1 (the stub decides the protocol; informational)")
	caFile := fs.String("ca", "", "PEM file of the stub's certificate (TLS)")
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
	if !slices.Contains(modes, *mode) || !slices.Contains(tlss, *tlsSetting) {
		return errors.New("compare: run: -mode push, login or cold; -tls off, h2 or h1")
	}
	var roots *x509.CertPool
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return errors.New("compare: run: -ca holds no certificate")
		}
	}
	push, err := newOp(*impl, *auth, *mode, *issuer, *conc, roots)
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

// httpClient keeps enough idle connections for conc concurrent pushes and
// trusts roots (nil: the system's); both Go implementations get the same.
func httpClient(conc int, roots *x509.CertPool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * conc
	t.MaxIdleConnsPerHost = 2 * conc
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// requestURIPrefix starts every request_uri; the stub's code is the rest
// (bench/internal/stub), so a login needs no authorization request: the
// browser's part is not the relying party's work.
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// callback is what the browser brings back from the stub's authorization
// endpoint for a push that returned requestURI.
func callback(issuer, requestURI, state string) (url.Values, error) {
	code, ok := strings.CutPrefix(requestURI, requestURIPrefix)
	if !ok {
		return nil, errors.New("compare: not a stub request_uri")
	}
	return url.Values{"code": {code}, "state": {state}, "iss": {issuer}}, nil
}

// newOp returns one operation of impl in mode: a push, a warm login, or a
// cold login (a new HTTP client, discovery, keys).
func newOp(impl, auth, mode, issuer string, conc int, roots *x509.CertPool) (func(context.Context) error, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if auth != "client_secret_basic" && auth != "private_key_jwt_ES256" {
		return nil, fmt.Errorf("compare: unknown auth %q", auth)
	}
	if impl != implGoPar && impl != implBaseline {
		return nil, fmt.Errorf("compare: unknown impl %q", impl)
	}
	// build makes a client with its own HTTP client and returns its push
	// and its login.
	build := func(ctx context.Context, hc *http.Client) (push, login func(context.Context) error, err error) {
		if impl == implGoPar {
			cfg := client.Config{Issuer: issuer, ClientID: clientID, RedirectURL: redirectURL,
				Scopes: []string{"openid", "mitid"}, HTTPClient: hc}
			if auth == "client_secret_basic" {
				cfg.Auth = client.ClientSecretBasic(secret)
			} else {
				cfg.Auth = client.PrivateKeyJWT(key, "es-1")
			}
			c, err := client.New(ctx, cfg)
			if err != nil {
				return nil, nil, err
			}
			push = func(ctx context.Context) error { _, err := c.Push(ctx); return err }
			login = func(ctx context.Context) error {
				flow, err := c.Push(ctx)
				if err != nil {
					return err
				}
				cb, err := callback(c.Metadata().Issuer, flow.RequestURI, flow.State)
				if err != nil {
					return err
				}
				tok, err := c.Exchange(ctx, flow, cb)
				if err == nil && tok.IDToken.Subject != stub.Subject {
					err = errors.New("compare: wrong subject")
				}
				return err
			}
			return push, login, nil
		}
		ep, err := baseline.Discover(ctx, hc, issuer)
		if err != nil {
			return nil, nil, err
		}
		cfg := baseline.Config{HTTPClient: hc, Issuer: ep.Issuer, PARURL: ep.PAR, TokenURL: ep.Token, JWKSURL: ep.JWKS,
			ClientID: clientID, RedirectURL: redirectURL, Scope: "openid mitid"}
		if auth == "client_secret_basic" {
			cfg.Secret = secret
		} else {
			cfg.Key, cfg.KeyAlg, cfg.KeyID = key, jose.ES256, "es-1"
		}
		b, err := baseline.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		push = func(ctx context.Context) error { _, err := b.Push(ctx); return err }
		login = func(ctx context.Context) error {
			flow, err := b.Push(ctx)
			if err != nil {
				return err
			}
			cb, err := callback(ep.Issuer, flow.RequestURI, flow.State)
			if err != nil {
				return err
			}
			tok, err := b.Exchange(ctx, flow, cb)
			if err == nil && tok.Claims.Sub != stub.Subject {
				err = errors.New("compare: wrong subject")
			}
			return err
		}
		return push, login, nil
	}
	switch mode {
	case "push", "login":
		push, login, err := build(context.Background(), httpClient(conc, roots))
		if err != nil {
			return nil, err
		}
		if mode == "push" {
			return push, nil
		}
		return login, nil
	case "cold":
		return func(ctx context.Context) error {
			hc := httpClient(1, roots)
			defer hc.CloseIdleConnections()
			_, login, err := build(ctx, hc)
			if err != nil {
				return err
			}
			return login(ctx)
		}, nil
	}
	return nil, fmt.Errorf("compare: unknown mode %q", mode)
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
