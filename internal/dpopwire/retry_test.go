package dpopwire_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/go-par/par/internal/dpopwire"
)

// TestRetry checks the one use_dpop_nonce retry (RFC 9449 §8, §9): once on
// a challenge with a new nonce, never twice, never without a new nonce,
// never for another error, and every valid nonce remembered.
func TestRetry(t *testing.T) {
	t.Parallel()
	asChallenge := func(nonce string) dpopwire.Reply {
		h := http.Header{}
		if nonce != "" {
			h.Set("DPoP-Nonce", nonce)
		}
		return dpopwire.Reply{Status: 400, Header: h, Body: []byte(`{"error":"use_dpop_nonce"}`)}
	}
	rsChallenge := func(nonce string) dpopwire.Reply {
		h := http.Header{"Www-Authenticate": {`DPoP error="use_dpop_nonce"`}}
		h.Set("DPoP-Nonce", nonce)
		return dpopwire.Reply{Status: 401, Header: h}
	}
	ok := func(nonce string) dpopwire.Reply {
		h := http.Header{}
		if nonce != "" {
			h.Set("DPoP-Nonce", nonce)
		}
		return dpopwire.Reply{Status: 200, Header: h}
	}
	tests := []struct {
		name      string
		stored    string
		retry     bool
		replies   []dpopwire.Reply
		wantSent  []string // the nonce of each attempt
		wantStore string
		wantDrops int
	}{
		{"as challenge", "", true, []dpopwire.Reply{asChallenge("n1"), ok("n2")}, []string{"", "n1"}, "n2", 1},
		{"rs challenge", "n0", true, []dpopwire.Reply{rsChallenge("n1"), ok("")}, []string{"n0", "n1"}, "n1", 1},
		{"second challenge not retried", "", true, []dpopwire.Reply{asChallenge("n1"), asChallenge("n2")}, []string{"", "n1"}, "n2", 1},
		{"same nonce not retried", "n1", true, []dpopwire.Reply{asChallenge("n1")}, []string{"n1"}, "n1", 0},
		{"challenge without nonce", "", true, []dpopwire.Reply{asChallenge("")}, []string{""}, "", 0},
		{"other error", "", true, []dpopwire.Reply{{Status: 400, Header: ok("n1").Header, Body: []byte(`{"error":"invalid_dpop_proof"}`)}}, []string{""}, "n1", 0},
		{"retry off", "", false, []dpopwire.Reply{asChallenge("n1")}, []string{""}, "n1", 0},
		{"success remembers nonce", "", true, []dpopwire.Reply{ok("n9")}, []string{""}, "n9", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var store dpopwire.MemoryStore
			store.SetNonce("https://as.example:443", tt.stored)
			var sent []string
			drops := 0
			got, err := dpopwire.Retry(&store, "https://as.example:443", tt.retry, func(nonce string) (int, dpopwire.Reply, error) {
				sent = append(sent, nonce)
				return len(sent), tt.replies[len(sent)-1], nil
			}, func(int) { drops++ })
			if err != nil {
				t.Fatal(err)
			}
			if len(sent) != len(tt.wantSent) || got != len(sent) {
				t.Fatalf("attempts %q (result %d), want %q", sent, got, tt.wantSent)
			}
			for i := range sent {
				if sent[i] != tt.wantSent[i] {
					t.Errorf("attempt %d nonce %q, want %q", i, sent[i], tt.wantSent[i])
				}
			}
			if s := store.Nonce("https://as.example:443"); s != tt.wantStore {
				t.Errorf("stored nonce %q, want %q", s, tt.wantStore)
			}
			if drops != tt.wantDrops {
				t.Errorf("dropped %d results, want %d", drops, tt.wantDrops)
			}
		})
	}
	boom := errors.New("boom")
	var store dpopwire.MemoryStore
	if _, err := dpopwire.Retry(&store, "o", true, func(string) (int, dpopwire.Reply, error) { return 0, dpopwire.Reply{}, boom }, nil); !errors.Is(err, boom) {
		t.Errorf("Retry error = %v, want boom", err)
	}
}
