package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// Test keys are generated once per test binary (RSA generation is slow under
// -race) and never modified.
var (
	rsaKey    = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaKey2   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	caKey     = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecKey     = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ec384Key  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	ec521Key  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P521()) })
	edKey     = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
	caCert    = sync.OnceValue(func() *x509.Certificate { return mustCert(caKey(), caSubject(), nil, nil, true) })
	oces3Cert = sync.OnceValue(func() *x509.Certificate {
		return mustCert(rsaKey(), oces3Subject(), caCert(), caKey(), false)
	})
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func caSubject() pkix.Name {
	return pkix.Name{Country: []string{"DK"}, Organization: []string{"Test Tillid"}, CommonName: "Test OCES3 Issuing CA"}
}

// oces3Subject looks like an OCES3 organisation certificate's subject.
func oces3Subject() pkix.Name {
	return pkix.Name{
		Country:      []string{"DK"},
		Organization: []string{"Test Virksomhed ApS // CVR:12345678"},
		CommonName:   "Test Virksomhed",
		SerialNumber: "UI:DK-O:G:00000000-0000-4000-8000-000000000001",
	}
}

var serial = struct {
	sync.Mutex
	n int64
}{}

// mustCert makes a certificate for key's public key, signed by parentKey
// (self-signed when parent is nil).
func mustCert(key crypto.Signer, subject pkix.Name, parent *x509.Certificate, parentKey crypto.Signer, ca bool) *x509.Certificate {
	serial.Lock()
	serial.n++
	sn := serial.n
	serial.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(sn),
		Subject:               subject,
		NotBefore:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func certPEM(c ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range c {
		out = append(out, pemBlock("CERTIFICATE", c.Raw)...)
	}
	return out
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// p224PKCS8 builds a PKCS#8 document for a P-224 key by hand (Go refuses to
// marshal curves it cannot use for signing JWS, but parses them).
func p224PKCS8(t testing.TB) []byte {
	t.Helper()
	k := mustEC(elliptic.P224())
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}
