package redisstore

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/client"
)

// FuzzDecode feeds arbitrary stored values to the parser of what Take
// reads from Redis, with and without a key: it must never panic, and
// whatever it accepts must be a flow with a state.
func FuzzDecode(f *testing.F) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // no I/O here
	defer rdb.Close()
	sealed, err := New(rdb, Options{Key: bytes.Repeat([]byte{7}, KeySize)})
	if err != nil {
		f.Fatal(err)
	}
	clearSt, err := New(rdb, Options{InsecureClearText: true})
	if err != nil {
		f.Fatal(err)
	}
	flow := &client.Flow{State: "st", Nonce: "n", CodeVerifier: "v", RequestURI: "urn:x", ExpiresAt: time.Unix(1e9, 0),
		RedirectURL: "https://app.example/cb", Issuer: "https://op.example"}
	plain, err := json.Marshal(flow)
	if err != nil {
		f.Fatal(err)
	}
	id := keyID(flow.State)
	f.Add(plain, id)
	f.Add(sealed.sealer.seal(plain, id), id)
	f.Add([]byte{sealedVersion}, id)
	f.Add([]byte(`{"state":""}`), "")
	f.Add([]byte(`{"state":1}`), "x")
	f.Add([]byte(`null`), "x")
	f.Fuzz(func(t *testing.T, value []byte, id string) {
		for _, st := range []*Store{sealed, clearSt} {
			got, err := st.decode(bytes.Clone(value), id)
			if err != nil {
				if got != nil {
					t.Fatalf("decode() = %v, %v: flow with an error", got, err)
				}
				continue
			}
			if got == nil || got.State == "" {
				t.Fatalf("decode(%q) = %+v, nil: accepted a flow without a state", value, got)
			}
		}
	})
}

// TestSealRoundTrip: what seal makes, open opens, for that id only.
func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := newSealer(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range [][]byte{nil, []byte("{}"), bytes.Repeat([]byte("x"), 5000)} {
		v := s.seal(plain, "id")
		if v[0] != sealedVersion || len(v) != 1+12+len(plain)+16 {
			t.Errorf("seal(%d bytes) = %d bytes starting %#x, want %d starting %#x", len(plain), len(v), v[0], 1+12+len(plain)+16, sealedVersion)
		}
		got, err := s.open(v, "id")
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("open(seal(%d bytes)) = %d bytes, %v", len(plain), len(got), err)
		}
		if _, err := s.open(v, "other"); err == nil {
			t.Errorf("open(seal(…, id), other) = nil error, want refusal")
		}
		if bytes.Equal(s.seal(plain, "id"), v) {
			t.Errorf("seal twice = same bytes, want a fresh nonce")
		}
	}
}
