package hostile_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/keys"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// wire is an HTTP transport that records every secret-bearing value that
// crosses it: client secrets, assertions, request objects, DPoP proofs,
// codes, verifiers and tokens, in requests and in responses.
type wire struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]string // value → kind
}

func newWire(base http.RoundTripper) *wire { return &wire{base: base, seen: map[string]string{}} }

func (w *wire) add(kind, v string) {
	if len(v) < 8 {
		return
	}
	w.mu.Lock()
	w.seen[v] = kind
	w.mu.Unlock()
}

// secretForm and secretJSON name the members that carry secrets.
var (
	secretForm = []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "request", "access_token"}
	secretJSON = []string{"access_token", "refresh_token", "id_token"}
)

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if form, err := url.ParseQuery(string(b)); err == nil {
			for _, k := range secretForm {
				w.add(k, form.Get(k))
			}
		}
	}
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, cred, _ := strings.Cut(a, " ")
		w.add("authorization "+scheme, cred)
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				_, pass, _ := strings.Cut(string(dec), ":")
				w.add("basic password", pass)
				if p, err := url.QueryUnescape(pass); err == nil {
					w.add("basic password", p)
				}
			}
		}
	}
	w.add("dpop proof", req.Header.Get("DPoP"))
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		for _, k := range secretJSON {
			if s, ok := m[k].(string); ok {
				w.add(k, s)
			}
		}
	}
	return resp, nil
}

// kinds returns the distinct kinds recorded.
func (w *wire) kinds() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := map[string]int{}
	for _, kind := range w.seen {
		k[kind]++
	}
	return k
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// keyMarkers returns encodings of a private key's secret parts that would
// show if key material leaked: the JWK members, hex, decimal and the
// PKCS#8 DER in base64 (as in a PEM file).
func keyMarkers(t *testing.T, k crypto.Signer) map[string]string {
	t.Helper()
	m := map[string]string{}
	addInt := func(name string, n *big.Int) {
		m[base64.RawURLEncoding.EncodeToString(n.Bytes())[:16]] = name + " (JWK)"
		m[hex.EncodeToString(n.Bytes())[:16]] = name + " (hex)"
		m[n.String()[:16]] = name + " (decimal)"
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		addInt("ec d", new(big.Int).SetBytes(d))
	case *rsa.PrivateKey:
		addInt("rsa d", k.D)
		addInt("rsa p", k.Primes[0])
		addInt("rsa q", k.Primes[1])
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	// The PKCS#8 header is common to all keys; the tail is secret.
	b64 := base64.StdEncoding.EncodeToString(der)
	m[b64[len(b64)-40:]] = "pkcs8 der (base64)"
	m[hex.EncodeToString(der[len(der)-24:])] = "pkcs8 der (hex)"
	return m
}

// secretRun collects what a flow shows: error strings (%v and %+v) and
// formatted values, each under a label.
type secretRun struct {
	t     *testing.T
	mu    sync.Mutex
	texts map[string]string
	errs  int
}

func (r *secretRun) err(label string, err error) {
	if err == nil {
		r.t.Errorf("%s: expected a failure, got none", label)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs++
	r.texts[label+" (error %v)"] = fmt.Sprintf("%v", err)
	r.texts[label+" (error %+v)"] = fmt.Sprintf("%+v", err)
}

func (r *secretRun) text(label, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts[label] = s
}

// TestSecretHygiene runs every flow, successful and failing, with unique
// marker values as client secrets and private keys, and with the codes,
// verifiers, assertions, request objects, DPoP proofs and tokens that the
// wire carries, and checks that none of them appears in an error string,
// a formatted value, an error page or a Debug log line.
func TestSecretHygiene(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run := &secretRun{t: t, texts: map[string]string{}}
	markers := map[string]string{} // marker → what it is

	secretOf := func(name string) string {
		s := "SECRET-MARKER-" + name + "-" + rand.Text() // ≥ 32 bytes for HS256
		markers[s] = "client secret " + name
		markers[url.QueryEscape(s)] = "client secret " + name + " (form-encoded)"
		return s
	}
	ecKey := func(name string) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for m, what := range keyMarkers(t, k) {
			markers[m] = name + " " + what
		}
		return k
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for m, what := range keyMarkers(t, rsaKey) {
		markers[m] = "rsa client key " + what
	}
	jwks := func(pub crypto.PublicKey, alg string) jose.JSONWebKeySet {
		return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k1", Algorithm: alg, Use: "sig"}}}
	}

	app := newEnv(t, envOptions{}) // only for its app server and transport
	defer app.close()
	w := newWire(app.tr)
	hc := &http.Client{Transport: w, Timeout: 5 * time.Second}
	cb := app.redirect

	basicS, postS, jwtS, jarS, dpopS := secretOf("basic"), secretOf("post"), secretOf("jwt"), secretOf("jar"), secretOf("dpop")
	ecClient, ecJAR, ecDPoP := ecKey("ec client key"), ecKey("ec request-object key"), ecKey("dpop key")
	proofer, err := dpop.NewProofer(ecDPoP, nil)
	if err != nil {
		t.Fatal(err)
	}

	srv := partest.NewServer(partest.Config{
		IDTokenAlg: jose.ES256, RefreshTokens: true, DPoPNonce: true,
		Clients: []partest.Client{
			{ID: "basic", Secret: basicS, RedirectURIs: []string{cb}},
			{ID: "post", Secret: postS, AuthMethod: partest.AuthClientSecretPost, RedirectURIs: []string{cb}},
			{ID: "jwt", Secret: jwtS, AuthMethod: partest.AuthClientSecretJWT, RedirectURIs: []string{cb}},
			{ID: "pk-ec", JWKS: jwks(&ecClient.PublicKey, "ES256"), RedirectURIs: []string{cb}},
			{ID: "pk-rsa", JWKS: jwks(&rsaKey.PublicKey, "PS256"), RedirectURIs: []string{cb}},
			{ID: "jar-hs", Secret: jarS, RedirectURIs: []string{cb}, RequireSignedRequestObject: true},
			{ID: "jar-ec", Secret: jarS, JWKS: jwks(&ecJAR.PublicKey, "ES256"), AuthMethod: partest.AuthClientSecretBasic,
				RedirectURIs: []string{cb}, RequireSignedRequestObject: true},
			{ID: "dpop", Secret: dpopS, RedirectURIs: []string{cb}, DPoPBound: true},
		},
	})
	defer srv.Close()

	pkEC := client.PrivateKeyJWT(ecClient, "k1")
	pkRSA := client.PrivateKeyJWT(rsaKey, "k1")
	pkRSA.Algorithm = jose.PS256
	configs := []client.Config{
		{ClientID: "basic", Auth: client.ClientSecretBasic(basicS)},
		{ClientID: "post", Auth: client.ClientSecretPost(postS)},
		{ClientID: "jwt", Auth: client.ClientSecretJWT(jwtS)},
		{ClientID: "pk-ec", Auth: pkEC},
		{ClientID: "pk-rsa", Auth: pkRSA},
		{ClientID: "jar-hs", Auth: client.ClientSecretBasic(jarS), RequestObject: &jar.Config{Secret: []byte(jarS)}},
		{ClientID: "jar-ec", Auth: client.ClientSecretBasic(jarS), RequestObject: &jar.Config{Signer: ecJAR, KeyID: "k1"}},
		{ClientID: "dpop", Auth: client.ClientSecretBasic(dpopS), DPoP: proofer},
	}
	ctx := context.Background()
	for _, cfg := range configs {
		cfg.Issuer, cfg.RedirectURL, cfg.HTTPClient, cfg.Logger = srv.Issuer(), cb, hc, logger
		name := cfg.ClientID
		c, err := client.New(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		run.text(name+" auth formatted", fmt.Sprintf("%v|%+v|%#v|%s", cfg.Auth, cfg.Auth, cfg.Auth, cfg.Auth))
		run.text(name+" client formatted", fmt.Sprintf("%v|%+v|%#v|%s", c, c, c, c))
		run.text(name+" config formatted", fmt.Sprintf("%v|%+v|%#v", cfg, cfg, cfg))
		logger.Debug("client", "auth", cfg.Auth, "client", c)

		// Success: push, login, exchange, userinfo, refresh, resource call.
		flow, err := c.Push(ctx)
		if err != nil {
			t.Fatalf("%s: Push: %v", name, err)
		}
		markers[flow.CodeVerifier] = "code verifier"
		u, err := c.AuthorizationURL(flow)
		if err != nil {
			t.Fatalf("%s: AuthorizationURL: %v", name, err)
		}
		params, err := srv.Login(u)
		if err != nil {
			t.Fatalf("%s: Login: %v", name, err)
		}
		markers[params.Get("code")] = "authorization code"
		tok, err := c.Exchange(ctx, flow, params)
		if err != nil {
			t.Fatalf("%s: Exchange: %v", name, err)
		}
		run.text(name+" flow %v", fmt.Sprintf("%v|%+v|%s", flow, flow, flow))
		run.text(name+" tokens %v", fmt.Sprintf("%v|%+v|%s", tok, tok, tok))
		logger.Debug("login", "flow", flow, "tokens", tok)
		if _, err := c.UserInfo(ctx, tok); err != nil {
			t.Fatalf("%s: UserInfo: %v", name, err)
		}
		if _, err := c.Refresh(ctx, tok); err != nil {
			t.Fatalf("%s: Refresh: %v", name, err)
		}
		resp, err := c.ResourceClient(tok).Get(srv.Metadata()["userinfo_endpoint"].(string))
		if err != nil {
			t.Fatalf("%s: resource call: %v", name, err)
		}
		resp.Body.Close()

		// Failures.
		_, err = c.Exchange(ctx, flow, params) // the code again
		run.err(name+" code replay", err)
		bad := url.Values{"state": {flow.State}, "code": {params.Get("code")}, "iss": {"https://evil.example"}}
		_, err = c.Exchange(ctx, flow, bad)
		run.err(name+" iss mix-up", err)
		bad = url.Values{"state": {"x" + flow.State}, "code": {params.Get("code")}, "iss": {srv.Issuer()}}
		_, err = c.Exchange(ctx, flow, bad)
		run.err(name+" state mismatch", err)
		forged := "REFRESH-MARKER-" + rand.Text()
		markers[forged] = "refresh token (forged)"
		_, err = c.Refresh(ctx, &client.Tokens{Token: &oauth2.Token{RefreshToken: forged}})
		run.err(name+" refresh with an unknown token", err)
		stolen := *tok
		stolenTok := *tok.Token
		stolenTok.AccessToken = "ACCESS-MARKER-" + rand.Text()
		markers[stolenTok.AccessToken] = "access token (forged)"
		stolen.Token = &stolenTok
		_, err = c.UserInfo(ctx, &stolen)
		run.err(name+" userinfo with a bad token", err)

		// The provider misbehaves around real secrets.
		flow2, err := c.Push(ctx)
		if err != nil {
			t.Fatalf("%s: Push: %v", name, err)
		}
		markers[flow2.CodeVerifier] = "code verifier"
		u2, _ := c.AuthorizationURL(flow2)
		params2, err := srv.Login(u2)
		if err != nil {
			t.Fatalf("%s: Login: %v", name, err)
		}
		markers[params2.Get("code")] = "authorization code"
		for _, f := range []partest.Fault{
			{IDTokenAlg: "none"}, {IDTokenAlg: jose.HS256}, {TruncateBody: true}, {OversizeBody: true},
			{Status: 400, Body: `{"error":"invalid_grant"}`}, {Status: 500, Body: "<html>oops</html>"},
		} {
			f.Times = 1
			srv.SetFault(partest.EndpointToken, f)
			_, err = c.Exchange(ctx, flow2, params2)
			run.err(fmt.Sprintf("%s token fault %+v", name, f.IDTokenAlg), err)
		}
		srv.ClearFault(partest.EndpointToken)
		srv.SetFault(partest.EndpointPAR, partest.Fault{Times: 1, Status: 503, Body: "<html>down</html>"})
		_, err = c.Push(ctx)
		run.err(name+" par 503", err)
	}

	// Wrong credentials: the (wrong) secret must not show either.
	for _, auth := range []client.AuthMethod{
		client.ClientSecretBasic(secretOf("wrong-basic")), client.ClientSecretPost(secretOf("wrong-post")),
		client.ClientSecretJWT(secretOf("wrong-jwt")), client.PrivateKeyJWT(ecKey("wrong ec key"), "k1"),
	} {
		c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "basic", Auth: auth, RedirectURL: cb,
			HTTPClient: hc, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Push(ctx)
		run.err(auth.Method()+" wrong credentials", err)
	}

	// The callback parser and the key loaders never echo their input.
	code := "CODE-MARKER-" + rand.Text()
	markers[code] = "authorization code (callback)"
	r, _ := http.NewRequest(http.MethodGet, cb+"?code="+code+"&code="+code, nil)
	_, err = client.ParseResponse(r)
	run.err("callback with a duplicate code", err)
	pemText := "-----BEGIN PRIVATE KEY-----\nKEYFILE-MARKER-" + rand.Text() + "\n-----END PRIVATE KEY-----\n"
	markers[pemText[28:60]] = "key file content"
	_, err = keys.ParsePEM([]byte(pemText))
	run.err("ParsePEM of a broken key", err)
	jwkText := `{"kty":"EC","crv":"P-256","d":"JWK-MARKER-` + rand.Text() + `"}`
	markers[jwkText[30:60]] = "jwk content"
	_, err = keys.ParseJWK([]byte(jwkText))
	run.err("ParseJWK of a broken key", err)
	k, err := keys.New(ecClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	run.text("keys.Key", fmt.Sprintf("%v|%+v|%#v|%s", k, k, k, k))
	logger.Debug("key", "key", k, "proofer", proofer)
	run.text("dpop.Proofer", fmt.Sprintf("%v|%+v|%#v|%s", proofer, proofer, proofer, proofer))
	cookieKey := []byte("COOKIE-KEY-MARKER-0123456789abcd")
	markers[string(cookieKey)] = "cookie key"
	markers[fmt.Sprint(cookieKey)[1:40]] = "cookie key (bytes)"
	markers[base64.StdEncoding.EncodeToString(cookieKey)[:20]] = "cookie key (base64)"
	cc := login.CookieConfig{Keys: [][]byte{cookieKey}}
	store, err := login.NewCookieStore(cc)
	if err != nil {
		t.Fatal(err)
	}
	run.text("cookie config and store", fmt.Sprintf("%v|%+v|%#v|%v|%+v|%#v", cc, cc, cc, store, store, store))
	logger.Debug("cookies", "config", cc, "store", store)
	for _, ro := range []*jar.Config{{ClientID: "a", Audience: "https://op.example", Secret: []byte(jarS)},
		{ClientID: "a", Audience: "https://op.example", Signer: ecJAR}} {
		b, err := jar.New(*ro)
		if err != nil {
			t.Fatal(err)
		}
		run.text("jar.Builder", fmt.Sprintf("%v|%+v|%#v", b, b, b))
		logger.Debug("jar", "builder", b)
	}

	// The login handlers: a success, a replay, a mix-up, a provider error.
	loginFlows(t, ctx, srv, app, hc, logger, run, markers, basicS)

	// Everything the wire carried is a marker too.
	w.mu.Lock()
	for v, kind := range w.seen {
		markers[v] = "on the wire: " + kind
	}
	w.mu.Unlock()

	// The test must have seen what it claims to check.
	kinds := w.kinds()
	for _, want := range []string{"client_assertion", "code", "code_verifier", "refresh_token", "request", "access_token",
		"id_token", "dpop proof", "basic password", "client_secret"} {
		if kinds[want] == 0 {
			t.Errorf("the wire never carried a %s: the flows did not run as intended", want)
		}
	}
	if run.errs < 100 {
		t.Errorf("only %d failures collected", run.errs)
	}
	logText := logs.String()
	if !strings.Contains(logText, `"level":"DEBUG"`) {
		t.Error("no Debug log line was written")
	}

	// Every secret-holding type of the module, under the four verbs and
	// slog (TestSecretTypesCovered keeps this table complete).
	ms := &markerSet{t: t, m: markers}
	types := secretTypes(t, ms)
	leaks := checkSecretTypes(t, types, ms)
	typeMarkers := len(markers)

	for m, what := range markers {
		if len(m) < 12 {
			continue
		}
		if strings.Contains(logText, m) {
			leaks++
			t.Errorf("%s found in the log: %s", what, excerpt(logText, m))
		}
		for label, text := range run.texts {
			if strings.Contains(text, m) {
				leaks++
				t.Errorf("%s found in %s: %s", what, label, excerpt(text, m))
			}
		}
	}
	// The summary line starts at column 0 so that scripts/test.sh shows it.
	fmt.Printf("secrets: %d markers × %d verbs and slog × %d types; %d markers (%d kinds on the wire) × %d error strings, values and pages, %d log bytes: %d found\n",
		typeMarkers, len(verbs), len(types), len(markers), len(kinds), len(run.texts), len(logText), leaks)
}

// loginFlows runs the login handlers with the logger and records their
// errors and error pages.
func loginFlows(t *testing.T, ctx context.Context, srv *partest.Server, app *env, hc *http.Client, logger *slog.Logger,
	run *secretRun, markers map[string]string, secret string) {
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "basic", Auth: client.ClientSecretBasic(secret),
		RedirectURL: app.redirect, HTTPClient: hc, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var errs []error
	h, err := login.New(login.Config{
		Client: c, Logger: logger, Cookie: login.CookieConfig{InsecureCookie: true},
		OnLogin: func(w http.ResponseWriter, r *http.Request, tok *client.Tokens) {
			logger.Debug("app: logged in", "tokens", tok)
			fmt.Fprint(w, tok.IDToken.Subject)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			login.DefaultOnError(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hh http.Handler = h
	app.handler.Store(&hh)
	step := func(label string, tamper func(url.Values), fault *partest.Fault) {
		b := newBrowser(app.app.URL, app.tr)
		status, loc, err := b.start(ctx)
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("%s: start = %d, %v", label, status, err)
		}
		params, err := srv.Login(loc)
		if err != nil {
			t.Fatalf("%s: Login: %v", label, err)
		}
		markers[params.Get("code")] = "authorization code (login)"
		if tamper != nil {
			tamper(params)
		}
		if fault != nil {
			srv.SetFault(partest.EndpointToken, *fault)
			defer srv.ClearFault(partest.EndpointToken)
		}
		for i := range 2 { // the second time is a replay
			_, body, err := b.callback(ctx, params)
			if err != nil {
				t.Fatalf("%s: callback: %v", label, err)
			}
			run.text(fmt.Sprintf("login %s: page %d", label, i), body)
		}
	}
	step("success then replay", nil, nil)
	step("iss mix-up", func(p url.Values) { p.Set("iss", "https://evil.example") }, nil)
	step("provider error", func(p url.Values) {
		p.Del("code")
		p.Set("error", "access_denied")
	}, nil)
	step("forged id token", nil, &partest.Fault{IDTokenAlg: jose.HS256})
	step("token endpoint down", nil, &partest.Fault{Status: 503, Body: "<html>maintenance</html>"})
	mu.Lock()
	defer mu.Unlock()
	if len(errs) < 9 {
		t.Errorf("login handlers reported %d errors, want at least 9", len(errs))
	}
	for i, err := range errs {
		run.err(fmt.Sprintf("login error %d", i), err)
	}
	if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, login.ErrFlowNotFound) }) {
		t.Error("no replayed callback was refused")
	}
}

// excerpt shows where m occurs in s.
func excerpt(s, m string) string {
	i := strings.Index(s, m)
	from, to := max(0, i-60), min(len(s), i+len(m)+20)
	return "…" + s[from:to] + "…"
}
