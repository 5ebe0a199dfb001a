package login

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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
	f.Add(packFlow(&client.Flow{Nonce: "n", DPoPKey: "MIGHAgEAMBMG", ExpiresAt: time.Unix(1_700_000_060, 0)}, exp))
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
	f.Add("nonce", "verifier", "urn:ietf:params:oauth:request_uri:abc", "https://app/cb", "https://op", "", "", "", "", int64(1_700_000_000), int64(1))
	f.Add("nonce", "verifier", "urn:x", "https://app/cb", "https://op", "jkt", "", "jwt", "", int64(1_700_000_000), int64(1))
	f.Add("nonce", "verifier", "urn:x", "https://app/cb", "https://op", "", "0", "", "", int64(1_700_000_000), int64(1))
	f.Add("nonce", "verifier", "urn:x", "https://app/cb", "https://op", "jkt", "", "", "MIGHAgEAMBMG", int64(1_700_000_000), int64(1))
	f.Add("nonce", "verifier", "urn:x", "https://app/cb", "https://op", "jkt", "60", "form_post.jwt", "MIGHAgEAMBMG", int64(1_700_000_000), int64(1))
	f.Fuzz(func(t *testing.T, nonce, verifier, uri, redirect, issuer, jkt, maxAge, mode, key string, sec, nsec int64) {
		in := &client.Flow{Nonce: nonce, CodeVerifier: verifier, RequestURI: uri, RedirectURL: redirect, Issuer: issuer,
			DPoPJKT: jkt, MaxAge: maxAge, ResponseMode: mode, DPoPKey: key, ExpiresAt: time.Unix(sec, nsec)}
		exp := time.Unix(sec/2, 0)
		out, gotExp, err := unpackFlow(packFlow(in, exp))
		if err != nil || !sameFlow(in, out) || gotExp.Unix() != exp.Unix() {
			t.Fatalf("round trip: %+v, %v; want %+v", out, err, in)
		}
	})
}

func sameFlow(a, b *client.Flow) bool {
	return a.State == b.State && a.Nonce == b.Nonce && a.CodeVerifier == b.CodeVerifier && a.RequestURI == b.RequestURI &&
		a.RedirectURL == b.RedirectURL && a.Issuer == b.Issuer && a.DPoPJKT == b.DPoPJKT && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.MaxAge == b.MaxAge && a.ResponseMode == b.ResponseMode && a.DPoPKey == b.DPoPKey
}

// FuzzClientAddress feeds arbitrary X-Forwarded-For headers and remote
// addresses to ForwardedFor and the limiter's key: no panic, the address
// is the RemoteAddr's host or one of the header's entries (never text
// spanning two), and the key is at most 64 bytes or an IP prefix.
func FuzzClientAddress(f *testing.F) {
	f.Add("203.0.113.9, 198.51.100.7", "10.0.0.1:443", 1)
	f.Add("[2001:db8::7]:443", "[::1]:1", 1)
	f.Add(",,,", "garbage", 2)
	f.Add("a,b,c,d", "10.0.0.1:1", 3)
	f.Fuzz(func(t *testing.T, xff, remote string, proxies int) {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := ForwardedFor(proxies % 8)(r)
		if got != RemoteAddress(r) {
			if !strings.Contains(xff, got) {
				t.Fatalf("ForwardedFor(%d) with %q from %q = %q: neither the peer nor an entry", proxies%8, xff, remote, got)
			}
			if strings.Contains(got, ",") {
				t.Fatalf("address %q spans two entries", got)
			}
		}
		if k := clientKey(got); len(k) > 64 && !strings.HasSuffix(k, "/64") {
			t.Fatalf("clientKey(%q) = %q: longer than 64 bytes", got, k)
		}
	})
}
