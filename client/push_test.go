package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/discovery"
)

// testProvider is an httptest server mounted under /op (a path-bearing
// issuer, like the MitID broker's) whose PAR endpoint runs par.
func testProvider(t *testing.T, par http.HandlerFunc) (*httptest.Server, *discovery.Metadata) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/op/connect/par", par)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := srv.URL + "/op"
	md := &discovery.Metadata{
		Issuer:                             iss,
		AuthorizationEndpoint:              iss + "/connect/authorize?tenant=dk",
		TokenEndpoint:                      iss + "/connect/token",
		PushedAuthorizationRequestEndpoint: iss + "/connect/par",
		JWKSURI:                            iss + "/jwks",
		UserinfoEndpoint:                   iss + "/connect/userinfo",
		EndSessionEndpoint:                 iss + "/connect/endsession",
	}
	return srv, md
}

func newClient(t *testing.T, md *discovery.Metadata, auth AuthMethod, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Metadata: md, ClientID: "0a775a87-878c-4b83-abe3-ee29c720c3e7", Auth: auth,
		RedirectURL: "https://app.example/callback", Scopes: []string{"openid", "mitid"}}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func created(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(body))
}

const brokerURI = "urn:ietf:params:oauth:request_uri:49FBAF9C1A282A0721038DAAA2452449DF269F0B816F8EAF0FAF2A8B242AA5BC"

// TestPushRequest asserts the exact PAR request, with a client id and secret
// holding every character that RFC 6749 §2.3.1 form-encoding changes.
func TestPushRequest(t *testing.T) {
	t.Parallel()
	const id, secret = "app+/=%: x", "s3cr+t/with=%: and more"
	var got url.Values
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		// Decode Basic the way RFC 6749 §2.3.1 says a server must.
		user, pass, ok := r.BasicAuth()
		if !ok {
			t.Fatal("no Basic credentials")
		}
		u, err1 := url.QueryUnescape(user)
		p, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || u != id || p != secret {
			t.Errorf("Basic credentials decode to %q/%q (errs %v %v), want the configured ones", u, p, err1, err2)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		got = r.PostForm
		created(w, `{"request_uri":"`+brokerURI+`","expires_in":600}`)
	})
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c := newClient(t, md, ClientSecretBasic(secret), func(cfg *Config) {
		cfg.ClientID = id
		cfg.Now = func() time.Time { return now }
	})
	flow, err := c.Push(context.Background(), WithPrompt("login"), oauth2.SetAuthURLParam("idp_values", "mitid"))
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	want := map[string]string{
		"client_id": id, "response_type": "code", "redirect_uri": "https://app.example/callback",
		"scope": "openid mitid", "state": flow.State, "nonce": flow.Nonce, "code_challenge_method": "S256",
		"prompt": "login", "idp_values": "mitid",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("form[%s] = %q, want %q", k, got.Get(k), v)
		}
	}
	if len(got) != len(want)+1 { // + code_challenge
		t.Errorf("form has %d parameters, want %d: %v", len(got), len(want)+1, keys(got))
	}
	if got.Has("client_secret") || got.Has("request_uri") {
		t.Errorf("form carries client_secret or request_uri: %v", keys(got))
	}
	if cc := got.Get("code_challenge"); cc == "" || cc == flow.CodeVerifier {
		t.Errorf("code_challenge = %q, want the S256 of the verifier", cc)
	}
	if flow.RequestURI != brokerURI || !flow.ExpiresAt.Equal(now.Add(600*time.Second)) {
		t.Errorf("flow = %v, want request_uri %s expiring at +600s", flow, brokerURI)
	}
	if len(flow.State) < 22 || len(flow.Nonce) < 22 || flow.State == flow.Nonce {
		t.Errorf("state/nonce not fresh random values")
	}
}

func keys(v url.Values) []string {
	var ks []string
	for k := range v {
		ks = append(ks, k)
	}
	return ks
}

func TestPushResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		ctype      string
		header     map[string]string
		body       string
		wantStatus int // for *ResponseError
		wantCode   string
		wantRetry  time.Duration
		wantSent   error
	}{
		{name: "ok", status: 201, body: `{"request_uri":"urn:x","expires_in":60}`},
		{name: "200 instead of 201", status: 200, body: `{"request_uri":"urn:x","expires_in":60}`, wantSent: ErrInvalidResponse},
		{name: "malformed json", status: 201, body: `{"request_uri":`, wantSent: ErrInvalidResponse},
		{name: "json array", status: 201, body: `[]`, wantSent: ErrInvalidResponse},
		{name: "missing request_uri", status: 201, body: `{"expires_in":60}`, wantSent: ErrInvalidResponse},
		{name: "empty request_uri", status: 201, body: `{"request_uri":"","expires_in":60}`, wantSent: ErrInvalidResponse},
		{name: "numeric request_uri", status: 201, body: `{"request_uri":42,"expires_in":60}`, wantSent: ErrInvalidResponse},
		{name: "null request_uri", status: 201, body: `{"request_uri":null,"expires_in":60}`, wantSent: ErrInvalidResponse},
		{name: "missing expires_in", status: 201, body: `{"request_uri":"urn:x"}`, wantSent: ErrInvalidResponse},
		{name: "zero expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":0}`, wantSent: ErrInvalidResponse},
		{name: "negative expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":-5}`, wantSent: ErrInvalidResponse},
		{name: "string expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":"60"}`, wantSent: ErrInvalidResponse},
		{name: "fractional expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":1.5}`, wantSent: ErrInvalidResponse},
		{name: "oversized body", status: 201, body: `{"request_uri":"urn:x","expires_in":60,"pad":"` + strings.Repeat("a", 1<<20) + `"}`, wantSent: ErrInvalidResponse},
		{name: "400 invalid_request", status: 400, body: `{"error":"invalid_request","error_description":"Invalid redirect_uri"}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "401 invalid_client", status: 401, body: `{"error":"invalid_client"}`, wantStatus: 401, wantCode: "invalid_client"},
		{name: "405", status: 405, body: ``, wantStatus: 405},
		{name: "413", status: 413, body: `{"error":"invalid_request"}`, wantStatus: 413, wantCode: "invalid_request"},
		{name: "429 retry-after seconds", status: 429, header: map[string]string{"Retry-After": "7"}, body: `{}`, wantStatus: 429, wantRetry: 7 * time.Second},
		{name: "503 html page", status: 503, ctype: "text/html", body: `<html>down</html>`, wantStatus: 503},
		{name: "302 redirect not followed", status: 302, header: map[string]string{"Location": "https://evil.example/"}, wantStatus: 302},
		{name: "500 error not a string", status: 500, body: `{"error":{"nested":1}}`, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
				ct := tt.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			c := newClient(t, md, ClientSecretPost("secret"))
			flow, err := c.Push(context.Background())
			switch {
			case tt.wantSent != nil:
				if !errors.Is(err, tt.wantSent) || flow != nil {
					t.Fatalf("Push() = %v, %v; want %v", flow, err, tt.wantSent)
				}
			case tt.wantStatus != 0:
				var re *ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("Push() error = %v, want *ResponseError", err)
				}
				if re.StatusCode != tt.wantStatus || re.Code != tt.wantCode || re.RetryAfter != tt.wantRetry || re.Endpoint != "par" {
					t.Errorf("ResponseError = %+v, want status %d code %q retry %v", re, tt.wantStatus, tt.wantCode, tt.wantRetry)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error string leaks the secret: %v", err)
				}
			default:
				if err != nil || flow.RequestURI != "urn:x" {
					t.Fatalf("Push() = %v, %v", flow, err)
				}
			}
		})
	}
}

func TestPushReservedParameters(t *testing.T) {
	t.Parallel()
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
		created(w, `{"request_uri":"urn:x","expires_in":60}`)
	})
	c := newClient(t, md, None())
	for _, opt := range []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("request_uri", "urn:evil"),
		oauth2.SetAuthURLParam("client_id", "someone-else"),
		oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		oauth2.SetAuthURLParam("request", "eyJ..."),
		oauth2.SetAuthURLParam("response_type", "token"),
		oauth2.S256ChallengeOption("v"),
	} {
		if _, err := c.Push(context.Background(), opt); !errors.Is(err, ErrReservedParameter) {
			t.Errorf("Push(%v) error = %v, want ErrReservedParameter", opt, err)
		}
	}
	// The configured client_id itself is harmless.
	if _, err := c.Push(context.Background(), oauth2.SetAuthURLParam("client_id", c.clientID)); err != nil {
		t.Errorf("Push(same client_id) = %v", err)
	}
}

// TestAuthorizationURL checks that exactly client_id and request_uri are
// added to the endpoint's own query (RFC 9126 §4) and that expiry is honoured.
func TestAuthorizationURL(t *testing.T) {
	t.Parallel()
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
		created(w, `{"request_uri":"`+brokerURI+`","expires_in":600}`)
	})
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := newClient(t, md, ClientSecretBasic("s"), func(cfg *Config) { cfg.Now = clock })
	flow, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if len(q) != 3 || q.Get("tenant") != "dk" || q.Get("client_id") != c.clientID || q.Get("request_uri") != brokerURI {
		t.Errorf("AuthorizationURL = %s; want the endpoint's tenant=dk plus exactly client_id and request_uri", raw)
	}
	if !strings.HasPrefix(raw, md.Issuer+"/connect/authorize?") {
		t.Errorf("AuthorizationURL = %s, want it at the authorization endpoint", raw)
	}
	mu.Lock()
	now = now.Add(596 * time.Second) // inside the 5 s skew
	mu.Unlock()
	if _, err := c.AuthorizationURL(flow); !errors.Is(err, ErrRequestURIExpired) {
		t.Errorf("AuthorizationURL after expiry: %v, want ErrRequestURIExpired", err)
	}
}

// TestClientAssertions verifies the assertion of each JWT method with
// go-jose: iss = sub = client_id, aud = issuer (a string), fresh jti, exp.
func TestClientAssertions(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pss := PrivateKeyJWT(rsaKey, "rsa-1")
	pss.Algorithm = jose.PS256
	typed := PrivateKeyJWT(ecKey, "ec-1")
	typed.Type = "client-authentication+jwt"
	aud := PrivateKeyJWT(ecKey, "ec-1")
	aud.Audience = "https://as.example/token"
	tests := []struct {
		name    string
		auth    *JWTAuth
		key     any
		alg     jose.SignatureAlgorithm
		typ     string
		wantAud string // "" = issuer
	}{
		{"client_secret_jwt", ClientSecretJWT("a-long-enough-shared-secret-for-hs256!"), []byte("a-long-enough-shared-secret-for-hs256!"), jose.HS256, "", ""},
		{"rs256", PrivateKeyJWT(rsaKey, "rsa-1"), &rsaKey.PublicKey, jose.RS256, "", ""},
		{"ps256", pss, &rsaKey.PublicKey, jose.PS256, "", ""},
		{"es256", PrivateKeyJWT(ecKey, "ec-1"), &ecKey.PublicKey, jose.ES256, "", ""},
		{"eddsa", PrivateKeyJWT(edKey, ""), edKey.Public(), jose.EdDSA, "", ""},
		{"typ", typed, &ecKey.PublicKey, jose.ES256, "client-authentication+jwt", ""},
		{"audience override", aud, &ecKey.PublicKey, jose.ES256, "", "https://as.example/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var forms []url.Values
			var mu sync.Mutex
			_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				if r.Header.Get("Authorization") != "" {
					t.Errorf("Authorization header set with a JWT method")
				}
				mu.Lock()
				forms = append(forms, r.PostForm)
				mu.Unlock()
				created(w, `{"request_uri":"urn:x","expires_in":60}`)
			})
			c := newClient(t, md, tt.auth)
			for range 2 {
				if _, err := c.Push(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			wantAud := tt.wantAud
			if wantAud == "" {
				wantAud = md.Issuer
			}
			var jtis []string
			for _, f := range forms {
				if f.Get("client_assertion_type") != assertionType || f.Get("client_id") != c.clientID {
					t.Errorf("form = %v", keys(f))
				}
				jws, err := jose.ParseSignedCompact(f.Get("client_assertion"), []jose.SignatureAlgorithm{tt.alg})
				if err != nil {
					t.Fatalf("assertion: %v", err)
				}
				if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != tt.typ {
					t.Errorf("typ = %q, want %q", typ, tt.typ)
				}
				payload, err := jws.Verify(tt.key)
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				var cl map[string]any
				json.Unmarshal(payload, &cl)
				if cl["iss"] != c.clientID || cl["sub"] != c.clientID || cl["aud"] != wantAud {
					t.Errorf("claims = %v", cl)
				}
				iat, _ := cl["iat"].(float64)
				exp, _ := cl["exp"].(float64)
				if exp-iat != 60 {
					t.Errorf("exp - iat = %v, want 60", exp-iat)
				}
				jti, _ := cl["jti"].(string)
				if raw, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(raw) < 16 {
					t.Errorf("jti = %q, want ≥128 random bits", jti)
				}
				jtis = append(jtis, jti)
			}
			if len(jtis) != 2 || jtis[0] == jtis[1] {
				t.Errorf("jti not fresh per request: %v", jtis)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {})
	noPAR := *md
	noPAR.PushedAuthorizationRequestEndpoint = ""
	plainHTTP := *md
	plainHTTP.PushedAuthorizationRequestEndpoint = "http://par.example/par"
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client id", Config{Metadata: md, Auth: None(), RedirectURL: "https://a/cb"}, "ClientID"},
		{"no auth", Config{Metadata: md, ClientID: "x", RedirectURL: "https://a/cb"}, "Auth"},
		{"no redirect", Config{Metadata: md, ClientID: "x", Auth: None()}, "RedirectURL"},
		{"relative redirect", Config{Metadata: md, ClientID: "x", Auth: None(), RedirectURL: "/cb"}, "RedirectURL"},
		{"no issuer", Config{ClientID: "x", Auth: None(), RedirectURL: "https://a/cb"}, "Issuer"},
		{"issuer mismatch", Config{Issuer: md.Issuer + "/", Metadata: md, ClientID: "x", Auth: None(), RedirectURL: "https://a/cb"}, "issuer"},
		{"no par endpoint", Config{Metadata: &noPAR, ClientID: "x", Auth: None(), RedirectURL: "https://a/cb"}, "pushed_authorization_request_endpoint"},
		{"http par endpoint", Config{Metadata: &plainHTTP, ClientID: "x", Auth: None(), RedirectURL: "https://a/cb"}, "https"},
		{"empty secret", Config{Metadata: md, ClientID: "x", Auth: ClientSecretBasic(""), RedirectURL: "https://a/cb"}, "secret"},
		{"nil signer", Config{Metadata: md, ClientID: "x", Auth: PrivateKeyJWT(nil, ""), RedirectURL: "https://a/cb"}, "signer"},
		{"hs256 id tokens", Config{Metadata: md, ClientID: "x", Auth: None(), RedirectURL: "https://a/cb", IDTokenAlgorithms: []string{"HS256"}}, "IDTokenAlgorithms"},
		{"none id tokens", Config{Metadata: md, ClientID: "x", Auth: None(), RedirectURL: "https://a/cb", IDTokenAlgorithms: []string{"none"}}, "IDTokenAlgorithms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(context.Background(), tt.cfg)
			if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() = %v, %v; want an error naming %q", c, err, tt.want)
			}
		})
	}
}

func FuzzParsePARResponse(f *testing.F) {
	for _, s := range []string{`{"request_uri":"urn:x","expires_in":60}`, `{"request_uri":"` + brokerURI + `","expires_in":600}`,
		`{}`, `[]`, `null`, `{"request_uri":1,"expires_in":"1"}`, `{"expires_in":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		uri, n, err := parsePARResponse(body)
		if err == nil && (uri == "" || n <= 0) {
			t.Fatalf("accepted %q as %q, %d", body, uri, n)
		}
		if err != nil && !errors.Is(err, ErrInvalidResponse) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// FuzzParseAuthorizationDetails: what the authorization_details parser
// accepts is an array of objects with a type, each kept exactly.
func FuzzParseAuthorizationDetails(f *testing.F) {
	f.Add([]byte(`[{"type":"payment_initiation","sequence":12345678901234567890,"a":{"b":[1,2]}}]`))
	f.Add([]byte(`[{"type":"x","actions":["read"],"identifier":"i"}]`))
	f.Add([]byte(`[{"type":7}]`))
	f.Add([]byte(`null`))
	f.Add([]byte(` [ ] `))
	f.Fuzz(func(t *testing.T, data []byte) {
		details, err := parseAuthorizationDetails(data)
		if err != nil {
			return
		}
		for i, d := range details {
			if d.Type() == "" {
				t.Fatalf("detail %d without type accepted: %s", i, d)
			}
			if !json.Valid(d) || !isJSON(d, '{') {
				t.Fatalf("detail %d is not a JSON object: %s", i, d)
			}
		}
	})
}

// parsePARResponseTwoPass is parsePARResponse as it was before the
// single-pass decoder (a json.RawMessage pass, then a second decode of
// request_uri): the reference the new one must agree with.
func parsePARResponseTwoPass(body []byte) (requestURI string, expiresIn int64, err error) {
	var r struct {
		RequestURI json.RawMessage `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", 0, fmt.Errorf("%w: par: body is not a JSON object: %w", ErrInvalidResponse, err)
	}
	if len(r.RequestURI) == 0 || r.RequestURI[0] != '"' {
		return "", 0, fmt.Errorf("%w: par: request_uri missing or not a string", ErrInvalidResponse)
	}
	if err := json.Unmarshal(r.RequestURI, &requestURI); err != nil || strings.TrimSpace(requestURI) == "" {
		return "", 0, fmt.Errorf("%w: par: request_uri is empty", ErrInvalidResponse)
	}
	raw := bytes.TrimSpace(r.ExpiresIn)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", 0, fmt.Errorf("%w: par: expires_in missing", ErrInvalidResponse)
	}
	n, perr := strconv.ParseInt(string(raw), 10, 64)
	if perr != nil || n <= 0 {
		return "", 0, fmt.Errorf("%w: par: expires_in must be a positive integer", ErrInvalidResponse)
	}
	if n > 24*3600 {
		n = 24 * 3600
	}
	return requestURI, n, nil
}

var parResponseCorpus = []string{
	`{"request_uri":"urn:x","expires_in":60}`, `{"request_uri":"` + brokerURI + `","expires_in":600}`,
	`{}`, `[]`, `null`, `{"request_uri":1,"expires_in":"1"}`, `{"expires_in":1e99}`,
	`{"request_uri":"urn:\u00e9\n","expires_in":60}`, `{"request_uri":"urn:x","expires_in":"60"}`,
	`{"request_uri":"urn:x","expires_in":null}`, `{"request_uri":null,"expires_in":60}`,
	`{"request_uri":"  ","expires_in":60}`, `{"request_uri":"urn:x","expires_in":-5}`,
	`{"request_uri":"urn:x","expires_in":0}`, `{"request_uri":"urn:x","expires_in":60.0}`,
	`{"request_uri":"urn:x","expires_in":999999999}`, `{"request_uri":"urn:x","expires_in":99999999999999999999}`,
	`{"request_uri":"a","request_uri":5,"expires_in":60}`, `{"request_uri":5,"request_uri":"a","expires_in":60}`,
	`{"request_uri":"urn:x","expires_in":60,"expires_in":null}`, `{"REQUEST_URI":"urn:x","Expires_In":60}`,
	"{\"request_uri\":\"urn:\xff\",\"expires_in\":60}", `{"request_uri":"\ud800","expires_in":60}`,
	`{"request_uri":"urn:x","expires_in":60}x`, `{"request_uri":"urn:x","expires_in":[60]}`,
	`{"request_uri":"urn:x","expires_in":{"a":1}}`, `{"request_uri":"urn:x","expires_in":true}`,
	` { "expires_in" : 60 ,` + "\n\t" + `"request_uri" : "urn:x" } `, `{"request_uri":"urn:x" "expires_in":60}`,
	`{"request_uri":"urn:x","expires_in":60,}`, `{"request_uri":"urn:x"}`, `{"expires_in":60}`,
	`{"request_uri":"urn:x","expires_in":0600}`, `{"request_uri":"urn:x","expires_in":6e2}`,
	`{"request_uri":"urn:x","expires_in":5-3}`, `{"request_uri":"urn:x","expires_in":}`, `{"request_uri":"urn:x","expires_in":-}`,
	`{"request_uri":"urn:x","expires_in":90000}`, `{"request_uri":"urn:x","expires_in":60,"extra":1}`,
	`{"expires_in":60,"expires_in":70,"request_uri":"urn:x"}`, `{"request_uri":"a","request_uri":"b","expires_in":1}`,
	`{"request_uri":"urn:x","expires_in":60}}`, "{\"request_uri\":\"urn:\tx\",\"expires_in\":60}",
}

// TestScanPARResponse: the scanner takes the usual shapes (and the
// decoder's answers are the same as ever, TestParsePARResponseSameAsTwoPass).
func TestScanPARResponse(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"request_uri":"` + brokerURI + `","expires_in":600}`,
		` { "expires_in" : 60 , "request_uri" : "urn:x" } `} {
		if _, _, ok := scanPARResponse([]byte(in)); !ok {
			t.Errorf("scanPARResponse(%q) not ok", in)
		}
	}
	for _, in := range parResponseCorpus {
		uri, n, ok := scanPARResponse([]byte(in))
		if !ok {
			continue
		}
		wuri, wn, werr := parsePARResponseTwoPass([]byte(in))
		if werr != nil || uri != wuri || min(n, 24*3600) != wn {
			t.Errorf("scanPARResponse(%q) = %q, %d; the decoder: %q, %d, %v", in, uri, n, wuri, wn, werr)
		}
	}
}

// TestParsePARResponseSameAsTwoPass: the single-pass parser gives the
// same request_uri, expires_in and error text as the two-pass one.
func TestParsePARResponseSameAsTwoPass(t *testing.T) {
	t.Parallel()
	for _, in := range parResponseCorpus {
		checkPARParsersAgree(t, []byte(in))
	}
}

func checkPARParsersAgree(t *testing.T, body []byte) {
	t.Helper()
	uri, n, err := parsePARResponse(body)
	wuri, wn, werr := parsePARResponseTwoPass(body)
	// A type error names the decoder's Go type, which differs.
	goType := regexp.MustCompile(`Go value of type .*`)
	same := err == nil && werr == nil ||
		err != nil && werr != nil && goType.ReplaceAllString(err.Error(), "") == goType.ReplaceAllString(werr.Error(), "")
	if uri != wuri || n != wn || !same {
		t.Errorf("parsePARResponse(%q) = %q, %d, %v; the two-pass parser: %q, %d, %v", body, uri, n, err, wuri, wn, werr)
	}
}

func FuzzParsePARResponseSameAsTwoPass(f *testing.F) {
	for _, s := range parResponseCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkPARParsersAgree(t, body) })
}

// TestParsePARResponseAllocs pins the single pass: fewer allocations than
// the two-pass parser for a broker response.
func TestParsePARResponseAllocs(t *testing.T) {
	body := []byte(`{"request_uri":"` + brokerURI + `","expires_in":600}`)
	one := testing.AllocsPerRun(100, func() { parsePARResponse(body) })
	two := testing.AllocsPerRun(100, func() { parsePARResponseTwoPass(body) })
	if one > 1 || one >= two {
		t.Errorf("%v allocations per parse (the two-pass parser: %v), want 1", one, two)
	}
}
