package client_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// Encryption keys of the JARM tests, made once.
var (
	jarmRSA = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	jarmEC = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// jarmServer is a partest server whose client app signs its responses
// PS256 and, with enc, encrypts them to key.
func jarmServer(t *testing.T, key crypto.Signer, alg jose.KeyAlgorithm, mod ...func(*partest.Config)) *partest.Server {
	t.Helper()
	return secretServer(t, append([]func(*partest.Config){func(c *partest.Config) {
		c.Clients[0].AuthorizationSignedResponseAlg = jose.PS256
		if key != nil {
			c.Clients[0].JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "enc-1", Use: "enc"}}}
			c.Clients[0].AuthorizationEncryptedResponseAlg = alg
		}
	}}, mod...)...)
}

// callbackRequest is the browser's request to the redirect URI for mode.
func callbackRequest(mode string, params url.Values) *http.Request {
	if strings.HasPrefix(mode, "form_post") {
		r := httptest.NewRequest(http.MethodPost, cb, strings.NewReader(params.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	return httptest.NewRequest(http.MethodGet, cb+"?"+params.Encode(), nil)
}

func TestJARMLogin(t *testing.T) {
	t.Parallel()
	for _, enc := range []struct {
		name string
		key  crypto.Signer
		alg  jose.KeyAlgorithm
	}{
		{"signed", nil, ""},
		{"encrypted RSA-OAEP-256", jarmRSA(), jose.RSA_OAEP_256},
		{"encrypted ECDH-ES+A128KW", jarmEC(), jose.ECDH_ES_A128KW},
	} {
		for _, mode := range []string{"jwt", "query.jwt", "form_post.jwt"} {
			t.Run(enc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := jarmServer(t, enc.key, enc.alg)
				cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: mode}
				if enc.key != nil {
					cfg.ResponseDecryptionKey = enc.key
				}
				c, flow, params := login(t, srv, cfg)
				if flow.ResponseMode != mode {
					t.Errorf("flow.ResponseMode %q, want %q", flow.ResponseMode, mode)
				}
				if len(params) != 1 || params.Get("response") == "" {
					t.Fatalf("callback parameters %v, want response alone", keysOf(params))
				}
				if got := strings.Count(params.Get("response"), "."); got != map[bool]int{true: 4, false: 2}[enc.key != nil] {
					t.Fatalf("response has %d dots", got)
				}
				got, err := client.ParseResponse(callbackRequest(mode, params))
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				inner, err := c.ResponseParams(ctx, got)
				if err != nil {
					t.Fatal(err)
				}
				if inner.Get("state") != flow.State || inner.Get("code") == "" || inner.Get("iss") != srv.Issuer() || inner.Has("exp") || inner.Has("aud") {
					t.Errorf("inner parameters %v", keysOf(inner))
				}
				tok, err := c.Exchange(ctx, flow, got)
				if err != nil {
					t.Fatal(err)
				}
				if tok.IDToken == nil || tok.IDToken.Nonce != flow.Nonce {
					t.Errorf("tokens %v", tok)
				}
			})
		}
	}
}

func keysOf(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}

// TestJARMRefusals: every forged or misdirected JWT-secured response is
// refused with its typed error before any token request.
func TestJARMRefusals(t *testing.T) {
	t.Parallel()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name  string
		fault partest.Fault
		enc   bool                 // the server encrypts to jarmRSA
		cfg   func(*client.Config) // client changes
		// edit changes the callback parameters before ParseResponse.
		edit func(t *testing.T, srv *partest.Server, flow *client.Flow, params url.Values) url.Values
		want []error
	}
	exp := func(d time.Duration) partest.Fault {
		return partest.Fault{JARMClaims: func(c map[string]any) { c["exp"] = time.Now().Add(d).Unix() }}
	}
	tests := []tc{
		{name: "unsigned (alg none)", fault: partest.Fault{JARMAlg: "none"}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "HS256 keyed with the client secret", fault: partest.Fault{JARMAlg: jose.HS256}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "RS256, outside the allow-list", fault: partest.Fault{JARMAlg: jose.RS256},
			cfg: func(c *client.Config) { c.IDTokenAlgorithms = []string{"PS256"} }, want: []error{client.ErrInvalidResponseJWT}},
		{name: "key not in the JWKS", fault: partest.Fault{JARMAlg: jose.PS256, JARMKey: otherKey}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "wrong iss", fault: partest.Fault{Issuer: "https://attacker.example"},
			want: []error{client.ErrInvalidResponseJWT, client.ErrIssuerMismatch}},
		{name: "no iss", fault: partest.Fault{OmitIss: true}, want: []error{client.ErrInvalidResponseJWT, client.ErrIssuerMismatch}},
		{name: "wrong aud", fault: partest.Fault{JARMClaims: func(c map[string]any) { c["aud"] = "other-client" }},
			want: []error{client.ErrInvalidResponseJWT}},
		{name: "aud array without the client", fault: partest.Fault{JARMClaims: func(c map[string]any) { c["aud"] = []string{"x", "y"} }},
			want: []error{client.ErrInvalidResponseJWT}},
		{name: "no exp", fault: partest.Fault{JARMClaims: func(c map[string]any) { delete(c, "exp") }}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "exp a string", fault: partest.Fault{JARMClaims: func(c map[string]any) { c["exp"] = "soon" }}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "exp a string holding a number", fault: partest.Fault{JARMClaims: func(c map[string]any) {
			c["exp"] = fmt.Sprint(time.Now().Add(time.Minute).Unix())
		}}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "expired", fault: exp(-2 * time.Minute), want: []error{client.ErrInvalidResponseJWT}},
		{name: "exp an hour ahead", fault: exp(time.Hour), want: []error{client.ErrInvalidResponseJWT}},
		{name: "state of another flow inside", fault: partest.Fault{AuthorizationResponse: func(v url.Values) { v.Set("state", "other") }},
			want: []error{client.ErrStateMismatch}},
		{name: "plain parameters next to response", fault: partest.Fault{JARMWithPlainParams: true}, want: []error{client.ErrInvalidResponse}},
		{name: "encrypted, no decryption key configured", enc: true, want: []error{client.ErrInvalidResponseJWT}},
		{name: "encrypted to another key", enc: true,
			cfg:  func(c *client.Config) { c.ResponseDecryptionKey = otherKey },
			want: []error{client.ErrInvalidResponseJWT}},
		{name: "signed only, a decryption key configured", cfg: func(c *client.Config) { c.ResponseDecryptionKey = jarmRSA() },
			want: []error{client.ErrInvalidResponseJWT}},
		{name: "plain response to a jwt flow", edit: func(t *testing.T, srv *partest.Server, flow *client.Flow, _ url.Values) url.Values {
			return url.Values{"code": {"c0de-from-elsewhere"}, "state": {flow.State}, "iss": {srv.Issuer()}}
		}, want: []error{client.ErrInvalidResponseJWT}},
		{name: "a plain error to a jwt flow", edit: func(t *testing.T, srv *partest.Server, flow *client.Flow, _ url.Values) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {flow.State}, "iss": {srv.Issuer()}}
		}, want: []error{client.ErrInvalidResponseJWT, errAuthorization("access_denied")}},
		{name: "response given twice", edit: func(t *testing.T, _ *partest.Server, _ *client.Flow, v url.Values) url.Values {
			v["response"] = append(v["response"], v["response"][0])
			return v
		}, want: []error{client.ErrInvalidResponse}},
		{name: "not a JWT", edit: func(t *testing.T, _ *partest.Server, _ *client.Flow, _ url.Values) url.Values {
			return url.Values{"response": {"not-a-jwt"}}
		}, want: []error{client.ErrInvalidResponseJWT}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var srv *partest.Server
			if tt.enc {
				srv = jarmServer(t, jarmRSA(), jose.RSA_OAEP_256)
			} else {
				srv = jarmServer(t, nil, "")
			}
			srv.SetFault(partest.EndpointAuthorize, tt.fault)
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: "query.jwt"}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, flow, params := login(t, srv, cfg)
			if tt.edit != nil {
				params = tt.edit(t, srv, flow, params)
			}
			checkRefused(t, srv, c, flow, params, tt.want)
		})
	}
}

// errAuthorization matches an *AuthorizationError with code, for the want
// lists of the refusal tables.
type errAuthorization string

func (e errAuthorization) Error() string { return "authorization error " + string(e) }

// matches reports whether err wraps target, where an errAuthorization
// target is looked for with errors.As.
func matches(err, target error) bool {
	if ea, ok := target.(errAuthorization); ok {
		var ae *client.AuthorizationError
		return errors.As(err, &ae) && ae.Code == string(ea)
	}
	return errors.Is(err, target)
}

// checkRefused runs ParseResponse and Exchange on params and expects an
// error wrapping every want, with no token request made.
func checkRefused(t *testing.T, srv *partest.Server, c *client.Client, flow *client.Flow, params url.Values, want []error) {
	t.Helper()
	before := srv.Requests(partest.EndpointToken)
	mode := flow.ResponseMode
	got, err := client.ParseResponse(callbackRequest(mode, params))
	if err == nil {
		// What ParseResponse let through, Exchange must refuse; an app
		// that builds params itself meets the same checks.
		_, err = c.Exchange(context.Background(), flow, got)
	} else if _, err2 := c.Exchange(context.Background(), flow, params); err2 == nil {
		t.Errorf("Exchange accepted what ParseResponse refused (%v)", err)
	}
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range want {
		if !matches(err, w) {
			t.Errorf("error %q does not wrap %v", err, w)
		}
	}
	if n := srv.Requests(partest.EndpointToken) - before; n != 0 {
		t.Errorf("%d token requests after a refused response", n)
	}
	if code := params.Get("code"); code != "" && strings.Contains(err.Error(), code) {
		t.Errorf("error %q shows the code", err)
	}
}

// TestJARMReplay: a genuine response of an earlier flow, replayed into a
// later one, fails the state check.
func TestJARMReplay(t *testing.T) {
	t.Parallel()
	srv := jarmServer(t, nil, "")
	cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: "jwt"}
	c, first, params := login(t, srv, cfg)
	srv.SetFault(partest.EndpointAuthorize, partest.Fault{ReplayJARM: true})
	_, second, replayed := login(t, srv, cfg)
	if replayed.Get("response") != params.Get("response") {
		t.Fatal("partest did not replay the response")
	}
	checkRefused(t, srv, c, second, replayed, []error{client.ErrStateMismatch})
	// The first flow still completes with its own response.
	if _, err := c.Exchange(context.Background(), first, params); err != nil {
		t.Fatal(err)
	}
}

// TestJARMErrorResponse: a provider error travels inside the JWT and
// comes out as *AuthorizationError, its iss proven by the signature.
func TestJARMErrorResponse(t *testing.T) {
	t.Parallel()
	for _, profile := range []client.Profile{client.ProfileDefault, client.ProfileBroker} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			srv := jarmServer(t, nil, "")
			srv.FailNextLogin("access_denied", "the user said no")
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: "form_post.jwt", Profile: profile}
			c, flow, params := login(t, srv, cfg)
			if !params.Has("response") || len(params) != 1 {
				t.Fatalf("error not JWT-secured: %v", keysOf(params))
			}
			_, err := c.Exchange(context.Background(), flow, params)
			var ae *client.AuthorizationError
			if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "the user said no" {
				t.Fatalf("error %v, want the provider's access_denied", err)
			}
			if errors.Is(err, client.ErrIssuerMismatch) || errors.Is(err, client.ErrInvalidResponseJWT) {
				t.Errorf("a verified error response marked as a failed check: %v", err)
			}
		})
	}
}

// TestJARMMaxLifetime: exp up to ResponseJWTMaxLifetime (plus skew) ahead
// is accepted, beyond is not.
func TestJARMMaxLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ahead, max time.Duration
		ok         bool
	}{
		{9 * time.Minute, 0, true},
		{11 * time.Minute, 0, false},
		{25 * time.Minute, 30 * time.Minute, true},
		{2 * time.Minute, time.Minute, false},
		{time.Minute + 20*time.Second, time.Minute, true}, // within ClockSkew
	}
	for _, tt := range tests {
		t.Run(tt.ahead.String()+"/"+tt.max.String(), func(t *testing.T) {
			t.Parallel()
			srv := jarmServer(t, nil, "")
			srv.SetFault(partest.EndpointAuthorize, partest.Fault{JARMClaims: func(c map[string]any) {
				c["exp"] = time.Now().Add(tt.ahead).Unix()
			}})
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: "jwt", ResponseJWTMaxLifetime: tt.max}
			c, flow, params := login(t, srv, cfg)
			_, err := c.Exchange(context.Background(), flow, params)
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, client.ErrInvalidResponseJWT) {
				t.Fatalf("Exchange: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestJARMConfig: New's checks of the JARM fields.
func TestJARMConfig(t *testing.T) {
	t.Parallel()
	srv := jarmServer(t, nil, "")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   func(*client.Config)
		field string // "" means accepted
	}{
		{"jwt", func(c *client.Config) { c.ResponseMode = "jwt" }, ""},
		{"fragment.jwt not offered", func(c *client.Config) { c.ResponseMode = "fragment.jwt" }, "ResponseMode"},
		{"RSA key", func(c *client.Config) { c.ResponseDecryptionKey = jarmRSA() }, ""},
		{"EC key", func(c *client.Config) { c.ResponseDecryptionKey = jarmEC() }, ""},
		{"HSM RSA decrypter", func(c *client.Config) { c.ResponseDecryptionKey = hsm{jarmRSA()} }, ""},
		{"RSA-1024", func(c *client.Config) { c.ResponseDecryptionKey = small }, "ResponseDecryptionKey"},
		{"a public key", func(c *client.Config) { c.ResponseDecryptionKey = jarmRSA().Public() }, "ResponseDecryptionKey"},
		{"negative lifetime", func(c *client.Config) { c.ResponseJWTMaxLifetime = -time.Second }, "ResponseJWTMaxLifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic(secret),
				RedirectURL: cb, HTTPClient: srv.Client()}
			tt.cfg(&cfg)
			_, err := client.New(context.Background(), cfg)
			switch {
			case tt.field == "" && err != nil:
				t.Fatal(err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), "config: "+tt.field)):
				t.Fatalf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

// TestJARMHSMDecrypter: an RSA key behind crypto.Decrypter (an HSM)
// decrypts RSA-OAEP and RSA-OAEP-256 responses.
func TestJARMHSMDecrypter(t *testing.T) {
	t.Parallel()
	for _, alg := range []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			srv := jarmServer(t, jarmRSA(), alg)
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), ResponseMode: "jwt",
				ResponseDecryptionKey: hsm{jarmRSA()}}
			c, flow, params := login(t, srv, cfg)
			if _, err := c.Exchange(context.Background(), flow, params); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// hsm is an RSA key reachable only through crypto.Decrypter.
type hsm struct{ k *rsa.PrivateKey }

func (h hsm) Public() crypto.PublicKey { return h.k.Public() }
func (h hsm) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return h.k.Decrypt(r, msg, opts)
}

// TestParseResponseJARM: ParseResponse hands a response on unverified and
// refuses it next to plain parameters.
func TestParseResponseJARM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		ok    bool
	}{
		{"response=a.b.c", true},
		{"response=a.b.c&tenant=7", true}, // the redirect URI's own query
		{"response=a.b.c&code=x", false},
		{"response=a.b.c&state=x", false},
		{"response=a.b.c&iss=x", false},
		{"response=a.b.c&error=x", false},
		{"response=a.b.c&response=d.e.f", false},
	}
	for _, tt := range tests {
		v, err := client.ParseResponse(httptest.NewRequest(http.MethodGet, cb+"?"+tt.query, nil))
		if tt.ok != (err == nil) {
			t.Errorf("%s: %v, want ok=%v", tt.query, err, tt.ok)
		}
		if err != nil && !errors.Is(err, client.ErrInvalidResponse) {
			t.Errorf("%s: %v is not ErrInvalidResponse", tt.query, err)
		}
		if err == nil && v.Get("response") != "a.b.c" {
			t.Errorf("%s: response not handed on", tt.query)
		}
	}
}

// FuzzResponseParams: no response parameter makes ResponseParams panic,
// and none passes without the provider's signature.
func FuzzResponseParams(f *testing.F) {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: secret, RedirectURIs: []string{cb},
		AuthorizationSignedResponseAlg: jose.PS256}}})
	f.Cleanup(srv.Close)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srv.Client(), ResponseMode: "jwt"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("a.b.c.d.e")
	f.Add("eyJhbGciOiJQUzI1NiIsImtpZCI6IngifQ.eyJleHAiOjF9.c2ln")
	f.Add("...")
	f.Fuzz(func(t *testing.T, response string) {
		v, err := c.ResponseParams(context.Background(), url.Values{"response": {response}})
		if err == nil {
			t.Fatalf("accepted %q: %v", response, v)
		}
		if !errors.Is(err, client.ErrInvalidResponseJWT) && !errors.Is(err, client.ErrInvalidResponse) {
			t.Fatalf("error %v is not typed", err)
		}
	})
}
