package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/partest"
)

func newProofer(t *testing.T) *dpop.Proofer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProofer(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWithDPoPPerSessionKey: a client without Config.DPoP logs in with a
// key of the login's own (WithDPoP); the code is bound to it, no other key
// redeems it, and the tokens carry it, so the base client refreshes and
// calls resources with it.
func TestWithDPoPPerSessionKey(t *testing.T) {
	t.Parallel()
	for _, jktOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "proof at PAR", true: "dpop_jkt"}[jktOnly], func(t *testing.T) {
			t.Parallel()
			srv := partest.NewServer(partest.Config{IssuerPath: "/op", DPoPNonce: true, RefreshTokens: true, Clients: []partest.Client{
				{ID: "app", Secret: secret, RedirectURIs: []string{cb}, DPoPBound: true}}})
			t.Cleanup(srv.Close)
			ctx := context.Background()
			c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic(secret),
				RedirectURL: cb, HTTPClient: srv.Client(), DPoPJKTOnly: jktOnly})
			if err != nil {
				t.Fatal(err)
			}
			mine, other := newProofer(t), newProofer(t)
			flow, err := c.WithDPoP(mine).Push(ctx)
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			if flow.DPoPJKT != mine.Thumbprint() {
				t.Fatalf("flow.DPoPJKT = %q, want the login's key %q", flow.DPoPJKT, mine.Thumbprint())
			}
			u, _ := c.AuthorizationURL(flow)
			params, err := srv.Login(u)
			if err != nil {
				t.Fatal(err)
			}
			for name, wrong := range map[string]*client.Client{"base client": c, "other key": c.WithDPoP(other)} {
				if _, err := wrong.Exchange(ctx, flow, params); err == nil || !strings.Contains(err.Error(), "another DPoP key") {
					t.Errorf("Exchange with the %s = %v, want the flow's key refused locally", name, err)
				}
			}
			if n := srv.Requests(partest.EndpointToken); n != 0 {
				t.Errorf("token requests = %d, want 0: a wrong key must not spend the code", n)
			}
			tok, err := c.WithDPoP(mine).Exchange(ctx, flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.Token.Type() != "DPoP" || tok.DPoP != mine {
				t.Fatalf("tokens: type %q, DPoP %v; want DPoP bound to the login's key", tok.Token.Type(), tok.DPoP)
			}
			// The base client (no key of its own) uses the tokens' key.
			if _, err := c.UserInfo(ctx, tok); err != nil {
				t.Fatalf("UserInfo: %v", err)
			}
			next, err := c.Refresh(ctx, tok)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.DPoP != mine || next.Token.Type() != "DPoP" {
				t.Errorf("refreshed tokens: DPoP %v type %q, want the login's key", next.DPoP, next.Token.Type())
			}
			resp, err := c.ResourceClient(next).Get(c.Metadata().UserinfoEndpoint)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("resource call with the login's key: %d %s", resp.StatusCode, b)
			}
		})
	}
}

// TestRefreshRestoredTokens: tokens kept in storage lose their parsed ID
// token (it cannot be verified again once expired) but keep the raw one;
// Refresh must still apply OIDC Core §12.2 against it. Before, a nil
// IDToken skipped the comparison and a refreshed ID token of another user
// was accepted.
func TestRefreshRestoredTokens(t *testing.T) {
	t.Parallel()
	srv := secretServer(t, func(c *partest.Config) {
		c.Users = append(partest.DefaultUsers(), partest.User{Subject: "mallory"})
	})
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	ctx := context.Background()
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		t.Fatal(err)
	}
	restored := func() *client.Tokens {
		return &client.Tokens{Token: &oauth2.Token{AccessToken: tok.Token.AccessToken, TokenType: tok.Token.TokenType,
			RefreshToken: tok.Token.RefreshToken}, RawIDToken: tok.RawIDToken}
	}
	srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, IDToken: func(claims map[string]any) { claims["sub"] = "mallory" }})
	if _, err := c.Refresh(ctx, restored()); !errors.Is(err, client.ErrInvalidIDToken) || !strings.Contains(err.Error(), "sub differs") {
		t.Fatalf("Refresh of restored tokens with another sub = %v, want ErrInvalidIDToken (sub differs, §12.2)", err)
	}
	// The refresh token was used (and rotated) by that attempt; a fresh
	// login's restored tokens refresh fine.
	c, flow, params = login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	if tok, err = c.Exchange(ctx, flow, params); err != nil {
		t.Fatal(err)
	}
	next, err := c.Refresh(ctx, restored())
	if err != nil {
		t.Fatalf("Refresh of restored tokens: %v", err)
	}
	if next.IDToken == nil || next.IDToken.Subject != "alice" || next.RawIDToken == tok.RawIDToken {
		t.Errorf("refreshed tokens: %v, want a new verified ID token for alice", next)
	}
	bad := restored()
	bad.RawIDToken = "not.a-jwt"
	if _, err := c.Refresh(ctx, bad); !errors.Is(err, client.ErrInvalidIDToken) {
		t.Errorf("Refresh with a malformed stored ID token = %v, want ErrInvalidIDToken", err)
	}
}
