package joseutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// opaque hides the concrete key type, like an HSM or KMS signer.
type opaque struct{ crypto.Signer }

func (o opaque) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.Signer.Sign(r, d, opts)
}

func TestSigners(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		signer crypto.Signer
		pss    bool
		want   jose.SignatureAlgorithm
	}{
		{rsaKey, false, jose.RS256}, {rsaKey, true, jose.PS256}, {p256, false, jose.ES256},
		{p384, false, jose.ES384}, {ed, false, jose.EdDSA}, {opaque{p256}, false, jose.ES256},
	}
	for _, tt := range tests {
		alg, err := DefaultAlgorithm(tt.signer.Public(), tt.pss)
		if err != nil || alg != tt.want {
			t.Fatalf("DefaultAlgorithm(%T) = %v, %v; want %v", tt.signer, alg, err, tt.want)
		}
		s, err := NewSigner(tt.signer, alg, "kid-1", "test+jwt", nil)
		if err != nil {
			t.Fatalf("NewSigner(%T, %s): %v", tt.signer, alg, err)
		}
		jws, err := s.Sign([]byte(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		compact, _ := jws.CompactSerialize()
		parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
		if err != nil {
			t.Fatal(err)
		}
		if h := parsed.Signatures[0].Header; h.KeyID != "kid-1" || h.ExtraHeaders["typ"] != "test+jwt" {
			t.Errorf("header = %+v", h)
		}
		if _, err := parsed.Verify(tt.signer.Public()); err != nil {
			t.Errorf("verify %s: %v", alg, err)
		}
	}
	// Algorithms that do not fit the key are refused.
	for _, c := range []struct {
		s   crypto.Signer
		alg jose.SignatureAlgorithm
	}{{rsaKey, jose.ES256}, {p256, jose.ES384}, {ed, jose.RS256}, {p256, jose.HS256}} {
		if _, err := NewSigner(c.s, c.alg, "", "", nil); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("NewSigner(%T, %s) = %v, want ErrUnsupportedKey", c.s, c.alg, err)
		}
	}
	if _, err := NewSigner(nil, jose.ES256, "", "", nil); err == nil {
		t.Error("NewSigner(nil) succeeded")
	}
}

func TestHMACSigner(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	s, err := NewHMACSigner(secret, jose.HS256, "")
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := s.Sign([]byte("x"))
	if _, err := jws.Verify(secret); err != nil {
		t.Error(err)
	}
	if _, err := NewHMACSigner(secret, jose.RS256, ""); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("RS256 as HMAC: %v", err)
	}
	if _, err := NewHMACSigner(nil, jose.HS256, ""); err == nil {
		t.Error("empty secret accepted")
	}
}
