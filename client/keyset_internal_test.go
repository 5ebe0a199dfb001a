package client

import (
	"net/http"
	"runtime"
	"testing"
	"time"
)

const releaseURL = "https://as.example/jwks-release-test"

// keySetCount counts this test's entries (other tests have their own URLs).
func keySetCount() int {
	n := 0
	keySets.Range(func(k, _ any) bool {
		if k.(keySetKey).url == releaseURL {
			n++
		}
		return true
	})
	return n
}

// TestKeySetsReleased: entries keyed by a caller's HTTP client go away with
// the client, so creating a client per New does not leak.
func TestKeySetsReleased(t *testing.T) {
	t.Parallel()
	const before = 0
	func() {
		for range 50 {
			hc := &http.Client{}
			// As New does: the key set holds a copy, never the caller's client.
			sharedKeySet(releaseURL, hc, &http.Client{}, time.Now)
		}
	}()
	if got := keySetCount(); got == 0 {
		t.Fatal("no entries were made")
	}
	deadline := time.Now().Add(5 * time.Second)
	for keySetCount() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := keySetCount(); got > before {
		t.Errorf("entries = %d after the clients were collected, want %d", got, before)
	}
	// One client: one shared set, however many times it is asked for.
	hc := &http.Client{}
	a := sharedKeySet("https://as.example/jwks", hc, hc, time.Now)
	b := sharedKeySet("https://as.example/jwks", hc, hc, time.Now)
	c := sharedKeySet("https://as.example/jwks", nil, nil, time.Now)
	if a != b || a == c {
		t.Error("key sets not shared per (URL, client)")
	}
	runtime.KeepAlive(hc)
}
