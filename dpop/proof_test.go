package dpop_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/dpop"
)

var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestProofClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		signer  crypto.Signer
		alg     jose.SignatureAlgorithm // option; empty = default
		wantAlg string
	}{
		{"P-256 default", ecKey(), "", "ES256"},
		{"RSA default is PS256", rsaKey(), "", "PS256"},
		{"RSA RS256", rsaKey(), jose.RS256, "RS256"},
		{"Ed25519", edKey(), "", "EdDSA"},
		{"opaque P-256", opaqueSigner{ecKey()}, "", "ES256"},
		{"opaque RSA PS256", opaqueSigner{rsaKey()}, "", "PS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := dpop.NewProofer(tt.signer, &dpop.Config{Algorithm: tt.alg, Now: func() time.Time { return fixedNow }})
			if err != nil {
				t.Fatalf("NewProofer() error = %v", err)
			}
			if got := string(p.Algorithm()); got != tt.wantAlg {
				t.Errorf("Algorithm() = %s, want %s", got, tt.wantAlg)
			}
			// RFC 9449 §7.1 example token and its ath.
			const token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
			const wantATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
			proof, err := p.Proof("POST", "https://Server.Example.com:443/token?secret=1#frag", "eyJ7S_zG.eyJH0-Z.HX4w-7v", token)
			if err != nil {
				t.Fatalf("Proof() error = %v", err)
			}
			got, err := verifyProof(proof)
			if err != nil {
				t.Fatalf("verifyProof() error = %v", err)
			}
			if got.Alg != tt.wantAlg {
				t.Errorf("alg header = %s, want %s", got.Alg, tt.wantAlg)
			}
			if got.JKT != p.Thumbprint() {
				t.Errorf("thumbprint of jwk header = %s, want Thumbprint() = %s", got.JKT, p.Thumbprint())
			}
			c := got.Claims
			if c.HTM != "POST" {
				t.Errorf("htm = %q, want POST", c.HTM)
			}
			if c.HTU != "https://server.example.com/token" {
				t.Errorf("htu = %q, want https://server.example.com/token", c.HTU)
			}
			if c.IAT != fixedNow.Unix() {
				t.Errorf("iat = %d, want %d", c.IAT, fixedNow.Unix())
			}
			if c.Nonce != "eyJ7S_zG.eyJH0-Z.HX4w-7v" {
				t.Errorf("nonce = %q, want eyJ7S_zG.eyJH0-Z.HX4w-7v", c.Nonce)
			}
			if c.ATH != wantATH {
				t.Errorf("ath = %q, want %q", c.ATH, wantATH)
			}
			if raw, err := base64.RawURLEncoding.DecodeString(c.JTI); err != nil || len(raw) < 12 {
				t.Errorf("jti = %q: want base64url of at least 96 bits (err %v)", c.JTI, err)
			}
			slices.Sort(got.Keys)
			if want := []string{"ath", "htm", "htu", "iat", "jti", "nonce"}; !slices.Equal(got.Keys, want) {
				t.Errorf("claims = %v, want %v", got.Keys, want)
			}
		})
	}
}

func TestProofOptionalClaimsAbsent(t *testing.T) {
	t.Parallel()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	proof, err := p.Proof("GET", "http://127.0.0.1:8080/par", "", "")
	if err != nil {
		t.Fatalf("Proof() error = %v", err)
	}
	got, err := verifyProof(proof)
	if err != nil {
		t.Fatalf("verifyProof() error = %v", err)
	}
	slices.Sort(got.Keys)
	if want := []string{"htm", "htu", "iat", "jti"}; !slices.Equal(got.Keys, want) {
		t.Errorf("claims = %v, want %v", got.Keys, want)
	}
	if got.Claims.IAT < before || got.Claims.IAT > time.Now().Unix() {
		t.Errorf("iat = %d, want the current time (default clock)", got.Claims.IAT)
	}
	if got.Claims.HTU != "http://127.0.0.1:8080/par" || got.Claims.HTM != "GET" {
		t.Errorf("htm, htu = %q, %q", got.Claims.HTM, got.Claims.HTU)
	}
}

func TestProofJTIUnique(t *testing.T) {
	t.Parallel()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for range 200 {
		proof, err := p.Proof("GET", "https://rs.example/", "", "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := verifyProof(proof)
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.Claims.JTI] {
			t.Fatalf("jti %q repeated", c.Claims.JTI)
		}
		seen[c.Claims.JTI] = true
	}
}

func TestProofEscapesMethod(t *testing.T) {
	t.Parallel()
	// Every tchar is allowed in a method and must survive JSON encoding.
	const method = "!#$%&'*+-.^_`|~AZaz09"
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := p.Proof(method, "https://rs.example/é?q", "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifyProof(proof)
	if err != nil {
		t.Fatal(err)
	}
	if c.Claims.HTM != method || c.Claims.HTU != "https://rs.example/%C3%A9" {
		t.Errorf("htm, htu = %q, %q", c.Claims.HTM, c.Claims.HTU)
	}
}

func TestNewProoferErrors(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer crypto.Signer
		alg    jose.SignatureAlgorithm
	}{
		{"nil signer", nil, ""},
		{"rsa 1024", small, ""},
		{"p-224", p224, ""},
		{"hmac alg", ecKey(), jose.HS256},
		{"curve mismatch", ecKey(), jose.ES384},
		{"rsa alg on ec key", ecKey(), jose.RS256},
		{"ec alg on rsa key", rsaKey(), jose.ES256},
		{"ec alg on ed25519", edKey(), jose.ES256},
		{"none", ecKey(), "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := dpop.NewProofer(tt.signer, &dpop.Config{Algorithm: tt.alg})
			if !errors.Is(err, dpop.ErrInvalidKey) {
				t.Fatalf("NewProofer() = %v, %v; want ErrInvalidKey", p, err)
			}
			if !strings.HasPrefix(err.Error(), "dpop: ") {
				t.Errorf("error %q lacks the dpop: prefix", err)
			}
		})
	}
}

func TestProofErrors(t *testing.T) {
	t.Parallel()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-value"
	tests := []struct {
		name               string
		method, url, nonce string
		want               error
	}{
		{"empty method", "", "https://rs.example/", "", dpop.ErrInvalidMethod},
		{"method with space", "GE T", "https://rs.example/", "", dpop.ErrInvalidMethod},
		{"method with quote", `GET"`, "https://rs.example/", "", dpop.ErrInvalidMethod},
		{"ftp", "GET", "ftp://rs.example/" + secret, "", dpop.ErrInvalidURL},
		{"relative", "GET", "/path?" + secret, "", dpop.ErrInvalidURL},
		{"no host", "GET", "https:///path?" + secret, "", dpop.ErrInvalidURL},
		{"opaque", "GET", "https:rs.example?" + secret, "", dpop.ErrInvalidURL},
		{"unparsable", "GET", "https://[::1?" + secret, "", dpop.ErrInvalidURL},
		{"bad escape", "GET", "https://rs.example/%zz?" + secret, "", dpop.ErrInvalidURL},
		{"bad port", "GET", "https://rs.example:x/?" + secret, "", dpop.ErrInvalidURL},
		{"nonce with space", "GET", "https://rs.example/", "a b" + secret, dpop.ErrInvalidNonce},
		{"nonce with quote", "GET", "https://rs.example/", `a"` + secret, dpop.ErrInvalidNonce},
		{"nonce non-ascii", "GET", "https://rs.example/", "é" + secret, dpop.ErrInvalidNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.Proof(tt.method, tt.url, tt.nonce, secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Proof() = %q, %v; want %v", got, err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the input", err)
			}
		})
	}
}

// TestThumbprintRFC7638 checks the RFC 7638 §3.1 example key and thumbprint,
// through an opaque signer that only exposes the public key.
func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	p, err := dpop.NewProofer(publicOnly{pub}, nil)
	if err != nil {
		t.Fatalf("NewProofer() error = %v", err)
	}
	if got, want := p.Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint() = %s, want %s", got, want)
	}
}

// TestThumbprintRFC9449 checks the EC key of the RFC 9449 §4.1 example proof
// against the jkt of its §6.1 example token.
func TestThumbprintRFC9449(t *testing.T) {
	t.Parallel()
	x, _ := base64.RawURLEncoding.DecodeString("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")
	y, _ := base64.RawURLEncoding.DecodeString("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	p, err := dpop.NewProofer(publicOnly{pub}, nil)
	if err != nil {
		t.Fatalf("NewProofer() error = %v", err)
	}
	if got, want := p.Thumbprint(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"; got != want {
		t.Errorf("Thumbprint() = %s, want %s", got, want)
	}
}

// publicOnly is a signer that cannot sign: enough for thumbprints.
type publicOnly struct{ pub crypto.PublicKey }

func (s publicOnly) Public() crypto.PublicKey { return s.pub }
func (publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public only")
}

// TestProofJWKHeader: every proof carries the signer's public key, and
// only it, in its jwk header (RFC 9449 §4.2).
func TestProofJWKHeader(t *testing.T) {
	t.Parallel()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := p.Proof("GET", "https://rs.example/x", "", "")
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	jwk := jws.Signatures[0].Protected.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		t.Fatalf("jwk header = %+v, want a valid public key", jwk)
	}
	if !ecKey().PublicKey.Equal(jwk.Key) {
		t.Errorf("jwk header is not the signer's public key")
	}
}

func TestProoferStringHidesKey(t *testing.T) {
	t.Parallel()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "proofer", p)
	d := ecKey().D
	for name, out := range map[string]string{
		"String": p.String(),
		"%v":     fmt.Sprintf("%v", p),
		"slog":   buf.String(),
	} {
		if !strings.Contains(out, "ES256") || !strings.Contains(out, p.Thumbprint()) {
			t.Errorf("%s = %q, want alg and thumbprint", name, out)
		}
		for _, secret := range []string{d.String(), d.Text(16), base64.RawURLEncoding.EncodeToString(d.Bytes())} {
			if strings.Contains(out, secret) {
				t.Errorf("%s = %q shows the private key", name, out)
			}
		}
	}
}

func TestProoferNilString(t *testing.T) {
	t.Parallel()
	var p *dpop.Proofer
	if got := p.String(); got != "dpop.Proofer(nil)" {
		t.Errorf("nil String() = %q", got)
	}
	if got := p.LogValue().String(); got != "<nil>" {
		t.Errorf("nil LogValue() = %q", got)
	}
}
