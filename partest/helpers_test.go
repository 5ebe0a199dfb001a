package partest

// Hand-written client code for the tests: plain net/http and go-jose, no
// go-par package, so the server is checked independently of the SDK.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testCallback = "https://rp.example/callback"

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv := NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// basicClient is the usual confidential client.
func basicClient() Client {
	return Client{ID: "app", Secret: "s3cret", RedirectURIs: []string{testCallback}}
}

// testClock is an injectable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// response is a decoded JSON answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

// do sends a request with the server's client and decodes a JSON answer.
func do(t *testing.T, srv *Server, req *http.Request) response {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", req.Method, req.URL, raw, err)
		}
	}
	return out
}

// post posts form to u with optional headers.
func post(t *testing.T, srv *Server, u string, form url.Values, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, srv, req)
}

func get(t *testing.T, srv *Server, u string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, srv, req)
}

// basic builds an RFC 6749 §2.3.1 header: form-urlencoded, then base64.
func basic(id, secret string) http.Header {
	v := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(v))}}
}

// rawBasic builds a Basic header without the form-encoding step (the
// common client bug).
func rawBasic(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
}

// flow is a client's per-login state.
type flow struct {
	verifier, state, nonce string
}

func newFlow() flow {
	return flow{verifier: randomString(32), state: randomString(12), nonce: randomString(12)}
}

// parParams are the authorization parameters of f.
func (f flow) parParams(clientID string) url.Values {
	return url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"redirect_uri":          {testCallback},
		"scope":                 {"openid"},
		"state":                 {f.state},
		"nonce":                 {f.nonce},
		"code_challenge":        {s256(f.verifier)},
		"code_challenge_method": {"S256"},
	}
}

func authURL(srv *Server, clientID, requestURI string) string {
	return srv.endpointURL(pathAuthorize) + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// push sends a PAR request and requires 201.
func push(t *testing.T, srv *Server, form url.Values, header http.Header) string {
	t.Helper()
	r := post(t, srv, srv.endpointURL(pathPAR), form, header)
	if r.status != http.StatusCreated {
		t.Fatalf("PAR status = %d %s, want 201", r.status, r.raw)
	}
	return r.str("request_uri")
}

// loginCode pushes f for the basic client, logs in and returns the code.
func loginCode(t *testing.T, srv *Server, f flow) string {
	t.Helper()
	uri := push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if params.Get("code") == "" {
		t.Fatalf("Login gave no code: %v", params)
	}
	return params.Get("code")
}

func tokenForm(code string, f flow) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testCallback},
		"code_verifier": {f.verifier},
	}
}

var (
	ecOnce sync.Once
	ecKeys []*ecdsa.PrivateKey
)

// ecKey returns cached P-256 test key i (0..3).
func ecKey(i int) *ecdsa.PrivateKey {
	ecOnce.Do(func() {
		for range 4 {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			ecKeys = append(ecKeys, k)
		}
	})
	return ecKeys[i]
}

func publicJWK(k crypto.Signer, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"}
}

// sign signs claims with key (crypto.Signer or []byte) and extra headers.
func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, headers map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	s, err := signRaw(key, alg, headers, claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signRaw(key any, alg jose.SignatureAlgorithm, headers map[jose.HeaderKey]any, claims map[string]any) (string, error) {
	opts := &jose.SignerOptions{}
	for k, v := range headers {
		opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// assertionClaims are valid client assertion claims for the server.
func assertionClaims(srv *Server, clientID string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": clientID, "sub": clientID, "aud": srv.Issuer(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": randomString(16),
	}
}

func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("client_assertion_type", assertionType)
	out.Set("client_assertion", assertion)
	return out
}

// dpopProof builds a DPoP proof (RFC 9449 §4.2).
func dpopProof(t *testing.T, key *ecdsa.PrivateKey, htm, htu string, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"htm": htm, "htu": htu, "iat": time.Now().Unix(), "jti": randomString(16)}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	jwk := jose.JSONWebKey{Key: key.Public()}
	return sign(t, key, jose.ES256, map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": jwk}, claims)
}

func thumbprint(t *testing.T, key crypto.Signer) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: key.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// verifyIDToken fetches the JWKS through discovery, like a relying party,
// and verifies idToken with go-jose.
func verifyIDToken(t *testing.T, srv *Server, idToken string) map[string]any {
	t.Helper()
	md := get(t, srv, srv.Issuer()+"/.well-known/openid-configuration", nil)
	jwksURI := md.str("jwks_uri")
	r := get(t, srv, jwksURI, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.raw, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	obj, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("ParseSignedCompact(id_token): %v", err)
	}
	keys := set.Key(obj.Signatures[0].Protected.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q, want 1", len(keys), obj.Signatures[0].Protected.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func atHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// hs signs claims with HMAC by hand (go-jose refuses short secrets, which
// real clients use).
func hsJWT(t *testing.T, secret string, alg jose.SignatureAlgorithm, headers map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": string(alg)}
	for k, v := range headers {
		h[k] = v
	}
	hb, _ := json.Marshal(h)
	pb, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	newHash := sha256.New
	if alg == jose.HS512 {
		newHash = sha512.New
	}
	m := hmac.New(newHash, []byte(secret))
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}
