package interop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/interop/internal/opharness"
)

// testUser is the subject server.mjs logs in.
const testUser = "interop-user-1"

// specialSecret holds every character that Basic credentials must
// form-urlencode (RFC 6749 §2.3.1): + / : % and a space.
const specialSecret = "s3cr+t/with:colon%25and space+=="

// key is a client signing key registered with the provider.
type key struct {
	signer crypto.Signer
	kid    string
	alg    jose.SignatureAlgorithm
}

// fixture is one provider plus the credentials of its clients.
type fixture struct {
	op          *opharness.Provider
	redirectURI string
	secrets     map[string]string
	keys        map[string]key
}

// keys are generated once per test binary (RSA generation is slow under
// -race) and shared by every provider.
var (
	keysOnce   sync.Once
	sharedKeys map[string]key
)

func clientKeys(t *testing.T) map[string]key {
	t.Helper()
	keysOnce.Do(func() {
		ec := func() crypto.Signer {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		// One RSA key for every RSA client: generating RSA keys under -race
		// takes seconds each.
		rs, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		sharedKeys = map[string]key{
			"pkjwt-es256": {ec(), "es256-1", jose.ES256},
			"pkjwt-rs256": {rs, "rs256-1", jose.RS256},
			"pkjwt-ps256": {rs, "ps256-1", jose.PS256},
			"jar-es256":   {ec(), "jar-es256-1", jose.ES256},
			"jar-rs256":   {rs, "jar-rs256-1", jose.RS256},
			"jar-ps256":   {rs, "jar-ps256-1", jose.PS256},
			"jar-eddsa":   {ed, "jar-eddsa-1", jose.EdDSA},
		}
	})
	return sharedKeys
}

func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// startOP starts a provider in mode with every client of server.mjs's
// catalogue registered, fresh secrets, and a redirect_uri served by an
// httptest server that fails the test if anything reaches it (the browser
// must stop at the redirect).
func startOP(t *testing.T, mode string) *fixture {
	t.Helper()
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect_uri was requested: %s %s", r.Method, r.URL.Path)
		http.Error(w, "not for browsers", http.StatusTeapot)
	}))
	t.Cleanup(cb.Close)

	f := &fixture{
		redirectURI: cb.URL + "/cb",
		secrets: map[string]string{
			"basic":         randomSecret(t),
			"basic-special": specialSecret + randomSecret(t)[:8],
			"post":          randomSecret(t),
			"secret-jwt":    randomSecret(t),
			"par-only":      randomSecret(t),
			"jar-hs256":     randomSecret(t),
			"dpop":          randomSecret(t),
		},
		keys: clientKeys(t),
	}
	jwks := map[string]jose.JSONWebKeySet{}
	for id, k := range f.keys {
		jwks[id] = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: k.signer.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig",
		}}}
	}
	f.op = opharness.StartForTest(t, opharness.Options{
		Dir:         ".",
		Mode:        mode,
		RedirectURI: f.redirectURI,
		Secrets:     f.secrets,
		JWKS:        jwks,
	})
	return f
}

func (f *fixture) browser(t *testing.T) *opharness.Browser {
	t.Helper()
	b, err := opharness.NewBrowser(f.redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
