package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/pkce"
)

// noPAR makes partest a provider without PAR.
func noPAR(pc *partest.Config) { pc.NoPAR = true }

// frontConfig is the client of secretServer with the front channel allowed.
func frontConfig(srv *partest.Server) client.Config {
	return client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic(secret),
		RedirectURL: cb, HTTPClient: srv.Client(), InsecureFrontChannel: true}
}

// query returns the authorization URL's parameters and their sorted names.
func query(t *testing.T, raw string) (url.Values, []string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	names := make([]string, 0, len(q))
	for k, v := range q {
		if len(v) != 1 {
			t.Errorf("parameter %s appears %d times", k, len(v))
		}
		names = append(names, k)
	}
	slices.Sort(names)
	return q, names
}

// TestFrontChannelLogin logs in at a provider without PAR: no push, every
// parameter in the authorization URL (or a request object by value), and
// the callback, token request and ID token check of the PAR flow.
func TestFrontChannelLogin(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	plain := []string{"client_id", "code_challenge", "code_challenge_method", "nonce", "redirect_uri", "response_type", "scope", "state"}
	byValue := []string{"client_id", "request", "response_type", "scope"}
	tests := []struct {
		name      string
		provider  func(*partest.Config)
		client    func(*client.Config, *partest.Server)
		opts      []client.Option
		wantNames []string
		check     func(t *testing.T, q url.Values, c *client.Config, tok *client.Tokens)
	}{
		{name: "plain", wantNames: plain},
		{name: "caller's options", opts: []client.Option{client.WithPrompt("login"), client.WithMaxAge(time.Hour),
			client.WithParam("acr_values", "urn:a b"), client.WithParam("login_hint", "alice")},
			wantNames: append(slices.Clone(plain), "acr_values", "login_hint", "max_age", "prompt"),
			check: func(t *testing.T, q url.Values, _ *client.Config, _ *client.Tokens) {
				if q.Get("prompt") != "login" || q.Get("max_age") != "3600" || q.Get("acr_values") != "urn:a b" || q.Get("login_hint") != "alice" {
					t.Errorf("options in the URL: %v", q)
				}
			}},
		{name: "scopes and form_post", client: func(c *client.Config, _ *partest.Server) {
			c.Scopes, c.ResponseMode = []string{"profile", "email"}, "form_post"
		}, wantNames: append(slices.Clone(plain), "response_mode"),
			check: func(t *testing.T, q url.Values, _ *client.Config, _ *client.Tokens) {
				if q.Get("scope") != "openid profile email" || q.Get("response_mode") != "form_post" {
					t.Errorf("scope %q, response_mode %q", q.Get("scope"), q.Get("response_mode"))
				}
			}},
		{name: "DPoP bound by dpop_jkt", provider: func(pc *partest.Config) { pc.Clients[0].DPoPBound = true },
			client: func(c *client.Config, _ *partest.Server) {
				p, err := dpop.NewProofer(ec, nil)
				if err != nil {
					t.Fatal(err)
				}
				c.DPoP = p
			}, wantNames: append(slices.Clone(plain), "dpop_jkt"),
			check: func(t *testing.T, q url.Values, c *client.Config, tok *client.Tokens) {
				if q.Get("dpop_jkt") != c.DPoP.Thumbprint() || tok.Token.Type() != "DPoP" {
					t.Errorf("dpop_jkt %q (want %q), token type %q", q.Get("dpop_jkt"), c.DPoP.Thumbprint(), tok.Token.Type())
				}
			}},
		{name: "request object by value", provider: func(pc *partest.Config) {
			pc.Clients[0].RequireSignedRequestObject = true
			pc.Clients[0].JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ec.PublicKey, KeyID: "ro", Use: "sig"}}}
		}, client: func(c *client.Config, _ *partest.Server) {
			c.RequestObject = &jar.Config{Signer: ec, KeyID: "ro", Type: jar.TypeRequestObject}
		}, wantNames: byValue,
			check: func(t *testing.T, q url.Values, _ *client.Config, _ *client.Tokens) {
				if strings.Count(q.Get("request"), ".") != 2 || q.Get("scope") != "openid" || q.Get("response_type") != "code" {
					t.Errorf("request object URL: %v", q)
				}
			}},
		{name: "encrypted HS256 request object by value", provider: func(pc *partest.Config) {
			pc.BrokerJWKS = true
			pc.Clients[0].RequireSignedRequestObject = true
		}, client: func(c *client.Config, srv *partest.Server) {
			b, _ := json.Marshal(srv.PublicJWKS())
			key, alg, err := jar.EncryptionKey(b)
			if err != nil {
				t.Fatal(err)
			}
			c.RequestObject = &jar.Config{Secret: []byte(secret), Encryption: &jar.Encryption{Key: key, KeyAlgorithm: alg}}
		}, wantNames: byValue,
			check: func(t *testing.T, q url.Values, _ *client.Config, _ *client.Tokens) {
				if strings.Count(q.Get("request"), ".") != 4 {
					t.Errorf("request %q is not a JWE", q.Get("request"))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mods := []func(*partest.Config){noPAR}
			if tt.provider != nil {
				mods = append(mods, tt.provider)
			}
			srv := secretServer(t, mods...)
			cfg := frontConfig(srv)
			if tt.client != nil {
				tt.client(&cfg, srv)
			}
			c, flow, params := login(t, srv, cfg, tt.opts...)
			if n := srv.Requests(partest.EndpointPAR); n != 0 {
				t.Errorf("%d requests to the PAR path, want none", n)
			}
			if flow.RequestURI != "" || !flow.ExpiresAt.IsZero() || flow.State == "" || flow.Nonce == "" {
				t.Errorf("flow %+v: want state and nonce, no request_uri, no expiry", *flow)
			}
			u, err := c.AuthorizationURL(flow)
			if err != nil {
				t.Fatal(err)
			}
			q, names := query(t, u)
			if want := slices.Sorted(slices.Values(tt.wantNames)); !slices.Equal(names, want) {
				t.Errorf("authorization URL parameters %v, want %v", names, want)
			}
			if q.Get("client_id") != "app" || q.Get("response_type") != "code" {
				t.Errorf("client_id %q response_type %q", q.Get("client_id"), q.Get("response_type"))
			}
			if q.Has("state") && (q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce || q.Get("redirect_uri") != cb ||
				q.Get("code_challenge") != pkce.Challenge(flow.CodeVerifier) || q.Get("code_challenge_method") != "S256") {
				t.Errorf("authorization URL %v does not carry the flow's state, nonce, redirect_uri and S256 challenge", q)
			}
			if strings.Contains(u, flow.CodeVerifier) || strings.Contains(u, url.QueryEscape(secret)) || strings.Contains(u, secret) {
				t.Errorf("authorization URL holds the verifier or the client secret: %s", u)
			}
			if params.Get("state") != flow.State || params.Get("iss") != srv.Issuer() {
				t.Errorf("callback %v", params)
			}
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.IDToken == nil || tok.IDToken.Nonce != flow.Nonce || tok.IDToken.Subject != "alice" {
				t.Errorf("ID token %+v, want alice with the flow's nonce", tok.IDToken)
			}
			if tt.check != nil {
				tt.check(t, q, &cfg, tok)
			}
			if s := flow.String(); !strings.Contains(s, "front channel") || strings.Contains(s, flow.State) || strings.Contains(s, flow.CodeVerifier) {
				t.Errorf("Flow.String() = %q", s)
			}
		})
	}
}

// TestFrontChannelRefused: New refuses the front channel where it would
// weaken a login, and never asks the provider anything but discovery.
func TestFrontChannelRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider func(*partest.Config)
		client   func(*client.Config)
		want     string
	}{
		{"not enabled", noPAR, func(c *client.Config) { c.InsecureFrontChannel = false },
			"client: metadata: pushed_authorization_request_endpoint is missing (the provider has no PAR; Config.InsecureFrontChannel"},
		{"provider requires PAR", func(pc *partest.Config) { pc.NoPAR, pc.RequirePAR = true, true }, nil,
			"client: metadata: require_pushed_authorization_requests is set but pushed_authorization_request_endpoint is missing"},
		{"request object keyed with the client secret", noPAR, func(c *client.Config) {
			c.RequestObject = &jar.Config{Secret: []byte(secret)}
		}, "client: config: RequestObject: the provider has no PAR endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, tt.provider)
			cfg := frontConfig(srv)
			if tt.client != nil {
				tt.client(&cfg)
			}
			c, err := client.New(context.Background(), cfg)
			if c != nil || err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want an error starting %q", c, err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error holds the secret: %v", err)
			}
			for _, ep := range []string{partest.EndpointPAR, partest.EndpointAuthorize, partest.EndpointToken, partest.EndpointJWKS} {
				if n := srv.Requests(ep); n != 0 {
					t.Errorf("%d requests to %s", n, ep)
				}
			}
		})
	}
}

// TestFrontChannelNoDowngrade: with InsecureFrontChannel set, a provider
// that has PAR (optional or required) still gets
// pushed requests and a URL of client_id and request_uri only.
func TestFrontChannelNoDowngrade(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		provider func(*partest.Config)
	}{
		{"PAR optional", func(*partest.Config) {}},
		{"PAR required", func(pc *partest.Config) { pc.RequirePAR = true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t, tt.provider)
			c, flow, params := login(t, srv, frontConfig(srv))
			u, err := c.AuthorizationURL(flow)
			if err != nil {
				t.Fatal(err)
			}
			if _, names := query(t, u); !slices.Equal(names, []string{"client_id", "request_uri"}) {
				t.Errorf("authorization URL parameters %v, want client_id and request_uri", names)
			}
			if n := srv.Requests(partest.EndpointPAR); n != 1 || flow.RequestURI == "" {
				t.Errorf("%d pushes, request_uri %q; want one push", n, flow.RequestURI)
			}
			if _, err := c.Exchange(context.Background(), flow, params); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
		})
	}
}

// TestFrontChannelCredentials: options that would put a credential into
// the authorization URL are refused, before anything is sent.
func TestFrontChannelCredentials(t *testing.T) {
	t.Parallel()
	srv := secretServer(t, noPAR)
	c, err := client.New(context.Background(), frontConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"client_secret", "client_assertion", "code_verifier", "code", "access_token",
		"refresh_token", "password", "assertion", "subject_token", "actor_token", "device_code", "auth_req_id"} {
		flow, err := c.Push(context.Background(), client.WithParam(name, "SECRET-VALUE"))
		if flow != nil || !errors.Is(err, client.ErrReservedParameter) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "SECRET-VALUE") {
			t.Errorf("Push(%s) = %v, %v; want ErrReservedParameter naming it, without its value", name, flow, err)
		}
	}
	if n := srv.Requests(partest.EndpointAuthorize) + srv.Requests(partest.EndpointPAR); n != 0 {
		t.Errorf("%d requests", n)
	}
	// id_token_hint is an authorization request parameter (OIDC Core
	// §3.1.2.1), meant for the front channel.
	flow, err := c.Push(context.Background(), client.WithParam("id_token_hint", "eyJ.x.y"))
	if err != nil {
		t.Fatalf("Push(id_token_hint): %v", err)
	}
	if u, _ := c.AuthorizationURL(flow); !strings.Contains(u, "id_token_hint=eyJ.x.y") {
		t.Errorf("URL %s lacks id_token_hint", u)
	}
}

// TestFrontChannelFlowMix: a flow is rendered only by the kind of client
// that made it.
func TestFrontChannelFlowMix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	front := secretServer(t, noPAR)
	fc, err := client.New(ctx, frontConfig(front))
	if err != nil {
		t.Fatal(err)
	}
	par := secretServer(t)
	pc, err := client.New(ctx, frontConfig(par))
	if err != nil {
		t.Fatal(err)
	}
	ff, err := fc.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := pc.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AuthorizationURL(ff); err == nil || !strings.Contains(err.Error(), "has a PAR endpoint") {
		t.Errorf("PAR client rendered a front-channel flow: %v", err)
	}
	if _, err := fc.AuthorizationURL(pf); err == nil || !strings.Contains(err.Error(), "no front-channel request") {
		t.Errorf("front-channel client rendered a pushed flow: %v", err)
	}
	// A flow restored from storage keeps what the callback needs, not the
	// request: it cannot be sent again, and its callback still completes.
	b, _ := json.Marshal(ff)
	var restored client.Flow
	if err := json.Unmarshal(b, &restored); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.AuthorizationURL(&restored); err == nil {
		t.Error("a restored front-channel flow gave a URL")
	}
	u, err := fc.AuthorizationURL(ff)
	if err != nil {
		t.Fatal(err)
	}
	params, err := front.Login(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Exchange(ctx, &restored, params); err != nil {
		t.Errorf("Exchange with the restored flow: %v", err)
	}
	// Another provider's flow is refused as a mix-up.
	other := secretServer(t, noPAR)
	oc, err := client.New(ctx, frontConfig(other))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.AuthorizationURL(ff); !errors.Is(err, client.ErrIssuerMismatch) {
		t.Errorf("flow of another issuer: %v, want ErrIssuerMismatch", err)
	}
}

// TestFrontChannelMetadata covers metadata that partest does not serve: an
// authorization endpoint with a query of its own (kept, as for PAR), and a
// PAR endpoint advertised only as an mTLS alias (PAR, never the front
// channel, so a client without a certificate is refused).
func TestFrontChannelMetadata(t *testing.T) {
	t.Parallel()
	const doc = `{"issuer":"https://op.example","authorization_endpoint":"https://op.example/authorize?tenant=a%20b",
		"token_endpoint":"https://op.example/token","jwks_uri":"https://op.example/jwks"EXTRA}`
	parse := func(extra string) *discovery.Metadata {
		md, err := discovery.Parse([]byte(strings.Replace(doc, "EXTRA", extra, 1)), "https://op.example")
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	cfg := client.Config{Metadata: parse(""), ClientID: "app", Auth: client.ClientSecretBasic(secret),
		RedirectURL: cb, InsecureFrontChannel: true}
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	flow, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := query(t, u); !strings.HasPrefix(u, "https://op.example/authorize?") || q.Get("tenant") != "a b" || q.Get("state") != flow.State {
		t.Errorf("URL %s: want the endpoint's tenant kept next to the request", u)
	}

	cfg.Metadata = parse(`,"mtls_endpoint_aliases":{"pushed_authorization_request_endpoint":"https://mtls.op.example/par"}`)
	if c, err := client.New(context.Background(), cfg); c != nil || err == nil || !strings.Contains(err.Error(), "pushed_authorization_request_endpoint is missing") {
		t.Errorf("PAR as an mTLS alias only: New = %v, %v; want the plain PAR endpoint missing", c, err)
	}
}
