package keys_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/keys"
)

// ParseJWKS picks a private signing key out of a JWK Set (RFC 7517 §5) by
// kid, or the first one not marked "use":"enc".
func ExampleParseJWKS() {
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: enc, KeyID: "enc-1", Use: "enc"},
		{Key: sig, KeyID: "sig-1", Use: "sig", Algorithm: "ES256"},
	}}
	data, _ := json.Marshal(set)

	k, err := keys.ParseJWKS(data, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.KeyID, k.Public().(*ecdsa.PublicKey).Equal(&sig.PublicKey))

	k, _ = keys.ParseJWKS(data, "enc-1") // asked for by name
	fmt.Println(k.KeyID)

	_, err = keys.ParseJWKS(data, "missing")
	fmt.Println(errors.Is(err, keys.ErrNoKey))
	// Output:
	// sig-1 true
	// enc-1
	// true
}

// ParsePKCS12 reads an OCES3 .p12 held in memory (from a secret store, say);
// the thumbprints name its certificate the ways providers do (RFC 7515
// §4.1.7 and §4.1.8; the MitID broker's upper-case hex).
func ExampleParsePKCS12() {
	data, err := os.ReadFile("../testdata/keys/oces3-test.p12")
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := keys.ParsePKCS12(data, "test-password")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(k.Certificates) > 0, len(k.X5T()), len(k.X5TS256()))
	hex := k.X5THex()
	fmt.Println(len(hex), hex == strings.ToUpper(hex))
	// Output:
	// true 27 43
	// 40 true
}

// ParseDecryptionKey loads the key a provider encrypts JWT-secured
// authorization responses to (JARM §2.2): from a JWK Set, the key marked
// "use":"enc". PublicJWK is what the client registers.
func ExampleParseDecryptionKey() {
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	data, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: sig, KeyID: "sig-1", Use: "sig"},
		{Key: enc, KeyID: "enc-1", Use: "enc"},
	}})

	k, err := keys.ParseDecryptionKey(data, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	jwk := k.PublicJWK()
	fmt.Println(k, jwk.Use, jwk.IsPublic())
	// Output:
	// keys.DecryptionKey{EC P-256 kid=enc-1} enc true
}
