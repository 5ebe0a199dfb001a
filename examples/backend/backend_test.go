package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
	// A link checker or prefetcher sends HEAD first: it must neither redeem
	// the code nor end the login.
	resp, err := http.Head(redirect + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("HEAD callback = %d, Allow %q; want 405, GET, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if call(t, http.MethodGet, ts.URL+"/logins/"+started.ID, &st); st.Status != statusPending {
		t.Errorf("status after a HEAD callback = %+v, want pending", st)
	}
	resp, err = http.Get(redirect + "?" + params.Encode())
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
		// Provider-written text never reaches the API or the page.
		{"sentence as the code", func(v url.Values) url.Values {
			return url.Values{"error": {"Your account is locked, call +45 1234"}, "error_description": {"visit evil.example"},
				"state": {v.Get("state")}, "iss": {v.Get("iss")}}
		}, nil, "provider_error"},
		{"token error with a description", nil, &partest.Fault{Status: 400,
			Body: `{"error":"invalid_grant","error_description":"visit evil.example"}`, Times: 1}, "invalid_grant"},
		{"id token failure", nil, &partest.Fault{IDToken: func(c map[string]any) { c["aud"] = "other" }, Times: 1}, "login_failed"},
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
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(page), "evil.example") || strings.Contains(string(page), "locked") {
				t.Errorf("callback page shows provider text: %s", page)
			}
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
	want := ts.svc.embedded.Config.Users[0].Subject
	var st loginView
	if call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st); resp.StatusCode != http.StatusOK || st.Status != statusDone || st.Subject != want {
		t.Errorf("form_post callback = %d, status %+v; want done for %s", resp.StatusCode, st, want)
	}
	// The embedded broker has CIBA too.
	if code := call(t, http.MethodPost, ts.url+"/ciba-logins", &started); code != http.StatusCreated || started.Kind != "ciba" {
		t.Errorf("POST /ciba-logins on the embedded provider = %d %+v", code, started)
	}
}

// TestCIBAToPARLogin runs the CIBA→PAR variant against partest's MitID
// broker emulation (partest.BrokerConfig: CIBA in poll mode with the
// init-auth bridge), which follows the broker's documentation, not the real
// broker.
func TestCIBAToPARLogin(t *testing.T) {
	t.Parallel()
	const secret = "ciba+secret/x="
	cfg := partest.BrokerConfig(partest.Client{ID: "ciba-client", Secret: secret})
	cfg.CIBAInterval = time.Second
	broker := partest.NewServer(cfg)
	t.Cleanup(broker.Close)
	env := map[string]string{"PAR_ISSUER": broker.Issuer(), "PAR_CLIENT_ID": "ciba-client", "PAR_CLIENT_SECRET": secret,
		"PAR_PROFILE": "broker", "PAR_SCOPES": "openid mitid"}
	ts := newTestService(t, env)
	if ts.svc.ciba == nil {
		t.Fatal("service has no CIBA although the metadata advertises it")
	}
	var started loginView
	if code := call(t, http.MethodPost, ts.url+"/ciba-logins", &started); code != http.StatusCreated {
		t.Fatalf("POST /ciba-logins = %d", code)
	}
	u, err := url.Parse(started.AuthorizationURL)
	if err != nil || len(u.Query()) != 2 || u.Query().Get("client_id") != "ciba-client" || !strings.HasPrefix(started.AuthorizationURL, broker.Issuer()+"/connect/authorize?") {
		t.Fatalf("authorization_url = %q, want the broker's authorize endpoint with client_id and request_uri", started.AuthorizationURL)
	}
	var st loginView
	if call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st); st.Status != statusPending || st.Kind != "ciba" {
		t.Errorf("status before login = %+v, want a pending ciba login", st)
	}
	// The user opens the URL on any device and logs in; the broker shows its
	// own "you may close this window" page.
	if _, err := broker.Login(started.AuthorizationURL); err != nil {
		t.Fatalf("Login: %v", err)
	}
	want := broker.Config.Users[0].Subject
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st)
		if st.Status != statusPending {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Status != statusDone || st.Subject != want {
		t.Errorf("CIBA login = %+v, want done for %s", st, want)
	}
}

func TestCIBAToPARDenied(t *testing.T) {
	t.Parallel()
	cfg := partest.BrokerConfig(partest.Client{ID: "ciba-client", Secret: "s+/="})
	cfg.CIBAInterval = time.Second
	broker := partest.NewServer(cfg)
	t.Cleanup(broker.Close)
	ts := newTestService(t, map[string]string{"PAR_ISSUER": broker.Issuer(), "PAR_CLIENT_ID": "ciba-client", "PAR_CLIENT_SECRET": "s+/="})
	var started loginView
	if code := call(t, http.MethodPost, ts.url+"/ciba-logins", &started); code != http.StatusCreated {
		t.Fatalf("POST /ciba-logins = %d", code)
	}
	ts.svc.mu.Lock()
	authReqID := ts.svc.logins[started.ID].authReq.ID
	ts.svc.mu.Unlock()
	if err := broker.DenyCIBA(authReqID); err != nil {
		t.Fatal(err)
	}
	var st loginView
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		call(t, http.MethodGet, ts.url+"/logins/"+started.ID, &st)
		if st.Status != statusPending {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Status != statusFailed || st.Error != "access_denied" {
		t.Errorf("denied CIBA login = %+v, want failed with access_denied", st)
	}
}
