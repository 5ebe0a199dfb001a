package hostile_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// providerEnv makes the test binary serve a partest provider instead of
// running tests (see TestMain); its value is the client's redirect URI.
const providerEnv = "GOPAR_HOSTILE_PROVIDER"

func TestMain(m *testing.M) {
	if redirect := os.Getenv(providerEnv); redirect != "" {
		serveProvider(redirect)
		return
	}
	os.Exit(m.Run())
}

// serveProvider runs partest until stdin is closed, printing its issuer.
// It runs in a child process so that the provider's own state (every
// request_uri, code and token it issued) does not count in the load
// test's memory figures, which are the SDK's and the app's.
func serveProvider(redirect string) {
	srv := partest.NewServer(partest.Config{
		IDTokenAlg: jose.ES256, OpaqueAccessTokens: true, RequestURILifetime: 10 * time.Minute,
		Clients: []partest.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirect}}},
	})
	fmt.Println(srv.Issuer())
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

// startProvider starts serveProvider in a child process and returns its
// issuer; the child stops when the test ends.
func startProvider(t *testing.T, redirect string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), providerEnv+"="+redirect)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("provider process: %v", err)
	}
	return strings.TrimSpace(line)
}

// memStats is the heap in use after a collection, and the goroutine count.
func memStats() (heap uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, runtime.NumGoroutine()
}

// TestLoadHeld pushes and logs in at a steady rate against a partest
// provider in another process (GOPAR_LOAD sets how long: 3 s by default,
// 60s for the full run), and checks that the app's memory and goroutine
// counts stay flat: nothing is kept or left running per flow.
//
// It does not call t.Parallel, on purpose: heap and goroutine counts are
// process-wide, and parallel tests wait until the sequential ones are done.
func TestLoadHeld(t *testing.T) {
	d := 3 * time.Second
	if v := os.Getenv("GOPAR_LOAD"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("GOPAR_LOAD: %v", err)
		}
	}
	const loginsPerSec, pushesPerSec, maxInFlight = 20, 40, 64

	var handler atomic.Pointer[http.Handler]
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	defer app.Close()
	issuer := startProvider(t, app.URL+"/callback")

	tr := &http.Transport{MaxIdleConnsPerHost: maxInFlight}
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: issuer, ClientID: clientID, Auth: client.ClientSecretBasic(secret),
		RedirectURL: app.URL + "/callback", HTTPClient: &http.Client{Transport: tr, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	var handlerErrs atomic.Int64
	h, err := login.New(login.Config{Client: c, Cookie: login.CookieConfig{InsecureCookie: true},
		// The logins come from one address at loginsPerSec, up to
		// maxInFlight at once: limits with room for that, so a refusal
		// would be a bug of the limiter, not the test's load.
		StartLimits: login.StartLimits{PerClient: login.RateLimit{Rate: 2 * loginsPerSec, Burst: 2 * maxInFlight}},
		OnLogin:     func(w http.ResponseWriter, r *http.Request, tok *client.Tokens) { fmt.Fprint(w, tok.IDToken.Subject) },
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			handlerErrs.Add(1)
			login.DefaultOnError(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hh http.Handler = h
	handler.Store(&hh)

	// login plays one user: start at the app, the provider's authorize
	// step (it redirects straight back), the callback.
	loginOnce := func() error {
		b := newBrowser(app.URL, tr)
		status, loc, err := b.start(ctx)
		if err != nil || status != http.StatusSeeOther {
			return fmt.Errorf("start = %d, %v", status, err)
		}
		resp, err := b.hc.Get(loc)
		if err != nil {
			return err
		}
		resp.Body.Close()
		cb, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode/100 != 3 {
			return fmt.Errorf("authorize = %d, %v", resp.StatusCode, err)
		}
		status, body, err := b.callback(ctx, cb.Query())
		if err != nil || status != http.StatusOK || body != "alice" {
			return fmt.Errorf("callback = %d %q, %v", status, body, err)
		}
		return nil
	}
	pushOnce := func() error {
		flow, err := c.Push(ctx)
		if err != nil {
			return err
		}
		_, err = c.AuthorizationURL(flow)
		return err
	}

	// hold runs both kinds of flow at the rates for d.
	var logins, pushes, failures, skipped atomic.Int64
	hold := func(d time.Duration) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxInFlight)
		tick := time.NewTicker(time.Second / (loginsPerSec + pushesPerSec))
		defer tick.Stop()
		end := time.After(d)
		for i := 0; ; i++ {
			select {
			case <-end:
				wg.Wait()
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				skipped.Add(1) // the machine cannot keep up; counted, not queued
				continue
			}
			isLogin := i%(loginsPerSec+pushesPerSec) < loginsPerSec
			wg.Go(func() {
				defer func() { <-sem }()
				var err error
				if isLogin {
					err = loginOnce()
					logins.Add(1)
				} else {
					err = pushOnce()
					pushes.Add(1)
				}
				if err != nil && failures.Add(1) <= 5 {
					t.Errorf("flow failed: %v", err)
				}
			})
		}
	}

	settle := func() (uint64, int) {
		tr.CloseIdleConnections()
		app.CloseClientConnections()
		time.Sleep(100 * time.Millisecond)
		return memStats()
	}
	hold(time.Second) // warm-up: connections, key set, pools
	heap0, g0 := settle()
	logins.Store(0)
	pushes.Store(0)
	start := time.Now()
	hold(d)
	elapsed := time.Since(start)
	heap1, g1 := settle()
	if n, ok := settleGoroutines(g0, 5*time.Second); !ok {
		t.Errorf("goroutines: %d after warm-up, %d after the load\n%s", g0, n, goroutineDump())
	} else {
		g1 = n
	}

	flows := logins.Load() + pushes.Load()
	growth := int64(heap1) - int64(heap0)
	t.Logf("load: %v, %d logins + %d pushes (%.0f flows/s, %d skipped, %d failed); heap in use %.1f → %.1f MiB (%+d B/flow); goroutines %d → %d",
		elapsed.Round(time.Millisecond), logins.Load(), pushes.Load(), float64(flows)/elapsed.Seconds(), skipped.Load(), failures.Load(),
		float64(heap0)/(1<<20), float64(heap1)/(1<<20), growth/max(flows, 1), g0, g1)
	if flows < int64(d.Seconds()*(loginsPerSec+pushesPerSec)/4) {
		t.Errorf("only %d flows in %v: the rate was not held", flows, d)
	}
	if handlerErrs.Load() != 0 {
		t.Errorf("%d handler errors", handlerErrs.Load())
	}
	// Flat memory: a completed flow leaves at most a few hundred bytes (the
	// memory store's expiry queue entry until FlowLifetime) plus slack.
	if limit := int64(4<<20) + 512*flows; growth > limit {
		t.Errorf("heap in use grew by %d B over %d flows (limit %d B): something is kept per flow", growth, flows, limit)
	}
}
