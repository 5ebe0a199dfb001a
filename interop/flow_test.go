package interop_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/interop/internal/opharness"
	"github.com/go-par/par/jar"
)

// authCase is one client of server.mjs's catalogue and how the SDK
// authenticates as it.
type authCase struct {
	name     string
	clientID string
	auth     func(f *fixture) client.AuthMethod
}

func secretBasic(id string) func(*fixture) client.AuthMethod {
	return func(f *fixture) client.AuthMethod { return client.ClientSecretBasic(f.secrets[id]) }
}

func privateKey(id string) func(*fixture) client.AuthMethod {
	return func(f *fixture) client.AuthMethod {
		k := f.keys[id]
		a := client.PrivateKeyJWT(k.signer, k.kid)
		a.Algorithm = k.alg
		return a
	}
}

// authCases covers every client authentication method the provider and the
// SDK share (RFC 6749 §2.3.1, OIDC Core §9, RFC 7523).
var authCases = []authCase{
	{"client_secret_basic", "basic", secretBasic("basic")},
	{"client_secret_basic special characters", "basic-special", secretBasic("basic-special")},
	{"client_secret_post", "post", func(f *fixture) client.AuthMethod { return client.ClientSecretPost(f.secrets["post"]) }},
	{"client_secret_jwt", "secret-jwt", func(f *fixture) client.AuthMethod { return client.ClientSecretJWT(f.secrets["secret-jwt"]) }},
	{"private_key_jwt ES256", "pkjwt-es256", privateKey("pkjwt-es256")},
	{"private_key_jwt RS256", "pkjwt-rs256", privateKey("pkjwt-rs256")},
	{"private_key_jwt PS256", "pkjwt-ps256", privateKey("pkjwt-ps256")},
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newClient runs discovery and builds a client for id.
func newClient(t *testing.T, f *fixture, id string, auth client.AuthMethod, mutate ...func(*client.Config)) *client.Client {
	t.Helper()
	ctx := testContext(t)
	md, err := discovery.Fetch(ctx, nil, f.op.Issuer)
	if err != nil {
		t.Fatalf("discovery.Fetch: %v", err)
	}
	if md.PushedAuthorizationRequestEndpoint != f.op.Issuer+"/request" {
		t.Fatalf("PAR endpoint = %q", md.PushedAuthorizationRequestEndpoint)
	}
	cfg := client.Config{
		Issuer:      f.op.Issuer,
		Metadata:    md,
		ClientID:    id,
		Auth:        auth,
		RedirectURL: f.redirectURI,
		Scopes:      []string{"openid", "email"},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := client.New(ctx, cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// checkAuthorizationURL asserts RFC 9126 §4: only client_id and request_uri.
func checkAuthorizationURL(t *testing.T, f *fixture, authURL, clientID string, flow *client.Flow) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, f.op.Issuer+"/auth"; got != want {
		t.Errorf("authorization endpoint = %q, want %q", got, want)
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"client_id", "request_uri"}) {
		t.Errorf("authorization URL parameters = %v, want only client_id and request_uri", keys)
	}
	if q.Get("client_id") != clientID || q.Get("request_uri") != flow.RequestURI {
		t.Errorf("authorization URL = %s", authURL)
	}
	if !strings.HasPrefix(flow.RequestURI, "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("request_uri = %q", flow.RequestURI)
	}
}

// login pushes, authorizes headlessly and returns the flow and the callback
// parameters as the SDK parses them.
func login(t *testing.T, f *fixture, c *client.Client, clientID string) (*client.Flow, url.Values) {
	t.Helper()
	ctx := testContext(t)
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if until := time.Until(flow.ExpiresAt); until <= 0 || until > 61*time.Second {
		t.Errorf("ExpiresAt in %v, want within the provider's 60 s", until)
	}
	authURL, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatalf("AuthorizationURL: %v", err)
	}
	checkAuthorizationURL(t, f, authURL, clientID, flow)
	return flow, authorize(t, f.browser(t), authURL)
}

// authorize opens authURL headlessly and parses the callback with the SDK.
func authorize(t *testing.T, b *opharness.Browser, authURL string) url.Values {
	t.Helper()
	ctx := testContext(t)
	cb, err := b.Authorize(ctx, authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	req, err := cb.Request(ctx)
	if err != nil {
		t.Fatal(err)
	}
	params, err := client.ParseResponse(req)
	if err != nil {
		t.Fatalf("ParseResponse: %v", err)
	}
	return params
}

// checkTokens asserts a verified ID token for the test user and the flow's
// nonce.
func checkTokens(t *testing.T, f *fixture, flow *client.Flow, tok *client.Tokens) {
	t.Helper()
	if tok.IDToken == nil || tok.RawIDToken == "" {
		t.Fatal("no verified ID token")
	}
	if tok.IDToken.Subject != testUser {
		t.Errorf("sub = %q, want %q", tok.IDToken.Subject, testUser)
	}
	if tok.IDToken.Nonce != flow.Nonce || flow.Nonce == "" {
		t.Errorf("nonce = %q, want the flow's %q", tok.IDToken.Nonce, flow.Nonce)
	}
	if tok.IDToken.Issuer != f.op.Issuer {
		t.Errorf("iss = %q", tok.IDToken.Issuer)
	}
	if tok.Token == nil || tok.Token.AccessToken == "" {
		t.Error("no access token")
	}
}

// TestFlows runs the whole flow for every client authentication method,
// with PAR optional and with PAR required by the provider (RFC 9126 §5).
func TestFlows(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{opharness.ModeOptional, opharness.ModeRequired} {
		t.Run("par "+mode, func(t *testing.T) {
			t.Parallel()
			f := startOP(t, mode)
			cases := authCases
			if mode == opharness.ModeOptional {
				// A client registered with require_pushed_authorization_requests.
				cases = append(slices.Clone(authCases), authCase{"client_secret_basic par-only client", "par-only", secretBasic("par-only")})
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					c := newClient(t, f, tc.clientID, tc.auth(f))
					if got, want := c.Metadata().RequirePushedAuthorizationRequests, mode == opharness.ModeRequired; got != want {
						t.Errorf("RequirePushedAuthorizationRequests = %v, want %v", got, want)
					}
					flow, params := login(t, f, c, tc.clientID)
					if params.Get("iss") != f.op.Issuer { // RFC 9207 §2
						t.Errorf("callback iss = %q", params.Get("iss"))
					}
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

// TestFormPost receives the response with response_mode=form_post.
func TestFormPost(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	c := newClient(t, f, "basic", secretBasic("basic")(f), func(cfg *client.Config) { cfg.ResponseMode = "form_post" })
	ctx := testContext(t)
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	authURL, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := f.browser(t).Authorize(ctx, authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if !cb.FormPost {
		t.Fatalf("response came back by %s, want form_post", cb.URL)
	}
	req, err := cb.Request(ctx)
	if err != nil {
		t.Fatal(err)
	}
	params, err := client.ParseResponse(req)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	checkTokens(t, f, flow, tok)
}

// TestRequestURIReuse uses a request_uri twice. node-oidc-provider refuses
// the second use (RFC 9126 §4) by redirecting error=invalid_request_uri to
// the client's only registered redirect_uri, without state: it could not
// read the pushed request that held it. The SDK must refuse that callback.
// It either reports the provider's error as *client.AuthorizationError or,
// since the callback carries no state, client.ErrStateMismatch (RFC 6749
// §10.12: an error response without the flow's state is not tied to it).
func TestRequestURIReuse(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	c := newClient(t, f, "basic", secretBasic("basic")(f))
	ctx := testContext(t)
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	authURL, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	first := authorize(t, b, authURL)
	if first.Get("code") == "" {
		t.Fatalf("first use: no code: %v", first.Get("error"))
	}
	second := authorize(t, b, authURL)
	if second.Has("code") || second.Has("state") || second.Get("error") != "invalid_request_uri" {
		t.Fatalf("second use of the request_uri: callback %v, want error=invalid_request_uri without code or state", second)
	}
	tok, err := c.Exchange(ctx, flow, second)
	var ae *client.AuthorizationError
	switch {
	case tok != nil:
		t.Fatal("Exchange returned tokens for an error callback")
	case errors.As(err, &ae):
		if ae.Code != "invalid_request_uri" {
			t.Errorf("AuthorizationError.Code = %q, want %q", ae.Code, "invalid_request_uri")
		}
	case errors.Is(err, client.ErrStateMismatch):
		t.Logf("reported as %v (the error callback has no state)", err)
	default:
		t.Fatalf("Exchange after reuse: err = %v, want *client.AuthorizationError or client.ErrStateMismatch", err)
	}
	// The first callback still completes.
	tok, err = c.Exchange(ctx, flow, first)
	if err != nil {
		t.Fatalf("Exchange of the first callback: %v", err)
	}
	checkTokens(t, f, flow, tok)
}

// TestWrongCredentials pushes with bad credentials for each method and
// expects RFC 6749 §5.2 invalid_client as a *client.ResponseError that does
// not echo the secret.
func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	wrong := "wrong+secret/with:specials%20" + randomSecret()
	otherKey := clientKeys()["jar-es256"] // an EC key registered for another client
	tests := []struct {
		name, clientID string
		auth           client.AuthMethod
	}{
		{"client_secret_basic", "basic", client.ClientSecretBasic(wrong)},
		{"client_secret_basic special", "basic-special", client.ClientSecretBasic(specialSecret)},
		{"client_secret_post", "post", client.ClientSecretPost(wrong)},
		{"client_secret_jwt", "secret-jwt", client.ClientSecretJWT(wrong)},
		{"private_key_jwt other key", "pkjwt-es256", client.PrivateKeyJWT(otherKey.signer, f.keys["pkjwt-es256"].kid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, f, tt.clientID, tt.auth)
			_, err := c.Push(testContext(t))
			var re *client.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("Push: err = %v (%T), want *client.ResponseError", err, err)
			}
			if re.Code != "invalid_client" || re.StatusCode != http.StatusUnauthorized {
				t.Errorf("got %d %q, want 401 invalid_client", re.StatusCode, re.Code)
			}
			for _, s := range []string{wrong, specialSecret, url.QueryEscape(wrong)} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error string holds the secret: %v", err)
				}
			}
		})
	}
}

// TestFrontChannel logs in at node-oidc-provider with PAR disabled, with
// client.Config.InsecureFrontChannel: no push, the whole request in the
// authorization URL (or a request object by value, RFC 9101 §5), client
// authentication at the token endpoint only. With PAR offered, the same
// configuration still pushes.
func TestFrontChannel(t *testing.T) {
	t.Parallel()
	front := func(cfg *client.Config) { cfg.InsecureFrontChannel = true }
	cases := []struct {
		name, clientID string
		auth           func(f *fixture) client.AuthMethod
		ro             func(f *fixture) *jar.Config
	}{
		{"client_secret_basic", "basic", secretBasic("basic"), nil},
		{"client_secret_post", "post", func(f *fixture) client.AuthMethod { return client.ClientSecretPost(f.secrets["post"]) }, nil},
		{"private_key_jwt ES256", "pkjwt-es256", privateKey("pkjwt-es256"), nil},
		{"request object ES256 by value", "jar-es256", privateKey("jar-es256"), func(f *fixture) *jar.Config {
			k := f.keys["jar-es256"]
			return &jar.Config{Signer: k.signer, Algorithm: k.alg, KeyID: k.kid, Type: jar.TypeRequestObject}
		}},
	}
	t.Run("no PAR", func(t *testing.T) {
		t.Parallel()
		f := startOP(t, opharness.ModeNoPAR)
		ctx := testContext(t)
		md, err := discovery.Fetch(ctx, nil, f.op.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		if md.PushedAuthorizationRequestEndpoint != "" || md.RequirePushedAuthorizationRequests {
			t.Fatalf("provider advertises PAR: %q, required %v", md.PushedAuthorizationRequestEndpoint, md.RequirePushedAuthorizationRequests)
		}
		// Without the opt-in, New refuses the provider.
		if _, err := client.New(ctx, client.Config{Metadata: md, ClientID: "basic", Auth: secretBasic("basic")(f),
			RedirectURL: f.redirectURI}); err == nil || !strings.Contains(err.Error(), "InsecureFrontChannel") {
			t.Errorf("New without InsecureFrontChannel = %v", err)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := testContext(t)
				cfg := client.Config{Issuer: f.op.Issuer, Metadata: md, ClientID: tc.clientID, Auth: tc.auth(f),
					RedirectURL: f.redirectURI, Scopes: []string{"openid", "email"}, InsecureFrontChannel: true}
				if tc.ro != nil {
					cfg.RequestObject = tc.ro(f)
				}
				c, err := client.New(ctx, cfg)
				if err != nil {
					t.Fatalf("client.New: %v", err)
				}
				flow, err := c.Push(ctx, client.WithPrompt("login"))
				if err != nil {
					t.Fatalf("Push: %v", err)
				}
				authURL, err := c.AuthorizationURL(flow)
				if err != nil {
					t.Fatalf("AuthorizationURL: %v", err)
				}
				u, err := url.Parse(authURL)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if got := u.Scheme + "://" + u.Host + u.Path; got != f.op.Issuer+"/auth" {
					t.Errorf("authorization endpoint = %q", got)
				}
				if tc.ro != nil {
					if q.Get("request") == "" || q.Get("client_id") != tc.clientID || q.Has("state") || q.Has("code_challenge") {
						t.Errorf("request-object URL = %s", authURL)
					}
				} else if q.Get("response_type") != "code" || q.Get("client_id") != tc.clientID || q.Get("redirect_uri") != f.redirectURI ||
					q.Get("scope") != "openid email" || q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce ||
					q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("prompt") != "login" || q.Has("request_uri") {
					t.Errorf("front-channel URL = %s", authURL)
				}
				for _, s := range f.secrets {
					if strings.Contains(authURL, s) || strings.Contains(authURL, url.QueryEscape(s)) {
						t.Errorf("authorization URL holds a client secret")
					}
				}
				params := authorize(t, f.browser(t), authURL)
				if params.Get("iss") != f.op.Issuer {
					t.Errorf("callback iss = %q", params.Get("iss"))
				}
				tok, err := c.Exchange(ctx, flow, params)
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				checkTokens(t, f, flow, tok)
			})
		}
	})
	t.Run("PAR offered", func(t *testing.T) {
		t.Parallel()
		f := startOP(t, opharness.ModeOptional)
		c := newClient(t, f, "basic", secretBasic("basic")(f), front)
		flow, params := login(t, f, c, "basic") // checks client_id and request_uri only
		tok, err := c.Exchange(testContext(t), flow, params)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		checkTokens(t, f, flow, tok)
	})
}
