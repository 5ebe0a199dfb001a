package jar_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/jar"
)

// authzParams is a typical broker authorization request.
func authzParams() url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {"https://rp.example/callback"},
		"scope":                 {"openid mitid"},
		"state":                 {"af0ifjsldkj"},
		"nonce":                 {"n-0S6_WzA2Mj"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
		"idp_values":            {"mitid"},
		"idp_params":            {`{"mitid":{"enable_step_up":false}}`},
		"language":              {"da"},
	}
}

// wantClaims is what authzParams must become, with jti left out.
func wantClaims(lifetime time.Duration) map[string]any {
	iat := json.Number(itoa(fixedNow.Unix()))
	return map[string]any{
		"iss": clientID, "aud": issuer, "client_id": clientID,
		"iat": iat, "nbf": iat, "exp": json.Number(itoa(fixedNow.Add(lifetime).Unix())),
		"response_type": "code", "redirect_uri": "https://rp.example/callback",
		"scope": "openid mitid", "state": "af0ifjsldkj", "nonce": "n-0S6_WzA2Mj",
		"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
		"idp_values": "mitid", "idp_params": `{"mitid":{"enable_step_up":false}}`, "language": "da",
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkJTI removes jti from claims after checking it is 128 random bits in
// base64url.
func checkJTI(t *testing.T, claims map[string]any) string {
	t.Helper()
	jti, _ := claims["jti"].(string)
	b, err := base64.RawURLEncoding.DecodeString(jti)
	if err != nil || len(b) < 16 {
		t.Errorf("jti = %q, want ≥128 bits base64url", jti)
	}
	delete(claims, "jti")
	return jti
}

func TestBuildSigned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     jar.Config
		wantAlg jose.SignatureAlgorithm
		key     any // verification key
		wantKID string
		wantTyp string
	}{
		{name: "RS256 default for RSA", cfg: jar.Config{Signer: rsaKey(), KeyID: "rsa-1"}, wantAlg: jose.RS256, key: publicOf(rsaKey()), wantKID: "rsa-1"},
		{name: "PS256", cfg: jar.Config{Signer: rsaKey(), Algorithm: jose.PS256, KeyID: "rsa-1", Type: jar.TypeRequestObject}, wantAlg: jose.PS256, key: publicOf(rsaKey()), wantKID: "rsa-1", wantTyp: jar.TypeRequestObject},
		{name: "ES256", cfg: jar.Config{Signer: ecKey(), KeyID: "ec-1", Type: jar.TypeRequestObject}, wantAlg: jose.ES256, key: publicOf(ecKey()), wantKID: "ec-1", wantTyp: jar.TypeRequestObject},
		{name: "EdDSA", cfg: jar.Config{Signer: edKey()}, wantAlg: jose.EdDSA, key: publicOf(edKey())},
		{name: "HS256 with the raw client secret", cfg: jar.Config{Secret: []byte(secret), Type: "JWT"}, wantAlg: jose.HS256, key: []byte(secret), wantTyp: "JWT"},
		{name: "HS256 with kid", cfg: jar.Config{Secret: []byte(secret), KeyID: "s1"}, wantAlg: jose.HS256, key: []byte(secret), wantKID: "s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.ClientID, cfg.Audience, cfg.Now = clientID, issuer, now
			b, err := jar.New(cfg)
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			params := authzParams()
			before := url.Values{}
			for k, v := range params {
				before[k] = append([]string(nil), v...)
			}
			req, err := b.Build(params)
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			if !reflect.DeepEqual(params, before) {
				t.Errorf("Build modified its params")
			}
			if strings.Count(req, ".") != 2 {
				t.Fatalf("Build() = %q, want a compact JWS", req)
			}
			hdr, claims := verify(t, req, tt.wantAlg, tt.key)
			if hdr.Algorithm != string(tt.wantAlg) || hdr.KeyID != tt.wantKID {
				t.Errorf("header alg, kid = %q, %q; want %q, %q", hdr.Algorithm, hdr.KeyID, tt.wantAlg, tt.wantKID)
			}
			if typ, _ := hdr.ExtraHeaders["typ"].(string); typ != tt.wantTyp {
				t.Errorf("header typ = %q, want %q", typ, tt.wantTyp)
			}
			checkJTI(t, claims)
			if want := wantClaims(jar.DefaultLifetime); !reflect.DeepEqual(claims, want) {
				t.Errorf("claims = %v\nwant     %v", claims, want)
			}
		})
	}
}

func TestBuildClaimValues(t *testing.T) {
	t.Parallel()
	b, err := jar.New(jar.Config{
		ClientID: clientID, Audience: issuer, Secret: []byte(secret), Now: now,
		JSONParams: []string{"idp_params", "max_age"},
		Lifetime:   time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	tricky := "quote\" backslash\\ newline\n tab\t nul\x00 bell\x07 æøå 😀 </script> \u2028"
	params := url.Values{
		"idp_params":            {` { "mitid" : { "loa_value" : "https://data.gov.dk/concept/core/nsis/Substantial", "uuid_hint": null } } `},
		"max_age":               {"300"},
		"claims":                {`{"userinfo":{"mitid.uuid":{"essential":true}}}`},
		"authorization_details": {`[{"type":"payment_initiation"}]`},
		"resource":              {"https://api.example/a", "https://api.example/b"},
		"login_hint":            {tricky},
		"bad_utf8":              {"a\xffb"},
		"empty":                 {""},
		"no_values":             {},
	}
	req, err := b.Build(params)
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	_, claims := verify(t, req, jose.HS256, []byte(secret))
	checkJTI(t, claims)
	want := map[string]any{
		"iss": clientID, "aud": issuer, "client_id": clientID,
		"iat": json.Number(itoa(fixedNow.Unix())), "nbf": json.Number(itoa(fixedNow.Unix())),
		"exp":                   json.Number(itoa(fixedNow.Add(time.Hour).Unix())),
		"idp_params":            map[string]any{"mitid": map[string]any{"loa_value": "https://data.gov.dk/concept/core/nsis/Substantial", "uuid_hint": nil}},
		"max_age":               json.Number("300"),
		"claims":                map[string]any{"userinfo": map[string]any{"mitid.uuid": map[string]any{"essential": true}}},
		"authorization_details": []any{map[string]any{"type": "payment_initiation"}},
		"resource":              []any{"https://api.example/a", "https://api.example/b"},
		"login_hint":            tricky,
		"bad_utf8":              "a\ufffdb",
		"empty":                 "",
	}
	if !reflect.DeepEqual(claims, want) {
		t.Errorf("claims = %#v\nwant     %#v", claims, want)
	}
}

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Signer: ecKey(), JSONParams: []string{"idp_params"}})
	if err != nil {
		t.Fatal(err)
	}
	const value = "SECRET-VALUE-1234"
	tests := []struct {
		param string
		vals  []string
		want  error
	}{
		{"request", []string{value}, jar.ErrForbiddenParameter},
		{"request_uri", []string{"urn:ietf:params:oauth:request_uri:" + value}, jar.ErrForbiddenParameter},
		{"client_secret", []string{value}, jar.ErrForbiddenParameter},
		{"client_assertion", []string{value}, jar.ErrForbiddenParameter},
		{"client_assertion_type", []string{"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, jar.ErrForbiddenParameter},
		{"iss", []string{value}, jar.ErrForbiddenParameter},
		{"aud", []string{value}, jar.ErrForbiddenParameter},
		{"exp", []string{value}, jar.ErrForbiddenParameter},
		{"nbf", []string{value}, jar.ErrForbiddenParameter},
		{"iat", []string{value}, jar.ErrForbiddenParameter},
		{"jti", []string{value}, jar.ErrForbiddenParameter},
		{"client_id", []string{value}, jar.ErrClientIDMismatch},
		{"client_id", []string{clientID, value}, jar.ErrClientIDMismatch},
		{"client_id", []string{clientID, clientID}, jar.ErrClientIDMismatch},
		{"idp_params", []string{"{" + value}, jar.ErrInvalidJSON},
		{"idp_params", []string{`{"a":1} {"b":2}`}, jar.ErrInvalidJSON},
		{"idp_params", []string{"{}", "{}"}, jar.ErrInvalidJSON},
		{"claims", []string{value}, jar.ErrInvalidJSON},
		{"bad\xffname", []string{value}, jar.ErrForbiddenParameter},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			t.Parallel()
			params := authzParams()
			params[tt.param] = tt.vals
			req, err := b.Build(params)
			if !errors.Is(err, tt.want) || req != "" {
				t.Fatalf("Build() = %q, %v; want %v", req, err, tt.want)
			}
			var pe *jar.ParameterError
			if !errors.As(err, &pe) || pe.Name != tt.param {
				t.Fatalf("error %v is not a *ParameterError naming %q", err, tt.param)
			}
			if msg := err.Error(); strings.Contains(msg, value) || !strings.HasPrefix(msg, "jar: ") {
				t.Errorf("error text %q", msg)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ok := jar.Config{ClientID: clientID, Audience: issuer, Secret: []byte(secret)}
	with := func(f func(*jar.Config)) jar.Config { c := ok; f(&c); return c }
	encTo := func(e *jar.Encryption) jar.Config { return with(func(c *jar.Config) { c.Encryption = e }) }
	rsaJWK := &jose.JSONWebKey{Key: publicOf(rsaKey())}
	tests := []struct {
		name  string
		cfg   jar.Config
		field string
	}{
		{"no client id", with(func(c *jar.Config) { c.ClientID = "" }), "ClientID"},
		{"no audience", with(func(c *jar.Config) { c.Audience = "" }), "Audience"},
		{"no key", with(func(c *jar.Config) { c.Secret = nil }), "Signer"},
		{"both keys", with(func(c *jar.Config) { c.Signer = ecKey() }), "Secret"},
		{"short secret", with(func(c *jar.Config) { c.Secret = []byte("too-short") }), "Secret"},
		{"HS512 secret too short", with(func(c *jar.Config) { c.Algorithm = jose.HS512 }), "Secret"},
		{"RS256 with secret", with(func(c *jar.Config) { c.Algorithm = jose.RS256 }), "Algorithm"},
		{"HS256 with signer", jar.Config{ClientID: clientID, Audience: issuer, Signer: rsaKey(), Algorithm: jose.HS256}, "Algorithm"},
		{"ES384 with P-256", jar.Config{ClientID: clientID, Audience: issuer, Signer: ecKey(), Algorithm: jose.ES384}, "Algorithm"},
		{"lifetime over 60 min", with(func(c *jar.Config) { c.Lifetime = time.Hour + time.Second }), "Lifetime"},
		{"negative lifetime", with(func(c *jar.Config) { c.Lifetime = -time.Minute }), "Lifetime"},
		{"sub-second lifetime", with(func(c *jar.Config) { c.Lifetime = time.Millisecond }), "Lifetime"},
		{"no encryption key", encTo(&jar.Encryption{}), "Encryption.Key"},
		{"small RSA encryption key", encTo(&jar.Encryption{Key: &jose.JSONWebKey{Key: &small.PublicKey}}), "Encryption.Key"},
		{"private encryption key", encTo(&jar.Encryption{Key: &jose.JSONWebKey{Key: rsaKey()}}), "Encryption.Key"},
		{"ed25519 encryption key", encTo(&jar.Encryption{Key: &jose.JSONWebKey{Key: publicOf(edKey())}}), "Encryption.Key"},
		{"RSA1_5", encTo(&jar.Encryption{Key: rsaJWK, KeyAlgorithm: jose.RSA1_5}), "Encryption.KeyAlgorithm"},
		{"ECDH-ES with RSA key", encTo(&jar.Encryption{Key: rsaJWK, KeyAlgorithm: jose.ECDH_ES}), "Encryption.KeyAlgorithm"},
		{"RSA-OAEP with EC key", encTo(&jar.Encryption{Key: &jose.JSONWebKey{Key: publicOf(ecKey())}, KeyAlgorithm: jose.RSA_OAEP}), "Encryption.KeyAlgorithm"},
		{"unknown enc", encTo(&jar.Encryption{Key: rsaJWK, ContentEncryption: "A512XYZ"}), "Encryption.ContentEncryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := jar.New(tt.cfg)
			var ce *jar.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field || b != nil {
				t.Fatalf("New() = %v, %v; want a *ConfigError for %s", b, err, tt.field)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "jar: config: "+tt.field+": ") || strings.Contains(msg, secret) {
				t.Errorf("error text %q", msg)
			}
		})
	}
	if _, err := jar.New(ok); err != nil {
		t.Fatalf("New(valid) error = %v", err)
	}
}

// TestSecretCopied checks the Builder keeps its own copy of Config.Secret.
func TestSecretCopied(t *testing.T) {
	t.Parallel()
	s := []byte(secret)
	b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Secret: s})
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		s[i] = 'x'
	}
	req, err := b.Build(url.Values{"scope": {"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, req, jose.HS256, []byte(secret))
}

func TestLifetime(t *testing.T) {
	t.Parallel()
	for _, lt := range []time.Duration{0, time.Second, 90 * time.Second, jar.MaxLifetime} {
		b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Signer: ecKey(), Lifetime: lt, Now: now})
		if err != nil {
			t.Fatalf("New(Lifetime %v) error = %v", lt, err)
		}
		req, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		_, claims := verify(t, req, jose.ES256, publicOf(ecKey()))
		want := lt
		if want == 0 {
			want = jar.DefaultLifetime
		}
		nbf, _ := claims["nbf"].(json.Number).Int64()
		exp, _ := claims["exp"].(json.Number).Int64()
		if time.Duration(exp-nbf)*time.Second != want || nbf != fixedNow.Unix() {
			t.Errorf("Lifetime %v: nbf, exp = %d, %d", lt, nbf, exp)
		}
	}
}

// TestConcurrentBuild builds from many goroutines (run with -race) and
// checks every jti differs.
func TestConcurrentBuild(t *testing.T) {
	t.Parallel()
	b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Signer: ecKey(), Encryption: &jar.Encryption{Key: &jose.JSONWebKey{Key: publicOf(rsaKey())}}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		jtis = map[string]bool{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				req, err := b.Build(authzParams())
				if err != nil {
					t.Error(err)
					return
				}
				jwe, err := jose.ParseEncryptedCompact(req, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256CBC_HS512})
				if err != nil {
					t.Error(err)
					return
				}
				inner, err := jwe.Decrypt(rsaKey())
				if err != nil {
					t.Error(err)
					return
				}
				_, claims := verify(t, string(inner), jose.ES256, publicOf(ecKey()))
				mu.Lock()
				jtis[claims["jti"].(string)] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(jtis) != n*8 {
		t.Errorf("%d distinct jti values in %d request objects", len(jtis), n*8)
	}
}

func TestBuildEncrypted(t *testing.T) {
	t.Parallel()
	brokerKey, brokerAlg, err := jar.EncryptionKey(brokerJWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	brokerPriv := brokerEncKey(t)
	ecEnc, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		enc     *jar.Encryption
		priv    crypto.Decrypter
		ecPriv  *ecdsa.PrivateKey
		wantAlg jose.KeyAlgorithm
		wantEnc jose.ContentEncryption
		wantKID string
	}{
		{name: "defaults: RSA-OAEP-256 + A256CBC-HS512", enc: &jar.Encryption{Key: brokerKey}, priv: brokerPriv,
			wantAlg: jose.RSA_OAEP_256, wantEnc: jose.A256CBC_HS512, wantKID: brokerKey.KeyID},
		{name: "broker JWKS alg: RSA-OAEP + A128CBC-HS256", enc: &jar.Encryption{Key: brokerKey, KeyAlgorithm: brokerAlg, ContentEncryption: jose.A128CBC_HS256}, priv: brokerPriv,
			wantAlg: jose.RSA_OAEP, wantEnc: jose.A128CBC_HS256, wantKID: brokerKey.KeyID},
		{name: "bare RSA key, A256GCM", enc: &jar.Encryption{Key: &jose.JSONWebKey{Key: publicOf(rsaKey())}, ContentEncryption: jose.A256GCM}, priv: rsaKey(),
			wantAlg: jose.RSA_OAEP_256, wantEnc: jose.A256GCM},
		{name: "EC key: ECDH-ES", enc: &jar.Encryption{Key: &jose.JSONWebKey{Key: &ecEnc.PublicKey, KeyID: "ec-enc"}}, ecPriv: ecEnc,
			wantAlg: jose.ECDH_ES, wantEnc: jose.A256CBC_HS512, wantKID: "ec-enc"},
		{name: "EC key: ECDH-ES+A256KW", enc: &jar.Encryption{Key: &jose.JSONWebKey{Key: &ecEnc.PublicKey}, KeyAlgorithm: jose.ECDH_ES_A256KW, ContentEncryption: jose.A128GCM}, ecPriv: ecEnc,
			wantAlg: jose.ECDH_ES_A256KW, wantEnc: jose.A128GCM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Secret: []byte(secret), Now: now, Encryption: tt.enc})
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			req, err := b.Build(authzParams())
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			if strings.Count(req, ".") != 4 {
				t.Fatalf("Build() = %q, want a compact JWE", req)
			}
			jwe, err := jose.ParseEncryptedCompact(req, []jose.KeyAlgorithm{tt.wantAlg}, []jose.ContentEncryption{tt.wantEnc})
			if err != nil {
				t.Fatalf("ParseEncrypted() error = %v", err)
			}
			h := jwe.Header
			if h.Algorithm != string(tt.wantAlg) || h.KeyID != tt.wantKID || h.ExtraHeaders["cty"] != "JWT" || h.ExtraHeaders["enc"] != string(tt.wantEnc) {
				t.Errorf("JWE header = alg %q kid %q extra %v", h.Algorithm, h.KeyID, h.ExtraHeaders)
			}
			var key any = tt.priv
			if tt.ecPriv != nil {
				key = tt.ecPriv
			}
			inner, err := jwe.Decrypt(key)
			if err != nil {
				t.Fatalf("Decrypt() error = %v", err)
			}
			_, claims := verify(t, string(inner), jose.HS256, []byte(secret))
			checkJTI(t, claims)
			if want := wantClaims(jar.DefaultLifetime); !reflect.DeepEqual(claims, want) {
				t.Errorf("claims = %v\nwant     %v", claims, want)
			}
		})
	}
}
