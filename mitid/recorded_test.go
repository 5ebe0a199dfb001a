package mitid_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/ocsp"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/mitid"
)

// These tests feed package mitid the broker's tokens in the literal
// shapes recorded from its pre-production environment
// (shared/reference/broker-recorded.md) through an httptest handler of
// their own — testdata/keys/broker-jwks.json as the JWKS (no alg on any
// key, the transaction key a separate entry), the recorded ID-token claim
// set, testdata/mitid/transaction_token_claims.json as the transaction
// token — so that mitid is not checked only against partest.

const recordedSub = "5cb6c9d0-1e2f-4a3b-8c4d-5e6f7a82bf7b"

// recBroker answers PAR, token and UserInfo as the broker was recorded
// answering; each token-response member can be replaced.
type recBroker struct {
	srv    *httptest.Server
	iss    string
	idKey  *rsa.PrivateKey
	idKID  string
	txKey  *rsa.PrivateKey
	txKID  string
	txCert *x509.Certificate

	mu    sync.Mutex
	nonce string
	// edit changes the token response (its members as sent) before it is
	// written; userinfo answers UserInfo.
	edit     func(b *recBroker, resp map[string]any, nonce string)
	userinfo http.HandlerFunc
}

func fixtureKey(t *testing.T, name string) *rsa.PrivateKey {
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

func fixtureClaims(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../testdata/mitid/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newRecBroker(t *testing.T) *recBroker {
	t.Helper()
	jwks, err := os.ReadFile("../testdata/keys/broker-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	b := &recBroker{idKey: fixtureKey(t, "broker-sig.key"), txKey: fixtureKey(t, "broker-transact.key")}
	for _, k := range set.Keys {
		switch {
		case b.idKey.PublicKey.Equal(k.Key):
			b.idKID = k.KeyID
		case b.txKey.PublicKey.Equal(k.Key):
			b.txKID, b.txCert = k.KeyID, k.Certificates[0]
		}
	}
	if b.idKID == "" || b.txKID == "" || b.txCert.Subject.CommonName != "NEB Transact PP" {
		t.Fatalf("fixture keys not found in the JWKS")
	}
	b.userinfo = func(w http.ResponseWriter, _ *http.Request) {
		claims := fixtureClaims(t, "userinfo.json")
		claims["sub"] = recordedSub
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		json.NewEncoder(w).Encode(claims)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /op/.well-known/openid-configuration/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(jwks)
	})
	mux.HandleFunc("POST /op/connect/par", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.nonce = r.PostFormValue("nonce")
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"request_uri":"urn:ietf:params:oauth:request_uri:49FBAF9C1A282A0721038DAAA2452449DF269F0B816F8EAF0FAF2A8B242AA5BC","expires_in":600}`))
	})
	mux.HandleFunc("POST /op/connect/token", func(w http.ResponseWriter, _ *http.Request) {
		b.mu.Lock()
		edit, nonce := b.edit, b.nonce
		b.mu.Unlock()
		resp := b.tokenResponse(t, nonce)
		if edit != nil {
			edit(b, resp, nonce)
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /op/connect/userinfo", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		ui := b.userinfo
		b.mu.Unlock()
		ui(w, r)
	})
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	b.iss = b.srv.URL + "/op"
	return b
}

// idTokenClaims is the recorded ID-token claim set (no mitid.*).
func (b *recBroker) idTokenClaims(t *testing.T, nonce string) map[string]any {
	c := fixtureClaims(t, "id_token_claims.json")
	now := time.Now().Unix()
	maps.Copy(c, map[string]any{"iss": b.iss, "aud": signingClient, "sub": recordedSub, "nonce": nonce,
		"iat": now, "nbf": now, "exp": now + 300, "auth_time": now})
	delete(c, "at_hash")
	return c
}

// userinfoTokenClaims are UserInfo's string-typed claims as a JWT's.
func (b *recBroker) userinfoTokenClaims(t *testing.T) map[string]any {
	c := fixtureClaims(t, "userinfo.json")
	delete(c, "mitid.psd2")
	now := time.Now().Unix()
	maps.Copy(c, map[string]any{"iss": b.iss, "aud": signingClient, "sub": recordedSub, "iat": now, "nbf": now, "exp": now + 300})
	return c
}

// transactionClaims is testdata/mitid/transaction_token_claims.json for
// this server, client and login.
func (b *recBroker) transactionClaims(t *testing.T, nonce string) map[string]any {
	c := fixtureClaims(t, "transaction_token_claims.json")
	now := time.Now().Unix()
	maps.Copy(c, map[string]any{"iss": b.iss, "aud": signingClient, "sub": recordedSub, "nonce": nonce,
		"iat": now, "nbf": now, "exp": now + 189388800})
	return c
}

func (b *recBroker) tokenResponse(t *testing.T, nonce string) map[string]any {
	return map[string]any{
		"id_token":                    b.sign(t, b.idKey, b.idKID, "JWT", b.idTokenClaims(t, nonce)),
		"access_token":                "recorded-access-token-0123456789",
		"expires_in":                  10800,
		"token_type":                  "Bearer",
		"scope":                       "openid mitid transaction_token",
		"userinfo_token":              b.sign(t, b.idKey, b.idKID, "at+jwt", b.userinfoTokenClaims(t)),
		"transaction_token":           b.sign(t, b.txKey, b.txKID, "JWT", b.transactionClaims(t, nonce)),
		"transaction_token_ocsp_resp": base64.StdEncoding.EncodeToString(b.ocsp(t)),
	}
}

// ocsp is a "good" OCSP response about the transaction certificate, which
// is self-signed in the fixture and so signs its own status.
func (b *recBroker) ocsp(t *testing.T) []byte {
	der, err := ocsp.CreateResponse(b.txCert, b.txCert, ocsp.Response{Status: ocsp.Good, SerialNumber: b.txCert.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Minute).Truncate(time.Second), NextUpdate: time.Now().Add(time.Hour).Truncate(time.Second)}, b.txKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (b *recBroker) sign(t *testing.T, key *rsa.PrivateKey, kid, typ string, claims map[string]any) string {
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

// login runs a login with the recorded callback shape and returns the
// client and its tokens.
func (b *recBroker) login(t *testing.T, edit func(b *recBroker, resp map[string]any, nonce string)) (*client.Client, *client.Tokens) {
	t.Helper()
	b.mu.Lock()
	b.edit = edit
	b.mu.Unlock()
	md := &discovery.Metadata{Issuer: b.iss, AuthorizationEndpoint: b.iss + "/connect/authorize",
		TokenEndpoint: b.iss + "/connect/token", PushedAuthorizationRequestEndpoint: b.iss + "/connect/par",
		UserinfoEndpoint: b.iss + "/connect/userinfo", JWKSURI: b.iss + "/.well-known/openid-configuration/jwks",
		IDTokenSigningAlgValuesSupported: []string{"RS256"}, AuthorizationResponseISSParameterSupported: true}
	c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: signingClient,
		Auth: client.ClientSecretBasic(brokerSecret), RedirectURL: "https://rp.example/signin-oidc",
		Profile: client.ProfileBroker, HTTPClient: b.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(ctx, flow, url.Values{"code": {"C0DE9A1B2C3D4E5F"}, "state": {flow.State},
		"session_state": {"x3mV7Zq1nK0bGm9sT4rPqW2yU8eA6cD5fH1jL3oN0vI.7D1A2B3C4D5E6F708192A3B4C5D6E7F8"}, "iss": {b.iss}})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return c, tok
}

// TestRecordedSigningToken verifies a transaction token of the recorded
// shape: the recording's text vector, its digest of the decoded text,
// string auth_time and amr, the mitid. duplicates, signed with the
// separate transaction key; and refuses each forgery of it.
func TestRecordedSigningToken(t *testing.T) {
	t.Parallel()
	b := newRecBroker(t)
	asked := mitid.Params{TransactionText: []byte(recordedText)}
	ctx := context.Background()

	c, tok := b.login(t, nil)
	st, err := mitid.VerifySigningToken(ctx, c, tok, asked)
	if err != nil {
		t.Fatalf("VerifySigningToken: %v", err)
	}
	if string(st.Text) != recordedText || st.TextSHA256 != recordedTextSHA256 || st.TextType != "text" ||
		st.ClientIP != "192.0.2.44" || st.RequestedScope != "openid mitid transaction_token" || st.KeyID != b.txKID {
		t.Errorf("SigningToken = %+v", st)
	}
	if st.Claims.AuthTime.Unix() != 1663143384 || st.Claims.MitID.Age != 17 || st.Claims.DisplayName() != "Edvard Nielsen" ||
		len(st.Claims.AMR) != 1 || st.Claims.AMR[0] != "code_app" {
		t.Errorf("Claims = %+v", st.Claims)
	}
	resp, err := st.OCSPResponse(b.txCert)
	if err != nil || resp.Status != ocsp.Good || resp.SerialNumber.Cmp(b.txCert.SerialNumber) != 0 {
		t.Errorf("OCSPResponse = %+v, %v", resp, err)
	}

	with := func(mod func(c map[string]any)) func(*recBroker, map[string]any, string) {
		return func(b *recBroker, resp map[string]any, nonce string) {
			c := b.transactionClaims(t, nonce)
			mod(c)
			resp["transaction_token"] = b.sign(t, b.txKey, b.txKID, "JWT", c)
		}
	}
	tests := []struct {
		name string
		edit func(*recBroker, map[string]any, string)
		want error
	}{
		{"digest of the base64 string", with(func(c map[string]any) {
			c["transaction_text_sha256"], c["mitid.transaction_text_sha256"] = "4Sre9aE1/36fptG+c+05VCutBzpoHVTKvBdj1VGix14=", "4Sre9aE1/36fptG+c+05VCutBzpoHVTKvBdj1VGix14="
		}), mitid.ErrTextMismatch},
		{"no digest", with(func(c map[string]any) {
			delete(c, "transaction_text_sha256")
			delete(c, "mitid.transaction_text_sha256")
		}), mitid.ErrTextMismatch},
		{"duplicate disagrees", with(func(c map[string]any) { c["mitid.transaction_text"] = "b3RoZXI=" }), mitid.ErrTextMismatch},
		{"text differs, digest kept", with(func(c map[string]any) {
			c["transaction_text"], c["mitid.transaction_text"] = "b3RoZXI=", "b3RoZXI="
		}), mitid.ErrTextMismatch},
		{"not signing", with(func(c map[string]any) { c["transaction_actions"] = "mitid.login" }), mitid.ErrTextMismatch},
		{"other type", with(func(c map[string]any) {
			c["transaction_text_type"], c["mitid.transaction_text_type"] = "html", "html"
		}), mitid.ErrTextMismatch},
		{"other sub", with(func(c map[string]any) { c["sub"] = "7c9484f5-44bf-4e29-a683-84548951d3b8" }), mitid.ErrSubjectMismatch},
		{"other login", with(func(c map[string]any) { c["nonce"] = "another-login-nonce" }), client.ErrInvalidResponse},
		{"other audience", with(func(c map[string]any) { c["aud"] = "14148e23-1d32-4d5b-a7ef-8935fdf65836" }), client.ErrInvalidResponse},
		{"expired", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), client.ErrInvalidResponse},
		{"ID-token key", func(b *recBroker, resp map[string]any, nonce string) {
			resp["transaction_token"] = b.sign(t, b.idKey, b.txKID, "JWT", b.transactionClaims(t, nonce))
		}, client.ErrInvalidResponse},
		{"OCSP in base64url", func(b *recBroker, resp map[string]any, _ string) {
			resp["transaction_token_ocsp_resp"] = base64.RawURLEncoding.EncodeToString(b.ocsp(t))
		}, client.ErrInvalidResponse},
		{"OCSP not an OCSP response", func(b *recBroker, resp map[string]any, _ string) {
			resp["transaction_token_ocsp_resp"] = base64.StdEncoding.EncodeToString([]byte("not DER"))
		}, client.ErrInvalidResponse},
		{"no transaction token", func(b *recBroker, resp map[string]any, _ string) { delete(resp, "transaction_token") }, mitid.ErrNoSigningToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRecBroker(t)
			c, tok := b.login(t, tt.edit)
			st, err := mitid.VerifySigningToken(ctx, c, tok, asked)
			if st != nil || !errors.Is(err, tt.want) {
				t.Fatalf("VerifySigningToken = %v, %v; want %v", st, err, tt.want)
			}
			if s := err.Error(); len(s) < 7 || s[:7] != "mitid: " {
				t.Errorf("error %q lacks the mitid: prefix", s)
			}
		})
	}
}

// TestRecordedIdentity: the recorded ID token has no mitid.* claims;
// Identity finds them in the userinfo_token (typ at+jwt) and UserInfo
// (string-typed values), and refuses a source with another sub, a
// userinfo_token of another typ, and passes on UserInfo's recorded 401.
func TestRecordedIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newRecBroker(t)
	c, tok := b.login(t, nil)
	var idOnly mitid.Claims
	if err := tok.IDToken.Claims(&idOnly); err != nil || idOnly.DisplayName() != "" {
		t.Fatalf("the recorded ID token carries a name: %q (%v)", idOnly.DisplayName(), err)
	}
	id, err := mitid.Identity(ctx, c, tok)
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	if id.Subject != recordedSub || id.DisplayName() != "Saga Poulsen" || id.MitID.Age != 88 || !id.MitID.HasCPR ||
		id.CPR != "0902361234" || id.IDPEnvironment != "pp" || id.SessionID != "2e4c1b7f-0a6d-45a8-b5c3-e9f1d2a4b6c8" ||
		id.AAL != mitid.Substantial.URI() {
		// SessionID and AAL come from the ID token, which wins over
		// UserInfo's differing neb_sid and aal.
		t.Errorf("Identity = %+v", id)
	}

	// Only the userinfo_token carries the name: Identity finds it there.
	b2 := newRecBroker(t)
	b2.userinfo = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"sub":"` + recordedSub + `"}`))
	}
	c2, tok2 := b2.login(t, nil)
	if id, err := mitid.Identity(ctx, c2, tok2); err != nil || id.DisplayName() != "Saga Poulsen" {
		t.Errorf("Identity from the userinfo_token = %+v, %v", id, err)
	}

	tests := []struct {
		name     string
		edit     func(*recBroker, map[string]any, string)
		userinfo http.HandlerFunc
		check    func(error) bool
	}{
		{"userinfo_token of another sub", func(b *recBroker, resp map[string]any, _ string) {
			c := b.userinfoTokenClaims(t)
			c["sub"] = "7c9484f5-44bf-4e29-a683-84548951d3b8"
			resp["userinfo_token"] = b.sign(t, b.idKey, b.idKID, "at+jwt", c)
		}, nil, func(err error) bool { return errors.Is(err, mitid.ErrSubjectMismatch) }},
		{"userinfo_token typ JWT", func(b *recBroker, resp map[string]any, _ string) {
			resp["userinfo_token"] = b.sign(t, b.idKey, b.idKID, "JWT", b.userinfoTokenClaims(t))
		}, nil, func(err error) bool { return errors.Is(err, client.ErrInvalidResponse) }},
		{"userinfo_token unsigned", func(b *recBroker, resp map[string]any, _ string) {
			resp["userinfo_token"] = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiI1Y2I2YzlkMC0xZTJmLTRhM2ItOGM0ZC01ZTZmN2E4MmJmN2IifQ."
		}, nil, func(err error) bool { return errors.Is(err, client.ErrInvalidResponse) }},
		{"UserInfo 401 as recorded", nil, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="IdentityServer", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}, func(err error) bool {
			var re *client.ResponseError
			return errors.As(err, &re) && re.StatusCode == 401 && re.Code == "invalid_token"
		}},
		{"UserInfo of another sub", nil, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"sub":"7c9484f5-44bf-4e29-a683-84548951d3b8"}`))
		}, func(err error) bool { return errors.Is(err, client.ErrInvalidResponse) }},
		{"UserInfo age not a number", func(_ *recBroker, resp map[string]any, _ string) { delete(resp, "userinfo_token") }, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"sub":"` + recordedSub + `","mitid.age":"eighty"}`))
		}, func(err error) bool {
			var ce *mitid.ClaimError
			return errors.As(err, &ce) && ce.Claim == "mitid.age"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newRecBroker(t)
			if tt.userinfo != nil {
				b.userinfo = tt.userinfo
			}
			c, tok := b.login(t, tt.edit)
			id, err := mitid.Identity(ctx, c, tok)
			if id != nil || !tt.check(err) {
				t.Fatalf("Identity = %+v, %v", id, err)
			}
		})
	}
}
