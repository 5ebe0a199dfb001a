package interop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
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
	cb          *httptest.Server
	redirectURI string
	secrets     map[string]string
	keys        map[string]key
	// encKeys are the private keys of clients registered for encrypted
	// JWT-secured authorization responses (JARM §3).
	encKeys map[string]*rsa.PrivateKey
}

// keys are generated once per test binary (RSA generation is slow under
// -race) and shared by every provider.
var (
	keysOnce   sync.Once
	sharedKeys map[string]key
)

func clientKeys() map[string]key {
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

var (
	encKeyOnce sync.Once
	encKey     *rsa.PrivateKey
)

// jarmEncKey is jarm-enc's encryption key (use enc, RSA-OAEP-256), kept
// apart from the signing keys.
func jarmEncKey() *rsa.PrivateKey {
	encKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		encKey = k
	})
	return encKey
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// The providers are shared by every test of the package, one per mode:
// starting node-oidc-provider takes seconds on a loaded machine. Each test
// uses its own browser (cookie jar), flow and client; nothing a test does
// changes what another sees. TestMain stops them.
var (
	opsMu sync.Mutex
	ops   = map[string]*opEntry{}
)

type opEntry struct {
	once sync.Once
	f    *fixture
	err  error
}

// callbackHits counts requests that reached a redirect_uri: the browser
// must stop at the redirect, so TestMain fails the run if any did.
var callbackHits atomic.Int32

func TestMain(m *testing.M) {
	code := m.Run()
	opsMu.Lock()
	for _, e := range ops {
		if e.f != nil {
			e.f.op.Close()
			e.f.cb.Close()
		}
	}
	opsMu.Unlock()
	if n := callbackHits.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the redirect_uri was requested %d times\n", n)
		code = 1
	}
	os.Exit(code)
}

// startOP returns the provider of mode, starting it on first use, with every
// client of server.mjs's catalogue registered and fresh secrets. The
// redirect_uri is served by an httptest server that counts hits.
func startOP(t *testing.T, mode string) *fixture {
	t.Helper()
	opsMu.Lock()
	e, ok := ops[mode]
	if !ok {
		e = &opEntry{}
		ops[mode] = e
	}
	opsMu.Unlock()
	e.once.Do(func() { e.f, e.err = launch(mode) })
	if e.err != nil {
		opharness.SkipOrFail(t, e.err)
	}
	return e.f
}

func launch(mode string) (*fixture, error) {
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbackHits.Add(1)
		http.Error(w, "not for browsers", http.StatusTeapot)
	}))
	f := &fixture{
		cb:          cb,
		redirectURI: cb.URL + "/cb",
		secrets: map[string]string{
			"basic":         randomSecret(),
			"basic-special": specialSecret + randomSecret()[:8],
			"post":          randomSecret(),
			"secret-jwt":    randomSecret(),
			"par-only":      randomSecret(),
			"jar-hs256":     randomSecret(),
			"dpop":          randomSecret(),
			"jarm":          randomSecret(),
			"jarm-enc":      randomSecret(),
			"rar":           randomSecret(),
		},
		keys:    clientKeys(),
		encKeys: map[string]*rsa.PrivateKey{"jarm-enc": jarmEncKey()},
	}
	jwks := map[string]jose.JSONWebKeySet{}
	for id, k := range f.keys {
		jwks[id] = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: k.signer.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig",
		}}}
	}
	for id, k := range f.encKeys {
		jwks[id] = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: id + "-enc", Use: "enc"}}}
	}
	opts := opharness.Options{
		Dir:         ".",
		Mode:        mode,
		RedirectURI: f.redirectURI,
		Secrets:     f.secrets,
		JWKS:        jwks,
	}
	if testing.Verbose() && os.Getenv("GOPAR_INTEROP_DEBUG") != "" {
		opts.Stderr = os.Stderr
	}
	var err error
	if f.op, err = opharness.Start(context.Background(), opts); err != nil {
		cb.Close()
		return nil, err
	}
	return f, nil
}

func (f *fixture) browser(t *testing.T) *opharness.Browser {
	t.Helper()
	b, err := opharness.NewBrowser(f.redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
