package client_test

import (
	"context"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestUserInfoSignedRefused: a signed UserInfo response (OIDC Core §5.3.2)
// that is unsigned, from another issuer or for another client is
// ErrInvalidResponse.
func TestUserInfoSignedRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims map[string]any
		alg    jose.SignatureAlgorithm
	}{
		{"alg none", map[string]any{"sub": "alice"}, "none"},
		{"other issuer", map[string]any{"sub": "alice", "iss": "https://evil.example", "aud": "app"}, ""},
		{"other audience", map[string]any{"sub": "alice", "aud": "other"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				c.IDTokenAlg = jose.ES256
				c.Clients[0].SignedUserinfo = true
			})
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tt.claims["iss"]; !ok && tt.alg != "none" {
				tt.claims["iss"] = srv.Issuer()
			}
			raw, err := srv.SignIDToken(tt.claims, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFault(partest.EndpointUserinfo, partest.Fault{Status: 200, ContentType: "application/jwt", Body: raw})
			if ui, err := c.UserInfo(context.Background(), tok); ui != nil || !errors.Is(err, client.ErrInvalidResponse) {
				t.Fatalf("UserInfo() = %v, %v; want ErrInvalidResponse", ui, err)
			}
		})
	}
}
