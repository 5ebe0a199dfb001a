package login

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/go-par/par/client"
)

// FuzzCookieOpen feeds arbitrary cookie values to the decoder: it must
// return an error wrapping ErrInvalidCookie, never panic, and open only the
// genuine value for its own state.
func FuzzCookieOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := NewCookieStore(CookieConfig{Keys: [][]byte{key}})
	if err != nil {
		f.Fatal(err)
	}
	flow := &client.Flow{State: "state-1", Nonce: "n", CodeVerifier: "v", RequestURI: "urn:x", Issuer: "https://op.example"}
	good, err := s.seal(flow, time.Unix(1_700_000_000, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "state-1")
	f.Add(good, "state-2")
	f.Add(good[:len(good)-1], "state-1")
	f.Add("", "")
	f.Add("AQ", "state-1")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "state-1")
	f.Fuzz(func(t *testing.T, value, state string) {
		got, _, err := s.open(value, state)
		if err != nil {
			if !errors.Is(err, ErrInvalidCookie) || got != nil {
				t.Fatalf("open error %v does not wrap ErrInvalidCookie (flow %v)", err, got)
			}
			return
		}
		// Only a value this store sealed for state-1 opens (the seed; each
		// fuzz worker seals its own, with a fresh GCM nonce).
		if state != "state-1" || got.State != state || got.Nonce != "n" || got.Issuer != "https://op.example" {
			t.Fatalf("open(%q, %q) = %+v, want an error", value, state, got)
		}
	})
}

// FuzzUnpackFlow feeds arbitrary plaintexts to the flow unpacker: errors
// wrap ErrInvalidCookie, and whatever unpacks packs back to the same flow.
func FuzzUnpackFlow(f *testing.F) {
	exp := time.Unix(1_700_000_600, 0)
	f.Add(packFlow(&client.Flow{Nonce: "n", CodeVerifier: "v", RequestURI: "urn:x", RedirectURL: "https://a/cb",
		Issuer: "https://op", DPoPJKT: "jkt", ExpiresAt: time.Unix(1_700_000_060, 5)}, exp))
	f.Add(packFlow(&client.Flow{}, time.Time{}))
	f.Add([]byte{})
	f.Add([]byte{0x80, 0x80, 0x80})
	f.Add([]byte{2, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		flow, expires, err := unpackFlow(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidCookie) {
				t.Fatalf("unpack error %v does not wrap ErrInvalidCookie", err)
			}
			return
		}
		again, expires2, err := unpackFlow(packFlow(flow, expires))
		if err != nil || *again != *flow && !sameFlow(again, flow) || !expires2.Equal(expires) {
			t.Fatalf("repack: %+v %v, %v; want %+v %v", again, expires2, err, flow, expires)
		}
	})
}

// FuzzPackFlow checks that any flow survives pack and unpack.
func FuzzPackFlow(f *testing.F) {
	f.Add("nonce", "verifier", "urn:ietf:params:oauth:request_uri:abc", "https://app/cb", "https://op", "", int64(1_700_000_000), int64(1))
	f.Fuzz(func(t *testing.T, nonce, verifier, uri, redirect, issuer, jkt string, sec, nsec int64) {
		in := &client.Flow{Nonce: nonce, CodeVerifier: verifier, RequestURI: uri, RedirectURL: redirect, Issuer: issuer,
			DPoPJKT: jkt, ExpiresAt: time.Unix(sec, nsec)}
		exp := time.Unix(sec/2, 0)
		out, gotExp, err := unpackFlow(packFlow(in, exp))
		if err != nil || !sameFlow(in, out) || gotExp.Unix() != exp.Unix() {
			t.Fatalf("round trip: %+v, %v; want %+v", out, err, in)
		}
	})
}

func sameFlow(a, b *client.Flow) bool {
	return a.State == b.State && a.Nonce == b.Nonce && a.CodeVerifier == b.CodeVerifier && a.RequestURI == b.RequestURI &&
		a.RedirectURL == b.RedirectURL && a.Issuer == b.Issuer && a.DPoPJKT == b.DPoPJKT && a.ExpiresAt.Equal(b.ExpiresAt)
}
