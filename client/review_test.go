package client_test

// Regression tests for the findings of the security and correctness review.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/partest"
)

// TestReviewFlowOfAnotherIssuer: a flow pushed to provider A and completed
// through the Client of provider B is refused before B's token endpoint
// sees the code (RFC 9700 §4.4, mix-up), even when the callback's iss names
// the flow's own provider.
func TestReviewFlowOfAnotherIssuer(t *testing.T) {
	t.Parallel()
	srvA := secretServer(t)
	srvB := secretServer(t)
	_, flow, params := login(t, srvA, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	if params.Get("iss") != srvA.Issuer() || flow.Issuer != srvA.Issuer() {
		t.Fatalf("setup: iss=%q flow issuer=%q, want %q", params.Get("iss"), flow.Issuer, srvA.Issuer())
	}
	cB, err := client.New(context.Background(), client.Config{Issuer: srvB.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srvB.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cB.Exchange(context.Background(), flow, params)
	if tok != nil || !errors.Is(err, client.ErrIssuerMismatch) {
		t.Fatalf("Exchange = %v, %v; want ErrIssuerMismatch", tok, err)
	}
	if n := srvB.Requests(partest.EndpointToken); n != 0 {
		t.Errorf("token requests at the other provider = %d, want 0", n)
	}
}

// TestReviewEmptyFlowNonce: a flow whose nonce was lost (a custom store
// that drops it) does not accept an ID token without nonce.
func TestReviewEmptyFlowNonce(t *testing.T) {
	t.Parallel()
	srv := secretServer(t, func(c *partest.Config) {
		c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: func(c map[string]any) { delete(c, "nonce") }}}
	})
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
	flow.Nonce = ""
	tok, err := c.Exchange(context.Background(), flow, params)
	if tok != nil || !errors.Is(err, client.ErrInvalidIDToken) {
		t.Fatalf("Exchange = %v, %v; want ErrNonceMismatch", tok, err)
	}
}

// TestReviewAuthorizedParty: OIDC Core §3.1.3.7 items 3–5. go-oidc only
// checks that aud contains the client; the azp rules are ours.
func TestReviewAuthorizedParty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims func(map[string]any)
		ok     bool
	}{
		{"single audience, no azp", func(map[string]any) {}, true},
		{"single audience, azp is the client", func(c map[string]any) { c["azp"] = "app" }, true},
		{"several audiences, azp is the client", func(c map[string]any) { c["aud"] = []string{"app", "api"}; c["azp"] = "app" }, true},
		{"several audiences, no azp", func(c map[string]any) { c["aud"] = []string{"app", "api"} }, false},
		{"several audiences, azp is another client", func(c map[string]any) { c["aud"] = []string{"app", "other"}; c["azp"] = "other" }, false},
		{"single audience, azp is another client", func(c map[string]any) { c["azp"] = "other" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: tt.claims}}
			})
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			tok, err := c.Exchange(context.Background(), flow, params)
			if tt.ok {
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				return
			}
			if tok != nil || !errors.Is(err, client.ErrInvalidIDToken) {
				t.Fatalf("Exchange = %v, %v; want ErrInvalidIDToken", tok, err)
			}
		})
	}
}

// TestReviewIssuedAtInFuture: an ID token whose iat lies beyond the clock
// skew is refused (OIDC Core §3.1.3.7 item 10; go-oidc does not look at iat).
func TestReviewIssuedAtInFuture(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		iat  time.Duration
		ok   bool
	}{
		{"now", 0, true},
		{"within the skew", 20 * time.Second, true},
		{"an hour ahead", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: func(c map[string]any) {
					c["iat"] = time.Now().Add(tt.iat).Unix()
					c["exp"] = time.Now().Add(tt.iat + time.Hour).Unix()
				}}}
			})
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			tok, err := c.Exchange(context.Background(), flow, params)
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, client.ErrInvalidIDToken)) {
				t.Fatalf("Exchange = %v, %v; want ok=%v", tok, err, tt.ok)
			}
		})
	}
}

// TestReviewJWKSFetchHonoursContext: with an HTTP client without timeout
// and a JWKS endpoint that never answers, Exchange returns when its ctx
// ends instead of waiting for the shared fetch forever.
func TestReviewJWKSFetchHonoursContext(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	md, err := fetchMetadata(srv)
	if err != nil {
		t.Fatal(err)
	}
	m := *md
	m.JWKSURI = hang.URL + "/jwks"
	hc := &http.Client{Transport: srv.Client().Transport} // no Timeout
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret),
		Metadata: &m, HTTPClient: hc})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Exchange(ctx, flow, params)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, client.ErrInvalidIDToken) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Exchange: %v; want ErrInvalidIDToken wrapping context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Exchange still waiting for the JWKS 10 s after its context ended")
	}
}

// TestReviewPostRefusesPlainHTTP: Post attaches the client's credentials,
// so it refuses endpoints that are not https (loopback excepted), or not on
// the provider's origins, before sending anything.
func TestReviewPostRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	var sent atomic.Int32
	base := srv.Client().Transport
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() == "as.example" {
			sent.Add(1)
			return nil, errors.New("unreachable")
		}
		return base.RoundTrip(r)
	})}
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretPost(secret), RedirectURL: cb, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"http://as.example/ciba", false},
		{"https://as.example/ciba", false},
		{"https://as.example/ciba#x", false},
		{"/ciba", false},
		{"", false},
		{c.Metadata().TokenEndpoint, true},
	}
	for _, tt := range tests {
		_, _, err := c.Post(context.Background(), tt.endpoint, url.Values{"grant_type": {"client_credentials"}})
		var re *client.ResponseError
		if reached := err == nil || errors.As(err, &re); reached != tt.ok {
			t.Errorf("Post(%q) error = %v, want sent=%v", tt.endpoint, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("Post(%q) error leaks the secret: %v", tt.endpoint, err)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests reached a refused endpoint", n)
	}
}

// TestReviewMaxAgeAuthTime: when max_age was pushed, the flow remembers it
// and Exchange requires an auth_time no older than max_age (+ skew)
// (OIDC Core §3.1.2.1, §3.1.3.7 item 13).
func TestReviewMaxAgeAuthTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		maxAge time.Duration
		claims func(map[string]any)
		ok     bool
	}{
		{"fresh auth_time", 5 * time.Minute, func(map[string]any) {}, true},
		{"auth_time as a string", 5 * time.Minute, func(c map[string]any) { c["auth_time"] = strconv.FormatInt(time.Now().Unix(), 10) }, true},
		{"no max_age, old auth_time", 0, func(c map[string]any) { c["auth_time"] = time.Now().Add(-48 * time.Hour).Unix() }, true},
		{"auth_time too old", 5 * time.Minute, func(c map[string]any) { c["auth_time"] = time.Now().Add(-time.Hour).Unix() }, false},
		{"auth_time missing", 5 * time.Minute, func(c map[string]any) { delete(c, "auth_time") }, false},
		{"auth_time not a number", 5 * time.Minute, func(c map[string]any) { c["auth_time"] = "NaN" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) {
				c.Faults = map[string]partest.Fault{partest.EndpointToken: {IDToken: tt.claims}}
			})
			var opts []oauth2.AuthCodeOption
			if tt.maxAge > 0 {
				opts = append(opts, client.WithMaxAge(tt.maxAge))
			}
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)}, opts...)
			if want := map[bool]string{true: "300", false: ""}[tt.maxAge > 0]; flow.MaxAge != want {
				t.Fatalf("flow.MaxAge = %q, want %q", flow.MaxAge, want)
			}
			tok, err := c.Exchange(context.Background(), flow, params)
			if tt.ok {
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				return
			}
			if tok != nil || !errors.Is(err, client.ErrInvalidIDToken) {
				t.Fatalf("Exchange = %v, %v; want ErrInvalidIDToken", tok, err)
			}
		})
	}
}

// TestReviewMaxAgeRefused: a max_age that is not one non-negative integer
// is refused at Push, before anything is sent.
func TestReviewMaxAgeRefused(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"-1", "ten", "1.5", ""} {
		if _, err := c.Push(context.Background(), oauth2.SetAuthURLParam("max_age", v)); err == nil {
			t.Errorf("Push(max_age=%q) succeeded", v)
		}
	}
	if n := srv.Requests(partest.EndpointPAR); n != 0 {
		t.Errorf("PAR requests = %d, want 0", n)
	}
}

// TestReviewRefreshSameLogin: an ID token returned by a refresh must
// belong to the original login (OIDC Core §12.2).
func TestReviewRefreshSameLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims func(map[string]any)
		ok     bool
	}{
		{"unchanged", func(map[string]any) {}, true},
		{"other sub", func(c map[string]any) { c["sub"] = "mallory" }, false},
		{"other auth_time", func(c map[string]any) { c["auth_time"] = time.Now().Add(-time.Minute).Unix() - 7 }, false},
		{"azp appears", func(c map[string]any) { c["azp"] = "app" }, false},
		{"other aud set", func(c map[string]any) { c["aud"] = []string{"app", "api"}; c["azp"] = "app" }, false},
		{"other nonce", func(c map[string]any) { c["nonce"] = "other" }, false},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t)
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.Token.RefreshToken == "" {
				t.Fatal("setup: no refresh token")
			}
			srv.SetFault(partest.EndpointToken, partest.Fault{IDToken: tt.claims})
			got, err := c.Refresh(context.Background(), tok)
			if tt.ok {
				if err != nil || got.IDToken == nil || got.IDToken.Subject != tok.IDToken.Subject {
					t.Fatalf("RefreshTokens = %v, %v", got, err)
				}
				return
			}
			if got != nil || !errors.Is(err, client.ErrInvalidIDToken) {
				t.Fatalf("RefreshTokens = %v, %v; want ErrInvalidIDToken", got, err)
			}
			if strings.Contains(err.Error(), "mallory") || strings.Contains(err.Error(), tok.Token.RefreshToken) {
				t.Errorf("error %q shows a claim value or the refresh token", err)
			}
			// The same check applies when HTTPClient refreshes an expired
			// token (a fresh login: refresh tokens rotate).
			srv.ClearFault(partest.EndpointToken)
			c, flow, params = login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			if tok, err = c.Exchange(context.Background(), flow, params); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			expired := *tok
			tk := *tok.Token
			tk.Expiry = time.Now().Add(-time.Minute)
			expired.Token = &tk
			srv.SetFault(partest.EndpointToken, partest.Fault{IDToken: tt.claims})
			if _, err := c.ResourceClient(&expired).Get(c.Metadata().UserinfoEndpoint); !errors.Is(err, client.ErrInvalidIDToken) {
				t.Errorf("HTTPClient refresh: %v; want ErrInvalidIDToken", err)
			}
		})
	}
}

// TestReviewNilTokens: exported methods given nil tokens return errors
// instead of panicking.
func TestReviewNilTokens(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(context.Background(), nil); err == nil {
		t.Error("RefreshTokens(nil) succeeded")
	}
	if _, err := c.ResourceClient(nil).Get(c.Metadata().UserinfoEndpoint); err == nil {
		t.Error("HTTPClient(nil) request succeeded")
	}
}

// TestReviewSignedUserInfoClaims: a signed UserInfo response must carry iss
// (this issuer) and aud (naming the client) (OIDC Core §5.3.2).
func TestReviewSignedUserInfoClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims func(iss string) map[string]any
		ok     bool
	}{
		{"iss and aud", func(iss string) map[string]any { return map[string]any{"sub": "alice", "iss": iss, "aud": "app"} }, true},
		{"aud array", func(iss string) map[string]any {
			return map[string]any{"sub": "alice", "iss": iss, "aud": []string{"api", "app"}}
		}, true},
		{"no iss", func(string) map[string]any { return map[string]any{"sub": "alice", "aud": "app"} }, false},
		{"no aud", func(iss string) map[string]any { return map[string]any{"sub": "alice", "iss": iss} }, false},
		{"other iss", func(string) map[string]any {
			return map[string]any{"sub": "alice", "iss": "https://evil.example", "aud": "app"}
		}, false},
		{"other aud", func(iss string) map[string]any { return map[string]any{"sub": "alice", "iss": iss, "aud": "other"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t)
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			jwt, err := srv.SignIDToken(tt.claims(srv.Issuer()), "RS256")
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFault(partest.EndpointUserinfo, partest.Fault{Status: http.StatusOK, ContentType: "application/jwt", Body: jwt})
			ui, err := c.UserInfo(context.Background(), tok)
			if tt.ok {
				if err != nil || ui.Subject != "alice" {
					t.Fatalf("UserInfo = %v, %v", ui, err)
				}
				return
			}
			if ui != nil || !errors.Is(err, client.ErrInvalidResponse) {
				t.Fatalf("UserInfo = %v, %v; want ErrInvalidResponse", ui, err)
			}
		})
	}
}

// TestReviewSignedUserInfoAlgorithm: the IDTokenAlgorithms allow-list also
// holds for signed UserInfo responses.
func TestReviewSignedUserInfoAlgorithm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg string
		ok  bool
	}{
		{"ES256", true},
		{"RS256", false},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, func(c *partest.Config) { c.IDTokenAlg = "ES256" })
			// Signed first, so that the key is in the JWKS the client fetches.
			jwt, err := srv.SignIDToken(map[string]any{"sub": "alice", "iss": srv.Issuer(), "aud": "app"}, jose.SignatureAlgorithm(tt.alg))
			if err != nil {
				t.Fatal(err)
			}
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret),
				IDTokenAlgorithms: []string{"ES256"}})
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			srv.SetFault(partest.EndpointUserinfo, partest.Fault{Status: http.StatusOK, ContentType: "application/jwt", Body: jwt})
			ui, err := c.UserInfo(context.Background(), tok)
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, client.ErrInvalidResponse)) {
				t.Fatalf("UserInfo = %v, %v; want ok=%v", ui, err, tt.ok)
			}
		})
	}
}

// TestReviewDuplicateKeyID: one RSA key published twice under one kid, for
// RS256 and for PS256; tokens of either algorithm verify.
func TestReviewDuplicateKeyID(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "k", Algorithm: "RS256", Use: "sig"},
		{Key: &rsaKey.PublicKey, KeyID: "k", Algorithm: "PS256", Use: "sig"},
	}}
	jwks, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t)
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret),
				IDTokenAlgorithms: []string{"RS256", "PS256"}})
			now := time.Now()
			raw, err := srv.SignWithKey(rsaKey, alg, "k", "JWT", map[string]any{"iss": srv.Issuer(), "sub": "alice",
				"aud": "app", "nonce": flow.Nonce, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFault(partest.EndpointJWKS, partest.Fault{Status: http.StatusOK, ContentType: "application/json", Body: string(jwks)})
			srv.SetFault(partest.EndpointToken, partest.Fault{RawIDToken: raw})
			if _, err := c.Exchange(context.Background(), flow, params); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
		})
	}
}

// TestReviewNilInputs: exported entry points given nil values return errors
// instead of panicking.
func TestReviewNilInputs(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	for _, profile := range []client.Profile{client.ProfileDefault, client.ProfileFAPI2} {
		var auth *client.JWTAuth
		c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: auth,
			RedirectURL: cb, HTTPClient: srv.Client(), Profile: profile})
		if c != nil || err == nil {
			t.Errorf("New(%v, nil *JWTAuth) = %v, %v", profile, c, err)
		}
	}
	if v, err := client.ParseResponse(nil); v != nil || !errors.Is(err, client.ErrInvalidResponse) {
		t.Errorf("ParseResponse(nil) = %v, %v", v, err)
	}
}

// TestReviewDPoPUserInfoNoHiddenRefresh: UserInfo with a DPoP-bound token
// whose local expiry has passed does not refresh behind the caller's back
// (a rotated refresh token would be lost); the caller's refresh token
// still works afterwards.
func TestReviewDPoPUserInfoNoHiddenRefresh(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", RefreshTokens: true, Clients: []partest.Client{
		{ID: "app", Secret: secret, RedirectURIs: []string{cb}, DPoPBound: true}}})
	t.Cleanup(srv.Close)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	proofer, err := dpop.NewProofer(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), DPoP: proofer})
	tok, err := c.Exchange(context.Background(), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	tok.Token.Expiry = time.Now().Add(-time.Minute)
	if _, err := c.UserInfo(context.Background(), tok); err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if n := srv.Requests(partest.EndpointToken); n != 1 {
		t.Errorf("token requests = %d, want 1 (no refresh inside UserInfo)", n)
	}
	if _, err := c.Refresh(context.Background(), tok); err != nil {
		t.Errorf("RefreshTokens with the caller's refresh token: %v", err)
	}
}

// TestReviewTokenSourceRefreshBounded: a refresh through TokenSource (which
// has no ctx) runs with a deadline even when the HTTP client has no
// Timeout, so a stalled token endpoint cannot hang it forever.
func TestReviewTokenSourceRefreshBounded(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	base := srv.Client().Transport
	var mu sync.Mutex
	var deadlines []bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			_, ok := r.Context().Deadline()
			mu.Lock()
			deadlines = append(deadlines, ok)
			mu.Unlock()
		}
		return base.RoundTrip(r)
	})} // no Timeout
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), HTTPClient: hc})
	tok, err := c.Exchange(context.Background(), flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	expired := *tok.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	if _, err := c.TokenSource(&client.Tokens{Token: &expired, IDToken: tok.IDToken}).Token(); err != nil {
		t.Fatalf("TokenSource refresh: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deadlines) != 2 || !deadlines[1] {
		t.Errorf("token requests with a deadline = %v, want the refresh (second) to have one", deadlines)
	}
}

// TestReviewAuthorizationURLOtherIssuer: a flow pushed to provider A gives
// no authorization URL at provider B (its request_uri means nothing there).
func TestReviewAuthorizationURLOtherIssuer(t *testing.T) {
	t.Parallel()
	srvB := secretServer(t)
	cB, err := client.New(context.Background(), client.Config{Issuer: srvB.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srvB.Client()})
	if err != nil {
		t.Fatal(err)
	}
	flow := &client.Flow{RequestURI: "urn:ietf:params:oauth:request_uri:abc", ExpiresAt: time.Now().Add(time.Minute),
		Issuer: "https://op-a.example"}
	if u, err := cB.AuthorizationURL(flow); u != "" || !errors.Is(err, client.ErrIssuerMismatch) {
		t.Errorf("AuthorizationURL(flow of another issuer) = %q, %v; want ErrIssuerMismatch", u, err)
	}
	flow.Issuer = srvB.Issuer()
	if _, err := cB.AuthorizationURL(flow); err != nil {
		t.Errorf("AuthorizationURL(own flow) = %v", err)
	}
}
