package partest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzParseBasic: the Basic credential parser never panics and round-trips
// form-encoded credentials (RFC 6749 §2.3.1).
func FuzzParseBasic(f *testing.F) {
	f.Add("app", specialSecret)
	f.Add("id:with space", "+/=%")
	f.Add("", "")
	f.Add("ü", "\x00")
	f.Fuzz(func(t *testing.T, id, secret string) {
		h := basic(id, secret).Get("Authorization")
		gotID, gotSecret, ok := parseBasic(h)
		if id != "" && (!ok || gotID != id || gotSecret != secret) {
			t.Errorf("parseBasic(basic(%q, %q)) = %q, %q, %v", id, secret, gotID, gotSecret, ok)
		}
		// Arbitrary header values must not panic.
		parseBasic("Basic " + id + secret)
		parseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(id+secret)))
	})
}

// FuzzParsePages: the HTML page parsers Login uses never panic, and the
// form_post page round-trips any parameter values.
func FuzzParsePages(f *testing.F) {
	f.Add("code", "a+b&c<d>\"'", "https://rp.example/cb?x=1&y=2")
	f.Add("", "", "")
	f.Add(`"><input`, "\u2028", "javascript:alert(1)")
	srv := NewUnstartedServer(Config{URL: "https://op.example"})
	f.Fuzz(func(t *testing.T, name, value, action string) {
		parseFormPost(name + value + action)
		parseLoginPage(name + value + action)
		parseErrorPage(name + value + action)
		rec := httptest.NewRecorder()
		v := url.Values{"state": {value}, "code": {name}}
		srv.formPost(rec, action, v)
		gotAction, got, ok := parseFormPost(rec.Body.String())
		if !ok {
			t.Fatalf("parseFormPost(formPost) failed: %s", rec.Body)
		}
		if validUTF8(value) && !strings.Contains(value, "\x00") && got.Get("state") != value {
			t.Errorf("state = %q, want %q", got.Get("state"), value)
		}
		if u, err := url.Parse(action); err == nil && u.Scheme == "https" && u.RawQuery == "" && u.Fragment == "" &&
			!strings.ContainsAny(action, "()'\"<>\\ ") && validUTF8(action) && isASCII(action) && gotAction != action {
			// Plain https URLs pass through html/template unchanged.
			t.Errorf("action = %q, want %q", gotAction, action)
		}
		rec = httptest.NewRecorder()
		srv.errorPage(rec, invalidRequest("%s", value))
		if code, desc := parseErrorPage(rec.Body.String()); code != "invalid_request" || (validUTF8(value) && !strings.Contains(value, "\x00") && desc != value) {
			t.Errorf("parseErrorPage = %q, %q, want invalid_request, %q", code, desc, value)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// FuzzDPoPProof: arbitrary DPoP header values never panic and never pass.
func FuzzDPoPProof(f *testing.F) {
	srv := NewUnstartedServer(Config{URL: "https://op.example", Clients: []Client{basicClient()}})
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.sig")
	f.Add("..")
	f.Add("")
	valid, err := signRaw(ecKey(0), "ES256", map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: ecKey(0).Public()}},
		map[string]any{"htm": "POST", "htu": "https://op.example/connect/par", "iat": time.Now().Unix(), "jti": "seed"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Fuzz(func(t *testing.T, proof string) {
		req := httptest.NewRequest(http.MethodPost, "https://op.example/connect/par", nil)
		req.Header.Set("DPoP", proof)
		jkt, _, err := srv.checkDPoP(req, pathPAR, "")
		if err == nil && jkt == "" {
			t.Errorf("accepted a proof without a key thumbprint")
		}
	})
}

// FuzzClientAssertion: arbitrary assertions never panic and never
// authenticate.
func FuzzClientAssertion(f *testing.F) {
	srv := NewUnstartedServer(Config{URL: "https://op.example", Clients: []Client{
		{ID: "sj", Secret: "s", AuthMethod: AuthClientSecretJWT, RedirectURIs: []string{testCallback}},
	}})
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzaiJ9.x")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"client_assertion_type": {assertionType}, "client_assertion": {assertion}}
		req := httptest.NewRequest(http.MethodPost, "https://op.example/connect/token", nil)
		if c, err := srv.authenticateClient(req, form); err == nil {
			t.Errorf("authenticated %q with a fuzzed assertion", c.ID)
		}
	})
}

// FuzzRequestObject: arbitrary request objects never panic and never pass.
func FuzzRequestObject(f *testing.F) {
	srv := NewUnstartedServer(Config{URL: "https://op.example", Clients: []Client{basicClient()}})
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.x")
	f.Add("")
	f.Fuzz(func(t *testing.T, ro string) {
		if _, err := srv.verifyRequestObject(srv.clients["app"], ro); err == nil {
			t.Errorf("accepted a fuzzed request object")
		}
	})
}

// FuzzParseTxText: the transaction-text reader of idp_params never panics,
// refuses only with invalid_request, takes a text only from a signed
// request object, and its digest is the SHA-256 of the decoded text.
func FuzzParseTxText(f *testing.F) {
	f.Add(`{"mitid":{"transaction_text":"`+recordedTxText+`","transaction_text_type":"text"}}`, true)
	f.Add(`{"mitid":{"transaction_text":"`+recordedTxText+`"}}`, false)
	f.Add(`{"mitid":{"transaction_text":"a b","transaction_text_type":"pdf"}}`, true)
	f.Add(`{"mitid":{"loa_value":"substantial"}}`, true)
	f.Add(`{"mitid":null}`, true)
	f.Add(`not json`, true)
	f.Fuzz(func(t *testing.T, idpParams string, signed bool) {
		tx, e := parseTxText(idpParams, signed)
		switch {
		case e != nil:
			if tx != nil || e.code != "invalid_request" {
				t.Fatalf("parseTxText = %v, %v", tx, e)
			}
		case tx != nil:
			raw, err := decodeStdOrURL(tx.text)
			sum := sha256.Sum256(raw)
			if !signed || err != nil || tx.sha256 != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Fatalf("parseTxText(%q, %v) = %+v", idpParams, signed, tx)
			}
			if tx.textType != "" && !slices.Contains(transactionTextTypes, tx.textType) {
				t.Fatalf("type %q accepted", tx.textType)
			}
		}
	})
}
