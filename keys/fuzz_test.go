package keys_test

import (
	"crypto/x509"
	"os"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/keys"
)

// checkParsed holds for every key a parser returns: a signer with an
// algorithm, a kid, and a leaf certificate (if any) that certifies the key.
func checkParsed(t *testing.T, k *keys.Key, err error) {
	t.Helper()
	if err != nil {
		if k != nil {
			t.Fatalf("non-nil key with error %v", err)
		}
		if len(err.Error()) < 6 || err.Error()[:6] != "keys: " {
			t.Fatalf("error %q lacks the package prefix", err)
		}
		return
	}
	if k == nil || k.Signer == nil || k.KeyID == "" {
		t.Fatalf("incomplete key %v", k)
	}
	if _, err := k.Algorithm(false); err != nil {
		t.Fatalf("parsed key has no algorithm: %v", err)
	}
	if len(k.Certificates) > 0 {
		if _, err := keys.New(k.Signer, k.Certificates[:1]); err != nil {
			t.Fatalf("leaf does not certify the key: %v", err)
		}
	}
}

func FuzzParsePEM(f *testing.F) {
	f.Add(pkcs8(f, ecKey()))
	f.Add(cat(pkcs8(f, edKey()), certPEM(caCert())))
	f.Add(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey())))
	if b, err := os.ReadFile("../testdata/keys/ec-sec1.pem"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keys.ParsePEM(data)
		checkParsed(t, k, err)
	})
}

func FuzzParseJWK(f *testing.F) {
	f.Add(jwkJSON(f, jose.JSONWebKey{Key: ecKey(), KeyID: "ec"}))
	f.Add(jwkJSON(f, jose.JSONWebKey{Key: edKey()}))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"Aw","q":"Aw"}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keys.ParseJWK(data)
		checkParsed(t, k, err)
	})
}
