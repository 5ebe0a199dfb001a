package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestExchangeIDTokenWithoutSubject: an ID token without sub (or with an
// empty one) is refused (OIDC Core §2: sub is required).
func TestExchangeIDTokenWithoutSubject(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(map[string]any){
		"missing": func(c map[string]any) { delete(c, "sub") },
		"empty":   func(c map[string]any) { c["sub"] = "" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: edit}}
			})
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			if tok, err := c.Exchange(context.Background(), flow, params); tok != nil || !errors.Is(err, client.ErrInvalidIDToken) {
				t.Fatalf("Exchange() = %v, %v; want ErrInvalidIDToken", tok, err)
			}
		})
	}
}
