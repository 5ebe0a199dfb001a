package jwks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// keySetCount counts the entries whose JWKS URL starts with prefix (each
// test has its own URLs).
func keySetCount(prefix string) int {
	n := 0
	keySets.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(keySetKey).url, prefix) {
			n++
		}
		return true
	})
	return n
}

// waitReleased runs the GC until no entry with prefix is left, or 5 s.
func waitReleased(prefix string) int {
	deadline := time.Now().Add(5 * time.Second)
	for keySetCount(prefix) > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	return keySetCount(prefix)
}

// TestKeySetsReleased: entries keyed by a caller's HTTP client go away once
// no Client uses their key set, so creating a client per New does not leak.
func TestKeySetsReleased(t *testing.T) {
	t.Parallel()
	const prefix = "https://as.example/jwks-release-test"
	func() {
		for range 50 {
			hc := &http.Client{}
			// As New does: the key set holds a copy, never the caller's client.
			Shared(prefix, hc, &http.Client{}, time.Now)
		}
	}()
	if got := waitReleased(prefix); got != 0 {
		t.Errorf("entries = %d after the clients were collected, want 0", got)
	}
	// One client: one shared set, however many times it is asked for.
	hc := &http.Client{}
	a := Shared(prefix+"/shared", hc, hc, time.Now)
	b := Shared(prefix+"/shared", hc, hc, time.Now)
	c := Shared(prefix+"/shared", nil, nil, time.Now)
	if a != b || a == c {
		t.Error("key sets not shared per (URL, client)")
	}
	runtime.KeepAlive(hc)
	runtime.KeepAlive(a)
	runtime.KeepAlive(c)
}

// TestKeySetsReleasedDefaultClient: a multi-tenant app that makes 10,000
// clients for changing issuers with the default HTTP client (issue 17 item
// 6): the map holds an entry only while a Client uses it, and returns to
// zero entries once they are gone.
func TestKeySetsReleasedDefaultClient(t *testing.T) {
	t.Parallel()
	const prefix = "https://tenants.example/"
	var live []*KeySet
	for i := range 10_000 {
		ks := Shared(prefix+strings.Repeat("t", 1+i%7)+"/"+time.Duration(i).String()+"/jwks", nil, &http.Client{}, time.Now)
		if i < 10 {
			live = append(live, ks) // ten tenants still in use
		}
	}
	runtime.GC()
	deadline := time.Now().Add(5 * time.Second)
	for keySetCount(prefix) > len(live) && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := keySetCount(prefix); got != len(live) {
		t.Errorf("entries = %d with %d key sets in use, want %d", got, len(live), len(live))
	}
	// A set in use is still the one shared for its URL.
	if again := Shared(live[3].url, nil, &http.Client{}, time.Now); again != live[3] {
		t.Error("a key set in use was replaced")
	}
	runtime.KeepAlive(live)
	clear(live)
	if got := waitReleased(prefix); got != 0 {
		t.Errorf("entries = %d after every client was collected, want 0", got)
	}
}

// TestRefreshCountsFetchesNotTimes: callers that saw the same fetch share
// one refetch even when the clock does not move between fetches (a frozen
// test clock, or a coarse one). Comparing fetch times let a caller that
// arrived just after the shared fetch fetch again (seen under load in CI).
func TestRefreshCountsFetchesNotTimes(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k",` +
			`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	}))
	t.Cleanup(srv.Close)
	frozen := time.Now()
	ks := Shared(srv.URL+"/jwks-frozen-clock", nil, srv.Client(), func() time.Time { return frozen })
	if _, err := ks.refresh(context.Background(), 0); err != nil { // the first load
		t.Fatal(err)
	}
	seen := 1 // both callers below saw the first load
	for range 2 {
		if _, err := ks.refresh(context.Background(), seen); err != nil {
			t.Fatal(err)
		}
	}
	if n := served.Load(); n != 2 {
		t.Errorf("JWKS fetches = %d, want 2 (the first load and one shared refetch)", n)
	}
}
