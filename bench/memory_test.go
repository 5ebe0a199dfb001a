package bench_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/pkce"
)

const (
	brokerIssuer = "https://pp.netseidbroker.dk/op"
	maxFlowBytes = 1024 // issue 9: at most 1 KiB per pending flow in memory
	maxCookie    = 1200 // issue 9: at most 1,200 bytes of cookie per flow
)

// newFlow returns a flow shaped like the one Push returns for the MitID
// broker: fresh state, nonce, verifier and request_uri; the issuer and
// redirect URL are the client's own strings, shared by every flow.
func newFlow(issuer, redirect string, now time.Time, jkt string) *client.Flow {
	var id [32]byte
	rand.Read(id[:])
	return &client.Flow{
		State: rand.Text(), Nonce: rand.Text(), CodeVerifier: pkce.NewVerifier(),
		RequestURI: "urn:ietf:params:oauth:request_uri:" + hex.EncodeToString(id[:]),
		ExpiresAt:  now.Add(600 * time.Second), RedirectURL: redirect, Issuer: issuer, DPoPJKT: jkt,
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryStoreBytesPerFlow holds 100,000 pending flows in a MemoryStore
// and measures the live heap they add. It is not parallel: parallel tests
// wait until the sequential ones are done, so nothing else allocates
// meanwhile.
func TestMemoryStoreBytesPerFlow(t *testing.T) {
	const n = 100_000
	ctx := context.Background()
	now := time.Now()
	issuer, redirect := strings.Clone(brokerIssuer), strings.Clone(redirectURL)
	before := heapInUse()
	store := login.NewMemoryStore(login.MemoryOptions{})
	for range n {
		if err := store.Save(ctx, nil, nil, newFlow(issuer, redirect, now, ""), now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	after := heapInUse()
	if store.Len() != n {
		t.Fatalf("store holds %d flows, want %d", store.Len(), n)
	}
	runtime.KeepAlive(store)
	per := float64(after-before) / n
	t.Logf("MemoryStore: %d pending flows, %.0f bytes of live heap each (%.1f MB in all)", n, per, float64(after-before)/1e6)
	if per > maxFlowBytes {
		t.Errorf("%.0f bytes per pending flow, want at most %d", per, maxFlowBytes)
	}
}

// TestCookieBytesPerFlow measures the Set-Cookie header the CookieStore
// writes for one flow, for the MitID broker's issuer and request_uri, with
// and without a DPoP key thumbprint and with a long redirect URL.
func TestCookieBytesPerFlow(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	rand.Read(key)
	store, err := login.NewCookieStore(login.CookieConfig{Keys: [][]byte{key}})
	if err != nil {
		t.Fatal(err)
	}
	jkt := strings.Repeat("j", 43) // a base64url SHA-256 thumbprint
	for _, tc := range []struct {
		name, redirect, jkt string
	}{
		{"broker", redirectURL, ""},
		{"broker_dpop", redirectURL, jkt},
		{"long_redirect_dpop", "https://login.municipality.example.dk/services/citizen/oidc/callback/mitid", jkt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			flow := newFlow(brokerIssuer, tc.redirect, now, tc.jkt)
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "https://app.example/login", nil)
			if err := store.Save(context.Background(), rec, r, flow, now.Add(10*time.Minute)); err != nil {
				t.Fatal(err)
			}
			set := rec.Header().Values("Set-Cookie")
			if len(set) != 1 {
				t.Fatalf("%d Set-Cookie headers, want 1", len(set))
			}
			nameValue, _, _ := strings.Cut(set[0], ";")
			t.Logf("%s: Set-Cookie %d bytes (name=value %d bytes)", tc.name, len(set[0]), len(nameValue))
			if len(set[0]) > maxCookie {
				t.Errorf("Set-Cookie is %d bytes, want at most %d", len(set[0]), maxCookie)
			}
			// The cookie opens again for its own state.
			back := httptest.NewRequest(http.MethodGet, "https://app.example/callback", nil)
			back.Header.Set("Cookie", nameValue)
			got, err := store.Take(context.Background(), httptest.NewRecorder(), back, flow.State)
			if err != nil {
				t.Fatal(err)
			}
			if got.RequestURI != flow.RequestURI || got.CodeVerifier != flow.CodeVerifier || got.DPoPJKT != flow.DPoPJKT {
				t.Errorf("flow did not round-trip: %v", got)
			}
		})
	}
}
