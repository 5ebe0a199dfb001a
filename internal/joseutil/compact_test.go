package joseutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// hidden hides a key's type, as an HSM or KMS signer does.
type hidden struct{ crypto.Signer }

// TestCompactSigner: for every key go-jose signs natively and every
// algorithm that fits it, the signature verifies with go-jose and the
// protected header has go-jose's members; other signers are left to
// go-jose.
func TestCompactSigner(t *testing.T) {
	t.Parallel()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gen := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	payload := []byte(`{"iss":"app","aud":"https://op.example","jti":"x"}`)
	for _, tc := range []struct {
		key crypto.Signer
		alg jose.SignatureAlgorithm
	}{
		{gen(elliptic.P256()), jose.ES256}, {gen(elliptic.P384()), jose.ES384}, {gen(elliptic.P521()), jose.ES512},
		{rk, jose.RS256}, {rk, jose.RS384}, {rk, jose.RS512}, {rk, jose.PS256}, {rk, jose.PS384}, {rk, jose.PS512},
		{ek, jose.EdDSA},
	} {
		for _, hdr := range [][2]string{{"", ""}, {"kid-1", "client-authentication+jwt"}, {`k"\é`, ""}} {
			cs, ok := NewCompactSigner(tc.key, tc.alg, hdr[0], hdr[1])
			if !ok {
				t.Fatalf("%s: no CompactSigner", tc.alg)
			}
			for range 3 { // P-521 r and s of varying length
				out, err := cs.Sign(payload)
				if err != nil {
					t.Fatalf("%s: %v", tc.alg, err)
				}
				jws, err := jose.ParseSignedCompact(out, []jose.SignatureAlgorithm{tc.alg})
				if err != nil {
					t.Fatalf("%s: %v", tc.alg, err)
				}
				got, err := jws.Verify(tc.key.Public())
				if err != nil || string(got) != string(payload) {
					t.Fatalf("%s: go-jose verifies %q, %v", tc.alg, got, err)
				}
				// The same header members as go-jose's signer writes.
				js, err := NewSigner(tc.key, tc.alg, hdr[0], hdr[1], nil)
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := js.Sign(payload)
				refOut, _ := ref.CompactSerialize()
				if a, b := headerOf(t, out), headerOf(t, refOut); !maps.Equal(a, b) {
					t.Errorf("%s: header %v, go-jose %v", tc.alg, a, b)
				}
			}
		}
	}
	for name, s := range map[string]crypto.Signer{"opaque": hidden{rk}, "nil": nil} {
		if _, ok := NewCompactSigner(s, jose.RS256, "", ""); ok {
			t.Errorf("%s signer: CompactSigner made", name)
		}
	}
	if _, ok := NewCompactSigner(rk, jose.ES256, "", ""); ok {
		t.Error("RSA key under ES256: CompactSigner made")
	}
	if _, ok := NewCompactSigner(gen(elliptic.P384()), jose.ES256, "", ""); ok {
		t.Error("P-384 key under ES256: CompactSigner made")
	}
}

func headerOf(t *testing.T, jws string) map[string]string {
	t.Helper()
	seg, _, _ := strings.Cut(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
