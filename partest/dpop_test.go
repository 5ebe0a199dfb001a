package partest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestDPoPFlow binds a flow to a DPoP key at PAR and follows it to
// userinfo (RFC 9449 §5, §7, §10).
func TestDPoPFlow(t *testing.T) {
	t.Parallel()
	key := ecKey(0)
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	parURL, tokenURL, uiURL := srv.endpointURL(pathPAR), srv.endpointURL(pathToken), srv.endpointURL(pathUserinfo)
	f := newFlow()
	h := basic("app", "s3cret")
	h.Set("DPoP", dpopProof(t, key, "POST", parURL, nil))
	uri := push(t, srv, f.parParams("app"), h)
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	code := params.Get("code")

	// The code is bound: no proof, or another key, fails.
	if r := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret")); r.str("error") != "invalid_grant" {
		t.Errorf("no proof = %d %s, want invalid_grant", r.status, r.raw)
	}
	h = basic("app", "s3cret")
	h.Set("DPoP", dpopProof(t, ecKey(1), "POST", tokenURL, nil))
	if r := postTo(t, srv, pathToken, tokenForm(code, f), h); r.str("error") != "invalid_grant" {
		t.Errorf("other key = %d %s, want invalid_grant", r.status, r.raw)
	}
	h = basic("app", "s3cret")
	proof := dpopProof(t, key, "POST", tokenURL+"?ignored=1", nil)
	h.Set("DPoP", proof)
	tok := postTo(t, srv, pathToken, tokenForm(code, f), h)
	if tok.status != http.StatusOK || tok.str("token_type") != "DPoP" {
		t.Fatalf("token = %d %s, want token_type DPoP", tok.status, tok.raw)
	}
	at := tok.str("access_token")
	claims := verifyIDToken(t, srv, at)
	if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != thumbprint(t, key) {
		t.Errorf("access token cnf = %v, want jkt %s", claims["cnf"], thumbprint(t, key))
	}
	// Replaying the token request's proof fails.
	h = basic("app", "s3cret")
	h.Set("DPoP", proof)
	if r := postTo(t, srv, pathToken, tokenForm(code, f), h); r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" {
		t.Errorf("replayed proof = %d %s", r.status, r.raw)
	}

	ath := s256(at)
	tests := []struct {
		name     string
		scheme   string
		proof    string
		want     int
		wantChal string
	}{
		{"ok", "DPoP", dpopProof(t, key, "GET", uiURL, map[string]any{"ath": ath}), 200, ""},
		{"as bearer", "Bearer", "", 401, `error="invalid_token"`},
		{"no proof", "DPoP", "", 401, `error="invalid_dpop_proof"`},
		{"no ath", "DPoP", dpopProof(t, key, "GET", uiURL, nil), 401, `error="invalid_dpop_proof"`},
		{"wrong htm", "DPoP", dpopProof(t, key, "POST", uiURL, map[string]any{"ath": ath}), 401, `error="invalid_dpop_proof"`},
		{"wrong htu", "DPoP", dpopProof(t, key, "GET", tokenURL, map[string]any{"ath": ath}), 401, `error="invalid_dpop_proof"`},
		{"other key", "DPoP", dpopProof(t, ecKey(1), "GET", uiURL, map[string]any{"ath": ath}), 401, `error="invalid_dpop_proof"`},
		{"old iat", "DPoP", dpopProof(t, key, "GET", uiURL, map[string]any{"ath": ath, "iat": time.Now().Add(-5 * time.Minute).Unix()}), 401, `error="invalid_dpop_proof"`},
		{"future iat", "DPoP", dpopProof(t, key, "GET", uiURL, map[string]any{"ath": ath, "iat": time.Now().Add(time.Minute).Unix()}), 401, `error="invalid_dpop_proof"`},
		{"no jti", "DPoP", dpopProof(t, key, "GET", uiURL, map[string]any{"ath": ath, "jti": nil}), 401, `error="invalid_dpop_proof"`},
	}
	for _, tt := range tests {
		h := http.Header{"Authorization": {tt.scheme + " " + at}}
		if tt.proof != "" {
			h.Set("DPoP", tt.proof)
		}
		r := get(t, srv, uiURL, h)
		if r.status != tt.want || !strings.Contains(r.header.Get("WWW-Authenticate"), tt.wantChal) {
			t.Errorf("%s: userinfo = %d %q %s, want %d %q", tt.name, r.status, r.header.Get("WWW-Authenticate"), r.raw, tt.want, tt.wantChal)
		}
		if tt.name == "ok" {
			// The same proof again is a replay.
			if r := get(t, srv, uiURL, h); r.status != 401 {
				t.Errorf("replayed userinfo proof = %d, want 401", r.status)
			}
		}
	}
}

// TestDPoPProofForm covers proof checks at the PAR endpoint.
func TestDPoPProofForm(t *testing.T) {
	t.Parallel()
	key := ecKey(0)
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	parURL := srv.endpointURL(pathPAR)
	claims := func() map[string]any {
		return map[string]any{"htm": "POST", "htu": parURL, "iat": time.Now().Unix(), "jti": randomString(8)}
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	priv := jose.JSONWebKey{Key: key}
	tests := []struct {
		name  string
		proof func() string
		jkt   string
		want  int
	}{
		{"ok", func() string { return dpopProof(t, key, "POST", parURL, nil) }, "", 201},
		{"dpop_jkt matches", func() string { return dpopProof(t, key, "POST", parURL, nil) }, thumbprint(t, key), 201},
		{"dpop_jkt differs", func() string { return dpopProof(t, key, "POST", parURL, nil) }, thumbprint(t, ecKey(1)), 400},
		{"typ JWT", func() string {
			return sign(t, key, jose.ES256, map[jose.HeaderKey]any{"typ": "JWT", "jwk": pub}, claims())
		}, "", 400},
		{"no jwk", func() string { return sign(t, key, jose.ES256, map[jose.HeaderKey]any{"typ": "dpop+jwt"}, claims()) }, "", 400},
		{"private jwk", func() string {
			return sign(t, key, jose.ES256, map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": priv}, claims())
		}, "", 400},
		{"jwk of another key", func() string {
			return sign(t, key, jose.ES256, map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: ecKey(1).Public()}}, claims())
		}, "", 400},
		{"hmac", func() string { return hsJWT(t, "secret", jose.HS256, map[string]any{"typ": "dpop+jwt"}, claims()) }, "", 400},
		{"garbage", func() string { return "not.a.jwt" }, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := newFlow().parParams("app")
			if tt.jkt != "" {
				form.Set("dpop_jkt", tt.jkt)
			}
			h := basic("app", "s3cret")
			h.Set("DPoP", tt.proof())
			r := postTo(t, srv, pathPAR, form, h)
			if r.status != tt.want {
				t.Fatalf("PAR = %d %s, want %d", r.status, r.raw, tt.want)
			}
			if tt.want == 400 && tt.jkt == "" && r.str("error") != "invalid_dpop_proof" {
				t.Errorf("error = %q, want invalid_dpop_proof", r.str("error"))
			}
		})
	}
}

// TestDPoPJKTOnly binds the code with dpop_jkt alone (RFC 9449 §10).
func TestDPoPJKTOnly(t *testing.T) {
	t.Parallel()
	key := ecKey(2)
	c := basicClient()
	c.DPoPBound = true
	srv := newServer(t, Config{Clients: []Client{c}})
	strict := newServer(t, Config{Clients: []Client{basicClient()}, RequireDPoP: true})
	sf := newFlow()
	if r := postTo(t, strict, pathToken, tokenForm(loginCode(t, strict, sf), sf), basic("app", "s3cret")); r.str("error") != "invalid_grant" {
		t.Errorf("RequireDPoP without proof = %d %s", r.status, r.raw)
	}
	f := newFlow()
	form := f.parParams("app")
	form.Set("dpop_jkt", thumbprint(t, key))
	uri := push(t, srv, form, basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}
	if r := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic("app", "s3cret")); r.str("error") != "invalid_grant" {
		t.Errorf("DPoPBound client without proof = %d %s", r.status, r.raw)
	}
	h := basic("app", "s3cret")
	h.Set("DPoP", dpopProof(t, key, "POST", srv.endpointURL(pathToken), nil))
	if r := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), h); r.str("token_type") != "DPoP" {
		t.Errorf("token = %d %s, want DPoP", r.status, r.raw)
	}
}

// TestDPoPNonce covers the server nonce challenge (RFC 9449 §8, §9) at the
// PAR, token and userinfo endpoints.
func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	key := ecKey(3)
	srv := newServer(t, Config{Clients: []Client{basicClient()}, DPoPNonce: true})
	parURL, tokenURL, uiURL := srv.endpointURL(pathPAR), srv.endpointURL(pathToken), srv.endpointURL(pathUserinfo)
	f := newFlow()

	h := basic("app", "s3cret")
	h.Set("DPoP", dpopProof(t, key, "POST", parURL, nil))
	r := postTo(t, srv, pathPAR, f.parParams("app"), h)
	nonce := r.header.Get("DPoP-Nonce")
	if r.status != 400 || r.str("error") != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("PAR without nonce = %d %s nonce %q, want 400 use_dpop_nonce", r.status, r.raw, nonce)
	}
	h.Set("DPoP", dpopProof(t, key, "POST", parURL, map[string]any{"nonce": nonce}))
	uri := push(t, srv, f.parParams("app"), h)
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil {
		t.Fatal(err)
	}

	h = basic("app", "s3cret")
	h.Set("DPoP", dpopProof(t, key, "POST", tokenURL, map[string]any{"nonce": "stale"}))
	if r := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), h); r.str("error") != "use_dpop_nonce" {
		t.Fatalf("token with stale nonce = %d %s", r.status, r.raw)
	}
	h.Set("DPoP", dpopProof(t, key, "POST", tokenURL, map[string]any{"nonce": nonce}))
	tok := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), h)
	if tok.status != 200 {
		t.Fatalf("token = %d %s", tok.status, tok.raw)
	}
	at := tok.str("access_token")

	newNonce := srv.RotateDPoPNonce()
	ui := http.Header{"Authorization": {"DPoP " + at}, "Dpop": {dpopProof(t, key, "GET", uiURL, map[string]any{"ath": s256(at), "nonce": nonce})}}
	r = get(t, srv, uiURL, ui)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `DPoP error="use_dpop_nonce"`) || r.header.Get("DPoP-Nonce") != newNonce {
		t.Fatalf("userinfo with rotated nonce = %d %q %q", r.status, r.header.Get("WWW-Authenticate"), r.header.Get("DPoP-Nonce"))
	}
	ui.Set("DPoP", dpopProof(t, key, "GET", uiURL, map[string]any{"ath": s256(at), "nonce": newNonce}))
	if r := get(t, srv, uiURL, ui); r.status != 200 {
		t.Errorf("userinfo with new nonce = %d %s", r.status, r.raw)
	}
}
