package joseutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestCheckAlgorithm checks which JWS algorithms (RFC 7518 §3.1, RFC 8037
// §3.1) fit which key types.
func TestCheckAlgorithm(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		pub  crypto.PublicKey
		alg  jose.SignatureAlgorithm
		ok   bool
	}{
		{"rsa RS256", &rsaKey.PublicKey, jose.RS256, true},
		{"rsa PS256", &rsaKey.PublicKey, jose.PS256, true},
		{"rsa PS512", &rsaKey.PublicKey, jose.PS512, true},
		{"rsa ES256", &rsaKey.PublicKey, jose.ES256, false},
		{"rsa HS256", &rsaKey.PublicKey, jose.HS256, false},
		{"p256 ES256", &p256.PublicKey, jose.ES256, true},
		{"p256 ES384", &p256.PublicKey, jose.ES384, false},
		{"p384 ES384", &p384.PublicKey, jose.ES384, true},
		{"p224 ES256", &p224.PublicKey, jose.ES256, false},
		{"ed25519 EdDSA", edPub, jose.EdDSA, true},
		{"ed25519 ES256", edPub, jose.ES256, false},
		{"rsa private key value", rsaKey, jose.RS256, false},
		{"nil", nil, jose.RS256, false},
	}
	for _, tt := range tests {
		err := CheckAlgorithm(tt.pub, tt.alg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckAlgorithm = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: error %v does not wrap ErrUnsupportedKey", tt.name, err)
		}
	}
}

// TestSigningKey checks that SigningKey passes native keys through, wraps
// other signers opaquely, and that every result signs verifiably (RFC 7515).
func TestSigningKey(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name   string
		s      crypto.Signer
		alg    jose.SignatureAlgorithm
		pub    crypto.PublicKey
		native bool
	}{
		{"rsa", rsaKey, jose.PS256, &rsaKey.PublicKey, true},
		{"ecdsa", ecKey, jose.ES256, &ecKey.PublicKey, true},
		{"ed25519", edKey, jose.EdDSA, edKey.Public(), true},
		{"*ed25519", &edKey, jose.EdDSA, edKey.Public(), true},
		{"opaque ecdsa", opaque{ecKey}, jose.ES256, &ecKey.PublicKey, false},
		{"opaque rsa", opaque{rsaKey}, jose.RS256, &rsaKey.PublicKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sk := SigningKey(tt.s, tt.alg)
			if sk.Algorithm != tt.alg {
				t.Errorf("Algorithm = %s, want %s", sk.Algorithm, tt.alg)
			}
			_, isOpaque := sk.Key.(jose.OpaqueSigner)
			if isOpaque == tt.native {
				t.Errorf("key %T: opaque = %v, want %v", sk.Key, isOpaque, !tt.native)
			}
			signer, err := jose.NewSigner(sk, nil)
			if err != nil {
				t.Fatalf("NewSigner: %v", err)
			}
			jws, err := signer.Sign([]byte(`{"iss":"app"}`))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			compact, _ := jws.CompactSerialize()
			parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{tt.alg})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := parsed.Verify(tt.pub); err != nil || string(got) != `{"iss":"app"}` {
				t.Errorf("Verify = %q, %v", got, err)
			}
		})
	}
}
