package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/go-par/par/keys"
)

func TestParsePEM(t *testing.T) {
	t.Parallel()
	rsaPKCS1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey()))
	ecDER, err := x509.MarshalECPrivateKey(ecKey())
	if err != nil {
		t.Fatal(err)
	}
	ecSEC1 := pemBlock("EC PRIVATE KEY", ecDER)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	otherCert := mustCert(rsaKey2(), oces3Subject(), caCert(), caKey(), false)

	tests := []struct {
		name     string
		data     []byte
		wantAlg  jose.SignatureAlgorithm // with pss=false
		wantPub  crypto.PublicKey
		wantLeaf *x509.Certificate
		wantN    int // certificates
		wantErr  error
	}{
		{name: "pkcs1 rsa", data: rsaPKCS1, wantAlg: jose.RS256, wantPub: rsaKey().Public()},
		{name: "pkcs8 rsa", data: pkcs8(t, rsaKey()), wantAlg: jose.RS256, wantPub: rsaKey().Public()},
		{name: "pkcs8 p256", data: pkcs8(t, ecKey()), wantAlg: jose.ES256, wantPub: ecKey().Public()},
		{name: "pkcs8 p384", data: pkcs8(t, ec384Key()), wantAlg: jose.ES384, wantPub: ec384Key().Public()},
		{name: "pkcs8 p521", data: pkcs8(t, ec521Key()), wantAlg: jose.ES512, wantPub: ec521Key().Public()},
		{name: "pkcs8 ed25519", data: pkcs8(t, edKey()), wantAlg: jose.EdDSA, wantPub: edKey().Public()},
		{name: "sec1 ec", data: ecSEC1, wantAlg: jose.ES256, wantPub: ecKey().Public()},
		{name: "pkcs8 labelled as pkcs1", data: bytes.Replace(pkcs8(t, rsaKey()), []byte("PRIVATE KEY"), []byte("RSA PRIVATE KEY"), 2), wantAlg: jose.RS256, wantPub: rsaKey().Public()},
		{name: "key then chain", data: cat(pkcs8(t, rsaKey()), certPEM(oces3Cert(), caCert())), wantAlg: jose.RS256, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 2},
		{name: "chain with CA first then key", data: cat(certPEM(caCert(), oces3Cert()), rsaPKCS1), wantAlg: jose.RS256, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 2},
		{name: "with text around blocks", data: cat([]byte("Bag Attributes\n    friendlyName: test\n"), certPEM(oces3Cert()), []byte("subject=CN = x\n"), rsaPKCS1), wantAlg: jose.RS256, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 1},
		{name: "certificate of another key", data: cat(rsaPKCS1, certPEM(otherCert, caCert())), wantErr: keys.ErrCertificateMismatch},
		{name: "certificates only", data: certPEM(oces3Cert()), wantErr: keys.ErrNoKey},
		{name: "public key only", data: pemBlock("PUBLIC KEY", mustPKIX(t, rsaKey().Public())), wantErr: keys.ErrNoKey},
		{name: "empty", data: nil, wantErr: keys.ErrNoKey},
		{name: "not pem", data: []byte("hello"), wantErr: keys.ErrNoKey},
		{name: "legacy encrypted pem", data: encrypted, wantErr: keys.ErrUnsupportedKey},
		{name: "encrypted pkcs8", data: pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}), wantErr: keys.ErrUnsupportedKey},
		{name: "openssh", data: pemBlock("OPENSSH PRIVATE KEY", []byte("x")), wantErr: keys.ErrUnsupportedKey},
		{name: "p224", data: p224PKCS8(t), wantErr: keys.ErrUnsupportedKey},
		{name: "x25519", data: pkcs8(t, x25519), wantErr: keys.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := keys.ParsePEM(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParsePEM() error = %v, want %v", err, tt.wantErr)
				}
				checkErrorText(t, err)
				return
			}
			if err != nil {
				t.Fatalf("ParsePEM() error = %v", err)
			}
			checkKey(t, k, tt.wantPub, tt.wantAlg)
			if len(k.Certificates) != tt.wantN {
				t.Fatalf("len(Certificates) = %d, want %d", len(k.Certificates), tt.wantN)
			}
			if tt.wantLeaf != nil {
				if !k.Certificates[0].Equal(tt.wantLeaf) {
					t.Errorf("leaf = %s, want %s", k.Certificates[0].Subject, tt.wantLeaf.Subject)
				}
				if k.KeyID != k.X5TS256() {
					t.Errorf("KeyID = %q, want X5TS256 %q", k.KeyID, k.X5TS256())
				}
			} else if k.KeyID != k.Thumbprint() || k.KeyID == "" {
				t.Errorf("KeyID = %q, want Thumbprint %q", k.KeyID, k.Thumbprint())
			}
		})
	}
}

func TestParsePEMErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"two keys", cat(pkcs8(t, ecKey()), pkcs8(t, rsaKey())), "keys: pem: more than one private key"},
		{"bad key der", pemBlock("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), "keys: pem: "},
		{"bad certificate", cat(pkcs8(t, ecKey()), pemBlock("CERTIFICATE", []byte{0x30, 0x00})), "keys: pem: certificate 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := keys.ParsePEM(tt.data)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("ParsePEM() error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

// TestParsePEMOpenSSL reads the traditional OpenSSL EC file (EC PARAMETERS +
// EC PRIVATE KEY) made by testdata/keys/gen.sh.
func TestParsePEMOpenSSL(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/keys/ec-sec1.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("EC PARAMETERS")) {
		t.Fatal("fixture lost its EC PARAMETERS block")
	}
	k, err := keys.ParsePEM(data)
	if err != nil {
		t.Fatalf("ParsePEM() error = %v", err)
	}
	checkKey(t, k, nil, jose.ES256)
}

func mustPKIX(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// checkKey checks the public key (when want is set), the algorithm, and that
// the key signs verifiably.
func checkKey(t *testing.T, k *keys.Key, want crypto.PublicKey, alg jose.SignatureAlgorithm) {
	t.Helper()
	if want != nil {
		if eq, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(want) {
			t.Fatalf("Public() = %T, not the key that was encoded", k.Public())
		}
	}
	got, err := k.Algorithm(false)
	if err != nil || got != alg {
		t.Fatalf("Algorithm(false) = %q, %v, want %q", got, err, alg)
	}
	checkSigns(t, k, alg)
}

// checkSigns signs a JWS with k via go-jose and verifies it with the public key.
func checkSigns(t *testing.T, k *keys.Key, alg jose.SignatureAlgorithm) {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k.Signer}, nil)
	if err != nil {
		t.Fatalf("jose.NewSigner(%s) error = %v", alg, err)
	}
	jws, err := signer.Sign([]byte("payload"))
	if err != nil {
		t.Fatalf("Sign() error = %v", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatal(err)
	}
	out, err := parsed.Verify(k.Public())
	if err != nil || string(out) != "payload" {
		t.Fatalf("Verify() = %q, %v", out, err)
	}
}

// checkErrorText asserts an error is prefixed with the package name.
func checkErrorText(t *testing.T, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "keys: ") {
		t.Errorf("error %q lacks the %q prefix", err, "keys: ")
	}
}

func jwkJSON(t testing.TB, k jose.JSONWebKey) []byte {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJWK(t *testing.T) {
	t.Parallel()
	rsaJWK := jwkJSON(t, jose.JSONWebKey{Key: rsaKey(), KeyID: "rsa-1", Use: "sig", Algorithm: "PS256"})
	ecJWK := jwkJSON(t, jose.JSONWebKey{Key: ecKey(), KeyID: "ec-1"})
	edJWK := jwkJSON(t, jose.JSONWebKey{Key: edKey()})
	withCert := jwkJSON(t, jose.JSONWebKey{Key: rsaKey(), KeyID: "cert-1", Certificates: []*x509.Certificate{oces3Cert(), caCert()}})
	public := jwkJSON(t, jose.JSONWebKey{Key: ecKey().Public(), KeyID: "pub"})
	encKey := jwkJSON(t, jose.JSONWebKey{Key: rsaKey2(), KeyID: "enc-1", Use: "enc"})
	oct := jwkJSON(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac"})
	set := func(entries ...[]byte) []byte {
		return []byte(`{"keys":[` + string(bytes.Join(entries, []byte(","))) + `]}`)
	}

	tests := []struct {
		name    string
		data    []byte
		kid     string // ParseJWKS when set
		wantKID string
		wantPub crypto.PublicKey
		wantAlg jose.SignatureAlgorithm
		wantN   int
		wantErr error
	}{
		{name: "rsa", data: rsaJWK, wantKID: "rsa-1", wantPub: rsaKey().Public(), wantAlg: jose.RS256},
		{name: "ec", data: ecJWK, wantKID: "ec-1", wantPub: ecKey().Public(), wantAlg: jose.ES256},
		{name: "ed25519 without kid gets thumbprint", data: edJWK, wantPub: edKey().Public(), wantAlg: jose.EdDSA},
		{name: "x5c chain", data: withCert, wantKID: "cert-1", wantPub: rsaKey().Public(), wantAlg: jose.RS256, wantN: 2},
		{name: "set: first private signing key", data: set(public, encKey, oct, ecJWK, rsaJWK), wantKID: "ec-1", wantPub: ecKey().Public(), wantAlg: jose.ES256},
		{name: "set: by kid", data: set(public, ecJWK, rsaJWK), kid: "rsa-1", wantKID: "rsa-1", wantPub: rsaKey().Public(), wantAlg: jose.RS256},
		{name: "set: by kid may pick enc key", data: set(encKey), kid: "enc-1", wantKID: "enc-1", wantPub: rsaKey2().Public(), wantAlg: jose.RS256},
		{name: "single: kid matches", data: ecJWK, kid: "ec-1", wantKID: "ec-1", wantPub: ecKey().Public(), wantAlg: jose.ES256},
		{name: "single: kid differs", data: ecJWK, kid: "other", wantErr: keys.ErrNoKey},
		{name: "set: kid missing", data: set(ecJWK), kid: "nope", wantErr: keys.ErrNoKey},
		{name: "set: only public and enc", data: set(public, encKey), wantErr: keys.ErrNoKey},
		{name: "set: empty", data: []byte(`{"keys":[]}`), wantErr: keys.ErrNoKey},
		{name: "public key", data: public, wantErr: keys.ErrNoKey},
		{name: "symmetric key", data: oct, wantErr: keys.ErrUnsupportedKey},
		{name: "set: only symmetric", data: set(oct), wantErr: keys.ErrNoKey},
		{name: "unknown kty", data: []byte(`{"kty":"XYZ","d":"AA"}`), wantErr: keys.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				k   *keys.Key
				err error
			)
			if tt.kid != "" {
				k, err = keys.ParseJWKS(tt.data, tt.kid)
			} else {
				k, err = keys.ParseJWK(tt.data)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseJWK() error = %v, want %v", err, tt.wantErr)
				}
				checkErrorText(t, err)
				return
			}
			if err != nil {
				t.Fatalf("ParseJWK() error = %v", err)
			}
			checkKey(t, k, tt.wantPub, tt.wantAlg)
			wantKID := tt.wantKID
			if wantKID == "" {
				wantKID = k.Thumbprint()
			}
			if k.KeyID != wantKID {
				t.Errorf("KeyID = %q, want %q", k.KeyID, wantKID)
			}
			if len(k.Certificates) != tt.wantN {
				t.Errorf("len(Certificates) = %d, want %d", len(k.Certificates), tt.wantN)
			}
		})
	}
}

func TestParseJWKMalformed(t *testing.T) {
	t.Parallel()
	secret := `{"kty":"RSA","d":"c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw","n":"AQAB","e":"AQAB"}`
	tests := []struct {
		name string
		data string
	}{
		{"truncated", `{"kty":"EC","d":"c2VjcmV0LXZhbHVl`},
		{"not an object", `"c2VjcmV0LXZhbHVl"`},
		{"broken rsa", secret},
		{"bad set entry", `{"keys":[` + secret + `]}`},
		{"syntax error inside", `{"kty":"EC", "d": c2VjcmV0LXZhbHVl}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := keys.ParseJWK([]byte(tt.data))
			if err == nil {
				t.Fatal("ParseJWK() succeeded, want an error")
			}
			checkErrorText(t, err)
			if strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("error %q echoes the input", err)
			}
		})
	}
}

// p12 encodes key and certificates with enc.
func p12(t testing.TB, enc *pkcs12.Encoder, key any, leaf *x509.Certificate, cas []*x509.Certificate, password string) []byte {
	t.Helper()
	data, err := enc.Encode(key, leaf, cas, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParsePKCS12(t *testing.T) {
	t.Parallel()
	const pw = "Hemmeligt-kodeord-42!"
	ecCert := mustCert(ecKey(), oces3Subject(), nil, nil, false)
	otherCert := mustCert(rsaKey2(), oces3Subject(), caCert(), caKey(), false)
	tests := []struct {
		name     string
		data     []byte
		password string
		wantPub  crypto.PublicKey
		wantLeaf *x509.Certificate
		wantN    int
		wantErr  error
	}{
		{name: "modern rsa with chain", data: p12(t, pkcs12.Modern, rsaKey(), oces3Cert(), []*x509.Certificate{caCert()}, pw), password: pw, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 2},
		{name: "modern2026 pbmac1", data: p12(t, pkcs12.Modern2026, rsaKey(), oces3Cert(), nil, pw), password: pw, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 1},
		{name: "legacy 3des", data: p12(t, pkcs12.LegacyDES, rsaKey(), oces3Cert(), nil, pw), password: pw, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 1},
		{name: "legacy rc2", data: p12(t, pkcs12.LegacyRC2, rsaKey(), oces3Cert(), nil, pw), password: pw, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 1},
		{name: "modern ec", data: p12(t, pkcs12.Modern, ecKey(), ecCert, nil, pw), password: pw, wantPub: ecKey().Public(), wantLeaf: ecCert, wantN: 1},
		{name: "empty password", data: p12(t, pkcs12.Modern, ecKey(), ecCert, nil, ""), password: "", wantPub: ecKey().Public(), wantLeaf: ecCert, wantN: 1},
		{name: "leaf stored after the CA", data: p12(t, pkcs12.Modern, rsaKey(), caCert(), []*x509.Certificate{oces3Cert()}, pw), password: pw, wantPub: rsaKey().Public(), wantLeaf: oces3Cert(), wantN: 2},
		{name: "wrong password modern", data: p12(t, pkcs12.Modern, rsaKey(), oces3Cert(), nil, pw), password: "forkert-kode", wantErr: keys.ErrWrongPassword},
		{name: "wrong password legacy", data: p12(t, pkcs12.LegacyDES, rsaKey(), oces3Cert(), nil, pw), password: "forkert-kode", wantErr: keys.ErrWrongPassword},
		{name: "certificate of another key", data: p12(t, pkcs12.Modern, rsaKey(), otherCert, []*x509.Certificate{caCert()}, pw), password: pw, wantErr: keys.ErrCertificateMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := keys.ParsePKCS12(tt.data, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParsePKCS12() error = %v, want %v", err, tt.wantErr)
				}
				checkErrorText(t, err)
				if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), tt.password) {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePKCS12() error = %v", err)
			}
			alg, err := k.Algorithm(false)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, k, tt.wantPub, alg)
			if pss, _ := k.Algorithm(true); pss != alg {
				checkSigns(t, k, pss) // PS256 for RSA, as OCES3 uses
			}
			if len(k.Certificates) != tt.wantN || !k.Certificates[0].Equal(tt.wantLeaf) {
				t.Fatalf("Certificates = %d, leaf %s; want %d, leaf %s", len(k.Certificates), k.Certificates[0].Subject, tt.wantN, tt.wantLeaf.Subject)
			}
			if k.KeyID != k.X5TS256() {
				t.Errorf("KeyID = %q, want %q", k.KeyID, k.X5TS256())
			}
		})
	}
}

func TestParsePKCS12Garbage(t *testing.T) {
	t.Parallel()
	for _, data := range [][]byte{nil, []byte("not der"), {0x30, 0x03, 0x02, 0x01, 0x03}} {
		_, err := keys.ParsePKCS12(data, "pw")
		if err == nil {
			t.Fatalf("ParsePKCS12(%x) succeeded", data)
		}
		checkErrorText(t, err)
	}
}

// TestParsePKCS12OpenSSL reads the file OpenSSL 3 made with its default
// (AES-256-CBC, PBKDF2) settings; the recipe is testdata/keys/gen.sh.
func TestParsePKCS12OpenSSL(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/keys/oces3-test.p12")
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePKCS12(data, "test-password")
	if err != nil {
		t.Fatalf("ParsePKCS12() error = %v", err)
	}
	if got := k.Certificates[0].Subject.SerialNumber; !strings.HasPrefix(got, "UI:DK-O:G:") {
		t.Errorf("subject serialNumber = %q", got)
	}
	alg, err := k.Algorithm(true)
	if err != nil || alg != jose.PS256 {
		t.Fatalf("Algorithm(true) = %q, %v", alg, err)
	}
	checkSigns(t, k, jose.PS256)
	if _, err := keys.ParsePKCS12(data, "test-passwort"); !errors.Is(err, keys.ErrWrongPassword) {
		t.Errorf("wrong password: error = %v, want ErrWrongPassword", err)
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pw = "pw"
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey())
	files := map[string][]byte{
		"key.pem":      cat(pkcs8(t, rsaKey()), certPEM(oces3Cert())),
		"key.key":      pkcs8(t, ecKey()),
		"bundle.crt":   cat(certPEM(oces3Cert()), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey()))),
		"key.json":     jwkJSON(t, jose.JSONWebKey{Key: edKey(), KeyID: "ed"}),
		"key.jwk":      append([]byte("\n  "), jwkJSON(t, jose.JSONWebKey{Key: ecKey(), KeyID: "ec"})...),
		"oces3.p12":    p12(t, pkcs12.Modern, rsaKey(), oces3Cert(), nil, pw),
		"oces3.pfx":    p12(t, pkcs12.LegacyDES, rsaKey(), oces3Cert(), nil, pw),
		"misnamed.pem": p12(t, pkcs12.Modern, rsaKey(), oces3Cert(), nil, pw),
		"key.der":      ecDER,
		"noext":        pkcs8(t, edKey()),
		"garbage.bin":  []byte("\x00\x01 not a key"),
		"huge.pem":     bytes.Repeat([]byte("A"), 1<<20+1),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file     string
		password string
		wantPub  crypto.PublicKey
		wantErr  error
	}{
		{file: "key.pem", wantPub: rsaKey().Public()},
		{file: "key.key", wantPub: ecKey().Public()},
		{file: "bundle.crt", wantPub: rsaKey().Public()},
		{file: "key.json", wantPub: edKey().Public()},
		{file: "key.jwk", wantPub: ecKey().Public()},
		{file: "oces3.p12", password: pw, wantPub: rsaKey().Public()},
		{file: "oces3.pfx", password: pw, wantPub: rsaKey().Public()},
		{file: "misnamed.pem", password: pw, wantPub: rsaKey().Public()},
		{file: "key.der", wantPub: ecKey().Public()},
		{file: "noext", wantPub: edKey().Public()},
		{file: "oces3.p12", password: "nope", wantErr: keys.ErrWrongPassword},
		{file: "garbage.bin", wantErr: keys.ErrUnsupportedKey},
		{file: "huge.pem", wantErr: keys.ErrUnsupportedKey},
		{file: "missing.pem", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.password, func(t *testing.T) {
			t.Parallel()
			k, err := keys.LoadFile(filepath.Join(dir, tt.file), tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("LoadFile() error = %v, want %v", err, tt.wantErr)
				}
				checkErrorText(t, err)
				return
			}
			if err != nil {
				t.Fatalf("LoadFile() error = %v", err)
			}
			alg, _ := k.Algorithm(false)
			checkKey(t, k, tt.wantPub, alg)
		})
	}
}

// pubOnly is a crypto.Signer that only knows its public key (like an HSM
// handle); it lets the RFC 7638 example key be used.
type pubOnly struct{ pub crypto.PublicKey }

func (p pubOnly) Public() crypto.PublicKey { return p.pub }
func (pubOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no private key")
}

func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	// RFC 7638 §3.1 example key and its thumbprint.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	k, err := keys.New(pubOnly{pub}, nil)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got := k.Thumbprint(); got != want {
		t.Errorf("Thumbprint() = %q, want %q", got, want)
	}
	if k.KeyID != want {
		t.Errorf("KeyID = %q, want %q", k.KeyID, want)
	}
	if k.X5T() != "" || k.X5TS256() != "" || k.X5THex() != "" {
		t.Errorf("certificate thumbprints of a key without certificate are not empty")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := keys.New(nil, nil); !errors.Is(err, keys.ErrNoKey) {
		t.Errorf("New(nil) error = %v, want ErrNoKey", err)
	}
	if _, err := keys.New(pubOnly{&ecdh.PrivateKey{}}, nil); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Errorf("New(ecdh) error = %v, want ErrUnsupportedKey", err)
	}
	if _, err := keys.New(rsaKey(), []*x509.Certificate{caCert()}); !errors.Is(err, keys.ErrCertificateMismatch) {
		t.Errorf("New(mismatch) error = %v, want ErrCertificateMismatch", err)
	}
	if _, err := (keys.Key{}).Algorithm(false); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Errorf("Key{}.Algorithm() error = %v, want ErrUnsupportedKey", err)
	}
}

func TestCertificateThumbprints(t *testing.T) {
	t.Parallel()
	k, err := keys.New(rsaKey(), []*x509.Certificate{caCert(), oces3Cert()})
	if err != nil {
		t.Fatal(err)
	}
	der := oces3Cert().Raw
	s1 := sha1.Sum(der)
	s256 := sha256.Sum256(der)
	tests := []struct{ name, got, want string }{
		{"X5T", k.X5T(), base64.RawURLEncoding.EncodeToString(s1[:])},
		{"X5THex", k.X5THex(), strings.ToUpper(hex.EncodeToString(s1[:]))},
		{"X5TS256", k.X5TS256(), base64.RawURLEncoding.EncodeToString(s256[:])},
		{"KeyID", k.KeyID, base64.RawURLEncoding.EncodeToString(s256[:])},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s() = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if len(k.X5THex()) != 40 || strings.ToUpper(k.X5THex()) != k.X5THex() {
		t.Errorf("X5THex() = %q, want 40 upper-case hex digits", k.X5THex())
	}
}

func TestPublicJWK(t *testing.T) {
	t.Parallel()
	k, err := keys.New(rsaKey(), []*x509.Certificate{oces3Cert(), caCert()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(k.PublicJWK())
	if err != nil {
		t.Fatalf("json.Marshal(PublicJWK()) error = %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := m[private]; ok {
			t.Errorf("PublicJWK has private member %q", private)
		}
	}
	if m["kty"] != "RSA" || m["use"] != "sig" || m["kid"] != k.KeyID || m["x5t#S256"] != k.X5TS256() {
		t.Errorf("PublicJWK = %s", b)
	}
	if x5c, _ := m["x5c"].([]any); len(x5c) != 2 || x5c[0] != base64.StdEncoding.EncodeToString(oces3Cert().Raw) {
		t.Errorf("x5c = %v, want leaf then CA", m["x5c"])
	}
	// The JWK reads back with go-jose (which checks x5c against the key and
	// x5t#S256), and its RFC 7638 thumbprint is Key.Thumbprint.
	var back jose.JSONWebKey
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatalf("UnmarshalJSON(PublicJWK) error = %v", err)
	}
	tp, _ := back.Thumbprint(crypto.SHA256)
	if got := base64.RawURLEncoding.EncodeToString(tp); got != k.Thumbprint() {
		t.Errorf("thumbprint of PublicJWK = %q, Thumbprint() = %q", got, k.Thumbprint())
	}

	noCert, _ := keys.New(ecKey(), nil)
	j := noCert.PublicJWK()
	if j.Certificates != nil || j.CertificateThumbprintSHA256 != nil || j.KeyID != noCert.Thumbprint() || !j.IsPublic() {
		t.Errorf("PublicJWK without certificate = %+v", j)
	}
}

// TestNoKeyMaterialInOutput formats keys every way a program might log them
// and looks for the private exponent/scalar and PEM.
func TestNoKeyMaterialInOutput(t *testing.T) {
	t.Parallel()
	rk, err := keys.New(rsaKey(), []*x509.Certificate{oces3Cert()})
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := keys.New(ecKey(), nil)
	edk, _ := keys.New(edKey(), nil)
	secrets := map[string][]string{
		"rsa":     {rsaKey().D.String(), rsaKey().D.Text(16), rsaKey().Primes[0].String()},
		"ec":      {ecKey().D.String(), ecKey().D.Text(16)},
		"ed25519": {fmt.Sprint([]byte(edKey().Seed())), hex.EncodeToString(edKey().Seed())},
	}
	for name, k := range map[string]*keys.Key{"rsa": rk, "ec": ek, "ed25519": edk} {
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "key", k, "value", *k)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
		outputs := []string{
			k.String(),
			fmt.Sprint(k), fmt.Sprint(*k),
			fmt.Sprintf("%v %+v %#v %s", k, *k, *k, k),
			fmt.Sprintf("%+v", struct{ K keys.Key }{*k}),
			logged.String(),
		}
		all := strings.Join(outputs, "\n")
		for _, s := range secrets[name] {
			if strings.Contains(all, s) {
				t.Errorf("%s: key material found in formatted output:\n%s", name, all)
			}
		}
		if strings.Contains(all, "PRIVATE") || !strings.Contains(all, "kid="+k.KeyID) {
			t.Errorf("%s: unexpected output:\n%s", name, all)
		}
	}
	if s := rk.String(); !strings.Contains(s, "RSA-2048") || !strings.Contains(s, "CN=Test Virksomhed") {
		t.Errorf("String() = %q", s)
	}
}
