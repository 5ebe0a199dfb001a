package jar_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/jar"
)

func selfSigned(t testing.TB, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Test eID Broker client request encryption"},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2112, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncryptionKeyBrokerFixture(t *testing.T) {
	t.Parallel()
	data := brokerJWKS(t)

	// go-jose refuses this JWKS (the enc key has no n/e and a hex x5t),
	// which is why EncryptionKey reads it itself.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err == nil {
		t.Log("note: go-jose now reads the broker JWKS")
	}

	k, alg, err := jar.EncryptionKey(data)
	if err != nil {
		t.Fatalf("EncryptionKey() error = %v", err)
	}
	if alg != jose.RSA_OAEP {
		t.Errorf("alg = %q, want RSA-OAEP for xmlenc#rsa-oaep", alg)
	}
	priv := brokerEncKey(t)
	if pub, ok := k.Key.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("Key = %T, not the fixture's encryption key", k.Key)
	}
	sum := sha1.Sum(k.Certificates[0].Raw)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); k.KeyID != want {
		t.Errorf("KeyID = %q, want the hex thumbprint %q", k.KeyID, want)
	}
	if k.Use != "enc" || k.Algorithm != "RSA-OAEP" || len(k.CertificateThumbprintSHA1) != 20 {
		t.Errorf("key = use %q alg %q x5t %x", k.Use, k.Algorithm, k.CertificateThumbprintSHA1)
	}
	// The selected key marshals as a valid public JWK.
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatalf("json.Marshal(key) error = %v", err)
	}
	var back jose.JSONWebKey
	if err := back.UnmarshalJSON(b); err != nil || !back.IsPublic() {
		t.Errorf("selected key does not round-trip: %v", err)
	}
}

// TestEncryptionKeyRecordedBrokerJWKS reads the broker's JWKS as recorded
// (testdata/keys/broker-jwks.json): three keys without alg, of which the
// third is the encryption key; with no alg the key management algorithm is
// RSA-OAEP-256, the first the broker advertises.
func TestEncryptionKeyRecordedBrokerJWKS(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/keys/broker-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) != 3 {
		t.Fatalf("fixture: %v, %d keys", err, len(set.Keys))
	}
	k, alg, err := jar.EncryptionKey(data)
	if err != nil {
		t.Fatalf("EncryptionKey() error = %v", err)
	}
	priv := brokerEncKey(t)
	if pub, ok := k.Key.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) || k.KeyID != set.Keys[2].Kid {
		t.Errorf("key %q = %T, want the fixture's encryption key %q", k.KeyID, k.Key, set.Keys[2].Kid)
	}
	if alg != jose.RSA_OAEP_256 {
		t.Errorf("alg = %q, want RSA-OAEP-256 for a key without alg", alg)
	}
}

func TestEncryptionKey(t *testing.T) {
	t.Parallel()
	key := rsaKey()
	cert := selfSigned(t, key)
	other := selfSigned(t, brokerEncKey(t))
	sum := sha1.Sum(cert.Raw)
	b64u := base64.RawURLEncoding.EncodeToString
	n, e := b64u(key.N.Bytes()), "AQAB"
	x5c := base64.StdEncoding.EncodeToString(cert.Raw)
	hexT := strings.ToUpper(hex.EncodeToString(sum[:]))
	sigKey := `{"kty":"RSA","use":"sig","kid":"sig","alg":"RS256","n":"` + n + `","e":"AQAB"}`
	jwks := func(entries ...string) string { return `{"keys":[` + strings.Join(entries, ",") + `]}` }

	tests := []struct {
		name    string
		jwks    string
		wantKID string
		wantAlg jose.KeyAlgorithm
		wantErr error
	}{
		{name: "n/e, RSA-OAEP-256", jwks: jwks(sigKey, `{"kty":"RSA","use":"enc","kid":"e1","alg":"RSA-OAEP-256","n":"`+n+`","e":"AQAB"}`), wantKID: "e1", wantAlg: jose.RSA_OAEP_256},
		{name: "no alg gives the default", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"e1","n":"` + n + `","e":"` + e + `"}`), wantKID: "e1", wantAlg: jose.RSA_OAEP_256},
		{name: "unknown alg gives the default", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"e1","alg":"urn:example:weird","n":"` + n + `","e":"AQAB"}`), wantKID: "e1", wantAlg: jose.RSA_OAEP_256},
		{name: "xmlenc mgf1p", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"e1","alg":"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p","x5c":["` + x5c + `"]}`), wantKID: "e1", wantAlg: jose.RSA_OAEP},
		{name: "xmlenc11", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"e1","alg":"http://www.w3.org/2009/xmlenc11#rsa-oaep","x5c":["` + x5c + `"]}`), wantKID: "e1", wantAlg: jose.RSA_OAEP},
		{name: "x5c with hex x5t", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"` + hexT + `","x5t":"` + hexT + `","x5c":["` + x5c + `"]}`), wantKID: hexT, wantAlg: jose.RSA_OAEP_256},
		{name: "x5c with lower-case hex x5t", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5t":"` + strings.ToLower(hexT) + `","x5c":["` + x5c + `"]}`), wantKID: "k", wantAlg: jose.RSA_OAEP_256},
		{name: "x5c with base64url x5t and n/e", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5t":"` + b64u(sum[:]) + `","x5c":["` + x5c + `"],"n":"` + n + `","e":"AQAB"}`), wantKID: "k", wantAlg: jose.RSA_OAEP_256},
		{name: "x5c in base64url", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5c":["` + b64u(cert.Raw) + `"]}`), wantKID: "k", wantAlg: jose.RSA_OAEP_256},
		{name: "padded std base64 n", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","n":"` + base64.StdEncoding.EncodeToString(key.N.Bytes()) + `","e":"AQAB"}`), wantKID: "k", wantAlg: jose.RSA_OAEP_256},
		{name: "skips broken and foreign entries", jwks: jwks(`42`, `{"kty":"EC","use":"enc","kid":"ec"}`, `{"kty":"RSA","use":"enc","kid":"bad","n":"!!","e":"AQAB"}`, `{"kty":"RSA","use":"enc","kid":["x"]}`, `{"kty":"RSA","use":"enc","kid":"good","n":"`+n+`","e":"AQAB","x5c":"not-an-array-is-skipped-above"}`, `{"kty":"RSA","use":"enc","kid":"good","n":"`+n+`","e":"AQAB","extra":{"a":[1,2]}}`), wantKID: "good", wantAlg: jose.RSA_OAEP_256},
		{name: "use-less key with an enc alg", jwks: jwks(sigKey, `{"kty":"RSA","kid":"nouse","alg":"RSA-OAEP","n":"`+n+`","e":"AQAB"}`), wantKID: "nouse", wantAlg: jose.RSA_OAEP},
		{name: "use=enc wins over use-less", jwks: jwks(`{"kty":"RSA","kid":"nouse","alg":"RSA-OAEP","n":"`+n+`","e":"AQAB"}`, `{"kty":"RSA","use":"enc","kid":"enc","n":"`+n+`","e":"AQAB"}`), wantKID: "enc", wantAlg: jose.RSA_OAEP_256},
		{name: "only signing keys", jwks: jwks(sigKey, `{"kty":"RSA","kid":"nouse","alg":"PS256","n":"`+n+`","e":"AQAB"}`), wantErr: jar.ErrNoEncryptionKey},
		{name: "empty set", jwks: `{"keys":[]}`, wantErr: jar.ErrNoEncryptionKey},
		{name: "x5t mismatch", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5t":"0000000000000000000000000000000000000000","x5c":["` + x5c + `"]}`), wantErr: jar.ErrNoEncryptionKey},
		{name: "n/e differ from x5c", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5c":["` + base64.StdEncoding.EncodeToString(other.Raw) + `"],"n":"` + n + `","e":"AQAB"}`), wantErr: jar.ErrNoEncryptionKey},
		{name: "no key material", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k"}`), wantErr: jar.ErrNoEncryptionKey},
		{name: "even exponent", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","n":"` + n + `","e":"AAI"}`), wantErr: jar.ErrNoEncryptionKey},
		{name: "bad certificate", jwks: jwks(`{"kty":"RSA","use":"enc","kid":"k","x5c":["MAA="]}`), wantErr: jar.ErrNoEncryptionKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, alg, err := jar.EncryptionKey([]byte(tt.jwks))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || k != nil {
					t.Fatalf("EncryptionKey() = %v, %v; want %v", k, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "jar: ") {
					t.Errorf("error text %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncryptionKey() error = %v", err)
			}
			if k.KeyID != tt.wantKID || alg != tt.wantAlg {
				t.Errorf("EncryptionKey() = kid %q alg %q; want %q %q", k.KeyID, alg, tt.wantKID, tt.wantAlg)
			}
			if pub, ok := k.Key.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
				t.Errorf("Key = %T, not the expected key", k.Key)
			}
		})
	}
}

func TestEncryptionKeyNotJWKS(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "[]", `"keys"`, `{"keys":{}}`} {
		if _, _, err := jar.EncryptionKey([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "jar: jwks: ") {
			t.Errorf("EncryptionKey(%q) error = %v", in, err)
		}
	}
}

func FuzzEncryptionKey(f *testing.F) {
	f.Add(brokerJWKS(f))
	f.Add([]byte(`{"keys":[{"kty":"RSA","use":"enc","kid":"k","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","alg":"RSA-OAEP","x5t":"00","x5c":["MAA="]}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","use":"enc","e":"AAAAAAE","n":"_w"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, alg, err := jar.EncryptionKey(data)
		if err != nil {
			if k != nil || alg != "" || !strings.HasPrefix(err.Error(), "jar: jwks: ") {
				t.Fatalf("EncryptionKey() = %v, %q, %v", k, alg, err)
			}
			return
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || pub.N.Sign() <= 0 || pub.E < 3 {
			t.Fatalf("EncryptionKey() key = %#v", k.Key)
		}
		if alg != jose.RSA_OAEP && alg != jose.RSA_OAEP_256 {
			t.Fatalf("EncryptionKey() alg = %q", alg)
		}
		if k.Use != "enc" {
			t.Fatalf("EncryptionKey() use = %q", k.Use)
		}
	})
}
