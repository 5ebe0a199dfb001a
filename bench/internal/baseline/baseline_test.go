package baseline

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestParsePARResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		uri  string
		exp  int64
		ok   bool
	}{
		{`{"request_uri":"urn:x","expires_in":60}`, "urn:x", 60, true},
		{`{"request_uri":"urn:x","expires_in":0}`, "", 0, false},
		{`{"request_uri":"","expires_in":60}`, "", 0, false},
		{`{"request_uri":1,"expires_in":60}`, "", 0, false},
		{`{"expires_in":60}`, "", 0, false},
		{`[]`, "", 0, false},
		{``, "", 0, false},
	} {
		uri, exp, err := ParsePARResponse([]byte(tc.body))
		if (err == nil) != tc.ok || uri != tc.uri || exp != tc.exp {
			t.Errorf("ParsePARResponse(%q) = %q, %d, %v", tc.body, uri, exp, err)
		}
	}
}

func FuzzParsePARResponse(f *testing.F) {
	f.Add([]byte(`{"request_uri":"urn:x","expires_in":60}`))
	f.Add([]byte(`{"request_uri":"urn:x","expires_in":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		uri, exp, err := ParsePARResponse(b)
		if err == nil && (uri == "" || exp <= 0) {
			t.Errorf("accepted %q, %d", uri, exp)
		}
	})
}

func TestParseTokenResponse(t *testing.T) {
	t.Parallel()
	tok, err := ParseTokenResponse([]byte(`{"access_token":"a","token_type":"Bearer","id_token":"i","refresh_token":"r"}`))
	if err != nil || tok.AccessToken != "a" || tok.IDToken != "i" || tok.RefreshToken != "r" || tok.TokenType != "Bearer" {
		t.Errorf("ParseTokenResponse = %+v, %v", tok, err)
	}
	for _, bad := range []string{`{"access_token":"a"}`, `{"id_token":"i"}`, `nope`} {
		if _, err := ParseTokenResponse([]byte(bad)); err == nil {
			t.Errorf("ParseTokenResponse(%q) succeeded", bad)
		}
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","token_type":"Bearer","id_token":"i"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseTokenResponse(b)
		if err == nil && (tok.AccessToken == "" || tok.IDToken == "") {
			t.Errorf("accepted %+v", tok)
		}
	})
}

func TestAudience(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Audience
		ok   bool
	}{
		{`"a"`, Audience{"a"}, true},
		{`["a","b"]`, Audience{"a", "b"}, true},
		{`[]`, Audience{}, true},
		{`1`, nil, false},
		{`[1]`, nil, false},
	} {
		var a Audience
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err == nil) != tc.ok || (tc.ok && !reflect.DeepEqual(a, tc.want)) {
			t.Errorf("Audience(%s) = %v, %v", tc.in, a, err)
		}
	}
}

func FuzzIDTokenClaims(f *testing.F) {
	f.Add([]byte(`{"iss":"i","aud":["a"],"exp":1,"nonce":"n"}`))
	f.Add([]byte(`{"aud":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c IDTokenClaims
		if json.Unmarshal(b, &c) != nil {
			return
		}
		if _, err := json.Marshal(c); err != nil {
			t.Errorf("claims do not marshal again: %v", err)
		}
	})
}

// TestPushAndExchange runs the baseline against a handler that asserts
// the exact requests.
func TestPushAndExchange(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: idKey},
		(&jose.SignerOptions{}).WithHeader("kid", "id-1"))
	var srv *httptest.Server
	var pushed url.Values
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/par":
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
				r.Header.Get("Accept") != "application/json" || r.Header.Get("DPoP") == "" {
				t.Errorf("par: %s %v", r.Method, r.Header)
			}
			r.ParseForm()
			pushed = r.PostForm
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"request_uri":"urn:x","expires_in":60}`))
		case "/token":
			r.ParseForm()
			if r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("code") != "c" ||
				r.PostForm.Get("client_assertion") == "" || len(r.PostForm.Get("code_verifier")) != 43 {
				t.Errorf("token: %v", r.PostForm)
			}
			sum := sha256.Sum256([]byte("at"))
			claims, _ := json.Marshal(map[string]any{"iss": srv.URL, "aud": "app", "sub": "alice",
				"exp": time.Now().Add(time.Minute).Unix(), "nonce": pushedNonce(t, pushed),
				"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16])})
			jws, _ := signer.Sign(claims)
			idt, _ := jws.CompactSerialize()
			json.NewEncoder(w).Encode(map[string]string{"access_token": "at", "token_type": "Bearer", "id_token": idt})
		case "/jwks":
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: idKey.Public(), KeyID: "id-1", Algorithm: "ES256"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(Config{HTTPClient: srv.Client(), Issuer: srv.URL, PARURL: srv.URL + "/par", TokenURL: srv.URL + "/token",
		JWKSURL: srv.URL + "/jwks", ClientID: "app", RedirectURL: "https://app.example/cb", Scope: "openid",
		Key: key, KeyAlg: jose.ES256, RequestObjectKey: key, RequestObjectAlg: jose.ES256, DPoPKey: key, DPoPAlg: jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := c.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.RequestURI != "urn:x" || pushed.Get("request") == "" || pushed.Get("client_id") != "app" || pushed.Get("state") != "" {
		t.Errorf("push: %+v, form %v", f, pushed)
	}
	if got := c.AuthorizationURL("https://as/authorize", f); got != "https://as/authorize?client_id=app&request_uri=urn%3Ax" {
		t.Errorf("AuthorizationURL = %s", got)
	}
	cb := url.Values{"code": {"c"}, "state": {f.State}, "iss": {srv.URL}}
	tok, err := c.Exchange(ctx, f, cb)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Sub != "alice" {
		t.Errorf("sub = %q", tok.Claims.Sub)
	}
	for name, bad := range map[string]url.Values{
		"state": {"code": {"c"}, "state": {"x"}, "iss": {srv.URL}},
		"iss":   {"code": {"c"}, "state": {f.State}, "iss": {"https://evil"}},
		"error": {"error": {"access_denied"}, "state": {f.State}, "iss": {srv.URL}},
		"code":  {"state": {f.State}, "iss": {srv.URL}},
	} {
		if _, err := c.Exchange(ctx, f, bad); err == nil {
			t.Errorf("%s: Exchange succeeded", name)
		}
	}
}

// pushedNonce reads the nonce out of the pushed request object.
func pushedNonce(t *testing.T, form url.Values) string {
	parts := strings.Split(form.Get("request"), ".")
	if len(parts) != 3 {
		t.Errorf("request object has %d parts", len(parts))
		return ""
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Nonce string `json:"nonce"`
	}
	json.Unmarshal(b, &claims)
	return claims.Nonce
}
