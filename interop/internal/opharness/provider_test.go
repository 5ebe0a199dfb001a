package opharness_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/interop/internal/opharness"
)

// These tests check the harness and the facts the SDK relies on with plain
// net/http, independently of the SDK.

const redirectURI = "http://127.0.0.1:9/cb" // never served: the browser stops there

// specialSecret holds the characters that Basic credentials must
// form-urlencode (RFC 6749 §2.3.1).
const specialSecret = "s3cr+t/with:colon%25and space+="

// The providers are shared by the tests, one per mode; TestMain stops them.
var (
	rawMu  sync.Mutex
	rawOPs = map[string]*rawOP{}
)

type rawOP struct {
	once sync.Once
	p    *opharness.Provider
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	rawMu.Lock()
	for _, op := range rawOPs {
		if op.p != nil {
			op.p.Close()
		}
	}
	rawMu.Unlock()
	os.Exit(code)
}

func startRaw(t *testing.T, mode string) *opharness.Provider {
	t.Helper()
	rawMu.Lock()
	op, ok := rawOPs[mode]
	if !ok {
		op = &rawOP{}
		rawOPs[mode] = op
	}
	rawMu.Unlock()
	op.once.Do(func() {
		op.p, op.err = opharness.Start(context.Background(), opharness.Options{
			Dir:         "../..",
			Mode:        mode,
			RedirectURI: redirectURI,
			Secrets: map[string]string{
				"basic":         "basic-secret-0123456789abcdef0123",
				"basic-special": specialSecret,
				"post":          "post-secret-0123456789abcdef01234",
				"par-only":      "par-only-secret-0123456789abcdef0",
				"jarm":          jarmSecret,
				"jarm-enc":      jarmEncSecret,
				"rar":           rarSecret,
			},
			JWKS: map[string]jose.JSONWebKeySet{"jarm-enc": {Keys: []jose.JSONWebKey{
				{Key: &encKey().PublicKey, KeyID: "enc-1", Use: "enc"},
			}}},
		})
	})
	if op.err != nil {
		opharness.SkipOrFail(t, op.err)
	}
	return op.p
}

type pushed struct {
	status int
	body   map[string]any
}

// push posts form to the PAR endpoint; user/pass, when set, go in Basic
// credentials, form-urlencoded first (RFC 6749 §2.3.1).
func push(t *testing.T, p *opharness.Provider, form url.Values, user, pass, contentType string) pushed {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.Issuer+"/request", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("PAR response is not JSON: %d %q", resp.StatusCode, b)
	}
	return pushed{resp.StatusCode, body}
}

func pkcePair(t *testing.T) (verifier, challenge string) {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authzForm(clientID, challenge string) url.Values {
	return url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"redirect_uri":          {redirectURI},
		"state":                 {"st-" + clientID},
		"nonce":                 {"n-" + clientID},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

const form = "application/x-www-form-urlencoded"

// TestRawFlow runs PAR → authorize (headless) → token with net/http.
func TestRawFlow(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeOptional)

	tests := []struct {
		name, client, secret string
		basic, formPost      bool
	}{
		{"basic", "basic", "basic-secret-0123456789abcdef0123", true, false},
		{"basic special characters", "basic-special", specialSecret, true, false},
		{"post", "post", "post-secret-0123456789abcdef01234", false, false},
		{"basic form_post", "basic", "basic-secret-0123456789abcdef0123", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verifier, challenge := pkcePair(t)
			f := authzForm(tt.client, challenge)
			if tt.formPost {
				f.Set("response_mode", "form_post")
			}
			user, pass := "", ""
			if tt.basic {
				user, pass = tt.client, tt.secret
			} else {
				f.Set("client_secret", tt.secret)
			}
			res := push(t, p, f, user, pass, form)
			if res.status != http.StatusCreated {
				t.Fatalf("PAR: %d %v", res.status, res.body)
			}
			requestURI, _ := res.body["request_uri"].(string)
			if !strings.HasPrefix(requestURI, "urn:ietf:params:oauth:request_uri:") {
				t.Fatalf("request_uri = %q", requestURI)
			}
			if got := res.body["expires_in"]; got != float64(60) {
				t.Errorf("expires_in = %v, want 60", got)
			}

			b, err := opharness.NewBrowser(redirectURI)
			if err != nil {
				t.Fatal(err)
			}
			authURL := p.Issuer + "/auth?" + url.Values{"client_id": {tt.client}, "request_uri": {requestURI}}.Encode()
			cb, err := b.Authorize(context.Background(), authURL)
			if err != nil {
				t.Fatalf("authorize: %v", err)
			}
			if cb.FormPost != tt.formPost {
				t.Errorf("FormPost = %v, want %v", cb.FormPost, tt.formPost)
			}
			if cb.URL != redirectURI {
				t.Errorf("callback URL = %q, want %q", cb.URL, redirectURI)
			}
			if got := cb.Params.Get("state"); got != "st-"+tt.client {
				t.Errorf("state = %q", got)
			}
			if got := cb.Params.Get("iss"); got != p.Issuer { // RFC 9207
				t.Errorf("iss = %q, want %q", got, p.Issuer)
			}
			code := cb.Params.Get("code")
			if code == "" {
				t.Fatalf("no code in callback: %v", cb.Params.Get("error"))
			}

			// The request_uri is single-use (RFC 9126 §4). The client has one
			// registered redirect_uri, so the provider returns the error there,
			// without state (it could not read the pushed request).
			again, err := b.Authorize(context.Background(), authURL)
			if err != nil {
				t.Fatalf("second use of request_uri: %v", err)
			}
			if got := again.Params.Get("error"); got != "invalid_request_uri" {
				t.Errorf("second use of request_uri: error = %q, want invalid_request_uri", got)
			}
			if again.Params.Has("code") || again.Params.Has("state") {
				t.Errorf("second use of request_uri: unexpected parameters %v", again.Params)
			}
			if got := again.Params.Get("iss"); got != p.Issuer {
				t.Errorf("second use of request_uri: iss = %q", got)
			}

			tf := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {code},
				"redirect_uri":  {redirectURI},
				"code_verifier": {verifier},
			}
			if !tt.basic {
				tf.Set("client_id", tt.client)
				tf.Set("client_secret", tt.secret)
			}
			req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/token", strings.NewReader(tf.Encode()))
			req.Header.Set("Content-Type", form)
			if tt.basic {
				req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var tok map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("token: %d %v", resp.StatusCode, tok)
			}
			if idt, _ := tok["id_token"].(string); strings.Count(idt, ".") != 2 {
				t.Errorf("id_token = %q, want a JWS", idt)
			}
			if tok["token_type"] != "Bearer" {
				t.Errorf("token_type = %v", tok["token_type"])
			}
		})
	}
}

// TestPARFacts pins the provider behaviour the SDK is built around.
func TestPARFacts(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeOptional)
	_, challenge := pkcePair(t)
	full := authzForm("basic", challenge)
	noClientID := authzForm("basic", challenge)
	noClientID.Del("client_id")

	tests := []struct {
		name        string
		form        url.Values
		user, pass  string
		contentType string
		status      int
		code        string
	}{
		{"basic ok", full, "basic", "basic-secret-0123456789abcdef0123", form, 201, ""},
		{"client_id required in body despite Basic", noClientID, "basic", "basic-secret-0123456789abcdef0123", form, 400, "invalid_request"},
		{"body ignored without Content-Type", full, "basic", "basic-secret-0123456789abcdef0123", "", 400, "invalid_request"},
		{"wrong secret", full, "basic", "wrong", form, 401, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := push(t, p, tt.form, tt.user, tt.pass, tt.contentType)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", res.status, tt.status, res.body)
			}
			if tt.code != "" && res.body["error"] != tt.code {
				t.Errorf("error = %v, want %s", res.body["error"], tt.code)
			}
		})
	}

	t.Run("special secret sent raw is not form-decoded back", func(t *testing.T) {
		t.Parallel()
		// Sending the raw secret unencoded: '+' decodes to a space and
		// "%25" to '%', so the provider sees a different secret.
		req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/request", strings.NewReader(authzForm("basic-special", challenge).Encode()))
		req.Header.Set("Content-Type", form)
		req.SetBasicAuth("basic-special", specialSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			t.Errorf("raw Basic secret accepted; the provider should form-decode it")
		}
	})

	t.Run("per-client require_pushed_authorization_requests", func(t *testing.T) {
		t.Parallel()
		checkPlainAuthorizeRejected(t, p, "par-only")
	})
}

// TestRequiredMode checks that the required mode advertises and enforces PAR.
func TestRequiredMode(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeRequired)
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"issuer":                                         p.Issuer,
		"pushed_authorization_request_endpoint":          p.Issuer + "/request",
		"require_pushed_authorization_requests":          true,
		"authorization_response_iss_parameter_supported": true,
	} {
		if md[k] != want {
			t.Errorf("discovery %s = %v, want %v", k, md[k], want)
		}
	}
	checkPlainAuthorizeRejected(t, p, "basic")
}

// TestNoPARMode pins the provider without PAR that partest.Config.NoPAR
// mimics: no PAR members in discovery, 404 at the PAR path, and a plain
// front-channel request issuing a code.
func TestNoPARMode(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeNoPAR)
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pushed_authorization_request_endpoint", "require_pushed_authorization_requests"} {
		if v, ok := md[k]; ok {
			t.Errorf("discovery %s = %v, want it absent", k, v)
		}
	}
	if md["authorization_endpoint"] != p.Issuer+"/auth" || md["request_parameter_supported"] != true {
		t.Errorf("discovery authorization_endpoint %v, request_parameter_supported %v", md["authorization_endpoint"], md["request_parameter_supported"])
	}
	_, challenge := pkcePair(t)
	req, err := http.NewRequest(http.MethodPost, p.Issuer+"/request", strings.NewReader(authzForm("basic", challenge).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", form)
	req.SetBasicAuth("basic", "basic-secret-0123456789abcdef0123")
	pr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if pr.StatusCode != http.StatusNotFound {
		t.Errorf("POST /request = %d, want 404", pr.StatusCode)
	}
	b, err := opharness.NewBrowser(redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Authorize(context.Background(), p.Issuer+"/auth?"+authzForm("basic", challenge).Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if cb.Params.Get("code") == "" || cb.Params.Get("state") != "st-basic" || cb.Params.Get("iss") != p.Issuer {
		t.Errorf("front-channel callback = %v, want code, state and iss", cb.Params)
	}
}

// checkPlainAuthorizeRejected sends a front-channel authorization request
// without PAR and expects the provider to refuse it.
func checkPlainAuthorizeRejected(t *testing.T, p *opharness.Provider, clientID string) {
	t.Helper()
	_, challenge := pkcePair(t)
	b, err := opharness.NewBrowser(redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Authorize(context.Background(), p.Issuer+"/auth?"+authzForm(clientID, challenge).Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if got := cb.Params.Get("error"); got != "invalid_request" {
		t.Errorf("error = %q, want invalid_request (%s)", got, cb.Params.Get("error_description"))
	}
	if cb.Params.Get("code") != "" {
		t.Error("a code was issued without PAR")
	}
}

// TestErrorPage checks that an error the provider cannot redirect (unknown
// client) comes back as an *ErrorPage.
func TestErrorPage(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeOptional)
	b, err := opharness.NewBrowser(redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Authorize(context.Background(), p.Issuer+"/auth?client_id=nobody&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax")
	var page *opharness.ErrorPage
	if !errors.As(err, &page) || page.StatusCode != http.StatusBadRequest || page.Code != "invalid_client" {
		t.Fatalf("err = %v, want a 400 invalid_client page", err)
	}
}

// TestStartForTest starts and stops a provider of its own through the
// testing helper.
func TestStartForTest(t *testing.T) {
	t.Parallel()
	var p *opharness.Provider
	t.Run("start", func(t *testing.T) {
		p = opharness.StartForTest(t, opharness.Options{
			Dir: "../..", Mode: opharness.ModeDPoPNonce, RedirectURI: redirectURI,
			Secrets: map[string]string{"dpop": "dpop-secret-0123456789abcdef0123"},
		})
		resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: %d", resp.StatusCode)
		}
	})
	if p == nil {
		return // skipped or failed above
	}
	// t.Cleanup of the subtest has stopped it.
	if _, err := http.Get(p.Issuer + "/.well-known/openid-configuration"); err == nil {
		t.Error("provider still answers after the test's cleanup")
	}
}

func TestStartNotInstalled(t *testing.T) {
	t.Parallel()
	_, err := opharness.Start(context.Background(), opharness.Options{Dir: t.TempDir(), RedirectURI: redirectURI})
	if !errors.Is(err, opharness.ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "npm ci --prefix interop") {
		t.Errorf("error %q does not say how to install", err)
	}
}

func TestStartBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := opharness.Check("../..", ""); err != nil {
		if errors.Is(err, opharness.ErrNotInstalled) && os.Getenv(opharness.SkipEnv) == "1" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	// No client at all: the script refuses to start, and Start says why.
	_, err := opharness.Start(context.Background(), opharness.Options{Dir: "../..", RedirectURI: redirectURI})
	if err == nil || !strings.Contains(err.Error(), "no client") {
		t.Fatalf("err = %v, want the script's complaint about no client", err)
	}
}
