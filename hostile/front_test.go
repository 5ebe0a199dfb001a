package hostile_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
)

// TestFrontChannelHygiene logs in through the front channel
// (client.Config.InsecureFrontChannel, a provider without PAR) with every
// client authentication method and a request object, and checks that no
// client secret, private key, assertion or verifier reaches the
// authorization URL, a Debug log line or an error; the secrets still
// authenticate the client, at the token endpoint. Options that would put a
// credential into the URL are refused without echoing it.
func TestFrontChannelHygiene(t *testing.T) {
	t.Parallel()
	const cb = "https://app.example/callback"
	markers := map[string]string{}
	secretOf := func(name string) string {
		s := "SECRET-MARKER-" + name + "-" + rand.Text()
		markers[s], markers[url.QueryEscape(s)] = "client secret "+name, "client secret "+name+" (form-encoded)"
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
	jwks := func(k *ecdsa.PrivateKey) jose.JSONWebKeySet {
		return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	}
	basicS, postS, jwtS, roS := secretOf("basic"), secretOf("post"), secretOf("jwt"), secretOf("ro")
	pk, roKey, dpopKey := ecKey("client key"), ecKey("request-object key"), ecKey("dpop key")
	proofer, err := dpop.NewProofer(dpopKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := partest.NewServer(partest.Config{NoPAR: true, IDTokenAlg: jose.ES256, Clients: []partest.Client{
		{ID: "basic", Secret: basicS, RedirectURIs: []string{cb}},
		{ID: "post", Secret: postS, AuthMethod: partest.AuthClientSecretPost, RedirectURIs: []string{cb}},
		{ID: "jwt", Secret: jwtS, AuthMethod: partest.AuthClientSecretJWT, RedirectURIs: []string{cb}},
		{ID: "pk", JWKS: jwks(pk), RedirectURIs: []string{cb}, DPoPBound: true},
		{ID: "ro", Secret: roS, JWKS: jwks(roKey), AuthMethod: partest.AuthClientSecretBasic, RedirectURIs: []string{cb},
			RequireSignedRequestObject: true},
	}})
	defer srv.Close()
	w := newWire(srv.Client().Transport)
	hc := &http.Client{Transport: w}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx := context.Background()
	var texts []string
	for _, cfg := range []client.Config{
		{ClientID: "basic", Auth: client.ClientSecretBasic(basicS)},
		{ClientID: "post", Auth: client.ClientSecretPost(postS)},
		{ClientID: "jwt", Auth: client.ClientSecretJWT(jwtS)},
		{ClientID: "pk", Auth: client.PrivateKeyJWT(pk, "k1"), DPoP: proofer},
		{ClientID: "ro", Auth: client.ClientSecretBasic(roS), RequestObject: &jar.Config{Signer: roKey, KeyID: "k1"}},
	} {
		cfg.Issuer, cfg.RedirectURL, cfg.HTTPClient, cfg.Logger, cfg.InsecureFrontChannel = srv.Issuer(), cb, hc, logger, true
		c, err := client.New(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: New: %v", cfg.ClientID, err)
		}
		flow, err := c.Push(ctx, client.WithPrompt("login"))
		if err != nil {
			t.Fatalf("%s: Push: %v", cfg.ClientID, err)
		}
		markers[flow.CodeVerifier] = "code verifier"
		u, err := c.AuthorizationURL(flow)
		if err != nil {
			t.Fatalf("%s: AuthorizationURL: %v", cfg.ClientID, err)
		}
		texts = append(texts, u, fmt.Sprintf("%v|%+v|%#v", flow, flow, flow))
		params, err := srv.Login(u)
		if err != nil {
			t.Fatalf("%s: Login: %v", cfg.ClientID, err)
		}
		if _, err := c.Exchange(ctx, flow, params); err != nil {
			t.Fatalf("%s: Exchange: %v", cfg.ClientID, err)
		}
		for _, name := range []string{"client_secret", "code", "access_token", "password"} {
			v := "CREDENTIAL-MARKER-" + rand.Text()
			markers[v] = "credential option " + name
			_, err := c.Push(ctx, client.WithParam(name, v))
			if !errors.Is(err, client.ErrReservedParameter) {
				t.Errorf("%s: Push with %s = %v, want ErrReservedParameter", cfg.ClientID, name, err)
			}
			texts = append(texts, fmt.Sprint(err))
		}
	}
	if n := srv.Requests(partest.EndpointPAR); n != 0 {
		t.Errorf("%d requests to the PAR path", n)
	}
	// The secrets did authenticate the client, at the token endpoint.
	kinds := w.kinds()
	for _, want := range []string{"basic password", "client_secret", "client_assertion", "dpop proof", "code_verifier"} {
		if kinds[want] == 0 {
			t.Errorf("the token requests never carried a %s: the flows did not run as intended", want)
		}
	}
	w.mu.Lock()
	for v, kind := range w.seen {
		if kind != "code" { // codes come back through the front channel by design
			markers[v] = "back channel: " + kind
		}
	}
	w.mu.Unlock()
	texts = append(texts, logs.String())
	for _, text := range texts {
		for m, what := range markers {
			if strings.Contains(text, m) {
				t.Errorf("%s found in %.200q", what, text)
			}
		}
	}
}
