package login_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

// Shared like the client shares them between its flows.
var (
	testIssuer   = "https://pp.netseidbroker.dk/op"
	testRedirect = "https://app.example.com/auth/callback"
)

// brokerFlow is a flow shaped like one pushed to the MitID broker.
func brokerFlow(now time.Time) *client.Flow {
	uri := make([]byte, 32)
	rand.Read(uri)
	return &client.Flow{
		State:        rand.Text(),
		Nonce:        rand.Text(),
		CodeVerifier: rand.Text() + rand.Text()[:17], // 43 characters, as pkce makes
		RequestURI:   "urn:ietf:params:oauth:request_uri:" + hex.EncodeToString(uri),
		ExpiresAt:    now.Add(600 * time.Second),
		RedirectURL:  testRedirect,
		Issuer:       testIssuer,
	}
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &slowClock{now: time.Unix(1_700_000_000, 0)}
	s := login.NewMemoryStore(login.MemoryOptions{Now: clock.Now})
	f := brokerFlow(clock.Now())
	exp := clock.Now().Add(time.Minute)

	if err := s.Save(ctx, nil, nil, f, exp); err != nil {
		t.Fatal(err)
	}
	want := *f
	f.Nonce = "changed after save"
	got, err := s.Take(ctx, nil, nil, want.State)
	if err != nil || *got != want {
		t.Fatalf("Take = %+v, %v; want the saved copy", got, err)
	}
	if _, err := s.Take(ctx, nil, nil, want.State); !errors.Is(err, login.ErrFlowNotFound) {
		t.Errorf("second Take = %v, want ErrFlowNotFound", err)
	}
	if _, err := s.Take(ctx, nil, nil, "never saved"); !errors.Is(err, login.ErrFlowNotFound) {
		t.Errorf("Take(unknown) = %v, want ErrFlowNotFound", err)
	}

	tests := []struct {
		name string
		flow *client.Flow
		exp  time.Time
	}{
		{"nil flow", nil, exp},
		{"no state", &client.Flow{}, exp},
		{"expired", brokerFlow(clock.Now()), clock.Now()},
	}
	for _, tc := range tests {
		if err := s.Save(ctx, nil, nil, tc.flow, tc.exp); err == nil {
			t.Errorf("Save(%s) = nil, want an error", tc.name)
		}
	}
	dup := brokerFlow(clock.Now())
	if err := s.Save(ctx, nil, nil, dup, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, nil, nil, dup, exp); err == nil {
		t.Error("Save of a pending state = nil, want an error")
	}
}

func TestMemoryStoreExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &slowClock{now: time.Unix(1_700_000_000, 0)}
	s := login.NewMemoryStore(login.MemoryOptions{Now: clock.Now, MaxFlows: 3})

	f := brokerFlow(clock.Now())
	if err := s.Save(ctx, nil, nil, f, clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second)
	if _, err := s.Take(ctx, nil, nil, f.State); !errors.Is(err, login.ErrFlowNotFound) {
		t.Errorf("Take after expiry = %v, want ErrFlowNotFound", err)
	}

	// Full: ErrStoreFull until the pending flows expire.
	for range 3 {
		if err := s.Save(ctx, nil, nil, brokerFlow(clock.Now()), clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(ctx, nil, nil, brokerFlow(clock.Now()), clock.Now().Add(time.Minute)); !errors.Is(err, login.ErrStoreFull) {
		t.Errorf("Save beyond MaxFlows = %v, want ErrStoreFull", err)
	}
	clock.advance(time.Minute)
	if err := s.Save(ctx, nil, nil, brokerFlow(clock.Now()), clock.Now().Add(time.Minute)); err != nil {
		t.Errorf("Save after expiry = %v, want room", err)
	}
	// Each Save drops up to two expired flows: two of the three are gone.
	if n := s.Len(); n != 2 {
		t.Errorf("Len = %d, want 2 after the sweep", n)
	}

	// A state taken and saved again outlives its first expiry.
	s2 := login.NewMemoryStore(login.MemoryOptions{Now: clock.Now})
	g := brokerFlow(clock.Now())
	s2.Save(ctx, nil, nil, g, clock.Now().Add(time.Second))
	s2.Take(ctx, nil, nil, g.State)
	s2.Save(ctx, nil, nil, g, clock.Now().Add(time.Hour))
	clock.advance(2 * time.Second)
	s2.Save(ctx, nil, nil, brokerFlow(clock.Now()), clock.Now().Add(time.Hour)) // sweeps
	if _, err := s2.Take(ctx, nil, nil, g.State); err != nil {
		t.Errorf("Take of a re-saved state = %v, want the flow", err)
	}

	// Saves sweep as they go: the map stays near one lifetime's worth.
	s3 := login.NewMemoryStore(login.MemoryOptions{Now: clock.Now})
	for range 10_000 {
		s3.Save(ctx, nil, nil, brokerFlow(clock.Now()), clock.Now().Add(time.Second))
		clock.advance(10 * time.Millisecond)
	}
	if n := s3.Len(); n > 101 {
		t.Errorf("Len = %d after 10,000 saves of 1 s flows 10 ms apart, want ≤ 101", n)
	}
}

func TestMemoryStoreConcurrentTake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := login.NewMemoryStore(login.MemoryOptions{})
	for range 20 {
		f := brokerFlow(time.Now())
		if err := s.Save(ctx, nil, nil, f, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				got, err := s.Take(ctx, nil, nil, f.State)
				switch {
				case err == nil && got.State == f.State:
					won.Add(1)
				case !errors.Is(err, login.ErrFlowNotFound):
					t.Errorf("Take = %v", err)
				}
			})
		}
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("%d of 32 concurrent Takes got the flow, want exactly 1", n)
		}
	}
}

// TestMemoryStoreFootprint measures the heap held per pending flow at
// 100,000 flows. It does not call t.Parallel: it needs the heap to itself.
func TestMemoryStoreFootprint(t *testing.T) {
	if testing.Short() {
		t.Log("measuring with 10,000 flows in -short mode")
	}
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	ctx := context.Background()
	now := time.Now()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := login.NewMemoryStore(login.MemoryOptions{MaxFlows: -1})
	for range n {
		if err := s.Save(ctx, nil, nil, brokerFlow(now), now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	t.Logf("memory store: %.0f bytes per pending flow at %d flows (heap %.1f MiB)", per, n, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	if per > 1024 {
		t.Errorf("%.0f bytes per pending flow, want ≤ 1024", per)
	}
	if s.Len() != n {
		t.Errorf("Len = %d, want %d", s.Len(), n)
	}
	runtime.KeepAlive(s)
}

func BenchmarkMemoryStore(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	s := login.NewMemoryStore(login.MemoryOptions{MaxFlows: -1})
	// A realistic backlog of pending flows.
	for range 100_000 {
		s.Save(ctx, nil, nil, brokerFlow(now), now.Add(10*time.Minute))
	}
	flows := make([]*client.Flow, 1024)
	for i := range flows {
		flows[i] = brokerFlow(now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var worker atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		prefix := strconv.FormatInt(worker.Add(1), 10) + "-"
		i := 0
		for pb.Next() {
			f := *flows[i%len(flows)]
			f.State = prefix + strconv.Itoa(i)
			if err := s.Save(ctx, nil, nil, &f, now.Add(10*time.Minute)); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Take(ctx, nil, nil, f.State); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
