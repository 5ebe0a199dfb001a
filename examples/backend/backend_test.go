package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

type testService struct {
	url string
	svc *service
}

// newTestService starts the service on an httptest server with getenv.
func newTestService(t *testing.T, env map[string]string) *testService {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	getenv := func(k string) string { return env[k] }
	svc, closeFn, err := setup(context.Background(), getenv, ts.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	t.Cleanup(closeFn)
	ts.Config.Handler = svc.handler()
	return &testService{url: ts.URL, svc: svc}
}

func call(t *testing.T, method, u string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, u, err, b)
		}
	}
	return resp.StatusCode
}

func TestPARLoginEndToEnd(t *testing.T) {
	t.Parallel()
	// A provider of the test's own, so that the test can play the user with
	// partest's Login.
	var redirect string
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	redirect = ts.URL + "/callback"
	op := partest.NewServer(partest.Config{IssuerPath: "/op", RequestURILifetime: 600 * time.Second,
		Clients: []partest.Client{{ID: "svc", Secret: "a+b/c=", RedirectURIs: []string{redirect}}}})
	t.Cleanup(op.Close)
	env := map[string]string{"PAR_ISSUER": op.Issuer(), "PAR_CLIENT_ID": "svc", "PAR_CLIENT_SECRET": "a+b/c=", "PAR_SCOPES": "openid profile"}
	svc, closeFn, err := setup(context.Background(), func(k string) string { return env[k] }, ts.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	ts.Config.Handler = svc.handler()

	var started loginView
	if code := call(t, http.MethodPost, ts.URL+"/logins", &started); code != http.StatusCreated {
		t.Fatalf("POST /logins = %d", code)
	}
	u, err := url.Parse(started.AuthorizationURL)
	if err != nil || len(u.Query()) != 2 || u.Query().Get("request_uri") == "" {
		t.Fatalf("authorization_url = %q, want client_id and request_uri only", started.AuthorizationURL)
	}
	if started.Status != statusPending || time.Until(started.ExpiresAt) < 590*time.Second {
		t.Errorf("started = %+v, want pending, expiring in 600 s", started)
	}
	var st loginView
	if call(t, http.MethodGet, ts.URL+"/logins/"+started.ID, &st); st.Status != statusPending {
		t.Errorf("status before the callback = %q, want pending", st.Status)
	}

	params, err := op.Login(started.AuthorizationURL)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	resp, err := http.Get(redirect + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "logged in") {
		t.Fatalf("callback = %d %s", resp.StatusCode, body)
	}
	if call(t, http.MethodGet, ts.URL+"/logins/"+started.ID, &st); st.Status != statusDone || st.Subject != "alice" {
		t.Errorf("status after the callback = %+v, want done for alice", st)
	}

	// The callback is single-use.
	resp, err = http.Get(redirect + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback = %d, want 400", resp.StatusCode)
	}
	if call(t, http.MethodGet, ts.URL+"/logins/"+started.ID, &st); st.Status != statusDone {
		t.Errorf("a replay changed the status to %q", st.Status)
	}
}

func TestPARLoginFailures(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	op := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "svc", Secret: "s", RedirectURIs: []string{ts.URL + "/callback"}}}})
	t.Cleanup(op.Close)
	env := map[string]string{"PAR_ISSUER": op.Issuer(), "PAR_CLIENT_ID": "svc", "PAR_CLIENT_SECRET": "s"}
	svc, closeFn, err := setup(context.Background(), func(k string) string { return env[k] }, ts.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	ts.Config.Handler = svc.handler()

	tests := []struct {
		name    string
		params  func(url.Values) url.Values
		fault   *partest.Fault
		wantErr string
	}{
		{"access denied", func(v url.Values) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {v.Get("state")}, "iss": {v.Get("iss")}}
		}, nil, "access_denied"},
		{"token error", nil, &partest.Fault{Status: 400, Body: `{"error":"invalid_grant"}`, Times: 1}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var started loginView
			call(t, http.MethodPost, ts.URL+"/logins", &started)
			params, err := op.Login(started.AuthorizationURL)
			if err != nil {
				t.Fatal(err)
			}
			if tt.params != nil {
				params = tt.params(params)
			}
			if tt.fault != nil {
				op.SetFault(partest.EndpointToken, *tt.fault)
			}
			resp, err := http.Get(ts.URL + "/callback?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var st loginView
			if call(t, http.MethodGet, ts.URL+"/logins/"+started.ID, &st); st.Status != statusFailed || st.Error != tt.wantErr {
				t.Errorf("status = %+v, want failed with %q", st, tt.wantErr)
			}
		})
	}
	if code := call(t, http.MethodGet, ts.URL+"/logins/nope", nil); code != http.StatusNotFound {
		t.Errorf("GET unknown login = %d, want 404", code)
	}
	var e map[string]string
	if code := call(t, http.MethodPost, ts.URL+"/ciba-logins", &e); code != http.StatusNotImplemented {
		t.Errorf("POST /ciba-logins without CIBA = %d, want 501", code)
	}
}

func TestEmbeddedProvider(t *testing.T) {
	t.Parallel()
	ts := newTestService(t, nil)
	if ts.svc.embedded == nil {
		t.Fatal("no embedded provider without PAR_ISSUER")
	}
	var started loginView
	if code := call(t, http.MethodPost, ts.url+"/logins", &started); code != http.StatusCreated {
		t.Fatalf("POST /logins = %d", code)
	}
	params, err := ts.svc.embedded.Login(started.AuthorizationURL)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	resp, err := http.Post(ts.url+"/callback", "application/x-www-form-urlencoded", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var st loginView
	if call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st); resp.StatusCode != http.StatusOK || st.Status != statusDone || st.Subject != "alice" {
		t.Errorf("form_post callback = %d, status %+v; want done for alice", resp.StatusCode, st)
	}
}

// brokerEmulation is an in-process stand-in for the MitID broker's CIBA→PAR
// bridge, built on partest: partest serves discovery, PAR, authorize, token
// and keys; the emulation adds the backchannel authentication endpoint, the
// init-auth bridge (which pushes to partest as the client, as the broker
// does) and the CIBA grant at the token endpoint. It follows the broker's
// documentation (ciba-par-oidc-integration.md), not the real broker.
type brokerEmulation struct {
	ts       *httptest.Server
	op       *partest.Server
	clientID string
	secret   string

	mu   sync.Mutex
	reqs map[string]*cibaRequest // by auth_req_id
	byST map[string]string       // state → auth_req_id
}

type cibaRequest struct {
	verifier string
	done     []byte // token response, once the user has logged in
	served   bool
}

func newBrokerEmulation(t *testing.T, clientID, secret string) *brokerEmulation {
	t.Helper()
	b := &brokerEmulation{clientID: clientID, secret: secret, reqs: map[string]*cibaRequest{}, byST: map[string]string{}}
	b.ts = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.ts.Close)
	b.op = partest.NewUnstartedServer(partest.Config{
		URL: b.ts.URL, IssuerPath: "/op", RequestURILifetime: 600 * time.Second,
		Clients: []partest.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{b.ts.URL + "/op/ciba-landing"}}},
	})
	return b
}

func (b *brokerEmulation) issuer() string { return b.ts.URL + "/op" }

func (b *brokerEmulation) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/op/.well-known/openid-configuration":
		md := b.op.Metadata()
		md["backchannel_authentication_endpoint"] = b.issuer() + "/connect/ciba"
		md["backchannel_token_delivery_modes_supported"] = []string{"poll"}
		writeJSON(w, http.StatusOK, md)
		return
	case "/op/connect/ciba":
		if !b.authenticated(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		var hint map[string]any
		if err := json.Unmarshal([]byte(r.PostForm.Get("login_hint_token")), &hint); err != nil || hint["flow_type"] != "broker_oidc" ||
			r.PostForm.Get("grant_type") != "urn:openid:params:grant-type:ciba" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		id := randomString()
		b.mu.Lock()
		b.reqs[id] = &cibaRequest{}
		b.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"auth_req_id": id, "expires_in": 120, "interval": 1})
		return
	case "/op/api/ciba/broker-oidc/init-auth":
		if !b.authenticated(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		b.initAuth(w, r)
		return
	case "/op/ciba-landing":
		b.landing(w, r)
		return
	case "/op/connect/token":
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if form.Get("grant_type") == "urn:openid:params:grant-type:ciba" {
			if !b.authenticatedHeader(r) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
				return
			}
			b.mu.Lock()
			req := b.reqs[form.Get("auth_req_id")]
			var resp []byte
			code := "authorization_pending"
			switch {
			case req == nil || req.served:
				code = "invalid_grant"
			case req.done != nil:
				resp, req.served = req.done, true
			}
			b.mu.Unlock()
			if resp != nil {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(resp)
				return
			}
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	b.op.ServeHTTP(w, r)
}

func (b *brokerEmulation) authenticatedHeader(r *http.Request) bool {
	id, pw, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	pw, _ = url.QueryUnescape(pw)
	return ok && id == b.clientID && pw == b.secret
}

func (b *brokerEmulation) authenticated(r *http.Request) bool {
	return r.ParseForm() == nil && b.authenticatedHeader(r)
}

// initAuth pushes the authorization request to partest as the client, the
// way the broker's bridge does, and returns the authentication URI.
func (b *brokerEmulation) initAuth(w http.ResponseWriter, r *http.Request) {
	id := r.PostForm.Get("requestId")
	b.mu.Lock()
	req := b.reqs[id]
	b.mu.Unlock()
	if req == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	verifier := randomString() + randomString()
	sum := sha256.Sum256([]byte(verifier))
	state := randomString()
	form := url.Values{
		"client_id": {b.clientID}, "response_type": {"code"}, "scope": {"openid"}, "state": {state}, "nonce": {randomString()},
		"redirect_uri": {b.ts.URL + "/op/ciba-landing"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
	}
	preq, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, b.issuer()+"/connect/par", strings.NewReader(form.Encode()))
	preq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	preq.SetBasicAuth(url.QueryEscape(b.clientID), url.QueryEscape(b.secret))
	resp, err := b.ts.Client().Do(preq)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "server_error"})
		return
	}
	defer resp.Body.Close()
	var par struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&par) != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "server_error"})
		return
	}
	b.mu.Lock()
	req.verifier = verifier
	b.byST[state] = id
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"request_uri": par.RequestURI, "expires_in": par.ExpiresIn,
		"authentication_uri": b.issuer() + "/connect/authorize?client_id=" + url.QueryEscape(b.clientID) + "&request_uri=" + url.QueryEscape(par.RequestURI),
	})
}

// landing is the broker's own redirect URI: it exchanges the code and keeps
// the tokens for the CIBA poll.
func (b *brokerEmulation) landing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b.mu.Lock()
	id := b.byST[q.Get("state")]
	req := b.reqs[id]
	b.mu.Unlock()
	if req == nil || q.Get("code") == "" {
		http.Error(w, "unknown login", http.StatusBadRequest)
		return
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "code_verifier": {req.verifier},
		"redirect_uri": {b.ts.URL + "/op/ciba-landing"}}
	treq, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, b.issuer()+"/connect/token", strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(url.QueryEscape(b.clientID), url.QueryEscape(b.secret))
	resp, err := b.ts.Client().Do(treq)
	if err != nil {
		http.Error(w, "token exchange failed", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		http.Error(w, "token exchange failed", http.StatusBadGateway)
		return
	}
	b.mu.Lock()
	req.done = body
	b.mu.Unlock()
	_, _ = io.WriteString(w, "MitID login complete")
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestCIBAToPARLogin(t *testing.T) {
	t.Parallel()
	broker := newBrokerEmulation(t, "ciba-client", "ciba+secret/x=")
	env := map[string]string{"PAR_ISSUER": broker.issuer(), "PAR_CLIENT_ID": "ciba-client", "PAR_CLIENT_SECRET": "ciba+secret/x="}
	ts := newTestService(t, env)
	if ts.svc.ciba == nil {
		t.Fatal("service has no CIBA although the metadata advertises it")
	}
	var started loginView
	if code := call(t, http.MethodPost, ts.url+"/ciba-logins", &started); code != http.StatusCreated {
		t.Fatalf("POST /ciba-logins = %d", code)
	}
	u, err := url.Parse(started.AuthorizationURL)
	if err != nil || len(u.Query()) != 2 || !strings.HasPrefix(started.AuthorizationURL, broker.issuer()+"/connect/authorize?") {
		t.Fatalf("authorization_url = %q", started.AuthorizationURL)
	}
	var st loginView
	if call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st); st.Status != statusPending || st.Kind != "ciba" {
		t.Errorf("status before login = %+v, want a pending ciba login", st)
	}
	// The user opens the URL and logs in; the broker's landing page gets
	// the code.
	// partest's Login needs a server it started itself (Server.Client is
	// nil on a mounted one), so the test plays the headless user: the
	// non-interactive authorize endpoint redirects straight to the landing.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(started.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	landing := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(landing, broker.ts.URL+"/op/ciba-landing?") {
		t.Fatalf("authorize = %d %q, want a redirect to the broker's landing page", resp.StatusCode, landing)
	}
	resp, err = http.Get(landing)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("landing = %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st)
		if st.Status != statusPending {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Status != statusDone || st.Subject != "alice" {
		t.Errorf("CIBA login = %+v, want done for alice", st)
	}
}
