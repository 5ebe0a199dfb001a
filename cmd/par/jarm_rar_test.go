package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/partest"
)

// cliDetails is an authorization_details file's content: a large integer
// and a nested object, which the granted details must keep.
const cliDetails = `[
  {"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "9.99"}, "ref": 12345678901234567890}
]`

// runLogin runs par login with args against srv, plays the browser
// (posting the callback for the form_post modes, and first delivering
// forged when it is not nil) and returns the exit code and outputs.
func runLogin(t *testing.T, srv *partest.Server, args []string, formPost bool, forged func(url.Values) url.Values) (int, string, string) {
	t.Helper()
	c, out, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
	addr := make(chan string, 1)
	c.listening = func(a string) { addr <- a }
	done := make(chan int, 1)
	base := []string{"login", "--issuer", srv.Issuer(), "--client-id", testClientID, "--redirect-uri", "http://127.0.0.1:0/cb", "--wait", "20s"}
	go func() { done <- c.run(context.Background(), append(base, args...)) }()
	listen := <-addr
	var authURL string
	for i := 0; i < 500 && authURL == ""; i++ {
		if m := regexp.MustCompile(`(?m)^  (http://\S+)$`).FindStringSubmatch(out.String()); m != nil {
			authURL = m[1]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if authURL == "" {
		t.Fatalf("no URL printed; stderr %q", errOut)
	}
	params, err := srv.Login(authURL)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	deliver := func(q url.Values) int {
		var resp *http.Response
		var err error
		if formPost {
			resp, err = http.PostForm("http://"+listen+"/cb", q)
		} else {
			resp, err = http.Get("http://" + listen + "/cb?" + q.Encode())
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if forged != nil {
		if code := deliver(forged(params)); code != http.StatusBadRequest {
			t.Errorf("forged callback answered %d, want 400", code)
		}
	} else {
		if len(params) != 1 || params.Get("response") == "" {
			t.Errorf("callback parameters %v, want response alone", params)
		}
		deliver(params)
	}
	return <-done, out.String(), errOut.String()
}

func jarmProvider(t *testing.T, enc *ecdsa.PrivateKey) *partest.Server {
	t.Helper()
	return newProvider(t, func(c *partest.Config) {
		c.Clients[0].AuthorizationSignedResponseAlg = jose.ES256
		c.Clients[0].AuthorizationDetailsTypes = []string{"payment_initiation"}
		if enc != nil {
			c.Clients[0].JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: enc.Public(), KeyID: "enc", Use: "enc"}}}
			c.Clients[0].AuthorizationEncryptedResponseAlg = jose.ECDH_ES
		}
	})
}

// TestLoginJARMAndRAR: par login with --response-mode (jwt, form_post.jwt,
// encrypted with --response-key) and --authorization-details prints the
// verified JARM checks and the granted details, exactly as sent.
func TestLoginJARMAndRAR(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detailsFile := filepath.Join(dir, "details.json")
	if err := os.WriteFile(detailsFile, []byte(cliDetails), 0o600); err != nil {
		t.Fatal(err)
	}
	encKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "enc.json")
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: encKey, KeyID: "enc", Use: "enc"})
	if err := os.WriteFile(keyFile, jwk, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		enc      bool
		args     []string
		formPost bool
		verified string
	}{
		{"jwt", false, []string{"--response-mode", "jwt"}, false, "response JWT signature, iss, aud, exp (JARM)"},
		{"form_post.jwt", false, []string{"--response-mode", "form_post.jwt"}, true, "response JWT signature"},
		{"query.jwt encrypted", true, []string{"--response-mode", "query.jwt", "--response-key", keyFile}, false, "response JWT decrypted; response JWT signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var k *ecdsa.PrivateKey
			if tt.enc {
				k = encKey
			}
			srv := jarmProvider(t, k)
			args := append(append([]string{}, tt.args...), "--authorization-details", detailsFile)
			code, out, errOut := runLogin(t, srv, args, tt.formPost, nil)
			if code != exitOK {
				t.Fatalf("login = %d; stderr:\n%s", code, errOut)
			}
			for _, want := range []string{"Logged in: sub alice", tt.verified, "authorization_details granted (RFC 9396):",
				`"ref":12345678901234567890`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestLoginJARMForged: a forged JWT-secured response ends the login with
// ErrInvalidResponseJWT's hint, before any token request.
func TestLoginJARMForged(t *testing.T) {
	t.Parallel()
	srv := jarmProvider(t, nil)
	forge := func(p url.Values) url.Values {
		parts := strings.Split(p.Get("response"), ".")
		return url.Values{"response": {"eyJhbGciOiJub25lIn0." + parts[1] + "."}}
	}
	code, _, errOut := runLogin(t, srv, []string{"--response-mode", "jwt"}, false, forge)
	if code != exitProtocol || !strings.Contains(errOut, "response JWT invalid") || !strings.Contains(errOut, "hint: the JWT-secured response did not verify") {
		t.Errorf("login = %d; stderr:\n%s", code, errOut)
	}
	if n := srv.Requests(partest.EndpointToken); n != 0 {
		t.Errorf("%d token requests after a forged response", n)
	}
}

// TestPushAuthorizationDetailsErrors: a details file that is not an array
// is a usage error; details the client checks refuse are refused before
// the push, with a hint.
func TestPushAuthorizationDetailsErrors(t *testing.T) {
	t.Parallel()
	srv := jarmProvider(t, nil)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		file   string
		code   int
		stderr string
	}{
		{"an object, not an array", write("obj.json", `{"type":"payment_initiation"}`), exitUsage, "want a JSON array"},
		{"not JSON", write("bad.json", `[{"type":`), exitUsage, "want a JSON array"},
		{"missing file", filepath.Join(dir, "none.json"), exitUsage, "--authorization-details"},
		{"no type", write("notype.json", `[{"amount":"1"}]`), exitProtocol, "hint: fix the --authorization-details file"},
		{"unknown type", write("unknown.json", `[{"type":"credit_card"}]`), exitProtocol, "authorization_details_types_supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
			code := c.run(context.Background(), []string{"push", "--issuer", srv.Issuer(), "--client-id", testClientID,
				"--redirect-uri", "http://127.0.0.1:8400/callback", "--authorization-details", tt.file})
			if code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("push = %d, want %d; stderr %q, want %q", code, tt.code, errOut, tt.stderr)
			}
		})
	}
	if n := srv.Requests(partest.EndpointPAR); n != 0 {
		t.Errorf("%d pushes with refused details", n)
	}
}
