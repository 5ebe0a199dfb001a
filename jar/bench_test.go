package jar_test

import (
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/go-par/par/jar"
)

// BenchmarkBuild compares Builder.Build with the plain go-jose way of
// signing the same claims (a reused jose.Signer, a claims map, jwt.Signed).
func BenchmarkBuild(b *testing.B) {
	cases := []struct {
		name string
		cfg  jar.Config
		key  jose.SigningKey
	}{
		{"ES256", jar.Config{Signer: ecKey(), KeyID: "ec-1", Type: jar.TypeRequestObject}, jose.SigningKey{Algorithm: jose.ES256, Key: ecKey()}},
		{"HS256", jar.Config{Secret: []byte(secret), Type: jar.TypeRequestObject}, jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}},
	}
	for _, c := range cases {
		b.Run(c.name+"/jar", func(b *testing.B) {
			cfg := c.cfg
			cfg.ClientID, cfg.Audience = clientID, issuer
			builder, err := jar.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			params := authzParams()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := builder.Build(params); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/go-jose", func(b *testing.B) {
			opts := (&jose.SignerOptions{}).WithType(jar.TypeRequestObject)
			if c.cfg.KeyID != "" {
				opts = opts.WithHeader("kid", c.cfg.KeyID)
			}
			signer, err := jose.NewSigner(c.key, opts)
			if err != nil {
				b.Fatal(err)
			}
			params := authzParams()
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now().Unix()
				var jti [16]byte
				_, _ = rand.Read(jti[:])
				claims := map[string]any{
					"iss": clientID, "aud": issuer, "client_id": clientID,
					"iat": now, "nbf": now, "exp": now + 300,
					"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
				}
				for k, v := range params {
					claims[k] = v[0]
				}
				if _, err := jwt.Signed(signer).Claims(claims).Serialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncryptionKey reads the broker-shaped JWKS (x5c certificate, hex
// x5t, XML-Enc alg).
func BenchmarkEncryptionKey(b *testing.B) {
	data := brokerJWKS(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := jar.EncryptionKey(data); err != nil {
			b.Fatal(err)
		}
	}
}
