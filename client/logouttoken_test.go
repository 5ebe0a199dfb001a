package client_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestVerifyLogoutToken: the logout token partest sends passes; each
// malformed or forged variant fails with ErrInvalidLogoutToken (OIDC
// Back-Channel Logout 1.0 §2.4, §2.6).
func TestVerifyLogoutToken(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", Clients: []partest.Client{
		{ID: "app", Secret: secret, RedirectURIs: []string{cb}, BackchannelLogoutURI: "https://app.example/bcl"}}})
	t.Cleanup(srv.Close)
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	ctx := context.Background()
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		t.Fatal(err)
	}
	var idc struct {
		SID string `json:"sid"`
	}
	if err := tok.IDToken.Claims(&idc); err != nil || idc.SID == "" {
		t.Fatalf("ID token sid = %q (%v)", idc.SID, err)
	}
	base := func() map[string]any {
		claims, err := srv.LogoutTokenClaims("app", idc.SID)
		if err != nil {
			t.Fatal(err)
		}
		return claims
	}
	good, err := srv.SignLogoutToken(base())
	if err != nil {
		t.Fatal(err)
	}
	lt, err := c.VerifyLogoutToken(ctx, good)
	if err != nil {
		t.Fatalf("VerifyLogoutToken(partest's token) = %v", err)
	}
	if lt.SessionID != idc.SID || lt.Subject != "alice" || lt.Issuer != srv.Issuer() || lt.ID == "" || lt.IssuedAt.IsZero() || lt.Expiry.IsZero() {
		t.Errorf("logout token = %+v", lt)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(mod func(map[string]any)) string {
		cl := base()
		mod(cl)
		s, err := srv.SignLogoutToken(cl)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tt := range []struct {
		name, raw, want string
	}{
		{"no events", signed(func(c map[string]any) { delete(c, "events") }), "events"},
		{"events without the logout member", signed(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		}), "events"},
		{"logout event not an object", signed(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": "yes"}
		}), "not a JSON object"},
		{"has nonce", signed(func(c map[string]any) { c["nonce"] = "n" }), "nonce"},
		{"wrong aud", signed(func(c map[string]any) { c["aud"] = "other-app" }), "aud"},
		{"wrong iss", signed(func(c map[string]any) { c["iss"] = "https://evil.example" }), "iss"},
		{"neither sid nor sub", signed(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") }), "neither sid nor sub"},
		{"no jti", signed(func(c map[string]any) { delete(c, "jti") }), "jti"},
		{"no iat", signed(func(c map[string]any) { delete(c, "iat") }), "iat"},
		{"iat in the future", signed(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }), "future"},
		{"expired", signed(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "expired"},
		{"wrong signature", func() string {
			// Another key of an allowed algorithm, without kid: every key
			// of the provider is tried, none verifies it.
			s, err := srv.SignWithKey(other, jose.RS256, "", "logout+jwt", base())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(), ""},
		{"an ID token (typ JWT)", tok.RawIDToken, "typ"},
		{"typ JWT with logout claims", func() string {
			s, err := srv.SignIDToken(base(), "")
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(), "typ"},
		{"garbage", "not-a-jwt", "compact"},
		{"empty", "", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lt, err := c.VerifyLogoutToken(ctx, tt.raw)
			if !errors.Is(err, client.ErrInvalidLogoutToken) || lt != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("VerifyLogoutToken = %+v, %v; want ErrInvalidLogoutToken mentioning %q", lt, err, tt.want)
			}
			if tt.raw != "" && strings.Contains(err.Error(), tt.raw) {
				t.Error("the error holds the token")
			}
		})
	}
	// sub only, without exp: valid (exp is checked only when present).
	subOnly := signed(func(c map[string]any) { delete(c, "sid"); delete(c, "exp") })
	if lt, err := c.VerifyLogoutToken(ctx, subOnly); err != nil || lt.SessionID != "" || lt.Subject != "alice" || !lt.Expiry.IsZero() {
		t.Errorf("sub-only logout token without exp = %+v, %v", lt, err)
	}
}

// FuzzVerifyLogoutToken feeds logout tokens to VerifyLogoutToken: a JSON
// object input is signed by the provider as a logout token (so the claim
// checks run), anything else is verified as the raw token. No panic; every
// failure wraps ErrInvalidLogoutToken; an accepted token names a sid or a
// sub, has a jti and no nonce.
func FuzzVerifyLogoutToken(f *testing.F) {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: secret, RedirectURIs: []string{cb}}}})
	defer srv.Close()
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now().Unix()
	f.Add(fmt.Sprintf(`{"iss":%q,"aud":"app","iat":%d,"jti":"j","sid":"s","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`, srv.Issuer(), now))
	f.Add(fmt.Sprintf(`{"iss":%q,"aud":["app","x"],"iat":%d,"exp":"soon","jti":"j","sub":"s","events":{"http://schemas.openid.net/event/backchannel-logout":[]}}`, srv.Issuer(), now))
	f.Add(`eyJhbGciOiJub25lIiwidHlwIjoibG9nb3V0K2p3dCJ9.e30.`)
	f.Add(`{"nonce":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		raw := in
		var claims map[string]any
		if json.Unmarshal([]byte(in), &claims) == nil && claims != nil {
			s, err := srv.SignLogoutToken(claims)
			if err != nil {
				return
			}
			raw = s
		}
		lt, err := c.VerifyLogoutToken(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, client.ErrInvalidLogoutToken) || lt != nil {
				t.Fatalf("VerifyLogoutToken = %v, %v; want ErrInvalidLogoutToken", lt, err)
			}
			return
		}
		if lt.ID == "" || lt.SessionID == "" && lt.Subject == "" || claims["nonce"] != nil {
			t.Fatalf("accepted %+v from %q", lt, in)
		}
	})
}
