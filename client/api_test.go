package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/discovery"
	"github.com/go-par/par/partest"
)

// This file covers exported API that the flow tests do not call directly
// (issue 2: every exported function has a test or an executed Example).

const (
	apiCallback = "https://app.example/callback"
	apiSecret   = "s3cr+t/="
)

// apiLogin runs push → authorize → exchange against partest and returns the
// client and its verified tokens.
func apiLogin(t *testing.T, srv *partest.Server, mod ...func(*Config)) (*Client, *Tokens) {
	t.Helper()
	ctx := context.Background()
	cfg := Config{Issuer: srv.Issuer(), ClientID: "app", Auth: ClientSecretBasic(apiSecret),
		RedirectURL: apiCallback, HTTPClient: srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	flow, err := c.Push(ctx)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatalf("AuthorizationURL: %v", err)
	}
	params, err := srv.Login(u)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	tok, err := c.Exchange(ctx, flow, params)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return c, tok
}

func apiServer(t *testing.T) *partest.Server {
	t.Helper()
	srv := partest.NewServer(partest.Config{RefreshTokens: true, Clients: []partest.Client{
		{ID: "app", Secret: apiSecret, RedirectURIs: []string{apiCallback}}}})
	t.Cleanup(srv.Close)
	return srv
}

// TestPushOptions checks that each typed option helper puts exactly its
// parameter into the PAR form (OIDC Core §3.1.2.1, RFC 9126 §2.1) and, for
// state, nonce and redirect_uri, into the returned Flow.
func TestPushOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  oauth2.AuthCodeOption
		key  string
		want string
		flow func(*Flow) string // the flow field the option sets, if any
	}{
		{"prompt", WithPrompt("login"), "prompt", "login", nil},
		{"acr_values", WithParam("acr_values", "https://data.gov.dk/concept/core/nsis/substantial urn:x"), "acr_values",
			"https://data.gov.dk/concept/core/nsis/substantial urn:x", nil},
		{"login_hint", WithParam("login_hint", "alice"), "login_hint", "alice", nil},
		{"max_age", WithMaxAge(90*time.Second + 900*time.Millisecond), "max_age", "90", nil},
		{"max_age zero", WithMaxAge(0), "max_age", "0", nil},
		{"ui_locales", WithParam("ui_locales", "da en"), "ui_locales", "da en", nil},
		{"scopes without openid", WithParam("scope", "mitid ssn"), "scope", "openid mitid ssn", nil},
		{"scopes with openid", WithParam("scope", "profile openid"), "scope", "profile openid", nil},
		{"redirect_uri", WithParam("redirect_uri", "https://app.example/other"), "redirect_uri", "https://app.example/other",
			func(f *Flow) string { return f.RedirectURL }},
		{"state", WithParam("state", "caller-state-0123456789"), "state", "caller-state-0123456789",
			func(f *Flow) string { return f.State }},
		{"nonce", WithParam("nonce", "caller-nonce-0123456789"), "nonce", "caller-nonce-0123456789",
			func(f *Flow) string { return f.Nonce }},
		{"any parameter", WithParam("idp_values", "mitid"), "idp_values", "mitid", nil},
		{"broker language", WithParam("language", "da"), "language", "da", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got url.Values
			_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					t.Error(err)
				}
				got = r.PostForm
				created(w, `{"request_uri":"`+brokerURI+`","expires_in":600}`)
			})
			c := newClient(t, md, ClientSecretBasic("s"))
			flow, err := c.Push(context.Background(), tt.opt)
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			if v := got[tt.key]; len(v) != 1 || v[0] != tt.want {
				t.Errorf("form[%s] = %q, want [%q]", tt.key, v, tt.want)
			}
			if tt.flow != nil && tt.flow(flow) != tt.want {
				t.Errorf("flow field = %q, want %q", tt.flow(flow), tt.want)
			}
			// The other SDK-owned values are still there.
			for _, k := range []string{"client_id", "response_type", "code_challenge", "code_challenge_method", "state", "nonce", "redirect_uri", "scope"} {
				if got.Get(k) == "" {
					t.Errorf("form lacks %s", k)
				}
			}
		})
	}
}

// TestWithParamReserved checks that WithParam cannot set a parameter the
// SDK owns (RFC 9126 §2.1, RFC 7636 §4.3).
func TestWithParamReserved(t *testing.T) {
	t.Parallel()
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing may be pushed") })
	c := newClient(t, md, ClientSecretBasic("s"))
	for _, name := range []string{"request_uri", "request", "code_challenge", "code_challenge_method", "code_verifier",
		"client_secret", "client_assertion", "response_type"} {
		if _, err := c.Push(context.Background(), WithParam(name, "x")); !errors.Is(err, ErrReservedParameter) {
			t.Errorf("Push(WithParam(%q)) = %v, want ErrReservedParameter", name, err)
		}
	}
	if _, err := c.Push(context.Background(), WithParam("client_id", "other")); !errors.Is(err, ErrReservedParameter) {
		t.Errorf("Push(WithParam(client_id, other)) = %v, want ErrReservedParameter", err)
	}
}

// TestResponseMode checks Client.ResponseMode and that the configured
// response_mode is pushed (OAuth 2.0 Multiple Response Types §2.1).
func TestResponseMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", "form_post", "query"} {
		t.Run("mode="+mode, func(t *testing.T) {
			t.Parallel()
			var got url.Values
			_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					t.Error(err)
				}
				got = r.PostForm
				created(w, `{"request_uri":"`+brokerURI+`","expires_in":60}`)
			})
			c := newClient(t, md, ClientSecretBasic("s"), func(cfg *Config) { cfg.ResponseMode = mode })
			if c.ResponseMode() != mode {
				t.Errorf("ResponseMode() = %q, want %q", c.ResponseMode(), mode)
			}
			if _, err := c.Push(context.Background()); err != nil {
				t.Fatalf("Push: %v", err)
			}
			if v, ok := got["response_mode"]; mode == "" && ok || mode != "" && (len(v) != 1 || v[0] != mode) {
				t.Errorf("pushed response_mode = %q (present %v), want %q", v, ok, mode)
			}
		})
	}
}

// TestPostForm asserts the exact request PostForm sends: POST, form body,
// the client's authentication (RFC 6749 §2.3.1), and that it neither follows
// redirects nor reads past the answer.
func TestPostForm(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/op/api/ext", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != "0a775a87-878c-4b83-abe3-ee29c720c3e7" || pass != url.QueryEscape(apiSecret) {
			t.Errorf("Basic = %q/%q (%v), want the form-encoded client credentials", user, pass, ok)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		// client_secret_basic also names the client in the body (RFC 9126 §2.1).
		if r.PostForm.Get("login_hint") != "alice" || r.PostForm.Get("client_id") != "0a775a87-878c-4b83-abe3-ee29c720c3e7" || len(r.PostForm) != 2 {
			t.Errorf("form = %v, want login_hint=alice and client_id", r.PostForm)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Trace", "t1")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"auth_req_id":"r1"}`)
	})
	mux.HandleFunc("/op/api/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/op/api/ext", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := srv.URL + "/op"
	md := &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks"}
	c := newClient(t, md, ClientSecretBasic(apiSecret))
	ctx := context.Background()

	status, body, err := c.Post(ctx, iss+"/api/ext", url.Values{"login_hint": {"alice"}})
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	if status != http.StatusAccepted || string(body) != `{"auth_req_id":"r1"}` {
		t.Errorf("Post = %d %q", status, body)
	}

	// A redirect is not followed: it is an error response.
	_, _, err = c.Post(ctx, iss+"/api/moved", url.Values{"login_hint": {"alice"}})
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusTemporaryRedirect || re.Endpoint != "moved" {
		t.Errorf("redirect: err = %v, want a *ResponseError for the 307 (not followed)", err)
	}

	if _, _, err := c.Post(ctx, "http://[::1", nil); err == nil || !strings.HasPrefix(err.Error(), "client: post:") {
		t.Errorf("bad URL: err = %v, want a client: post: error", err)
	}
	// The client's credentials go to the provider's origins only.
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("credentials sent to a third party") }))
	t.Cleanup(other.Close)
	if _, _, err := c.Post(ctx, other.URL+"/api/ext", nil); err == nil || !strings.Contains(err.Error(), "not on an origin of the provider") {
		t.Errorf("third-party endpoint: err = %v", err)
	}
}

// TestResponseErrorTemporaryAndUnwrap checks ResponseError.Temporary's table
// (RFC 6585 §4, RFC 9110 §15.6.4, RFC 6749 §4.1.2.1) and that a token error
// is a *ResponseError with the provider's members and Retry-After.
func TestResponseErrorTemporary(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		code   string
		want   bool
	}{
		{http.StatusTooManyRequests, "", true},
		{http.StatusServiceUnavailable, "", true},
		{http.StatusBadRequest, "temporarily_unavailable", true},
		{http.StatusBadRequest, "invalid_grant", false},
		{http.StatusInternalServerError, "", false},
		{http.StatusUnauthorized, "invalid_client", false},
	} {
		e := &ResponseError{Endpoint: "par", StatusCode: tt.status, Code: tt.code}
		if got := e.Temporary(); got != tt.want {
			t.Errorf("Temporary(%d %q) = %v, want %v", tt.status, tt.code, got, tt.want)
		}
	}

	// A token endpoint error keeps x/oauth2's error underneath.
	mux := http.NewServeMux()
	mux.HandleFunc("/op/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "rt-1" {
			t.Errorf("token request form = %v (%v)", r.PostForm, err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"maintenance"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := srv.URL + "/op"
	md := &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks"}
	c := newClient(t, md, ClientSecretBasic("s"))
	_, err := c.Refresh(context.Background(), &Tokens{Token: &oauth2.Token{RefreshToken: "rt-1"}})
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Refresh error = %v, want *ResponseError", err)
	}
	if re.Endpoint != "token" || re.Code != "temporarily_unavailable" || re.RetryAfter != 7*time.Second || !re.Temporary() {
		t.Errorf("ResponseError = %+v", re)
	}
	if re.StatusCode != http.StatusServiceUnavailable || re.Description != "maintenance" {
		t.Errorf("ResponseError status %d, description %q", re.StatusCode, re.Description)
	}
	if strings.Contains(err.Error(), "rt-1") {
		t.Errorf("error %q shows the refresh token", err)
	}
}

// TestProfileStringAndError checks Profile.String and that New reports a
// profile violation naming the field (FAPI 2.0 §5.3.3.4).
func TestProfileStringAndError(t *testing.T) {
	t.Parallel()
	for p, want := range map[Profile]string{ProfileDefault: "default", ProfileBroker: "broker", ProfileFAPI2: "fapi2", Profile(42): "default"} {
		if got := p.String(); got != want {
			t.Errorf("Profile(%d).String() = %q, want %q", int(p), got, want)
		}
	}
	_, md := testProvider(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no request expected") })
	_, err := New(context.Background(), Config{Metadata: md, ClientID: "app", Auth: ClientSecretBasic(apiSecret),
		RedirectURL: apiCallback, Profile: ProfileFAPI2})
	if err == nil || err.Error() != "client: config: Auth: fapi2 profile: client_secret_basic is not allowed; use private_key_jwt or tls_client_auth" {
		t.Fatalf("New(FAPI2, client_secret_basic) = %v, want the field, profile and rule named", err)
	}
	if strings.Contains(err.Error(), apiSecret) {
		t.Errorf("error %q: want the profile named and no secret", err)
	}
}

// TestFlowAndTokensFormatting checks that Flow and Tokens print and log
// without state, nonce, verifier or token values, as pointers and as values
// (the methods have value receivers, so a Flow kept by value in an app's
// own session struct is redacted too).
func TestFlowAndTokensFormatting(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 24, 12, 10, 0, 0, time.UTC)
	f := &Flow{State: "STATE-SECRET", Nonce: "NONCE-SECRET", CodeVerifier: "VERIFIER-SECRET",
		RequestURI: brokerURI, ExpiresAt: exp, RedirectURL: apiCallback, Issuer: "https://pp.netseidbroker.dk/op"}

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	tok := &Tokens{Token: &oauth2.Token{AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", TokenType: "Bearer", Expiry: exp},
		RawIDToken: "IDT-SECRET"}
	log.Info("f", "flow", f, "flowvalue", *f, "tokens", tok, "tokensvalue", *tok, "notokens", Tokens{})
	var rec struct {
		Flow        map[string]string `json:"flow"`
		FlowValue   map[string]string `json:"flowvalue"`
		Tokens      string            `json:"tokens"`
		TokensValue string            `json:"tokensvalue"`
		NoTokens    string            `json:"notokens"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %s: %v", buf.Bytes(), err)
	}
	if rec.Flow["issuer"] != f.Issuer || rec.Flow["request_uri"] != brokerURI || rec.Flow["expires_at"] != "2026-11-24T12:10:00Z" {
		t.Errorf("flow LogValue = %v", rec.Flow)
	}
	if rec.FlowValue["issuer"] != f.Issuer || rec.FlowValue["request_uri"] != brokerURI {
		t.Errorf("flow value LogValue = %v", rec.FlowValue)
	}
	if rec.NoTokens != "tokens(<nil>)" {
		t.Errorf("empty tokens log as %q", rec.NoTokens)
	}
	if want := "tokens(type=Bearer sub= expiry=2026-11-24T12:10:00Z, values redacted)"; rec.Tokens != want || rec.TokensValue != want {
		t.Errorf("tokens LogValue = %q and %q, want %q", rec.Tokens, rec.TokensValue, want)
	}

	s := f.String()
	if want := "flow(issuer=https://pp.netseidbroker.dk/op request_uri=" + brokerURI +
		" expires=2026-11-24T12:10:00Z, state/nonce/verifier redacted)"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	if got := fmt.Sprint((*Flow)(nil), (*Tokens)(nil)); got != "<nil> <nil>" {
		t.Errorf("nil Flow and Tokens print as %q", got)
	}
	for _, out := range []string{s, buf.String(), fmt.Sprint(f), fmt.Sprintf("%v %+v %#v %s", *f, *f, *f, *f),
		fmt.Sprintf("%v %+v %#v %s", *tok, *tok, tok, tok), fmt.Sprintf("%+v", struct{ F Flow }{*f})} {
		for _, secret := range []string{"STATE-SECRET", "NONCE-SECRET", "VERIFIER-SECRET", "AT-SECRET", "RT-SECRET", "IDT-SECRET"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows %s", out, secret)
			}
		}
	}
}

// TestIDTokenCheckAndUserInfoClaims checks the ID token check against a
// real ID token (OIDC Core §3.1.3.7) and UserInfo.Claims (OIDC Core §5.3.2).
func TestIDTokenCheckAndUserInfoClaims(t *testing.T) {
	t.Parallel()
	srv := apiServer(t)
	c, tok := apiLogin(t, srv)
	ctx := context.Background()

	idt, err := c.verifyIDToken(ctx, tok.RawIDToken, idCheck{accessToken: tok.Token.AccessToken})
	if err != nil {
		t.Fatalf("verifyIDToken: %v", err)
	}
	if idt.Subject != tok.IDToken.Subject || idt.Issuer != c.Metadata().Issuer || len(idt.Audience) != 1 || idt.Audience[0] != "app" {
		t.Errorf("verified token sub=%q iss=%q aud=%v", idt.Subject, idt.Issuer, idt.Audience)
	}
	// A flipped signature byte fails.
	raw := []byte(tok.RawIDToken)
	raw[len(raw)-2] ^= 'A' ^ 'B'
	if _, err := c.verifyIDToken(ctx, string(raw), idCheck{accessToken: tok.Token.AccessToken}); !errors.Is(err, ErrInvalidIDToken) {
		t.Errorf("verifyIDToken of a token with a changed signature: %v, want ErrInvalidIDToken", err)
	}

	ui, err := c.UserInfo(ctx, tok)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		t.Fatalf("Claims: %v", err)
	}
	if claims["sub"] != ui.Subject || ui.Subject != tok.IDToken.Subject {
		t.Errorf("claims sub = %v, Subject = %q, ID token sub = %q", claims["sub"], ui.Subject, tok.IDToken.Subject)
	}
	var wrong struct {
		Sub int `json:"sub"`
	}
	if err := ui.Claims(&wrong); err == nil {
		t.Error("Claims into an int sub: want a decoding error")
	}
}

// TestTokenSource checks that Client.TokenSource hands out a valid token as
// is and refreshes an expired one (RFC 6749 §6), keeping the refresh token
// when the provider sends none.
func TestTokenSource(t *testing.T) {
	t.Parallel()
	srv := apiServer(t)
	c, tok := apiLogin(t, srv)
	if tok.Token.RefreshToken == "" {
		t.Fatal("partest issued no refresh token")
	}

	same, err := c.TokenSource(tok).Token()
	if err != nil || same.AccessToken != tok.Token.AccessToken {
		t.Errorf("valid token: got %v (%v), want it unchanged", same != nil, err)
	}

	expired := *tok.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := c.TokenSource(&Tokens{Token: &expired, IDToken: tok.IDToken}).Token()
	if err != nil {
		t.Fatalf("refresh through TokenSource: %v", err)
	}
	if fresh.AccessToken == "" || fresh.AccessToken == tok.Token.AccessToken || fresh.RefreshToken == "" || !fresh.Valid() {
		t.Errorf("refreshed token: new access token %v, refresh token kept %v, valid %v",
			fresh.AccessToken != tok.Token.AccessToken, fresh.RefreshToken != "", fresh.Valid())
	}

	noRefresh := &oauth2.Token{AccessToken: "old", Expiry: time.Now().Add(-time.Minute)}
	if _, err := c.TokenSource(&Tokens{Token: noRefresh}).Token(); err == nil || !strings.Contains(err.Error(), "no refresh token") {
		t.Errorf("expired without refresh token: err = %v", err)
	}
}

// TestPostTransportError checks that a transport failure names the
// endpoint without its query (which may carry a value not meant for logs).
func TestPostTransportError(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	iss := dead.URL + "/op"
	md := &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks"}
	c := newClient(t, md, ClientSecretBasic(apiSecret))
	endpoint := dead.URL + "/op/api/ext?ticket=QUERY-VALUE-123"
	dead.Close() // connection refused from now on

	_, _, err := c.Post(context.Background(), endpoint, url.Values{"login_hint": {"alice"}})
	if err == nil {
		t.Fatal("Post to a closed server succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "client: ext: post "+dead.URL+"/op/api/ext: ") {
		t.Errorf("error = %q, want the method and the URL without query", msg)
	}
	for _, s := range []string{"QUERY-VALUE-123", apiSecret, url.QueryEscape(apiSecret)} {
		if strings.Contains(msg, s) {
			t.Errorf("error %q contains %q", msg, s)
		}
	}
}
