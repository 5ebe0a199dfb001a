package mitid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/mitid"
)

const (
	brokerIssuer = "https://broker.test/op"
	cibaClientID = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9"
	cibaSecret   = "mIpx+k84/FI1w=="                                                                        // + / = as in the broker's secrets
	cibaBasic    = "Basic NjJiOGNjMDMtYWE3My00ZDZhLTkyMmMtN2M4ZmIwYTRhMWQ5Om1JcHglMkJrODQlMkZGSTF3JTNEJTNE" // RFC 6749 §2.3.1
	authReqID    = "9384B4AA93780A1AB83684ACE8B07DFCB6C038E9A6847565DC4F0F2547A499D6-1"
	signingKID   = "048058BB59F4D3007045896FD488CE81F4EB4923" // the broker's PP token-signing KID
	requestURI   = "urn:ietf:params:oauth:request_uri:4BEE3FBF81FBD52F997575BDBBC9459881E924E6535433D0427A7E46E8D7DB52"
)

// handlerTransport serves requests in-process, so tests need no sockets
// and run inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// recorded is one request the fake broker received.
type recorded struct {
	method, path, contentType, auth string
	form                            url.Values
	body                            string
	at                              time.Time
}

// fakeBroker emulates the Signaturgruppen broker's CIBA endpoints as
// documented in ciba-par-oidc-integration.md and enterprise/flex-app-ciba.md.
type fakeBroker struct {
	key       *ecdsa.PrivateKey
	interval  int // 0: leave interval out
	expiresIn int
	// script lists the token endpoint's answers in order: an error code,
	// or "" for the tokens. The last entry repeats. After the tokens were
	// served once, the broker answers invalid_grant.
	script []string
	// tokenOverride, when set, replaces the success body.
	tokenOverride func(b *fakeBroker) any
	// status codes and bodies to answer instead of success.
	startStatus, initStatus, cancelStatus int
	startBody, initBody                   any
	startHeader                           http.Header

	mu       sync.Mutex
	requests []recorded
	polls    int
	served   bool
}

func newFakeBroker(t testing.TB) *fakeBroker {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeBroker{key: key, interval: 3, expiresIn: 300, script: []string{""}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *fakeBroker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil { // client-side requests may have no body
		body, _ = io.ReadAll(r.Body)
	}
	rec := recorded{method: r.Method, path: r.URL.EscapedPath(), contentType: r.Header.Get("Content-Type"),
		auth: r.Header.Get("Authorization"), body: string(body), at: time.Now()}
	if rec.contentType == "application/x-www-form-urlencoded" {
		rec.form, _ = url.ParseQuery(string(body))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, rec)
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/op/.well-known/openid-configuration/jwks":
		// The signing key, plus the broker's documented encryption key with
		// its XML-Enc alg and hex x5t, which go-jose's JSONWebKeySet refuses.
		sig := jose.JSONWebKey{Key: b.key.Public(), KeyID: signingKID, Algorithm: "ES256", Use: "sig"}
		sigJSON, _ := sig.MarshalJSON()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"keys":[%s,{"kty":"RSA","use":"enc","kid":"9660F7AFFF397D67B77C92ED96F22A5A151F14C6",`+
			`"x5t":"9660F7AFFF397D67B77C92ED96F22A5A151F14C6","e":"AQAB","n":"%s",`+
			`"alg":"http://www.w3.org/2001/04/xmlenc#rsa-oaep"}]}`, sigJSON,
			base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xc3", 256))))
	case r.Method == http.MethodPost && r.URL.Path == "/op/connect/ciba":
		if b.startStatus != 0 {
			for k, v := range b.startHeader {
				w.Header()[k] = v
			}
			writeJSON(w, b.startStatus, b.startBody)
			return
		}
		resp := map[string]any{"auth_req_id": authReqID, "expires_in": b.expiresIn}
		if b.interval != 0 {
			resp["interval"] = b.interval
		}
		writeJSON(w, http.StatusOK, resp)
	case r.Method == http.MethodPost && r.URL.Path == "/op/api/ciba/broker-oidc/init-auth":
		if b.initStatus != 0 {
			writeJSON(w, b.initStatus, b.initBody)
			return
		}
		if b.initBody != nil {
			writeJSON(w, http.StatusOK, b.initBody)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"request_uri": requestURI,
			"expires_in":  600,
			"authentication_uri": "https://broker.test/op/connect/authorize?client_id=" + cibaClientID +
				"&request_uri=" + requestURI,
		})
	case r.Method == http.MethodPost && r.URL.Path == "/op/connect/token":
		if b.served {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		code := b.script[min(b.polls, len(b.script)-1)]
		b.polls++
		if code != "" {
			resp := map[string]string{"error": code}
			if code == "access_denied" {
				resp["error_description"] = "mitid_user_aborted"
			}
			status := http.StatusBadRequest
			if code == "server_error" {
				status = http.StatusInternalServerError
			}
			writeJSON(w, status, resp)
			return
		}
		b.served = true
		if b.tokenOverride != nil {
			writeJSON(w, http.StatusOK, b.tokenOverride(b))
			return
		}
		writeJSON(w, http.StatusOK, b.tokenResponse("access-token-1", nil))
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/op/api/v1/ciba/"):
		if b.cancelStatus != 0 {
			writeJSON(w, b.cancelStatus, map[string]string{"error": "not_found"})
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

// tokenResponse is the broker's CIBA token response with an ID token
// shaped like the real one in enterprise/flex-app-ciba.md.
func (b *fakeBroker) tokenResponse(accessToken string, change func(map[string]any)) map[string]any {
	now := time.Now().Unix()
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss": brokerIssuer, "aud": cibaClientID, "sub": "7c9484f5-44bf-4e29-a683-84548951d3b8",
		"iat": now, "nbf": now, "exp": now + 300, "auth_time": now,
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
		"idp":     "mitid", "idtoken_type": "ciba", "mitid.age": "88", "mitid.has_cpr": "true",
		"loa": mitid.Substantial.URI(),
	}
	if change != nil {
		change(claims)
	}
	return map[string]any{
		"id_token":     signJWT(b.key, claims),
		"access_token": accessToken,
		"expires_in":   10800,
		"token_type":   "Bearer",
		"scope":        "openid mitid",
	}
}

func signJWT(key *ecdsa.PrivateKey, claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", signingKID))
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return s
}

func (b *fakeBroker) recorded() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.requests...)
}

// brokerMetadata is the broker's discovery document (testdata §8.1 shape)
// at the test issuer.
func brokerMetadata(t testing.TB) *discovery.Metadata {
	t.Helper()
	doc := `{"issuer":"https://broker.test/op",
		"authorization_endpoint":"https://broker.test/op/connect/authorize",
		"token_endpoint":"https://broker.test/op/connect/token",
		"pushed_authorization_request_endpoint":"https://broker.test/op/connect/par",
		"backchannel_authentication_endpoint":"https://broker.test/op/connect/ciba",
		"jwks_uri":"https://broker.test/op/.well-known/openid-configuration/jwks",
		"userinfo_endpoint":"https://broker.test/op/connect/userinfo",
		"grant_types_supported":["authorization_code","urn:openid:params:grant-type:ciba"],
		"backchannel_token_delivery_modes_supported":["poll"],
		"id_token_signing_alg_values_supported":["RS256","ES256"]}`
	md, err := discovery.Parse([]byte(doc), brokerIssuer)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// newCIBA builds a real *client.Client (client_secret_basic) and a CIBA
// client that talk to b in-process. The ID token is verified by the
// client's own verifier and key set (fetched from b's JWKS).
func newCIBA(t testing.TB, b *fakeBroker, change func(*mitid.CIBAConfig)) *mitid.CIBA {
	t.Helper()
	hc := &http.Client{Transport: handlerTransport{b}}
	c, err := client.New(context.Background(), client.Config{
		Metadata:    brokerMetadata(t),
		ClientID:    cibaClientID,
		Auth:        client.ClientSecretBasic(cibaSecret),
		RedirectURL: "https://rp.test/callback",
		HTTPClient:  hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := mitid.CIBAConfig{Client: c, HTTPClient: hc}
	if change != nil {
		change(&cfg)
	}
	ciba, err := mitid.NewCIBA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ciba
}

// checkAuthenticatedForm checks a request sent through the client's back
// channel: a form POST with client_secret_basic, and exactly want (plus the
// client_id the client adds, except at the token endpoint, where requests
// with client_secret_basic carry none, as the code exchange's).
func checkAuthenticatedForm(t *testing.T, got recorded, path string, want url.Values) {
	t.Helper()
	if got.method != http.MethodPost || got.path != path {
		t.Errorf("request = %s %s, want POST %s", got.method, got.path, path)
	}
	if got.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got.contentType)
	}
	if got.auth != cibaBasic {
		t.Errorf("Authorization = %q, want %q", got.auth, cibaBasic)
	}
	want = cloneValues(want)
	if path != "/op/connect/token" {
		want.Set("client_id", cibaClientID)
	}
	if !reflect.DeepEqual(got.form, want) {
		t.Errorf("form = %v\nwant   %v", got.form, want)
	}
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func TestCIBAStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newFakeBroker(t)
		ciba := newCIBA(t, b, nil)
		idps := mitid.IDPValues(mitid.MitID)
		lang := mitid.Language(mitid.Danish)
		params, err := mitid.Params{LoA: mitid.Substantial, ReferenceText: "Log på"}.Options()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		req, err := ciba.Start(context.Background(), mitid.CIBARequest{
			Scopes:  []string{"mitid"},
			Options: append(params, idps, lang, client.WithPrompt("login")),
		})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		want := &mitid.AuthRequest{ID: authReqID, ExpiresAt: start.Add(300 * time.Second), Interval: 3 * time.Second}
		if !reflect.DeepEqual(req, want) {
			t.Errorf("Start = %+v, want %+v", req, want)
		}
		rs := b.recorded()
		if len(rs) != 1 {
			t.Fatalf("%d requests, want 1", len(rs))
		}
		checkAuthenticatedForm(t, rs[0], "/op/connect/ciba", url.Values{
			"grant_type": {"urn:openid:params:grant-type:ciba"},
			"scope":      {"openid mitid"},
			"login_hint_token": {`{"flow_type":"broker_oidc","idp_params":"{\"mitid\":{\"loa_value\":\"substantial\",` +
				`\"reference_text\":\"TG9nIHDDpQ==\"}}","idp_values":"mitid","language":"da","prompt":"login"}`},
		})
		if s := req.String(); strings.Contains(s, authReqID) {
			t.Errorf("AuthRequest.String() = %q leaks the auth_req_id", s)
		}
	})
}

func TestCIBAStartDefaults(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newFakeBroker(t)
		b.interval = 0 // interval left out: CIBA Core §7.3 default 5 s
		ciba := newCIBA(t, b, nil)
		req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
		if err != nil {
			t.Fatal(err)
		}
		if req.Interval != 5*time.Second {
			t.Errorf("Interval = %v, want 5s", req.Interval)
		}
		rs := b.recorded()
		checkAuthenticatedForm(t, rs[0], "/op/connect/ciba", url.Values{
			"grant_type":       {"urn:openid:params:grant-type:ciba"},
			"scope":            {"openid"},
			"login_hint_token": {`{"flow_type":"broker_oidc"}`},
		})
	})
}

func TestCIBAStartErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []oauth2.AuthCodeOption
		status  int
		body    any
		wantErr func(error) bool
	}{
		{"scope in options", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "openid")}, 0, nil, isParamError},
		{"flow_type in options", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("flow_type", "x")}, 0, nil, isParamError},
		{"client_id in options", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_id", "other")}, 0, nil, isParamError},
		{"broker error", nil, http.StatusBadRequest, map[string]string{"error": "invalid_scope"}, responseCode("invalid_scope")},
		{"unauthorized", nil, http.StatusUnauthorized, map[string]string{"error": "invalid_client"}, responseCode("invalid_client")},
		{"201 is not CIBA success", nil, http.StatusCreated, map[string]any{"auth_req_id": "x", "expires_in": 300}, isInvalidResponse},
		{"no auth_req_id", nil, http.StatusOK, map[string]any{"expires_in": 300}, isInvalidResponse},
		{"numeric auth_req_id", nil, http.StatusOK, map[string]any{"auth_req_id": 7, "expires_in": 300}, isInvalidResponse},
		{"no expires_in", nil, http.StatusOK, map[string]any{"auth_req_id": "x"}, isInvalidResponse},
		{"zero expires_in", nil, http.StatusOK, map[string]any{"auth_req_id": "x", "expires_in": 0}, isInvalidResponse},
		{"negative interval", nil, http.StatusOK, map[string]any{"auth_req_id": "x", "expires_in": 300, "interval": -1}, isInvalidResponse},
		{"not an object", nil, http.StatusOK, []string{"x"}, isInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFakeBroker(t)
			b.startStatus, b.startBody = tt.status, tt.body
			ciba := newCIBA(t, b, nil)
			req, err := ciba.Start(context.Background(), mitid.CIBARequest{Options: tt.opts})
			if req != nil || !tt.wantErr(err) {
				t.Fatalf("Start = %v, %v", req, err)
			}
			if !strings.HasPrefix(err.Error(), "mitid: ") {
				t.Errorf("err = %q, want mitid: prefix", err)
			}
		})
	}
}

func isParamError(err error) bool {
	var pe *mitid.ParamError
	return errors.As(err, &pe) && pe.Param == "login_hint_token"
}

func isInvalidResponse(err error) bool { return errors.Is(err, mitid.ErrInvalidResponse) }

func responseCode(code string) func(error) bool {
	return func(err error) bool {
		var re *client.ResponseError
		return errors.As(err, &re) && re.Code == code
	}
}

func TestCIBAInitAuth(t *testing.T) {
	t.Parallel()
	for _, jsonMode := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonMode), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newFakeBroker(t)
				ciba := newCIBA(t, b, func(c *mitid.CIBAConfig) { c.InitAuthJSON = jsonMode })
				req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Second)
				a, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{
					RedirectURI: "https://rp.test/cibaparflowcompleted", State: "flow-42",
				})
				if err != nil {
					t.Fatalf("InitAuth: %v", err)
				}
				want := &mitid.Authentication{
					URI:        "https://broker.test/op/connect/authorize?client_id=" + cibaClientID + "&request_uri=" + requestURI,
					RequestURI: requestURI,
					ExpiresAt:  time.Now().Add(600 * time.Second),
				}
				if !reflect.DeepEqual(a, want) {
					t.Errorf("InitAuth = %+v\nwant %+v", a, want)
				}
				rs := b.recorded()
				if len(rs) != 2 {
					t.Fatalf("%d requests, want 2", len(rs))
				}
				got := rs[1]
				if !jsonMode {
					checkAuthenticatedForm(t, got, "/op/api/ciba/broker-oidc/init-auth", url.Values{
						"requestId":   {authReqID},
						"redirectUri": {"https://rp.test/cibaparflowcompleted"},
						"state":       {"flow-42"},
					})
					return
				}
				if got.method != http.MethodPost || got.path != "/op/api/ciba/broker-oidc/init-auth" ||
					got.contentType != "application/json" || got.auth != "" {
					t.Errorf("request = %s %s %q auth %q, want unauthenticated JSON POST", got.method, got.path, got.contentType, got.auth)
				}
				wantBody := `{"redirectUri":"https://rp.test/cibaparflowcompleted","requestId":"` + authReqID + `","state":"flow-42"}`
				if got.body != wantBody {
					t.Errorf("body = %s\nwant   %s", got.body, wantBody)
				}
			})
		})
	}
}

func TestCIBAInitAuthErrors(t *testing.T) {
	t.Parallel()
	auth := func(uri string) map[string]any {
		return map[string]any{"request_uri": requestURI, "expires_in": 600, "authentication_uri": uri}
	}
	good := "https://broker.test/op/connect/authorize?client_id=x&request_uri=" + requestURI
	tests := []struct {
		name    string
		status  int
		body    any
		wantErr func(error) bool
	}{
		{"broker error", http.StatusBadRequest, map[string]string{"error": "invalid_request"}, responseCode("invalid_request")},
		{"unsupported media type", http.StatusUnsupportedMediaType, nil, responseCode("")},
		{"foreign origin", 0, auth("https://evil.test/op/connect/authorize?request_uri=" + requestURI), isInvalidResponse},
		{"http", 0, auth("http://broker.test/op/connect/authorize?request_uri=" + requestURI), isInvalidResponse},
		{"relative", 0, auth("/op/connect/authorize?request_uri=" + requestURI), isInvalidResponse},
		{"other request_uri", 0, auth("https://broker.test/op/connect/authorize?request_uri=urn:x"), isInvalidResponse},
		{"no request_uri", 0, map[string]any{"expires_in": 600, "authentication_uri": good}, isInvalidResponse},
		{"no expires_in", 0, map[string]any{"request_uri": requestURI, "authentication_uri": good}, isInvalidResponse},
		{"no authentication_uri", 0, map[string]any{"request_uri": requestURI, "expires_in": 600}, isInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFakeBroker(t)
			b.initStatus, b.initBody = tt.status, tt.body
			ciba := newCIBA(t, b, nil)
			req := &mitid.AuthRequest{ID: authReqID, ExpiresAt: time.Now().Add(time.Minute), Interval: time.Second}
			a, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{})
			if a != nil || !tt.wantErr(err) {
				t.Fatalf("InitAuth = %v, %v", a, err)
			}
			if strings.Contains(err.Error(), authReqID) {
				t.Errorf("err = %q leaks the auth_req_id", err)
			}
		})
	}
	t.Run("expired request sends nothing", func(t *testing.T) {
		t.Parallel()
		b := newFakeBroker(t)
		ciba := newCIBA(t, b, nil)
		req := &mitid.AuthRequest{ID: authReqID, ExpiresAt: time.Now().Add(-time.Second), Interval: time.Second}
		if _, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{}); !errors.Is(err, mitid.ErrExpired) {
			t.Fatalf("InitAuth = %v, want ErrExpired", err)
		}
		if n := len(b.recorded()); n != 0 {
			t.Errorf("%d requests sent, want 0", n)
		}
	})
	t.Run("bad redirect", func(t *testing.T) {
		t.Parallel()
		ciba := newCIBA(t, newFakeBroker(t), nil)
		req := &mitid.AuthRequest{ID: authReqID, ExpiresAt: time.Now().Add(time.Minute), Interval: time.Second}
		_, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{RedirectURI: "/relative"})
		wantParamError(t, err, "redirectUri")
	})
}

// pollOffsets returns when each token request arrived, relative to start.
func pollOffsets(b *fakeBroker, start time.Time) []time.Duration {
	var out []time.Duration
	for _, r := range b.recorded() {
		if r.path == "/op/connect/token" {
			out = append(out, r.at.Sub(start))
		}
	}
	return out
}

func seconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = time.Duration(v) * time.Second
	}
	return out
}

func TestCIBAPoll(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newFakeBroker(t)
		b.script = []string{"authorization_pending", "authorization_pending", "slow_down", "authorization_pending", ""}
		ciba := newCIBA(t, b, nil)
		start := time.Now()
		req, err := ciba.Start(context.Background(), mitid.CIBARequest{Scopes: []string{"openid", "mitid"}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ciba.Poll(context.Background(), req)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		// interval 3 s; slow_down at the third poll adds 5 s from then on.
		if got, want := pollOffsets(b, start), seconds(3, 6, 9, 17, 25); !reflect.DeepEqual(got, want) {
			t.Errorf("polls at %v, want %v", got, want)
		}
		jwks := 0
		for _, r := range b.recorded()[1:] {
			if r.path == "/op/.well-known/openid-configuration/jwks" {
				jwks++ // the client's key set, which skips the odd enc key
			}
			if r.path != "/op/connect/token" {
				continue
			}
			checkAuthenticatedForm(t, r, "/op/connect/token", url.Values{
				"grant_type":  {"urn:openid:params:grant-type:ciba"},
				"auth_req_id": {authReqID},
			})
		}
		if jwks != 1 {
			t.Errorf("JWKS fetched %d times, want 1 (default verifier: the client's)", jwks)
		}
		if tok.Token.AccessToken != "access-token-1" || tok.Token.TokenType != "Bearer" {
			t.Errorf("token = %q %q", tok.Token.AccessToken, tok.Token.TokenType)
		}
		if want := start.Add(25*time.Second + 10800*time.Second); !tok.Token.Expiry.Equal(want) {
			t.Errorf("Expiry = %v, want %v", tok.Token.Expiry, want)
		}
		if tok.Token.Extra("scope") != "openid mitid" || tok.Token.Extra("id_token") != tok.RawIDToken {
			t.Errorf("Extra(scope) = %v", tok.Token.Extra("scope"))
		}
		var claims mitid.Claims
		if err := tok.IDToken.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.MitID.Age != 88 || claims.Extra["idtoken_type"] == nil {
			t.Errorf("claims = %+v", claims)
		}
		if err := claims.RequireLevel(mitid.Substantial); err != nil {
			t.Error(err)
		}

		// The broker returns a result once; then invalid_grant.
		_, err = ciba.Poll(context.Background(), req)
		if !errors.Is(err, mitid.ErrInvalidGrant) || !responseCode("invalid_grant")(err) {
			t.Errorf("second Poll = %v, want ErrInvalidGrant", err)
		}
	})
}

func TestCIBAPollOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   []string
		sentinel error // nil: a *client.ResponseError only
		code     string
		offsets  []time.Duration
	}{
		{"access denied", []string{"authorization_pending", "access_denied"}, mitid.ErrAccessDenied, "access_denied", seconds(3, 6)},
		{"expired_token", []string{"expired_token"}, mitid.ErrExpired, "expired_token", seconds(3)},
		{"invalid_grant", []string{"invalid_grant"}, mitid.ErrInvalidGrant, "invalid_grant", seconds(3)},
		{"server error is not retried", []string{"authorization_pending", "server_error"}, nil, "server_error", seconds(3, 6)},
		{"broker code", []string{"mitid_flex_app.mitid_error_123"}, nil, "mitid_flex_app.mitid_error_123", seconds(3)},
		{"slow_down twice", []string{"slow_down", "slow_down", "access_denied"}, mitid.ErrAccessDenied, "access_denied", seconds(3, 11, 24)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newFakeBroker(t)
				b.script = tt.script
				ciba := newCIBA(t, b, nil)
				start := time.Now()
				req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
				if err != nil {
					t.Fatal(err)
				}
				tok, err := ciba.Poll(context.Background(), req)
				if tok != nil || err == nil {
					t.Fatalf("Poll = %v, %v; want error", tok, err)
				}
				for _, s := range []error{mitid.ErrAccessDenied, mitid.ErrExpired, mitid.ErrInvalidGrant} {
					if errors.Is(err, s) != (s == tt.sentinel) {
						t.Errorf("errors.Is(%v, %v) = %v", err, s, !(s == tt.sentinel))
					}
				}
				if !responseCode(tt.code)(err) {
					t.Errorf("err = %v, want *client.ResponseError with code %s", err, tt.code)
				}
				if tt.code == "access_denied" {
					var re *client.ResponseError
					if errors.As(err, &re); re.Description != "mitid_user_aborted" {
						t.Errorf("Description = %q, want the broker's sub-code", re.Description)
					}
				}
				if got := pollOffsets(b, start); !reflect.DeepEqual(got, tt.offsets) {
					t.Errorf("polls at %v, want %v", got, tt.offsets)
				}
				if strings.Contains(err.Error(), authReqID) || !strings.HasPrefix(err.Error(), "mitid: ciba: ") {
					t.Errorf("err = %q", err)
				}
			})
		})
	}
}

func TestCIBAPollExpiresLocally(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newFakeBroker(t)
		b.expiresIn, b.script = 10, []string{"authorization_pending"}
		ciba := newCIBA(t, b, nil)
		start := time.Now()
		req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ciba.Poll(context.Background(), req)
		if !errors.Is(err, mitid.ErrExpired) {
			t.Fatalf("Poll = %v, want ErrExpired", err)
		}
		// A last poll after expires_in, then no more.
		if got, want := pollOffsets(b, start), seconds(3, 6, 9, 12); !reflect.DeepEqual(got, want) {
			t.Errorf("polls at %v, want %v", got, want)
		}
		if time.Since(start) != 12*time.Second {
			t.Errorf("Poll returned after %v, want 12s", time.Since(start))
		}
	})
}

func TestCIBAPollContextCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newFakeBroker(t)
		b.script = []string{"authorization_pending"}
		ciba := newCIBA(t, b, nil)
		start := time.Now()
		req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(4*time.Second, cancel)
		_, err = ciba.Poll(ctx, req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Poll = %v, want context.Canceled", err)
		}
		if time.Since(start) != 4*time.Second {
			t.Errorf("Poll returned after %v, want 4s (at cancellation)", time.Since(start))
		}
		if got := pollOffsets(b, start); !reflect.DeepEqual(got, seconds(3)) {
			t.Errorf("polls at %v, want [3s]", got)
		}
	})
}

func TestCIBAPollBadTokens(t *testing.T) {
	t.Parallel()
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    func(b *fakeBroker) any
		idToken bool // refused by the ID token check
	}{
		{"no id_token", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			delete(r, "id_token")
			return r
		}, false},
		{"foreign signature", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			r["id_token"] = signJWT(otherKey, map[string]any{"iss": brokerIssuer, "aud": cibaClientID, "sub": "x",
				"iat": time.Now().Unix(), "exp": time.Now().Unix() + 300})
			return r
		}, true},
		{"wrong audience", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { c["aud"] = "someone-else" })
		}, true},
		{"expired id token", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { c["exp"] = time.Now().Unix() - 300 })
		}, true},
		// The client's one ID token check applies to CIBA too (OIDC Core
		// §2, §3.1.3.7 items 3–5 and 10); go-oidc's bare Verify, which the
		// CIBA client used before, accepted each of these.
		{"no sub", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { delete(c, "sub") })
		}, true},
		{"azp for another client", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { c["azp"] = "someone-else" })
		}, true},
		{"several audiences without azp", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { c["aud"] = []string{cibaClientID, "someone-else"} })
		}, true},
		{"iat in the future", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() })
		}, true},
		{"no iat", func(b *fakeBroker) any {
			return b.tokenResponse("at", func(c map[string]any) { delete(c, "iat") })
		}, true},
		{"at_hash mismatch", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			r["access_token"] = "another-access-token"
			return r
		}, true},
		{"dpop token type", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			r["token_type"] = "DPoP"
			return r
		}, false},
		{"no access token", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			delete(r, "access_token")
			return r
		}, false},
		{"bad expires_in", func(b *fakeBroker) any {
			r := b.tokenResponse("at", nil)
			r["expires_in"] = "soon"
			return r
		}, false},
		{"not an object", func(b *fakeBroker) any { return "tokens" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newFakeBroker(t)
				b.tokenOverride = tt.body
				ciba := newCIBA(t, b, nil)
				req, err := ciba.Start(context.Background(), mitid.CIBARequest{})
				if err != nil {
					t.Fatal(err)
				}
				tok, err := ciba.Poll(context.Background(), req)
				if tok != nil || err == nil {
					t.Fatalf("Poll = %v, %v; want error", tok, err)
				}
				if !strings.HasPrefix(err.Error(), "mitid: ciba: ") {
					t.Errorf("err = %q", err)
				}
				if tt.idToken && !errors.Is(err, client.ErrInvalidIDToken) {
					t.Errorf("err = %v, want client.ErrInvalidIDToken", err)
				}
				for _, secret := range []string{"another-access-token", authReqID} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("err = %q leaks %q", err, secret)
					}
				}
			})
		})
	}
}

func TestCIBACancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		id       string
		status   int
		wantPath string
		wantErr  bool
	}{
		{"ok", authReqID, 0, "/op/api/v1/ciba/" + authReqID, false},
		{"escaped", "a/b c", 0, "/op/api/v1/ciba/a%2Fb%20c", false},
		{"unknown", authReqID, http.StatusNotFound, "/op/api/v1/ciba/" + authReqID, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFakeBroker(t)
			b.cancelStatus = tt.status
			ciba := newCIBA(t, b, nil)
			err := ciba.Cancel(context.Background(), &mitid.AuthRequest{ID: tt.id, ExpiresAt: time.Now().Add(time.Minute)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Cancel = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr && (!responseCode("not_found")(err) || strings.Contains(err.Error(), tt.id)) {
				t.Errorf("Cancel error = %v", err)
			}
			rs := b.recorded()
			if len(rs) != 1 {
				t.Fatalf("%d requests, want 1", len(rs))
			}
			if r := rs[0]; r.method != http.MethodDelete || r.path != tt.wantPath || r.auth != "" || r.body != "" {
				t.Errorf("request = %s %s auth %q body %q; want DELETE %s without credentials", r.method, r.path, r.auth, r.body, tt.wantPath)
			}
		})
	}
}

func TestNewCIBAConfig(t *testing.T) {
	t.Parallel()
	md := brokerMetadata(t)
	noCIBA := *md
	noCIBA.BackchannelAuthenticationEndpoint = ""
	httpCIBA := *md
	httpCIBA.BackchannelAuthenticationEndpoint = "http://broker.test/op/connect/ciba"
	clientFor := func(md *discovery.Metadata) *client.Client {
		c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: cibaClientID,
			Auth: client.ClientSecretBasic(cibaSecret), RedirectURL: "https://rp.test/cb"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  mitid.CIBAConfig
		want string
	}{
		{"no client", mitid.CIBAConfig{}, "Client is nil"},
		{"no ciba endpoint", mitid.CIBAConfig{Client: clientFor(&noCIBA)}, "backchannel_authentication_endpoint is empty"},
		{"http ciba endpoint", mitid.CIBAConfig{Client: clientFor(&httpCIBA)}, "must use https"},
		{"bad init-auth endpoint", mitid.CIBAConfig{Client: clientFor(md), InitAuthEndpoint: "/x"}, "InitAuthEndpoint"},
	}
	for _, tt := range tests {
		_, err := mitid.NewCIBA(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "mitid: ciba: config: ") {
			t.Errorf("%s: NewCIBA = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := mitid.NewCIBA(mitid.CIBAConfig{Client: clientFor(md)}); err != nil {
		t.Errorf("NewCIBA with a valid config: %v", err)
	}
}

// TestCIBAOverrides checks that the endpoint overrides are used as given.
func TestCIBAOverrides(t *testing.T) {
	t.Parallel()
	b := newFakeBroker(t)
	mux := http.NewServeMux()
	mux.Handle("/op/", b)
	mux.HandleFunc("/custom/init", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/op/api/ciba/broker-oidc/init-auth"
		b.ServeHTTP(w, r)
	})
	mux.HandleFunc("/custom/cancel/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/custom/cancel/"+authReqID {
			t.Errorf("cancel path = %s", r.URL.Path)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hc := &http.Client{Transport: handlerTransport{mux}}
	c, err := client.New(context.Background(), client.Config{Metadata: brokerMetadata(t), ClientID: cibaClientID,
		Auth: client.ClientSecretBasic(cibaSecret), RedirectURL: "https://rp.test/cb", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ciba, err := mitid.NewCIBA(mitid.CIBAConfig{
		Client: c, HTTPClient: hc,
		InitAuthEndpoint: "https://broker.test/custom/init",
		CancelEndpoint:   "https://broker.test/custom/cancel/",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := &mitid.AuthRequest{ID: authReqID, ExpiresAt: time.Now().Add(time.Minute), Interval: time.Second}
	if _, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{}); err != nil {
		t.Errorf("InitAuth: %v", err)
	}
	if err := ciba.Cancel(context.Background(), req); err != nil {
		t.Errorf("Cancel: %v", err)
	}
}

// FuzzCIBAResponses feeds arbitrary 200 bodies to the parsers of the
// backchannel authentication, init-auth and token responses.
func FuzzCIBAResponses(f *testing.F) {
	for _, s := range []string{
		`{"auth_req_id":"9384B4AA-1","expires_in":300,"interval":3}`,
		`{"auth_req_id":"x","expires_in":"300","interval":null}`,
		`{"request_uri":"urn:x","expires_in":600,"authentication_uri":"https://broker.test/op/connect/authorize?request_uri=urn:x"}`,
		`{"access_token":"at","token_type":"Bearer","expires_in":10800,"id_token":"e30.e30.e30","scope":["openid"]}`,
		`{"error":"authorization_pending"}`, `null`, `[]`, `{"expires_in":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(data)
			})
			hc := &http.Client{Transport: handlerTransport{h}}
			c, err := client.New(context.Background(), client.Config{Metadata: brokerMetadata(t), ClientID: cibaClientID,
				Auth: client.ClientSecretPost(cibaSecret), RedirectURL: "https://rp.test/cb", HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			ciba, err := mitid.NewCIBA(mitid.CIBAConfig{Client: c, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if req, err := ciba.Start(context.Background(), mitid.CIBARequest{}); err == nil {
				if req.ID == "" || !req.ExpiresAt.After(now) || req.Interval < time.Second {
					t.Fatalf("Start accepted %q as %+v", data, req)
				}
			}
			req := &mitid.AuthRequest{ID: "id-1", ExpiresAt: now.Add(time.Minute), Interval: time.Second}
			if a, err := ciba.InitAuth(context.Background(), req, mitid.InitAuthParams{}); err == nil {
				if a.RequestURI == "" || !strings.HasPrefix(a.URI, "https://broker.test/") || !a.ExpiresAt.After(now) {
					t.Fatalf("InitAuth accepted %q as %+v", data, a)
				}
			}
			// Every token request gets data: a pending answer polls until
			// expiry, anything else ends the poll.
			if tok, err := ciba.Poll(context.Background(), req); err == nil {
				t.Fatalf("Poll accepted %q without a verifiable ID token: %+v", data, tok)
			}
		})
	})
}

// TestCIBARetryAfterCapped: a provider's Retry-After is capped at 24 h in
// both of its forms (RFC 9110 §10.2.3), as at the PAR endpoint; an
// HTTP-date centuries ahead used to pass through uncapped.
func TestCIBARetryAfterCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "120", 2 * time.Minute},
		{"seconds beyond a day", "999999999", 24 * time.Hour},
		{"http-date in a century", time.Now().AddDate(100, 0, 0).UTC().Format(http.TimeFormat), 24 * time.Hour},
		{"http-date in the past", "Mon, 02 Jan 2006 15:04:05 GMT", 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFakeBroker(t)
			b.startStatus, b.startBody = http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"}
			b.startHeader = http.Header{"Retry-After": {tt.value}}
			_, err := newCIBA(t, b, nil).Start(context.Background(), mitid.CIBARequest{})
			var re *client.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("Start: %v; want *client.ResponseError", err)
			}
			if re.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", re.RetryAfter, tt.want)
			}
		})
	}
}
