package opharness_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/interop/internal/opharness"
)

// These tests pin the shapes of node-oidc-provider's JWT-secured
// authorization responses (JARM) and Rich Authorization Requests (RFC 9396)
// with plain net/http and go-jose, as the SDK's JARM and RAR support and
// partest are built on them.

const (
	jarmSecret    = "jarm-secret-0123456789abcdef01234"
	jarmEncSecret = "jarm-enc-secret-0123456789abcdef0"
	rarSecret     = "rar-secret-0123456789abcdef012345"
)

var (
	encKeyOnce sync.Once
	encRSA     *rsa.PrivateKey
)

// encKey is jarm-enc's encryption key (registered with use enc).
func encKey() *rsa.PrivateKey {
	encKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		encRSA = k
	})
	return encRSA
}

// discovery reads the provider's discovery document.
func discovery(t *testing.T, p *opharness.Provider) map[string]any {
	t.Helper()
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	return md
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// login pushes form for client (Basic with secret), follows the browser to
// the redirect_uri and returns the callback.
func login(t *testing.T, p *opharness.Provider, client, secret string, form url.Values) *opharness.Callback {
	t.Helper()
	res := push(t, p, form, client, secret, "application/x-www-form-urlencoded")
	if res.status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", res.status, res.body)
	}
	uri, _ := res.body["request_uri"].(string)
	b, err := opharness.NewBrowser(redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Authorize(context.Background(), p.Issuer+"/auth?"+url.Values{"client_id": {client}, "request_uri": {uri}}.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	return cb
}

// redeem sends the authorization_code grant and returns the status and the
// members of the JSON answer, undecoded.
func redeem(t *testing.T, p *opharness.Provider, client, secret, code, verifier string) (int, map[string]json.RawMessage) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/token", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", form)
	req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token: %d %q", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// openResponse decrypts (dec non-nil) and verifies a response JWT with the
// provider's JWKS and returns the JWS header and the claims.
func openResponse(t *testing.T, p *opharness.Provider, raw string, dec *rsa.PrivateKey) (jose.Header, map[string]any) {
	t.Helper()
	if dec != nil {
		obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			t.Fatalf("response is not the registered JWE: %v", err)
		}
		if obj.Header.KeyID != "enc-1" || obj.Header.ExtraHeaders["cty"] != "JWT" {
			t.Errorf("JWE header kid %q cty %v, want enc-1 and JWT", obj.Header.KeyID, obj.Header.ExtraHeaders["cty"])
		}
		inner, err := obj.Decrypt(dec)
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		raw = string(inner)
	}
	resp, err := http.Get(discovery(t, p)["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.PS256, jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("response JWT: %v", err)
	}
	h := obj.Signatures[0].Protected
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("%d JWKS keys with kid %q", len(keys), h.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return h, claims
}

// TestJARMFacts pins node-oidc-provider 9.13's JARM: the modes and
// algorithms in discovery; a response parameter alone at the redirect_uri
// (query for jwt and query.jwt, a form_post page for form_post.jwt, the
// fragment for fragment.jwt, which it serves for the code flow too); a JWS
// with the client's authorization_signed_response_alg and kid, no typ,
// claims iss, aud (the client_id), exp two minutes ahead, no iat, code and
// state; for a client with authorization_encrypted_response_alg, a nested
// JWE (cty JWT, the client key's kid).
func TestJARMFacts(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeOptional)
	md := discovery(t, p)
	for k, want := range map[string][]string{
		"response_modes_supported":                      {"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"},
		"authorization_signing_alg_values_supported":    {"PS256", "RS256", "ES256"},
		"authorization_encryption_alg_values_supported": {"ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"},
		"authorization_encryption_enc_values_supported": {"A128CBC-HS256", "A128GCM", "A256CBC-HS512", "A256GCM"},
	} {
		got := stringList(md[k])
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("discovery %s = %v, missing %s", k, got, w)
			}
		}
	}

	tests := []struct {
		name, client, secret, mode string
		alg                        string
		dec                        *rsa.PrivateKey
		formPost                   bool
	}{
		{"jwt", "jarm", jarmSecret, "jwt", "PS256", nil, false},
		{"query.jwt", "jarm", jarmSecret, "query.jwt", "PS256", nil, false},
		{"form_post.jwt", "jarm", jarmSecret, "form_post.jwt", "PS256", nil, true},
		{"fragment.jwt", "jarm", jarmSecret, "fragment.jwt", "PS256", nil, false},
		{"encrypted query.jwt", "jarm-enc", jarmEncSecret, "query.jwt", "ES256", encKey(), false},
		{"encrypted form_post.jwt", "jarm-enc", jarmEncSecret, "form_post.jwt", "ES256", encKey(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verifier, challenge := pkcePair(t)
			f := authzForm(tt.client, challenge)
			f.Set("response_mode", tt.mode)
			start := time.Now()
			cb := login(t, p, tt.client, tt.secret, f)
			if cb.FormPost != tt.formPost {
				t.Errorf("FormPost = %v, want %v", cb.FormPost, tt.formPost)
			}
			if len(cb.Params) != 1 || cb.Params.Get("response") == "" {
				t.Fatalf("callback parameters %v, want response alone", cb.Params)
			}
			h, c := openResponse(t, p, cb.Params.Get("response"), tt.dec)
			if h.Algorithm != tt.alg || h.KeyID == "" || h.ExtraHeaders[jose.HeaderType] != nil {
				t.Errorf("header alg %s kid %q typ %v, want %s, a kid, no typ", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType], tt.alg)
			}
			if c["iss"] != p.Issuer || c["aud"] != tt.client || c["state"] != f.Get("state") || c["iat"] != nil {
				t.Errorf("claims iss %v aud %v state %v iat %v", c["iss"], c["aud"], c["state"], c["iat"])
			}
			exp, _ := c["exp"].(float64)
			if d := time.Unix(int64(exp), 0).Sub(start); d < 110*time.Second || d > 125*time.Second {
				t.Errorf("exp %v ahead, want 120 s", d)
			}
			code, _ := c["code"].(string)
			if status, tok := redeem(t, p, tt.client, tt.secret, code, verifier); status != http.StatusOK {
				t.Errorf("token: %d %s", status, tok["error"])
			}
		})
	}

	t.Run("error", func(t *testing.T) {
		t.Parallel()
		// prompt=none without a session: login_required, JWT-secured too.
		_, challenge := pkcePair(t)
		f := authzForm("jarm", challenge)
		f.Set("response_mode", "jwt")
		f.Set("prompt", "none")
		cb := login(t, p, "jarm", jarmSecret, f)
		if len(cb.Params) != 1 {
			t.Fatalf("callback parameters %v, want response alone", cb.Params)
		}
		_, c := openResponse(t, p, cb.Params.Get("response"), nil)
		if c["error"] != "login_required" || c["state"] != f.Get("state") || c["aud"] != "jarm" || c["code"] != nil {
			t.Errorf("claims = %v", c)
		}
	})
}

// rarDetails has a nested object, a decimal string, and an integer beyond
// 2^53.
const rarDetails = `[{"type":"payment_initiation","actions":["initiate"],"locations":["https://bank.example/payments"],` +
	`"instructedAmount":{"currency":"EUR","amount":"123.50"},"creditor":{"name":"Merchant A","account":{"iban":"DE02100100109307118603"}},` +
	`"sequence":12345678901234567890}]`

// TestRARFacts pins node-oidc-provider 9.13's RFC 9396 support: the types
// in discovery; authorization_details pushed for a client registered with
// the types is echoed in the token response, parsed with JSON.parse, so an
// integer beyond 2^53 comes back rounded (partest keeps the digits); bad
// details are refused at PAR with 400 invalid_authorization_details.
func TestRARFacts(t *testing.T) {
	t.Parallel()
	p := startRaw(t, opharness.ModeOptional)
	if got := stringList(discovery(t, p)["authorization_details_types_supported"]); !slices.Equal(got, []string{"payment_initiation", "account_information"}) {
		t.Errorf("authorization_details_types_supported = %v", got)
	}

	t.Run("echoed", func(t *testing.T) {
		t.Parallel()
		verifier, challenge := pkcePair(t)
		f := authzForm("rar", challenge)
		f.Set("authorization_details", rarDetails)
		cb := login(t, p, "rar", rarSecret, f)
		status, tok := redeem(t, p, "rar", rarSecret, cb.Params.Get("code"), verifier)
		if status != http.StatusOK {
			t.Fatalf("token: %d %s", status, tok["error"])
		}
		got := string(tok["authorization_details"])
		want := strings.Replace(rarDetails, "12345678901234567890", "12345678901234567000", 1)
		var a, b any
		if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(want), &b) != nil || !jsonEqual(a, b) {
			t.Errorf("authorization_details = %s, want %s", got, want)
		}
		if !strings.Contains(got, "12345678901234567000") {
			t.Errorf("the large integer came back as %s, not rounded by JSON.parse", got)
		}
	})

	tests := []struct{ name, client, secret, details string }{
		{"unknown type", "rar", rarSecret, `[{"type":"credit_card"}]`},
		{"not an array", "rar", rarSecret, `{"type":"payment_initiation"}`},
		{"not JSON", "rar", rarSecret, `payment_initiation`},
		{"no type", "rar", rarSecret, `[{"actions":["read"]}]`},
		{"actions not strings", "rar", rarSecret, `[{"type":"payment_initiation","actions":[1]}]`},
		{"client without types", "basic", "basic-secret-0123456789abcdef0123", `[{"type":"payment_initiation"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, challenge := pkcePair(t)
			f := authzForm(tt.client, challenge)
			f.Set("authorization_details", tt.details)
			res := push(t, p, f, tt.client, tt.secret, form)
			if res.status != http.StatusBadRequest || res.body["error"] != "invalid_authorization_details" {
				t.Errorf("PAR = %d %v, want 400 invalid_authorization_details", res.status, res.body)
			}
		})
	}
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
