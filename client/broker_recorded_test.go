package client_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
)

// These tests feed the client the MitID broker's answers in the literal
// shapes recorded from its pre-production environment
// (shared/reference/broker-recorded.md), through an httptest handler of
// their own, so that the client is not checked only against partest.

// recordedUserInfo401 is the broker's UserInfo answer to a bad token, as
// recorded: 401, an empty body, the code only in this header.
const recordedUserInfo401 = `Bearer realm="IdentityServer", error="invalid_token"`

// recordedRequestURI is a request_uri of the recorded shape.
const recordedRequestURI = "urn:ietf:params:oauth:request_uri:49FBAF9C1A282A0721038DAAA2452449DF269F0B816F8EAF0FAF2A8B242AA5BC"

// recordedBroker is a fake of the broker's back channel. Its JWKS is
// testdata/keys/broker-jwks.json as it is (three RSA keys, no alg on any,
// base64url x5t, x5c; the transaction-signing key first).
type recordedBroker struct {
	srv      *httptest.Server
	iss      string
	idKey    *rsa.PrivateKey // the ID-token key (second JWKS entry)
	idKID    string
	txKey    *rsa.PrivateKey // the transaction-signing key (first entry)
	txKID    string
	clientID string

	mu       sync.Mutex
	nonce    string // of the last push
	par      func(w http.ResponseWriter) bool
	token    func(w http.ResponseWriter) bool
	userinfo func(w http.ResponseWriter)
}

func readRSAKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("../testdata/keys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func newRecordedBroker(t *testing.T) *recordedBroker {
	t.Helper()
	jwks, err := os.ReadFile("../testdata/keys/broker-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	b := &recordedBroker{idKey: readRSAKey(t, "broker-sig.key"), txKey: readRSAKey(t, "broker-transact.key"),
		clientID: "0a775a87-878c-4b83-abe3-ee29c720c3e7"}
	for _, k := range set.Keys {
		if _, ok := k["alg"]; ok {
			t.Fatal("the recorded JWKS fixture has an alg")
		}
		var pub jose.JSONWebKey
		raw, _ := json.Marshal(k)
		if err := pub.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		switch {
		case b.idKey.PublicKey.Equal(pub.Key):
			b.idKID = pub.KeyID
		case b.txKey.PublicKey.Equal(pub.Key):
			b.txKID = pub.KeyID
		}
	}
	if b.idKID == "" || b.txKID == "" || b.idKID == b.txKID {
		t.Fatalf("fixture keys not found in the JWKS: %q %q", b.idKID, b.txKID)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /op/.well-known/openid-configuration/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(jwks)
	})
	mux.HandleFunc("POST /op/connect/par", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.nonce = r.PostFormValue("nonce")
		par := b.par
		b.mu.Unlock()
		if par != nil && par(w) {
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"request_uri":"` + recordedRequestURI + `","expires_in":600}`))
	})
	mux.HandleFunc("POST /op/connect/token", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		tokenFn, nonce := b.token, b.nonce
		b.mu.Unlock()
		if tokenFn != nil && tokenFn(w) {
			return
		}
		now := time.Now()
		idt := b.sign(t, b.idKey, b.idKID, "JWT", map[string]any{
			"iss": b.iss, "nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"aud": b.clientID, "amr": []string{"code_app"}, "nonce": nonce, "sid": "2e4c1b7f-0a6d-45a8-b5c3-e9f1d2a4b6c8",
			"sub": "7c9484f5-44bf-4e29-a683-84548951d3b8", "auth_time": now.Unix(), "idp": "mitid",
			"acr": "https://data.gov.dk/concept/core/nsis/Substantial", "neb_sid": "2e4c1b7f-0a6d-45a8-b5c3-e9f1d2a4b6c8",
			"loa": "https://data.gov.dk/concept/core/nsis/Substantial", "aal": "https://data.gov.dk/concept/core/nsis/Substantial",
			"ial": "https://data.gov.dk/concept/core/nsis/Substantial", "identity_type": "private",
			"transaction_id": "0ee59512-2b1c-4f3e-9d5a-7c6b8e9901ad", "idp_transaction_id": "b09eab99-85e0-41e4-beed-99e85520194d",
			"session_expiry": "1715103653", "idtoken_type": "strict", "subject_type": "org_mapped",
		})
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", "no-store, no-cache, max-age=0")
		json.NewEncoder(w).Encode(map[string]any{"id_token": idt, "access_token": "recorded-access-token-0123456789",
			"expires_in": 10800, "token_type": "Bearer", "scope": "openid mitid"})
	})
	mux.HandleFunc("GET /op/connect/userinfo", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		ui := b.userinfo
		b.mu.Unlock()
		ui(w)
	})
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	b.iss = b.srv.URL + "/op"
	return b
}

func (b *recordedBroker) sign(t *testing.T, key *rsa.PrivateKey, kid, typ string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

func (b *recordedBroker) set(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
}

// client returns a client of the fake broker with the recorded metadata
// members that matter here (RS256 only; iss advertised).
func (b *recordedBroker) client(t *testing.T) *client.Client {
	t.Helper()
	md := &discovery.Metadata{
		Issuer:                             b.iss,
		AuthorizationEndpoint:              b.iss + "/connect/authorize",
		TokenEndpoint:                      b.iss + "/connect/token",
		PushedAuthorizationRequestEndpoint: b.iss + "/connect/par",
		UserinfoEndpoint:                   b.iss + "/connect/userinfo",
		JWKSURI:                            b.iss + "/.well-known/openid-configuration/jwks",
		IDTokenSigningAlgValuesSupported:   []string{"RS256"},
		AuthorizationResponseISSParameterSupported: true,
	}
	c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: b.clientID,
		Auth: client.ClientSecretBasic(secret), RedirectURL: "https://rp.example/signin-oidc",
		Scopes: []string{"openid", "mitid"}, Profile: client.ProfileBroker, HTTPClient: b.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login pushes and exchanges a code with a callback of the recorded shape
// (code, state, session_state, iss).
func (b *recordedBroker) login(t *testing.T, c *client.Client) (*client.Tokens, error) {
	t.Helper()
	ctx := context.Background()
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	return c.Exchange(ctx, flow, url.Values{"code": {"C0DE9A1B2C3D4E5F"}, "state": {flow.State},
		"session_state": {"x3mV7Zq1nK0bGm9sT4rPqW2yU8eA6cD5fH1jL3oN0vI.7D1A2B3C4D5E6F708192A3B4C5D6E7F8"}, "iss": {b.iss}})
}

// brokerError writes a back-channel error exactly as recorded: HTTP 400
// (also for invalid_client: no 401, no WWW-Authenticate), a bare JSON body
// and the broker's Cache-Control.
func brokerError(body string) func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", "no-store, no-cache, max-age=0")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(body))
		return true
	}
}

// TestRecordedBrokerBackChannelErrors: PAR and token errors in the
// recorded shapes reach the app as *ResponseError with the code (and the
// description only where the broker gives one).
func TestRecordedBrokerBackChannelErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint, body, code, desc string
	}{
		{"par", `{"error":"invalid_client"}`, "invalid_client", ""},
		{"par", `{"error":"invalid_request_object","error_description":"Invalid JWT request"}`, "invalid_request_object", "Invalid JWT request"},
		{"par", `{"error":"invalid_request"}`, "invalid_request", ""},
		{"token", `{"error":"invalid_client"}`, "invalid_client", ""},
		{"token", `{"error":"invalid_grant"}`, "invalid_grant", ""},
		{"token", `{"error":"unauthorized_client"}`, "unauthorized_client", ""},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+" "+tt.code, func(t *testing.T) {
			t.Parallel()
			b := newRecordedBroker(t)
			c := b.client(t)
			var err error
			if tt.endpoint == "par" {
				b.set(func() { b.par = brokerError(tt.body) })
				_, err = c.Push(context.Background())
			} else {
				b.set(func() { b.token = brokerError(tt.body) })
				_, err = b.login(t, c)
			}
			var re *client.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want *client.ResponseError", err)
			}
			if re.Endpoint != tt.endpoint || re.StatusCode != 400 || re.Code != tt.code || re.Description != tt.desc {
				t.Errorf("ResponseError = endpoint %q status %d code %q description %q, want %s 400 %q %q",
					re.Endpoint, re.StatusCode, re.Code, re.Description, tt.endpoint, tt.code, tt.desc)
			}
			if re.Temporary() {
				t.Error("a 400 invalid_client is not temporary")
			}
		})
	}
}

// TestRecordedUserInfo401: the broker's UserInfo 401 carries its code only
// in WWW-Authenticate (empty body); ResponseError.Code has it.
func TestRecordedUserInfo401(t *testing.T) {
	t.Parallel()
	b := newRecordedBroker(t)
	c := b.client(t)
	tok, err := b.login(t, c)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, tt := range []struct{ header, code string }{
		{recordedUserInfo401, "invalid_token"},
		// The broker's matchCpr 401: a bare challenge has no code.
		{"Bearer", ""},
	} {
		b.set(func() {
			b.userinfo = func(w http.ResponseWriter) {
				w.Header().Set("WWW-Authenticate", tt.header)
				w.Header().Set("Cache-Control", "no-store, no-cache, max-age=0")
				w.WriteHeader(http.StatusUnauthorized)
			}
		})
		_, err = c.UserInfo(context.Background(), tok)
		var re *client.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("UserInfo error = %v, want *client.ResponseError", err)
		}
		if re.Endpoint != "userinfo" || re.StatusCode != 401 || re.Code != tt.code || re.Description != "" {
			t.Errorf("%s: ResponseError = %+v, want userinfo 401 %q", tt.header, re, tt.code)
		}
		if tt.code != "" && !strings.Contains(err.Error(), "userinfo: invalid_token (HTTP 401)") {
			t.Errorf("Error() = %q, want the code", err)
		}
	}
}

// TestRecordedJWKSWithoutAlg: ID tokens verify against the recorded JWKS
// (no alg on any key), found by kid; a token signed with the transaction
// key verifies through VerifyJWT with its own kid and fails under the
// ID-token key's kid; VerifyJWT checks iss, aud and exp.
func TestRecordedJWKSWithoutAlg(t *testing.T) {
	t.Parallel()
	b := newRecordedBroker(t)
	c := b.client(t)
	tok, err := b.login(t, c)
	if err != nil {
		t.Fatalf("login against the recorded JWKS: %v", err)
	}
	if tok.IDToken.Subject != "7c9484f5-44bf-4e29-a683-84548951d3b8" || tok.Token.ExpiresIn != 10800 {
		t.Errorf("tokens = %v, expires_in %d", tok, tok.Token.ExpiresIn)
	}
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"iss": b.iss, "aud": b.clientID, "sub": "s", "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(189388800 * time.Second).Unix(), "auth_time": "1663143384", "amr": "code_app",
			"transaction_actions": []string{"mitid.login", "mitid.transaction_signing"}}
		if mod != nil {
			mod(m)
		}
		return m
	}
	ctx := context.Background()
	payload, err := c.VerifyJWT(ctx, b.sign(t, b.txKey, b.txKID, "JWT", claims(nil)))
	if err != nil {
		t.Fatalf("VerifyJWT(transaction key): %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil || got["auth_time"] != "1663143384" || got["amr"] != "code_app" {
		t.Errorf("payload = %s (%v)", payload, err)
	}
	for name, raw := range map[string]string{
		"transaction key under the ID-token kid": b.sign(t, b.txKey, b.idKID, "JWT", claims(nil)),
		"other issuer":                           b.sign(t, b.txKey, b.txKID, "JWT", claims(func(m map[string]any) { m["iss"] = "https://pp.netseidbroker.dk/op" })),
		"other audience":                         b.sign(t, b.txKey, b.txKID, "JWT", claims(func(m map[string]any) { m["aud"] = "another-client" })),
		"expired":                                b.sign(t, b.txKey, b.txKID, "JWT", claims(func(m map[string]any) { m["exp"] = now.Add(-time.Hour).Unix() })),
		"no exp":                                 b.sign(t, b.txKey, b.txKID, "JWT", claims(func(m map[string]any) { delete(m, "exp") })),
		"not yet valid":                          b.sign(t, b.txKey, b.txKID, "JWT", claims(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })),
	} {
		if p, err := c.VerifyJWT(ctx, raw); p != nil || !errors.Is(err, client.ErrInvalidResponse) {
			t.Errorf("%s: VerifyJWT = %s, %v; want ErrInvalidResponse", name, p, err)
		}
	}
}
