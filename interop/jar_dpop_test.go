package interop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/interop/internal/opharness"
	"github.com/go-par/par/jar"
)

// jarCase is a client registered with require_signed_request_object and a
// request_object_signing_alg (RFC 9101 §10.5, RFC 9126 §3).
type jarCase struct {
	name, clientID string
	setup          func(f *fixture) (client.AuthMethod, *jar.Config)
}

func jarKey(id string) func(*fixture) (client.AuthMethod, *jar.Config) {
	return func(f *fixture) (client.AuthMethod, *jar.Config) {
		k := f.keys[id]
		a := client.PrivateKeyJWT(k.signer, k.kid)
		a.Algorithm = k.alg
		return a, &jar.Config{Signer: k.signer, Algorithm: k.alg, KeyID: k.kid, Type: jar.TypeRequestObject}
	}
}

var jarCases = []jarCase{
	{"HS256 with the client secret", "jar-hs256", func(f *fixture) (client.AuthMethod, *jar.Config) {
		s := f.secrets["jar-hs256"]
		return client.ClientSecretBasic(s), &jar.Config{Secret: []byte(s)}
	}},
	{"RS256", "jar-rs256", jarKey("jar-rs256")},
	{"PS256", "jar-ps256", jarKey("jar-ps256")},
	{"ES256", "jar-es256", jarKey("jar-es256")},
	{"EdDSA", "jar-eddsa", jarKey("jar-eddsa")},
}

// TestSignedRequestObjects pushes signed request objects with every
// algorithm (RFC 9126 §3) and completes the flow.
func TestSignedRequestObjects(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{opharness.ModeOptional, opharness.ModeRequired} {
		t.Run("par "+mode, func(t *testing.T) {
			t.Parallel()
			f := startOP(t, mode)
			for _, tc := range jarCases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					auth, ro := tc.setup(f)
					c := newClient(t, f, tc.clientID, auth, func(cfg *client.Config) { cfg.RequestObject = ro })
					flow, params := login(t, f, c, tc.clientID)
					tok, err := c.Exchange(testContext(t), flow, params)
					if err != nil {
						t.Fatalf("Exchange: %v", err)
					}
					checkTokens(t, f, flow, tok)
				})
			}
		})
	}
}

// TestRequestObjectRejected checks that the provider's refusals of request
// objects reach the caller as *client.ResponseError.
func TestRequestObjectRejected(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	k := f.keys["jar-es256"]
	auth := func() client.AuthMethod {
		a := client.PrivateKeyJWT(k.signer, k.kid)
		a.Algorithm = k.alg
		return a
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ro   *jar.Config
		code string
	}{
		// require_signed_request_object (RFC 9101 §10.5).
		{"plain parameters", nil, "invalid_request"},
		{"unregistered key", &jar.Config{Signer: stranger, Algorithm: jose.ES256, KeyID: k.kid}, "invalid_request_object"},
		{"algorithm not registered", &jar.Config{Signer: f.keys["jar-eddsa"].signer, Algorithm: jose.EdDSA, KeyID: k.kid}, "invalid_request_object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, f, "jar-es256", auth(), func(cfg *client.Config) { cfg.RequestObject = tt.ro })
			_, err := c.Push(testContext(t))
			var re *client.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("Push: err = %v, want *client.ResponseError", err)
			}
			if re.StatusCode != http.StatusBadRequest || re.Code != tt.code {
				t.Errorf("got %d %q (%s), want 400 %q", re.StatusCode, re.Code, re.Description, tt.code)
			}
		})
	}
}

// countingTransport counts the provider's DPoP nonce challenges.
type countingTransport struct {
	base       http.RoundTripper
	challenges atomic.Int32
	requests   atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(r)
	if err == nil && resp.Header.Get("DPoP-Nonce") != "" && resp.StatusCode >= 400 {
		c.challenges.Add(1)
	}
	return resp, err
}

// TestDPoP binds the code and the tokens to a DPoP key (RFC 9449 §10, §5)
// and calls the UserInfo endpoint with a proof (§7). In the dpop-nonce mode
// every endpoint first answers use_dpop_nonce (§8, §9), which the SDK
// retries once.
func TestDPoP(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{opharness.ModeOptional, opharness.ModeDPoPNonce} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			f := startOP(t, mode)
			ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			_, ed, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name    string
				key     crypto.Signer
				jktOnly bool
			}{
				{"ES256 proof at PAR", ec, false},
				{"EdDSA proof at PAR", ed, false},
				{"ES256 dpop_jkt at PAR", ec, true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					proofer, err := dpop.NewProofer(tt.key, nil)
					if err != nil {
						t.Fatal(err)
					}
					ct := &countingTransport{base: http.DefaultTransport}
					c := newClient(t, f, "dpop", secretBasic("dpop")(f), func(cfg *client.Config) {
						cfg.DPoP = proofer
						cfg.DPoPJKTOnly = tt.jktOnly
						cfg.HTTPClient = &http.Client{Transport: ct}
					})
					flow, params := login(t, f, c, "dpop")
					if flow.DPoPJKT != proofer.Thumbprint() {
						t.Errorf("flow.DPoPJKT = %q, want %q", flow.DPoPJKT, proofer.Thumbprint())
					}
					tok, err := c.Exchange(testContext(t), flow, params)
					if err != nil {
						t.Fatalf("Exchange: %v", err)
					}
					checkTokens(t, f, flow, tok)
					if !strings.EqualFold(tok.Token.Type(), "DPoP") {
						t.Errorf("token_type = %q, want DPoP", tok.Token.Type())
					}
					if cnf, _ := tok.Token.Extra("cnf").(map[string]any); cnf != nil {
						t.Logf("cnf in token response: %v", cnf)
					}

					// The access token is bound: a proof of the same key
					// opens the UserInfo endpoint.
					hc := &http.Client{Transport: &dpop.Transport{
						Base: ct, Proofer: proofer, Source: oauth2.StaticTokenSource(tok.Token),
					}}
					claims := userinfo(t, hc, c.Metadata().UserinfoEndpoint)
					if claims["sub"] != testUser {
						t.Errorf("userinfo sub = %v", claims["sub"])
					}

					// One nonce serves the whole origin (the client keeps it
					// per origin, RFC 9449 §8.2): the first proof the client
					// sends (PAR, or token when only dpop_jkt is pushed) is
					// challenged, and so is the first of the UserInfo
					// transport, which has its own nonce store.
					want := int32(0)
					if mode == opharness.ModeDPoPNonce {
						want = 2
					}
					if got := ct.challenges.Load(); got != want {
						t.Errorf("use_dpop_nonce challenges = %d, want %d (%d requests)", got, want, ct.requests.Load())
					}
				})
			}
		})
	}
}

// TestDPoPBearerRefused checks that the DPoP-bound access token is useless
// as a bearer token (RFC 9449 §7.1).
func TestDPoPBearerRefused(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	proofer, err := dpop.NewProofer(ec, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, f, "dpop", secretBasic("dpop")(f), func(cfg *client.Config) { cfg.DPoP = proofer })
	flow, params := login(t, f, c, "dpop")
	tok, err := c.Exchange(testContext(t), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, c.Metadata().UserinfoEndpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bearer use of a DPoP token: status %d, want 401", resp.StatusCode)
	}
}

// TestUserInfo calls the UserInfo endpoint with a bearer token through the
// SDK (OIDC Core §5.3) and checks the scope's claims.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	c := newClient(t, f, "basic", secretBasic("basic")(f))
	flow, params := login(t, f, c, "basic")
	tok, err := c.Exchange(testContext(t), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	ui, err := c.UserInfo(testContext(t), tok)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var claims struct {
		Sub           string `json:"sub"`
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != testUser || claims.Email != "interop@example.test" || !claims.EmailVerified {
		t.Errorf("claims = %+v", claims)
	}
	if claims.Name != "" {
		t.Errorf("name = %q released without the profile scope", claims.Name)
	}
}

func userinfo(t *testing.T, hc *http.Client, endpoint string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	return claims
}

// TestRequestObjectLifetime checks that the provider derives expires_in
// from the request object's exp (capped at 60 s) and that the flow's
// ExpiresAt follows it (RFC 9126 §2.2).
func TestRequestObjectLifetime(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	auth, ro := jarKey("jar-es256")(f)
	ro.Lifetime = 20 * time.Second
	c := newClient(t, f, "jar-es256", auth, func(cfg *client.Config) { cfg.RequestObject = ro })
	flow, err := c.Push(testContext(t))
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if until := time.Until(flow.ExpiresAt); until <= 0 || until > 21*time.Second {
		t.Errorf("ExpiresAt in %v, want within the request object's 20 s", until)
	}
}
