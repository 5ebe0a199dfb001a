package keys_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/go-par/par/keys"
)

// An OCES3-style PKCS#12 file, as OpenSSL 3 writes it by default.
func ExampleLoadFile() {
	k, err := keys.LoadFile("../testdata/keys/oces3-test.p12", "test-password")
	if err != nil {
		fmt.Println(err)
		return
	}
	alg, _ := k.Algorithm(true) // OCES3 and FAPI 2.0 sign with RSASSA-PSS
	fmt.Println(alg)
	fmt.Println(k.Certificates[0].Subject.CommonName)
	fmt.Println(k.KeyID == k.X5TS256())

	_, err = keys.LoadFile("../testdata/keys/oces3-test.p12", "guess")
	fmt.Println(errors.Is(err, keys.ErrWrongPassword))
	// Output:
	// PS256
	// Test Virksomhed
	// true
	// true
}

func ExampleParsePEM() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	k, err := keys.ParsePEM(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	alg, _ := k.Algorithm(false)
	fmt.Println(alg, k.KeyID == k.Thumbprint())
	// Output: ES256 true
}

func ExampleKey_PublicJWK() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, _ := keys.New(priv, nil)
	k.KeyID = "rp-2026-1"

	// The client's JWKS, to register with the provider.
	b, _ := json.Marshal(map[string]any{"keys": []any{k.PublicJWK()}})
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(b, &jwks)
	j := jwks.Keys[0]
	fmt.Println(j["kty"], j["crv"], j["use"], j["kid"], j["d"] == nil)
	// Output: EC P-256 sig rp-2026-1 true
}

// Logging a key prints what identifies it, never the key.
func ExampleKey_LogValue() {
	k, _ := keys.LoadFile("../testdata/keys/ec-sec1.pem", "")
	k.KeyID = "signing-1"
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("loaded", "key", k)
	fmt.Println(k)
	// Output:
	// level=INFO msg=loaded key.type="EC P-256" key.kid=signing-1
	// keys.Key{EC P-256 kid=signing-1}
}
