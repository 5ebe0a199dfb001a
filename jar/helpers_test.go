package jar_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/keys"
)

const (
	issuer   = "https://pp.netseidbroker.dk/op"
	clientID = "0a775a87-878c-4b83-abe3-ee29c720c3e7"
	// secret looks like a broker client secret (base64 with + / =); it is
	// used as its raw UTF-8 bytes.
	secret = "rZ6+u/8Gq0b1YkT2mWq9xXj3sPz4LcVn5HdA7eFg+Q0=" //nolint:gosec // test value
)

var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	edKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// fixedNow is the time every test builder uses.
var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func now() time.Time { return fixedNow }

// brokerJWKS returns testdata/keys/broker-jwks-documented.json, the broker's
// documented JWKS with its quirks (XML-Enc alg, hex x5t, x5c only).
func brokerJWKS(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/keys/broker-jwks-documented.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brokerEncKey returns the private key of the fixture's encryption key.
func brokerEncKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := keys.LoadFile("../testdata/keys/broker-enc.key", "")
	if err != nil {
		t.Fatal(err)
	}
	return k.Signer.(*rsa.PrivateKey)
}

// claimsOf decodes a JWS payload keeping numbers as json.Number.
func claimsOf(t testing.TB, payload []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("payload is not a JSON object: %v", err)
	}
	return m
}

// verify parses a compact JWS allowing only alg, checks its signature with
// key and returns the protected header and claims.
func verify(t testing.TB, compact string, alg jose.SignatureAlgorithm, key any) (jose.Header, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("ParseSigned() error = %v", err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	return jws.Signatures[0].Protected, claimsOf(t, payload)
}

func publicOf(s crypto.Signer) crypto.PublicKey { return s.Public() }
