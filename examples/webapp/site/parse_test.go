package site

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/go-par/par/client"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "embedded", env: nil, check: func(t *testing.T, c Config) {
			if c.Issuer != "" {
				t.Errorf("Issuer = %q, want empty", c.Issuer)
			}
		}},
		{name: "broker", env: map[string]string{
			"PAR_ISSUER": "https://pp.netseidbroker.dk/op", "PAR_CLIENT_ID": "0a775a87", "PAR_CLIENT_SECRET": "a+b/c=",
			"PAR_SCOPES": "openid mitid ssn", "PAR_PARAMS": "idp_values=mitid&language=da", "PAR_PROFILE": "broker",
		}, check: func(t *testing.T, c Config) {
			if p, _ := c.profile(); p != client.ProfileBroker {
				t.Errorf("profile = %v, want broker", p)
			}
			if got := strings.Join(c.Scopes, " "); got != "openid mitid ssn" {
				t.Errorf("Scopes = %q", got)
			}
			if c.Params.Get("idp_values") != "mitid" || c.Params.Get("language") != "da" {
				t.Errorf("Params = %v", c.Params)
			}
			if m, err := c.authMethod(); err != nil || m.Method() != "client_secret_basic" {
				t.Errorf("authMethod = %v, %v; want client_secret_basic", m, err)
			}
		}},
		{name: "client id without issuer", env: map[string]string{"PAR_CLIENT_ID": "x"}, wantErr: "PAR_ISSUER is not"},
		{name: "issuer without client", env: map[string]string{"PAR_ISSUER": "https://op.example"}, wantErr: "PAR_CLIENT_ID"},
		{name: "no credentials", env: map[string]string{"PAR_ISSUER": "https://op.example", "PAR_CLIENT_ID": "x"}, wantErr: "PAR_CLIENT_SECRET or PAR_KEY_FILE"},
		{name: "bad profile", env: map[string]string{"PAR_PROFILE": "fapi3"}, wantErr: "want default, broker or fapi2"},
		{name: "repeated param", env: map[string]string{"PAR_PARAMS": "a=1&a=2"}, wantErr: "more than once"},
		{name: "bad param encoding", env: map[string]string{"PAR_PARAMS": "a=%zz"}, wantErr: "k=v&k=v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ConfigFromEnv = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestAuthMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg     Config
		want    string
		wantErr string
	}{
		{Config{ClientSecret: "s"}, "client_secret_basic", ""},
		{Config{ClientSecret: "s", AuthMethod: "client_secret_post"}, "client_secret_post", ""},
		{Config{ClientSecret: "s", AuthMethod: "client_secret_jwt"}, "client_secret_jwt", ""},
		{Config{AuthMethod: "none"}, "none", ""},
		{Config{AuthMethod: "private_key_jwt"}, "", "needs PAR_KEY_FILE"},
		{Config{KeyFile: "/nonexistent/key.pem"}, "", "PAR_KEY_FILE"},
		{Config{AuthMethod: "tls"}, "", "PAR_AUTH_METHOD"},
	}
	for _, tt := range tests {
		m, err := tt.cfg.authMethod()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("authMethod(%+v) = %v, want error with %q", tt.cfg.AuthMethod, err, tt.wantErr)
			}
			continue
		}
		if err != nil || m.Method() != tt.want {
			t.Errorf("authMethod(%q) = %v, %v; want %s", tt.cfg.AuthMethod, m, err, tt.want)
		}
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://op.example/cb?code=SECRETCODE1&state=st&iss=https%3A%2F%2Fop")
	if got := redactURL(u); strings.Contains(got, "SECRETCODE1") || !strings.Contains(got, "state=st") {
		t.Errorf("redactURL = %q", got)
	}
	ps := redactQuery(url.Values{"client_secret": {"SECRETSECRET"}, "scope": {"openid"}, "code_verifier": {"VERIFIER123"}})
	for _, p := range ps {
		if strings.Contains(p.Value, "SECRET") || strings.Contains(p.Value, "VERIFIER") {
			t.Errorf("redactQuery kept %s = %q", p.Name, p.Value)
		}
		if p.Name == "scope" && (p.Value != "openid" || p.Redacted) {
			t.Errorf("redactQuery changed scope: %+v", p)
		}
	}
	tests := []struct {
		kind, ct, body string
		want, notWant  string
	}{
		{kindToken, "application/json", `{"access_token":"AT-SECRET-1","id_token":"eyJhbGciOi.x.y","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-SECRET-2"}`,
			`"token_type": "Bearer"`, "SECRET"},
		{kindToken, "application/json", `{"nested":[{"access_token":"AT-SECRET-3"}],"access_token":{"odd":"AT-SECRET-4"}}`, `[redacted`, "SECRET"},
		{kindPush, "application/json", `{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":600}`, "urn:ietf:params:oauth:request_uri:abc", ""},
		{kindUserinfo, "application/jwt", "eyJhbGciOi.SECRET.sig", "signed JWT", "SECRET"},
		{kindToken, "text/html", "<p>SECRET</p>", "bytes of text/html", "SECRET"},
		{kindToken, "application/json", `{"access_token":"SECRET`, "malformed JSON", "SECRET"},
	}
	for _, tt := range tests {
		got, _ := describeResponse(tt.kind, tt.ct, []byte(tt.body), false)
		if !strings.Contains(got, tt.want) || (tt.notWant != "" && strings.Contains(got, tt.notWant)) {
			t.Errorf("describeResponse(%s, %s) = %q, want %q and no %q", tt.kind, tt.body, got, tt.want, tt.notWant)
		}
	}
	_, facts := describeResponse(kindPush, "application/json", []byte(`{"request_uri":"urn:x","expires_in":600}`), false)
	if len(facts) != 2 || facts[0].Value != "urn:x" || facts[1].Value != "600" {
		t.Errorf("push facts = %+v", facts)
	}
	if h := jwtHeader("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.sig"); h.Alg != "RS256" || h.Kid != "k1" {
		t.Errorf("jwtHeader = %+v", h)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"", "idp_values=mitid&language=da", "a=1&a=2", "=x", "a=%zz", "idp_params=%7B%22mitid%22%3A%7B%7D%7D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseParams(s)
		if err != nil {
			return
		}
		for k, vs := range v {
			if k == "" || len(vs) != 1 {
				t.Fatalf("parseParams(%q) accepted %q = %q", s, k, vs)
			}
		}
	})
}

func FuzzDescribeResponse(f *testing.F) {
	f.Add("token", `{"access_token":"x","token_type":"Bearer"}`, "SECRETVALUE")
	f.Add("push", `{"request_uri":"urn:x","expires_in":600}`, "abc")
	f.Add("jwks", `{"keys":[{"kid":"k","kty":"RSA"}]}`, "k")
	f.Fuzz(func(t *testing.T, kind, body, secret string) {
		describeResponse(kind, "application/json", []byte(body), false)
		jwtHeader(body)
		// A secret member never survives, whatever else the document holds.
		if len(secret) < 8 || strings.Contains(body, secret) || strings.Contains(`[redacted, 0123456789 chars]`, secret) {
			return
		}
		doc := map[string]any{"refresh_token": secret, "other": json.RawMessage(`1`)}
		if json.Valid([]byte(body)) {
			doc["other"] = json.RawMessage(body)
		}
		b, _ := json.Marshal(doc)
		for _, k := range []string{kindToken, kindPush, kindUserinfo, kindHTTP} {
			out, facts := describeResponse(k, "application/json", b, false)
			esc, _ := json.Marshal(secret)
			if strings.Contains(out, strings.Trim(string(esc), `"`)) {
				t.Fatalf("describeResponse(%s) leaked the refresh token: %q", k, out)
			}
			for _, p := range facts {
				if strings.Contains(p.Value, secret) {
					t.Fatalf("describeResponse(%s) fact leaked the refresh token", k)
				}
			}
		}
	})
}
