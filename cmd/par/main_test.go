package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

const (
	testClientID = "cli-client"
	testSecret   = "s3cr+t/with=="
)

// buf is a bytes.Buffer safe for concurrent use.
type buf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newProvider(t *testing.T, mod func(*partest.Config)) *partest.Server {
	t.Helper()
	cfg := partest.Config{
		IssuerPath:         "/op",
		RequestURILifetime: 600 * time.Second,
		Clients: []partest.Client{{
			ID: testClientID, Secret: testSecret,
			RedirectURIs:                        []string{"http://127.0.0.1:8400/callback"},
			AllowUnregisteredRedirectURIsViaPAR: true,
		}},
	}
	if mod != nil {
		mod(&cfg)
	}
	srv := partest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

func newCLI(env map[string]string) (*cli, *buf, *buf) {
	out, errOut := &buf{}, &buf{}
	return &cli{
		getenv: func(k string) string { return env[k] },
		stdout: out, stderr: errOut,
		open: func(string) error { return nil },
	}, out, errOut
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		code     int
		stdout   string
		stderr   string
		noStdout bool
	}{
		{args: nil, code: exitUsage, stderr: "Usage:"},
		{args: []string{"--help"}, code: exitOK, stdout: "Exit codes: 0 ok, 1 protocol or provider error, 2 usage, 3 network"},
		{args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{args: []string{"discover", "--help"}, code: exitOK, stdout: "Usage: par discover"},
		{args: []string{"push", "--help"}, code: exitOK, stdout: "-param k=v"},
		{args: []string{"login", "--help"}, code: exitOK, stdout: "-open"},
		{args: []string{"decode", "-h"}, code: exitOK, stdout: "NOTHING IS VERIFIED"},
		{args: []string{"discover"}, code: exitUsage, stderr: "give exactly one ISSUER"},
		{args: []string{"push"}, code: exitUsage, stderr: "--issuer is required (or set PAR_ISSUER)"},
		{args: []string{"push", "--issuer", "https://op.example", "--client-id", "x", "--redirect-uri", "http://127.0.0.1:1/cb"}, code: exitUsage, stderr: "no client credentials"},
		{args: []string{"push", "--param", "novalue"}, code: exitUsage, stderr: "want name=value"},
		{args: []string{"push", "--bogus"}, code: exitUsage, stderr: "flag provided but not defined"},
		{args: []string{"login", "--issuer", "https://op.example", "--client-id", "x", "--secret", "s", "--redirect-uri", "https://app.example/cb"},
			code: exitUsage, stderr: "must be http://127.0.0.1:PORT/path"},
		{args: []string{"decode", "not-a-jwt"}, code: exitUsage, stderr: "not a JWT"},
		{args: []string{"--json", "decode", "a.b"}, code: exitUsage, stdout: `"exit_code": 2`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c, out, errOut := newCLI(nil)
			if code := c.run(context.Background(), tt.args); code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			if tt.stdout != "" && !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if tt.stderr != "" && !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

func TestRunWritesToGivenWriters(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"help"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "par discover") {
		t.Errorf("run(help) = %d, stdout %q", code, out.String())
	}
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	strict := newProvider(t, func(c *partest.Config) { c.RequirePAR = true; c.NoIssParameter = true })

	c, out, errOut := newCLI(nil)
	if code := c.run(context.Background(), []string{"discover", srv.Issuer()}); code != exitOK {
		t.Fatalf("discover = %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"issuer                  " + srv.Issuer(), "par                     " + srv.Issuer() + "/connect/par",
		"✓ ok         PAR endpoint present", "✓ ok         PKCE S256 supported", "! warning    PAR is not required",
		"plain http (issuer, authorization_endpoint, pushed_authorization_request_endpoint"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("discover output lacks %q:\n%s", want, out)
		}
	}

	c, out, _ = newCLI(nil)
	if code := c.run(context.Background(), []string{"discover", strict.Issuer(), "--json"}); code != exitOK {
		t.Fatalf("discover --json = %d", code)
	}
	var res struct {
		Issuer   string
		Findings []finding
		Metadata map[string]any
	}
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("discover --json output: %v\n%s", err, out)
	}
	if res.Issuer != strict.Issuer() || res.Metadata["require_pushed_authorization_requests"] != true {
		t.Errorf("discover --json = %+v", res)
	}
	var fields []string
	for _, f := range res.Findings {
		if f.Severity == sevWarn {
			fields = append(fields, f.Field)
		}
	}
	if got := strings.Join(fields, " "); !strings.Contains(got, "authorization_response_iss_parameter_supported") || strings.Contains(got, "require_pushed") {
		t.Errorf("warnings = %q, want the missing iss parameter and no PAR requirement warning", got)
	}
}

func TestDiscoverErrors(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	down := newProvider(t, nil)
	downIssuer := down.Issuer()
	down.Close()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"network", []string{"discover", downIssuer}, exitNetwork, "hint: check the issuer URL"},
		{"issuer mismatch", []string{"discover", srv.Issuer() + "/"}, exitProtocol, "issuer"},
		{"not found", []string{"discover", srv.URL + "/nope"}, exitProtocol, "404"},
		{"http non-loopback", []string{"discover", "http://op.example"}, exitProtocol, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, errOut := newCLI(nil)
			if code := c.run(context.Background(), tt.args); code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tt.code, errOut, tt.stderr)
			}
		})
	}
}

func TestFindings(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	c, out, _ := newCLI(nil)
	// A provider without PAR: the same document with the endpoint removed.
	srv.SetFault(partest.EndpointDiscovery, partest.Fault{})
	md := srv.Metadata()
	delete(md, "pushed_authorization_request_endpoint")
	md["code_challenge_methods_supported"] = []string{"plain"}
	body, _ := json.Marshal(md)
	srv.SetFault(partest.EndpointDiscovery, partest.Fault{Status: 200, Body: string(body)})
	if code := c.run(context.Background(), []string{"discover", srv.Issuer()}); code != exitProtocol {
		t.Errorf("discover of a provider without PAR = %d, want 1", code)
	}
	for _, want := range []string{"✗ error      no PAR endpoint", "✗ error      no S256", "plain PKCE is offered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPush(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	env := map[string]string{"PAR_CLIENT_SECRET": testSecret, "PAR_PARAMS": "idp_values=mitid&language=da"}
	args := []string{"push", "--issuer", srv.Issuer(), "--client-id", testClientID, "--redirect-uri", "http://127.0.0.1:8400/callback",
		"--scope", "openid", "--param", "prompt=login"}

	c, out, errOut := newCLI(env)
	if code := c.run(context.Background(), args); code != exitOK {
		t.Fatalf("push = %d; stderr:\n%s", code, errOut)
	}
	m := regexp.MustCompile(`authorization URL  (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("push output has no authorization URL:\n%s", out)
	}
	u, _ := url.Parse(m[1])
	if q := u.Query(); len(q) != 2 || q.Get("client_id") != testClientID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("authorization URL query = %v", q)
	}
	for _, want := range []string{"expires            in 600s", "extra parameters   idp_values language prompt"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("push output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String()+errOut.String(), testSecret) {
		t.Error("push printed the client secret")
	}
	// The request_uri works: partest logs the default user in.
	if params, err := srv.Login(m[1]); err != nil || params.Get("code") == "" {
		t.Errorf("Login(pushed URL) = %v, %v", params, err)
	}

	c, out, _ = newCLI(env)
	if code := c.run(context.Background(), append([]string{"--json"}, args...)); code != exitOK {
		t.Fatalf("push --json = %d", code)
	}
	var res pushResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil || res.ExpiresIn != 600 || res.RequestURI == "" {
		t.Errorf("push --json = %+v, %v", res, err)
	}
}

func TestPushErrors(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	base := []string{"push", "--issuer", srv.Issuer(), "--client-id", testClientID, "--redirect-uri", "http://127.0.0.1:8400/callback"}
	tests := []struct {
		name   string
		extra  []string
		code   int
		stderr string
	}{
		{"wrong secret", []string{"--secret", "wrong"}, exitProtocol, "hint: the provider did not accept the client credentials"},
		{"unknown client", []string{"--secret", testSecret, "--client-id", "nobody"}, exitProtocol, "invalid_client"},
		{"fapi2 with a secret", []string{"--secret", testSecret, "--profile", "fapi2"}, exitUsage, "Auth"},
		{"bad profile", []string{"--secret", testSecret, "--profile", "x"}, exitUsage, "want default, broker or fapi2"},
		{"duplicate param", []string{"--secret", testSecret, "--param", "a=1", "--param", "a=2"}, exitUsage, "given twice"},
		{"missing key file", []string{"--key", "/nonexistent.p12"}, exitUsage, "--key /nonexistent.p12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, errOut := newCLI(nil)
			if code := c.run(context.Background(), append(append([]string{}, base...), tt.extra...)); code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tt.code, errOut, tt.stderr)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	for _, jsonOut := range []bool{false, true} {
		c, out, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
		addr := make(chan string, 1)
		c.listening = func(a string) { addr <- a }
		var opened []string
		c.open = func(u string) error { opened = append(opened, u); return nil }
		args := []string{"login", "--issuer", srv.Issuer(), "--client-id", testClientID, "--redirect-uri", "http://127.0.0.1:0/callback",
			"--scope", "openid profile", "--open", "--wait", "20s"}
		if jsonOut {
			args = append(args, "--json")
		}
		done := make(chan int, 1)
		go func() { done <- c.run(context.Background(), args) }()

		// Play the browser: read the printed URL, log in, deliver the callback.
		listen := <-addr
		urlOut := out
		if jsonOut {
			urlOut = errOut
		}
		var authURL string
		for i := 0; i < 500 && authURL == ""; i++ {
			if m := regexp.MustCompile(`(?m)^  (http://\S+)$`).FindStringSubmatch(urlOut.String()); m != nil {
				authURL = m[1]
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if authURL == "" {
			t.Fatalf("no URL printed; stdout %q stderr %q", out, errOut)
		}
		params, err := srv.Login(authURL)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		// A HEAD (link checker, prefetcher) neither redeems the code nor
		// ends the wait.
		resp, err := http.Head("http://" + listen + "/callback?" + params.Encode())
		if err != nil {
			t.Fatalf("HEAD callback: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("HEAD callback = %d, Allow %q; want 405, GET, POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
		resp, err = http.Get("http://" + listen + "/callback?" + params.Encode())
		if err != nil {
			t.Fatalf("callback: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("callback page = %d", resp.StatusCode)
		}
		if code := <-done; code != exitOK {
			t.Fatalf("login = %d; stderr:\n%s", code, errOut)
		}
		if len(opened) != 1 || opened[0] != authURL {
			t.Errorf("opened %q, want the authorization URL", opened)
		}
		if !strings.Contains(errOut.String(), "request_uri expires in 10m0s") && !strings.Contains(errOut.String(), "request_uri expires in 9m59s") {
			t.Errorf("no countdown on stderr: %q", errOut)
		}
		if jsonOut {
			var res loginResult
			if err := json.Unmarshal([]byte(out.String()), &res); err != nil || res.Subject != "alice" || res.UserInfo["email"] != "alice@example.com" {
				t.Errorf("login --json = %+v, %v\n%s", res, err, out)
			}
		} else {
			for _, want := range []string{"Logged in: sub alice at " + srv.Issuer(), `"nonce":`, "UserInfo (sub matches the ID token)", "Access token: Bearer (not shown)"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("login output lacks %q:\n%s", want, out)
				}
			}
		}
		all := out.String() + errOut.String()
		if strings.Contains(all, testSecret) || strings.Contains(all, params.Get("code")) || strings.Contains(all, "eyJ") {
			t.Error("login printed a secret, the code or a token")
		}
	}
}

func TestLoginProviderError(t *testing.T) {
	t.Parallel()
	srv := newProvider(t, nil)
	c, out, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
	addr := make(chan string, 1)
	c.listening = func(a string) { addr <- a }
	done := make(chan int, 1)
	go func() {
		done <- c.run(context.Background(), []string{"login", "--issuer", srv.Issuer(), "--client-id", testClientID,
			"--redirect-uri", "http://127.0.0.1:0/cb", "--wait", "20s"})
	}()
	listen := <-addr
	var authURL string
	for i := 0; i < 500 && authURL == ""; i++ {
		if m := regexp.MustCompile(`(?m)^  (http://\S+)$`).FindStringSubmatch(out.String()); m != nil {
			authURL = m[1]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	params, err := srv.Login(authURL)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	get := func(q url.Values) int {
		resp, err := http.Get("http://" + listen + "/cb?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A callback for another login is refused and the wait goes on.
	forged := url.Values{"code": {"forged"}, "state": {"not-this-login"}, "iss": {srv.Issuer()}}
	if code := get(forged); code != http.StatusBadRequest {
		t.Errorf("forged callback = %d, want 400", code)
	}
	// The user cancels at the provider: access_denied with the login's state.
	denied := url.Values{"error": {"access_denied"}, "error_description": {"mitid_user_aborted"}, "state": {params.Get("state")}, "iss": {params.Get("iss")}}
	if code := get(denied); code != http.StatusBadRequest {
		t.Errorf("access_denied callback = %d, want 400 (the failure page)", code)
	}
	if code := <-done; code != exitProtocol {
		t.Errorf("login after access_denied = %d, want 1", code)
	}
	for _, want := range []string{"ignored a callback whose state is not this login's", "access_denied", "hint: the user cancelled the login at the provider"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jws := enc(`{"alg":"RS256","kid":"k1"}`) + "." + enc(`{"sub":"alice","exp":4102444800,"big":12345678901234567890}`) + "." + enc("sig")
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  []string
	}{
		{"jws", []string{"decode", jws}, "", exitOK, []string{"UNVERIFIED", `"kid": "k1"`, `"sub": "alice"`, "exp       2100-01-01T00:00:00Z", "12345678901234567890", "signature: 3 bytes, alg RS256"}},
		{"stdin", []string{"decode", "-"}, jws + "\n", exitOK, []string{`"sub": "alice"`}},
		{"json", []string{"decode", "--json", jws}, "", exitOK, []string{`"verified": false`, `"signature_bytes": 3`}},
		{"jwe", []string{"decode", enc(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d"}, "", exitOK, []string{"Encrypted JWT (JWE)", `"enc": "A256GCM"`}},
		{"non-json payload", []string{"decode", enc(`{"alg":"HS256"}`) + "." + enc("hello") + "."}, "", exitOK, []string{"not a JSON object"}},
		{"bad base64", []string{"decode", "!!.e30.x"}, "", exitUsage, nil},
		{"header not object", []string{"decode", enc(`[1]`) + ".e30.x"}, "", exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, out, errOut := newCLI(nil)
			c.stdin = strings.NewReader(tt.stdin)
			if code := c.run(context.Background(), tt.args); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func FuzzDecodeJWT(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	f.Add("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d")
	f.Add("e30.bnVsbA.")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decodeJWT(s)
		if err != nil {
			return
		}
		if d.Header == nil || d.Verified {
			t.Fatalf("decodeJWT(%q) = %+v without a header or marked verified", s, d)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("decoded JWT does not marshal: %v", err)
		}
	})
}

func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"a=b", "idp_params={\"mitid\":{}}", "=x", "a", "a b=c", "a==b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := parseParam(s)
		if err != nil {
			return
		}
		if k == "" || k+"="+v != s {
			t.Fatalf("parseParam(%q) = %q, %q", s, k, v)
		}
	})
}

func FuzzInterleave(f *testing.F) {
	f.Add("discover\x00https://op.example\x00--json")
	f.Add("--issuer\x00x\x00--param\x00a=b\x00--json\x00extra\x00--\x00-x")
	f.Fuzz(func(t *testing.T, joined string) {
		c, _, _ := newCLI(nil)
		fs, _ := c.flagSet("push", "", "")
		c.addClientFlags(fs, "")
		args := strings.Split(joined, "\x00")
		got := interleave(fs, args)
		// Nothing is lost or invented: the same arguments, reordered.
		count := map[string]int{}
		for _, a := range args {
			count[a]++
		}
		for _, a := range got {
			count[a]--
		}
		for a, n := range count {
			if n != 0 && a != "--" {
				t.Fatalf("interleave(%q) = %q: %q off by %d", args, got, a, n)
			}
		}
	})
}
