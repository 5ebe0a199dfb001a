package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/partest"
)

// TestExchangeKeySetErrors: the key set's typed errors reach the caller
// through ErrInvalidIDToken, although go-oidc formats them with %v.
func TestExchangeKeySetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(*partest.Server, map[string]any) (string, partest.Fault)
		want  error
	}{
		{"unknown kid", func(srv *partest.Server, claims map[string]any) (string, partest.Fault) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := srv.SignWithKey(k, jose.ES256, "forged", "JWT", claims)
			if err != nil {
				t.Fatal(err)
			}
			return partest.EndpointToken, partest.Fault{RawIDToken: raw}
		}, jwks.ErrUnknownKeyID},
		{"jwks not json", func(*partest.Server, map[string]any) (string, partest.Fault) {
			return partest.EndpointJWKS, partest.Fault{Status: http.StatusOK, ContentType: "text/html", Body: "<html></html>"}
		}, client.ErrInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) { c.IDTokenAlg = jose.ES256 })
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			now := time.Now()
			endpoint, f := tt.fault(srv, map[string]any{"iss": srv.Issuer(), "sub": "alice", "aud": "app",
				"nonce": flow.Nonce, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			srv.SetFault(endpoint, f)
			tok, err := c.Exchange(context.Background(), flow, params)
			if tok != nil || !errors.Is(err, client.ErrInvalidIDToken) || !errors.Is(err, tt.want) {
				t.Fatalf("Exchange() = %v, %v; want ErrInvalidIDToken and %v", tok, err, tt.want)
			}
		})
	}
}
