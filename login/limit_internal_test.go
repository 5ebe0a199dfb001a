package login

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func request(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = addr
	return r
}

func TestBucket(t *testing.T) {
	t.Parallel()
	l := RateLimit{Rate: 10, Burst: 3}
	t0 := time.Unix(1_700_000_000, 0)
	b := bucket{tokens: 3, last: t0}
	steps := []struct {
		at   time.Duration
		wait time.Duration
	}{
		{0, 0}, {0, 0}, {0, 0}, // the burst
		{0, 100 * time.Millisecond}, // empty: one token in 1/10 s
		{40 * time.Millisecond, 60 * time.Millisecond},
		{100 * time.Millisecond, 0}, // refilled one
		{100 * time.Millisecond, 100 * time.Millisecond},
		{time.Hour, 0}, {time.Hour, 0}, {time.Hour, 0}, // capped at Burst
		{time.Hour, 100 * time.Millisecond},
		{time.Hour - time.Second, 100 * time.Millisecond}, // a clock going back refills nothing
	}
	for i, s := range steps {
		if got := b.take(l, t0.Add(s.at)); got != s.wait {
			t.Errorf("step %d at +%v: wait %v, want %v", i, s.at, got, s.wait)
		}
	}
}

// TestLimiterTableBounded: ten thousand addresses never grow the table
// past MaxClients; idle addresses are dropped as their buckets refill; an
// address seen recently keeps its (empty) bucket.
func TestLimiterTableBounded(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	l, err := newLimiter(StartLimits{PerClient: RateLimit{Rate: 1, Burst: 2}, Global: RateLimit{Rate: 1e9, Burst: 1e9}, MaxClients: 100}, t0)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	hot := request("192.0.2.1:1")
	for range 2 {
		if _, err := l.allow(hot, now); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10_000 {
		now = now.Add(time.Microsecond)
		if _, err := l.allow(request(fmt.Sprintf("10.%d.%d.%d:1", i>>16, i>>8&255, i&255)), now); err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
		if i%10 == 0 { // the hot address stays recent and stays limited
			if _, err := l.allow(hot, now); err == nil {
				t.Fatalf("after %d other addresses the hot address got a fresh bucket", i)
			}
		}
		if n := l.len(); n > 100 {
			t.Fatalf("table holds %d addresses, MaxClients is 100", n)
		}
	}
	// Two seconds later every bucket is full again: new addresses push the
	// idle ones out, two at a time.
	now = now.Add(2 * time.Second)
	for i := range 60 {
		if _, err := l.allow(request(fmt.Sprintf("172.16.0.%d:1", i)), now); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.len(); n > 60 {
		t.Errorf("table holds %d addresses after the others went idle, want at most 60", n)
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1":               "192.0.2.1",
		"::ffff:192.0.2.1":        "192.0.2.1",
		"2001:db8::1":             "2001:db8::/64",
		"2001:db8::ffff:1":        "2001:db8::/64",
		"[2001:db8:0:1::1]":       "2001:db8:0:1::/64",
		"fe80::1%eth0":            "fe80::/64",
		"not an address":          "not an address",
		string(make([]byte, 100)): string(make([]byte, 64)),
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
