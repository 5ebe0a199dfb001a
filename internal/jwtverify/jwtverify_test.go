package jwtverify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/jwtverify"
)

var errKeys = errors.New("jwks: unknown key id")

// keySet verifies with one key, or fails with errKeys.
type keySet struct{ key *ecdsa.PrivateKey }

func (k keySet) VerifySignature(_ context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.HS256})
	if err != nil {
		return nil, err
	}
	p, err := jws.Verify(k.key.Public())
	if err != nil {
		return nil, errKeys
	}
	return p, nil
}

func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

// TestVerify checks the common part of the provider's JWTs: signature under
// the allow-list, iss, aud and exp with skew (OIDC Core §3.1.3.7 items 1–3,
// 6, 9), and that the key set's own error is kept.
func TestVerify(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	base := func() map[string]any {
		return map[string]any{"iss": "https://as.example", "aud": "app", "sub": "s", "exp": now.Add(time.Minute).Unix()}
	}
	with := func(k string, v any) map[string]any {
		c := base()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	cfg := jwtverify.Config{Issuer: "https://as.example", ClientID: "app", Algorithms: []string{"ES256"},
		Keys: keySet{key}, Now: func() time.Time { return now }, Skew: 30 * time.Second}
	v := jwtverify.New(cfg)
	noExp := cfg
	noExp.SkipExpiry = true
	tests := []struct {
		name string
		v    *jwtverify.Verifier
		raw  string
		want string // "" for success
	}{
		{"valid", v, sign(t, key, jose.ES256, base()), ""},
		{"expired within skew", v, sign(t, key, jose.ES256, with("exp", now.Add(-20*time.Second).Unix())), ""},
		{"expired", v, sign(t, key, jose.ES256, with("exp", now.Add(-time.Minute).Unix())), "expired"},
		{"no exp", v, sign(t, key, jose.ES256, with("exp", nil)), "expired"},
		{"no exp allowed", jwtverify.New(noExp), sign(t, key, jose.ES256, with("exp", nil)), ""},
		{"other issuer", v, sign(t, key, jose.ES256, with("iss", "https://evil.example")), "issued by a different provider"},
		{"other audience", v, sign(t, key, jose.ES256, with("aud", "someone-else")), "audience"},
		{"other key", v, sign(t, other, jose.ES256, base()), errKeys.Error()},
		// HS256 is not on the allow-list (the provider must not sign with
		// a shared secret).
		{"algorithm not allowed", v, sign(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, base()), "malformed"},
	}
	for _, tt := range tests {
		_, err := tt.v.Verify(context.Background(), tt.raw)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := v.Verify(context.Background(), sign(t, other, jose.ES256, base())); !errors.Is(err, errKeys) {
		t.Errorf("key set error %v not kept", err)
	}
}

var _ oidc.KeySet = keySet{}
