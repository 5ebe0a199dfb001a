package bench_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/bench/internal/baseline"
	"github.com/go-par/par/bench/internal/stub"
	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
)

const (
	clientID    = "0a775a87-878c-4b83-abe3-ee29c720c3e7"
	secret      = "rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr=" // broker secrets hold + / =
	redirectURL = "https://app.example/callback"
	scope       = "openid mitid"
)

// keys are generated once per test binary.
var keys = sync.OnceValue(func() struct {
	ec, ro, dpop *ecdsa.PrivateKey
	rsa          *rsa.PrivateKey
} {
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return struct {
		ec, ro, dpop *ecdsa.PrivateKey
		rsa          *rsa.PrivateKey
	}{gen(), gen(), gen(), r}
})

// newHTTPClient returns a client whose transport keeps enough idle
// connections for 64 concurrent pushes (the default keeps 2 per host, which
// makes every concurrent benchmark measure TCP handshakes). SDK and
// baseline each get their own, configured alike.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t}
}

// variant is one way of pushing, built for the SDK and the baseline alike.
type variant struct {
	name string
	sdk  func(c *client.Config)
	base func(c *baseline.Config)
}

var variants = []variant{
	{
		name: "client_secret_basic",
		sdk:  func(c *client.Config) { c.Auth = client.ClientSecretBasic(secret) },
		base: func(c *baseline.Config) { c.Secret = secret },
	},
	{
		name: "private_key_jwt_ES256",
		sdk:  func(c *client.Config) { c.Auth = client.PrivateKeyJWT(keys().ec, "es-1") },
		base: func(c *baseline.Config) { c.Key, c.KeyAlg, c.KeyID = keys().ec, jose.ES256, "es-1" },
	},
	{
		name: "private_key_jwt_PS256",
		sdk: func(c *client.Config) {
			a := client.PrivateKeyJWT(keys().rsa, "ps-1")
			a.Algorithm = jose.PS256
			c.Auth = a
		},
		base: func(c *baseline.Config) { c.Key, c.KeyAlg, c.KeyID = keys().rsa, jose.PS256, "ps-1" },
	},
	{
		// client_secret_basic plus a signed request object: the added cost
		// is the request object alone.
		name: "request_object_ES256",
		sdk: func(c *client.Config) {
			c.Auth = client.ClientSecretBasic(secret)
			c.RequestObject = &jar.Config{Signer: keys().ro, KeyID: "ro-1", Type: jar.TypeRequestObject}
		},
		base: func(c *baseline.Config) {
			c.Secret = secret
			c.RequestObjectKey, c.RequestObjectAlg, c.RequestObjectKeyID = keys().ro, jose.ES256, "ro-1"
			c.RequestObjectType = jar.TypeRequestObject
		},
	},
	{
		// client_secret_basic plus a DPoP proof at the PAR endpoint.
		name: "dpop_ES256",
		sdk: func(c *client.Config) {
			c.Auth = client.ClientSecretBasic(secret)
			p, err := dpop.NewProofer(keys().dpop, nil)
			if err != nil {
				panic(err)
			}
			c.DPoP = p
		},
		base: func(c *baseline.Config) { c.Secret, c.DPoPKey, c.DPoPAlg = secret, keys().dpop, jose.ES256 },
	},
}

// pushers returns the SDK client and the baseline client for v, both
// pushing to issuer's PAR endpoint.
func pushers(tb testing.TB, v variant, issuer string) (*client.Client, *baseline.Client) {
	tb.Helper()
	c, b, err := newPushers(v, issuer)
	if err != nil {
		tb.Fatal(err)
	}
	return c, b
}

func newPushers(v variant, issuer string) (*client.Client, *baseline.Client, error) {
	cfg := client.Config{Issuer: issuer, ClientID: clientID, RedirectURL: redirectURL,
		Scopes: []string{"openid", "mitid"}, HTTPClient: newHTTPClient()}
	v.sdk(&cfg)
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		return nil, nil, err
	}
	md := c.Metadata()
	bc := baseline.Config{HTTPClient: newHTTPClient(), Issuer: md.Issuer, PARURL: md.PushedAuthorizationRequestEndpoint,
		TokenURL: md.TokenEndpoint, JWKSURL: md.JWKSURI, ClientID: clientID, RedirectURL: redirectURL, Scope: scope}
	v.base(&bc)
	b, err := baseline.New(bc)
	if err != nil {
		return nil, nil, err
	}
	return c, b, nil
}

// startStub starts the stub PAR endpoint for one test or benchmark.
func startStub(tb testing.TB, onPush func(*http.Request)) *stub.Server {
	tb.Helper()
	s, err := stub.StartRecording(onPush)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}
