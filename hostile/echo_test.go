package hostile_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// echoProxy stands in front of a partest provider's back channel. It
// forwards requests, except on the paths switched to echo: there it
// answers an error that repeats everything the request carried (form
// values, Authorization, DPoP) in error, error_description, error_uri and
// WWW-Authenticate. It records every secret-bearing value it saw.
type echoProxy struct {
	srv   *httptest.Server
	mu    sync.Mutex
	echo  map[string]bool // path → echo instead of forwarding
	seen  map[string]string
	count int
}

var echoSecretParams = []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "request",
	"auth_req_id", "requestId", "state", "nonce", "access_token"}

func newEchoProxy(t *testing.T, target string) *echoProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &echoProxy{echo: map[string]bool{}, seen: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		echo := p.echo[r.URL.Path]
		p.mu.Unlock()
		if !echo {
			rp.ServeHTTP(w, r)
			return
		}
		p.answer(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *echoProxy) set(path string, on bool) {
	p.mu.Lock()
	p.echo[path] = on
	p.mu.Unlock()
}

func (p *echoProxy) answer(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	var all []string
	p.mu.Lock()
	p.count++
	for k, vs := range r.Form {
		for _, v := range vs {
			all = append(all, k+"="+v)
		}
	}
	for _, k := range echoSecretParams {
		for _, v := range r.Form[k] {
			p.seen[v] = "sent " + k
		}
	}
	for _, h := range []string{"Authorization", "DPoP"} {
		if v := r.Header.Get(h); v != "" {
			all = append(all, h+": "+v)
			_, cred, _ := strings.Cut(v, " ")
			p.seen[v], p.seen[cred] = "sent "+h, "sent "+h+" credential"
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				_, pass, _ := strings.Cut(string(dec), ":")
				p.seen[pass] = "sent basic password"
			}
		}
	}
	if id := strings.TrimPrefix(r.URL.Path, "/cancel/"); id != r.URL.Path {
		all = append(all, "cancel "+id) // the auth_req_id in the path
	}
	p.mu.Unlock()
	sort.Strings(all)
	echo := strings.Join(all, " ")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="`+echo+`"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q,"error_uri":%q}`, "invalid_request "+echo, "you sent "+echo,
		"https://op.example/e?"+url.Values{"sent": all}.Encode())
}

// TestEchoingProvider: a provider that echoes the request in its errors —
// at the PAR, token, UserInfo and CIBA endpoints and in the authorization
// response — gets none of the client secret, request object key, client
// assertion, DPoP proof, code, verifier, state, nonce, tokens or
// auth_req_id into an error string, a typed error's members or a log line.
func TestEchoingProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	markers := newMarkers()
	cb := "http://127.0.0.1:1/cb"
	basicS, jarS := markers.secret("client secret basic"), markers.secret("request object secret")
	ecClient := markers.key("client key")
	srv := partest.NewServer(partest.Config{
		IDTokenAlg: jose.ES256, RefreshTokens: true, OpaqueAccessTokens: true,
		Clients: []partest.Client{
			{ID: "basic", Secret: basicS, RedirectURIs: []string{cb}},
			{ID: "jar", Secret: jarS, RedirectURIs: []string{cb}, RequireSignedRequestObject: true, AuthMethod: partest.AuthClientSecretPost},
			{ID: "pk", JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ecClient.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}},
				RedirectURIs: []string{cb}},
		},
	})
	defer srv.Close()
	proxy := newEchoProxy(t, srv.URL)
	md, err := discovery.Fetch(ctx, srv.Client(), srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	// The back channel goes through the proxy; the browser goes to partest.
	via := func(endpoint string) string {
		u, _ := url.Parse(endpoint)
		return proxy.srv.URL + u.Path
	}
	parPath, tokenPath, userinfoPath := mustPath(md.PushedAuthorizationRequestEndpoint), mustPath(md.TokenEndpoint), mustPath(md.UserinfoEndpoint)
	mdc := *md
	mdc.PushedAuthorizationRequestEndpoint, mdc.TokenEndpoint, mdc.UserinfoEndpoint = via(md.PushedAuthorizationRequestEndpoint),
		via(md.TokenEndpoint), via(md.UserinfoEndpoint)
	mdc.BackchannelAuthenticationEndpoint = proxy.srv.URL + "/ciba"
	proxy.set("/ciba", true)
	proxy.set("/init-auth", true)

	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var texts []string // every error string and provider-written member
	collect := func(label string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", label)
			return
		}
		texts = append(texts, label+": "+err.Error(), label+": "+fmt.Sprintf("%+v", err))
		var re *client.ResponseError
		if errors.As(err, &re) {
			texts = append(texts, fmt.Sprintf("%#v", re), re.Code, re.Description, re.URI, string(re.Body), fmt.Sprint(re.Header))
		}
		var ae *client.AuthorizationError
		if errors.As(err, &ae) {
			texts = append(texts, ae.Code, ae.Description, ae.URI)
		}
	}
	configs := []client.Config{
		{ClientID: "basic", Auth: client.ClientSecretBasic(basicS)},
		{ClientID: "jar", Auth: client.ClientSecretPost(jarS), RequestObject: &jar.Config{Secret: []byte(jarS)}},
		// No DPoP here: partest checks the proof's htu against its own URL,
		// not the proxy's (client's TestProviderEchoRedacted covers proofs).
		{ClientID: "pk", Auth: client.PrivateKeyJWT(ecClient, "k1")},
	}
	known := map[string][]string{"basic": {basicS}, "jar": {jarS}} // the secrets each client holds
	for _, cfg := range configs {
		cfg.Metadata, cfg.RedirectURL, cfg.HTTPClient, cfg.Logger = &mdc, cb, srv.Client(), logger
		c, err := client.New(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: New: %v", cfg.ClientID, err)
		}
		name := cfg.ClientID

		// PAR echoes.
		proxy.set(parPath, true)
		_, err = c.Push(ctx)
		collect(name+" push", err)
		proxy.set(parPath, false)

		// A real login whose code exchange is echoed.
		flow, err := c.Push(ctx)
		if err != nil {
			t.Fatalf("%s: Push: %v", name, err)
		}
		markers.m[flow.State], markers.m[flow.Nonce], markers.m[flow.CodeVerifier] = "state", "nonce", "code verifier"
		u, err := c.AuthorizationURL(flow)
		if err != nil {
			t.Fatal(err)
		}
		params, err := srv.Login(u)
		if err != nil {
			t.Fatalf("%s: Login: %v", name, err)
		}
		markers.m[params.Get("code")] = "authorization code"
		proxy.set(tokenPath, true)
		_, err = c.Exchange(ctx, flow, params)
		collect(name+" exchange", err)
		proxy.set(tokenPath, false)

		// The authorization response echoes the client's own secret and
		// the flow's secrets in its error members.
		echo := strings.Join(append(known[name], flow.State, flow.Nonce, flow.CodeVerifier), " ")
		_, err = c.Exchange(ctx, flow, url.Values{"state": {flow.State}, "iss": {srv.Issuer()}, "error": {"access_denied " + echo},
			"error_description": {echo}, "error_uri": {"https://op.example/?e=" + url.QueryEscape(echo)}})
		collect(name+" authorization error", err)

		// A real login, then echoed refresh and UserInfo calls.
		flow, err = c.Push(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u, _ = c.AuthorizationURL(flow)
		params, err = srv.Login(u)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.Exchange(ctx, flow, params)
		if err != nil {
			t.Fatalf("%s: Exchange: %v", name, err)
		}
		markers.m[tok.Token.AccessToken], markers.m[tok.Token.RefreshToken], markers.m[tok.RawIDToken] = "access token", "refresh token", "id token"
		proxy.set(tokenPath, true)
		_, err = c.Refresh(ctx, tok)
		collect(name+" refresh", err)
		proxy.set(tokenPath, false)
		proxy.set(userinfoPath, true)
		_, err = c.UserInfo(ctx, tok)
		collect(name+" userinfo", err)
		proxy.set(userinfoPath, false)

		// CIBA: every call echoed (start, init-auth both ways, poll,
		// cancel).
		for _, initJSON := range []bool{false, true} {
			ciba, err := mitid.NewCIBA(mitid.CIBAConfig{Client: c, HTTPClient: srv.Client(), Logger: logger, InitAuthJSON: initJSON,
				InitAuthEndpoint: proxy.srv.URL + "/init-auth", CancelEndpoint: proxy.srv.URL + "/cancel"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = ciba.Start(ctx, mitid.CIBARequest{})
			collect(name+" ciba start", err)
			req := &mitid.AuthRequest{ID: markers.secret("auth_req_id"), ExpiresAt: time.Now().Add(time.Minute), Interval: time.Millisecond}
			_, err = ciba.InitAuth(ctx, req, mitid.InitAuthParams{RedirectURI: "https://app.example/done", State: markers.secret("init-auth state")})
			collect(name+" ciba init-auth", err)
			proxy.set(tokenPath, true)
			_, err = ciba.Poll(ctx, req)
			collect(name+" ciba poll", err)
			proxy.set(tokenPath, false)
			proxy.set("/cancel/"+req.ID, true)
			err = ciba.Cancel(ctx, req)
			collect(name+" ciba cancel", err)
		}
	}

	proxy.mu.Lock()
	for v, what := range proxy.seen {
		markers.m[v] = what
	}
	echoed := proxy.count
	proxy.mu.Unlock()
	if echoed < 25 {
		t.Errorf("the proxy echoed %d requests: the flows did not run as intended", echoed)
	}
	logText := logs.String()
	texts = append(texts, logText)
	found := 0
	for m, what := range markers.m {
		if len(m) < 8 {
			continue
		}
		for _, s := range texts {
			if strings.Contains(s, m) {
				found++
				t.Errorf("the %s shows: %s", what, excerpt(s, m))
				break
			}
		}
	}
	redacted := 0
	for _, s := range texts {
		redacted += strings.Count(s, "[redacted]")
	}
	if redacted < echoed {
		t.Errorf("only %d redactions for %d echoed requests", redacted, echoed)
	}
	// At column 0, as TestSecretHygiene's summary, so that scripts/test.sh
	// shows it.
	fmt.Printf("secrets: echoing provider: %d requests echoed, %d markers × %d error texts and %d log bytes, %d redactions: %d found\n",
		echoed, len(markers.m), len(texts), len(logText), redacted, found)
}

func mustPath(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		panic(err)
	}
	return u.Path
}
