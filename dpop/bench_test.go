package dpop_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/go-par/par/dpop"
)

const (
	benchURL   = "https://server.example.com/op/connect/token?x=1"
	benchNonce = "eyJ7S_zG.eyJH0-Z.HX4w-7v"
	benchToken = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
)

// BenchmarkProof mints an ES256 proof with nonce and ath.
func BenchmarkProof(b *testing.B) {
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := p.Proof("POST", benchURL, benchNonce, benchToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawJOSE signs the same proof directly with go-jose, the obvious
// way: a signer built once with EmbedJWK, claims as a struct through the jwt
// builder, htu from net/url.
func BenchmarkRawJOSE(b *testing.B) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKey()},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		b.Fatal(err)
	}
	type claims struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		Nonce string `json:"nonce,omitempty"`
		ATH   string `json:"ath,omitempty"`
	}
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		u, err := url.Parse(benchURL)
		if err != nil {
			b.Fatal(err)
		}
		u.RawQuery, u.Fragment = "", ""
		jti := make([]byte, 16)
		rand.Read(jti)
		sum := sha256.Sum256([]byte(benchToken))
		c := claims{
			JTI:   base64.RawURLEncoding.EncodeToString(jti),
			HTM:   "POST",
			HTU:   u.String(),
			IAT:   time.Now().Unix(),
			Nonce: benchNonce,
			ATH:   base64.RawURLEncoding.EncodeToString(sum[:]),
		}
		if _, err := jwt.Signed(signer).Claims(c).Serialize(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProofParallel mints ES256 proofs from all Ps with one Proofer.
func BenchmarkProofParallel(b *testing.B) {
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Proof("POST", benchURL, benchNonce, benchToken); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// reportCPU adds the process CPU time per operation, which is steadier
// than ns/op (wall time) on a loaded machine. Single-threaded benchmarks
// only (-cpu 1 gives the cleanest figure).
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
