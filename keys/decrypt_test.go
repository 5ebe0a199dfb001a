package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/keys"
)

// hsmDecrypter stands for an RSA key held in an HSM: a crypto.Decrypter
// that is not an *rsa.PrivateKey.
type hsmDecrypter struct{ k *rsa.PrivateKey }

func (h hsmDecrypter) Public() crypto.PublicKey { return h.k.Public() }
func (h hsmDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return h.k.Decrypt(r, msg, opts)
}

func jwksJSON(t testing.TB, set jose.JSONWebKeySet) []byte {
	t.Helper()
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDecryptionKey(t *testing.T) {
	t.Parallel()
	rsaPub := rsaKey().Public()
	tests := []struct {
		name     string
		data     []byte
		password string
		wantPub  crypto.PublicKey
		wantKID  string // "" means the thumbprint
		wantErr  error
	}{
		{name: "RSA PKCS#8 PEM", data: pkcs8(t, rsaKey()), wantPub: rsaPub},
		{name: "RSA PKCS#1 PEM", data: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey())), wantPub: rsaPub},
		{name: "EC P-256 PEM", data: pkcs8(t, ecKey()), wantPub: ecKey().Public()},
		{name: "EC P-521 PEM", data: pkcs8(t, ec521Key()), wantPub: ec521Key().Public()},
		{name: "PEM with its certificate", data: cat(pkcs8(t, rsaKey()), certPEM(oces3Cert())), wantPub: rsaPub},
		{name: "Ed25519 cannot decrypt", data: pkcs8(t, edKey()), wantErr: keys.ErrUnsupportedKey},
		{name: "P-224 refused", data: p224PKCS8(t), wantErr: keys.ErrUnsupportedKey},
		{name: "single private JWK", data: jwkJSON(t, jose.JSONWebKey{Key: ecKey(), KeyID: "enc-ec", Use: "enc"}),
			wantPub: ecKey().Public(), wantKID: "enc-ec"},
		{name: "JWKS: the enc key, not the sig key before it", data: jwksJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: ecKey(), KeyID: "sig-1", Use: "sig"},
			{Key: rsaKey2(), KeyID: "plain"},
			{Key: rsaKey(), KeyID: "enc-1", Use: "enc"},
		}}), wantPub: rsaPub, wantKID: "enc-1"},
		{name: "JWKS: a key without use when none is marked enc", data: jwksJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: ecKey(), KeyID: "sig-1", Use: "sig"},
			{Key: rsaKey(), KeyID: "any"},
		}}), wantPub: rsaPub, wantKID: "any"},
		{name: "JWKS of signing keys only", data: jwksJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: ecKey(), KeyID: "sig-1", Use: "sig"},
		}}), wantErr: keys.ErrNoKey},
		{name: "public JWK", data: jwkJSON(t, jose.JSONWebKey{Key: ecKey().Public(), Use: "enc"}), wantErr: keys.ErrNoKey},
		{name: "symmetric JWK", data: []byte(`{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA","use":"enc"}`), wantErr: keys.ErrNoKey},
		{name: "not a key", data: []byte("hello"), wantErr: keys.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := keys.ParseDecryptionKey(tt.data, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || k != nil {
					t.Fatalf("got %v, %v; want errors.Is %v", k, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "keys: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.wantPub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Errorf("wrong key loaded")
			}
			want := tt.wantKID
			if want == "" {
				want = thumbprintOf(t, tt.wantPub)
			}
			if k.KeyID != want {
				t.Errorf("KeyID %q, want %q", k.KeyID, want)
			}
			roundTrip(t, k)
		})
	}
}

func thumbprintOf(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	k, err := keys.NewDecryptionKey(privateFor(pub))
	if err != nil {
		t.Fatal(err)
	}
	return k.KeyID
}

// privateFor maps a test public key back to its private key.
func privateFor(pub crypto.PublicKey) crypto.PrivateKey {
	for _, k := range []crypto.Signer{rsaKey(), rsaKey2(), ecKey(), ec384Key(), ec521Key()} {
		if k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			return k
		}
	}
	panic("unknown test key")
}

// roundTrip encrypts to the key's public JWK, as a provider does (JARM
// §2.2), and decrypts with the loaded key.
func roundTrip(t *testing.T, k *keys.DecryptionKey) {
	t.Helper()
	jwk := k.PublicJWK()
	if jwk.Use != "enc" || jwk.KeyID != k.KeyID || !jwk.IsPublic() {
		t.Fatalf("PublicJWK %+v", jwk)
	}
	alg := jose.RSA_OAEP_256
	if _, ok := jwk.Key.(*ecdsa.PublicKey); ok {
		alg = jose.ECDH_ES_A128KW
	}
	enc, err := jose.NewEncrypter(jose.A128CBC_HS256, jose.Recipient{Algorithm: alg, Key: jwk.Key, KeyID: jwk.KeyID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte("inner.jws.here"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := obj.Decrypt(k.Decrypter)
	if err != nil || string(got) != "inner.jws.here" {
		t.Fatalf("decrypt: %q, %v", got, err)
	}
}

func TestNewDecryptionKey(t *testing.T) {
	t.Parallel()
	small := mustRSASize(1024)
	tests := []struct {
		name string
		key  crypto.PrivateKey
		ok   bool
	}{
		{"RSA", rsaKey(), true},
		{"EC P-384", ec384Key(), true},
		{"HSM RSA decrypter", hsmDecrypter{rsaKey()}, true},
		{"RSA-1024", small, false},
		{"HSM with a 1024-bit key", hsmDecrypter{small}, false},
		{"Ed25519", edKey(), false},
		{"nil", nil, false},
		{"a string", "secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := keys.NewDecryptionKey(tt.key)
			if tt.ok != (err == nil) {
				t.Fatalf("NewDecryptionKey: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, keys.ErrUnsupportedKey) && !errors.Is(err, keys.ErrNoKey) {
					t.Errorf("error %v is neither ErrUnsupportedKey nor ErrNoKey", err)
				}
				return
			}
			if k.KeyID == "" || k.Public() == nil {
				t.Errorf("incomplete key %v", k)
			}
		})
	}
}

func mustRSASize(bits int) *rsa.PrivateKey {
	//nolint:gosec // a deliberately weak test key, refused by the code under test
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// TestDecryptionKeyFormatting: no formatting verb or log handler shows key
// material.
func TestDecryptionKeyFormatting(t *testing.T) {
	t.Parallel()
	k, err := keys.NewDecryptionKey(rsaKey())
	if err != nil {
		t.Fatal(err)
	}
	d := rsaKey().D.String()[:20]
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("k", "key", k, "value", *k)
	for _, s := range []string{fmt.Sprintf("%v %+v %s %#v", k, k, k, k), fmt.Sprintf("%v %+v %#v", *k, *k, *k), b.String()} {
		if strings.Contains(s, d) {
			t.Errorf("formatted key shows its private exponent: %s", s)
		}
		if !strings.Contains(s, "RSA-2048") {
			t.Errorf("formatted key %q does not name its type", s)
		}
	}
}

func TestLoadDecryptionFile(t *testing.T) {
	t.Parallel()
	k, err := keys.LoadDecryptionFile("../testdata/keys/oces3-test.p12", "test-password")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, k)
	_, err = keys.LoadDecryptionFile("../testdata/keys/oces3-test.p12", "wrong")
	if !errors.Is(err, keys.ErrWrongPassword) || !strings.Contains(err.Error(), "oces3-test.p12") {
		t.Errorf("wrong password: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "enc.json")
	if err := os.WriteFile(p, jwkJSON(t, jose.JSONWebKey{Key: ecKey(), KeyID: "e", Use: "enc"}), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := keys.LoadDecryptionFile(p, ""); err != nil || k.KeyID != "e" {
		t.Errorf("JWK file: %v, %v", k, err)
	}
	if _, err := keys.LoadDecryptionFile(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("missing file loaded")
	}
}

func FuzzParseDecryptionKey(f *testing.F) {
	f.Add(pkcs8(f, ecKey()))
	f.Add(jwkJSON(f, jose.JSONWebKey{Key: rsaKey(), KeyID: "r", Use: "enc"}))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA","use":"enc"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"use":"sig"}]}`))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keys.ParseDecryptionKey(data, "")
		if err != nil {
			if k != nil || !strings.HasPrefix(err.Error(), "keys: ") {
				t.Fatalf("%v, %v", k, err)
			}
			return
		}
		if k.Decrypter == nil || k.KeyID == "" || k.Public() == nil {
			t.Fatalf("incomplete key %v", k)
		}
		if _, err := keys.NewDecryptionKey(k.Decrypter); err != nil {
			t.Fatalf("parsed key fails NewDecryptionKey: %v", err)
		}
	})
}
