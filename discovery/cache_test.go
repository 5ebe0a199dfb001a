package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/discovery"
)

// clock is a settable clock for Cache tests.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// switchable serves the broker fixture, or a 503 while failing is set, and
// counts requests.
type switchable struct {
	srv      *httptest.Server
	requests atomic.Int64
	failing  atomic.Bool
	delay    time.Duration
}

func newSwitchable(t testing.TB, delay time.Duration) *switchable {
	t.Helper()
	s := &switchable{delay: delay}
	var doc []byte
	s.srv = quiet(httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != oidcPath || r.Header.Get("Accept") != "application/json" {
			t.Errorf("request %s %s (Accept %q), want GET %s (Accept application/json)", r.Method, r.URL, r.Header.Get("Accept"), oidcPath)
		}
		time.Sleep(s.delay)
		if s.failing.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})))
	doc = fixture(t, "broker-pp.json", "https://"+s.srv.Listener.Addr().String())
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *switchable) issuer() string { return s.srv.URL + "/op" }

func TestCacheSingleFetch(t *testing.T) {
	t.Parallel()
	s := newSwitchable(t, 20*time.Millisecond)
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: s.srv.Client()})
	const callers = 10000
	var wg sync.WaitGroup
	results := make([]*discovery.Metadata, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			results[i], errs[i] = c.Get(t.Context(), s.issuer())
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("Get #%d = %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("Get #%d returned a different *Metadata", i)
		}
	}
	if got := s.requests.Load(); got != 1 {
		t.Errorf("%d concurrent Gets made %d requests, want 1", callers, got)
	}
	if got, want := results[0].PushedAuthorizationRequestEndpoint, s.issuer()+"/connect/par"; got != want {
		t.Errorf("PushedAuthorizationRequestEndpoint = %q, want %q", got, want)
	}
}

func TestCacheTTLAndStaleIfError(t *testing.T) {
	t.Parallel()
	s := newSwitchable(t, 0)
	clk := newClock()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	const ttl = 10 * time.Minute
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: s.srv.Client(), TTL: ttl, Now: clk.Now, Logger: logger})
	ctx := t.Context()

	get := func(step string, wantReqs int64) (*discovery.Metadata, error) {
		t.Helper()
		md, err := c.Get(ctx, s.issuer())
		if got := s.requests.Load(); got != wantReqs {
			t.Errorf("%s: %d requests so far, want %d", step, got, wantReqs)
		}
		return md, err
	}

	first, err := get("first Get", 1)
	if err != nil {
		t.Fatalf("first Get = %v", err)
	}
	clk.Advance(ttl - time.Second)
	if md, err := get("within TTL", 1); err != nil || md != first {
		t.Errorf("Get within TTL = %p, %v; want the cached %p", md, err, first)
	}

	clk.Advance(time.Second) // exactly TTL: stale
	second, err := get("at TTL", 2)
	if err != nil || second == first {
		t.Fatalf("Get at TTL = %p, %v; want freshly fetched metadata", second, err)
	}

	s.failing.Store(true)
	clk.Advance(ttl + time.Minute)
	if md, err := get("refresh fails within 2×TTL", 3); err != nil || md != second {
		t.Errorf("Get after failed refresh = %p, %v; want the stale %p", md, err, second)
	}
	logMu.Lock()
	if !bytes.Contains(logs.Bytes(), []byte("level=WARN")) || !bytes.Contains(logs.Bytes(), []byte("serving stale metadata")) {
		t.Errorf("log = %q, want a warning about stale metadata", logs.String())
	}
	logMu.Unlock()
	if _, err := get("errors are not cached", 4); err != nil {
		t.Errorf("second Get after failed refresh = %v, want the stale metadata", err)
	}

	clk.Advance(ttl) // now older than 2×TTL
	_, err = get("beyond 2×TTL", 5)
	var he *discovery.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Get beyond 2×TTL with a failing server = %v, want *HTTPError 503", err)
	}

	s.failing.Store(false)
	third, err := get("recovered", 6)
	if err != nil || third == second {
		t.Errorf("Get after recovery = %p, %v; want new metadata", third, err)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestCacheFirstFetchFails(t *testing.T) {
	t.Parallel()
	s := newSwitchable(t, 0)
	s.failing.Store(true)
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: s.srv.Client()})
	var he *discovery.HTTPError
	if _, err := c.Get(t.Context(), s.issuer()); !errors.As(err, &he) {
		t.Fatalf("Get(failing server) = %v, want *HTTPError", err)
	}
	s.failing.Store(false)
	if _, err := c.Get(t.Context(), s.issuer()); err != nil {
		t.Fatalf("Get after recovery = %v", err)
	}
	if got := s.requests.Load(); got != 2 {
		t.Errorf("requests = %d, want 2 (errors are not cached)", got)
	}
}

func TestCacheCancelledCallerDoesNotPoison(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	var requests atomic.Int64
	var doc []byte
	srv := quiet(httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			close(entered)
		}
		<-release
		_, _ = w.Write(doc)
	})))
	doc = fixture(t, "broker-pp.json", "https://"+srv.Listener.Addr().String())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	issuer := srv.URL + "/op"
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: srv.Client()})

	ctxA, cancelA := context.WithCancel(t.Context())
	errA := make(chan error, 1)
	go func() {
		_, err := c.Get(ctxA, issuer)
		errA <- err
	}()
	<-entered // A's shared fetch is in flight

	type result struct {
		md  *discovery.Metadata
		err error
	}
	resB := make(chan result, 1)
	go func() {
		md, err := c.Get(t.Context(), issuer)
		resB <- result{md, err}
	}()

	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller's Get = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled caller still waiting for the shared fetch")
	}

	close(release)
	b := <-resB
	if b.err != nil || b.md == nil {
		t.Fatalf("other caller's Get = %v, %v; want the metadata", b.md, b.err)
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
	// The shared fetch's result is cached for later callers.
	if md, err := c.Get(t.Context(), issuer); err != nil || md != b.md {
		t.Errorf("later Get = %p, %v; want the cached %p", md, err, b.md)
	}
}

func TestCachePerIssuer(t *testing.T) {
	t.Parallel()
	a := newSwitchable(t, 0)
	b := newSwitchable(t, 0)
	// One client trusting both test servers' certificates.
	hc := a.srv.Client()
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(b.srv.Certificate())
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: hc})
	for range 3 {
		for _, s := range []*switchable{a, b} {
			md, err := c.Get(t.Context(), s.issuer())
			if err != nil || md.Issuer != s.issuer() {
				t.Fatalf("Get(%s) = %v, %v", s.issuer(), md, err)
			}
		}
	}
	if a.requests.Load() != 1 || b.requests.Load() != 1 {
		t.Errorf("requests = %d, %d; want 1 per issuer", a.requests.Load(), b.requests.Load())
	}
}

func TestCacheInvalidIssuer(t *testing.T) {
	t.Parallel()
	c := discovery.NewCache(discovery.CacheConfig{})
	if _, err := c.Get(t.Context(), "http://pp.netseidbroker.dk/op"); !errors.Is(err, discovery.ErrInvalidIssuer) {
		t.Errorf("Get(http issuer) = %v, want ErrInvalidIssuer", err)
	}
}
