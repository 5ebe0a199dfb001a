package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/login"
)

// offlineClient is a client of a provider at issuer, built from metadata
// without network.
func offlineClient(t *testing.T, issuer, redirectURL, responseMode string) *client.Client {
	t.Helper()
	md := &discovery.Metadata{
		Issuer:                             issuer,
		AuthorizationEndpoint:              issuer + "/authorize",
		PushedAuthorizationRequestEndpoint: issuer + "/par",
		TokenEndpoint:                      issuer + "/token",
		JWKSURI:                            issuer + "/jwks",
	}
	c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: redirectURL, ResponseMode: responseMode})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cookieStore(t *testing.T, sameSite http.SameSite) *login.CookieStore {
	t.Helper()
	st, err := login.NewCookieStore(login.CookieConfig{Keys: [][]byte{newKey()}, SameSite: sameSite})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestNewRefusesFormPostWithoutSameSiteNone: with a form-post response
// mode the provider's page POSTs the callback cross-site, and browsers
// send no Lax or Strict cookie with it: every login would fail with "flow
// not found". New refuses such cookies, naming the field, when the
// provider is certainly on another site. The code before this check
// accepted all of these.
func TestNewRefusesFormPostWithoutSameSiteNone(t *testing.T) {
	t.Parallel()
	const (
		broker = "https://pp.netseidbroker.dk/op"
		app    = "https://app.example/callback"
	)
	tests := []struct {
		name     string
		issuer   string
		redirect string
		mode     string
		store    func(t *testing.T) login.Store
		cookie   login.CookieConfig
		want     string // "" for accepted
	}{
		{name: "form_post, CookieStore Lax", mode: "form_post",
			store: func(t *testing.T) login.Store { return cookieStore(t, 0) }, want: "Store: the CookieStore's cookies are SameSite=Lax"},
		{name: "form_post.jwt (JARM), CookieStore Lax", mode: "form_post.jwt",
			store: func(t *testing.T) login.Store { return cookieStore(t, http.SameSiteLaxMode) }, want: "Store: the CookieStore's cookies are SameSite=Lax"},
		{name: "form_post, CookieStore Strict", mode: "form_post",
			store: func(t *testing.T) login.Store { return cookieStore(t, http.SameSiteStrictMode) }, want: "SameSite=Strict"},
		{name: "form_post, CookieStore None", mode: "form_post",
			store: func(t *testing.T) login.Store { return cookieStore(t, http.SameSiteNoneMode) }},
		{name: "query, CookieStore Lax", mode: "",
			store: func(t *testing.T) login.Store { return cookieStore(t, 0) }},
		{name: "query.jwt, CookieStore Lax", mode: "query.jwt",
			store: func(t *testing.T) login.Store { return cookieStore(t, 0) }},
		{name: "form_post, CookieStore Lax, provider on the same site", mode: "form_post",
			issuer: "https://login.example.com", redirect: "https://app.example.com/callback",
			store: func(t *testing.T) login.Store { return cookieStore(t, 0) }},
		{name: "form_post, binding cookie Lax", mode: "form_post",
			cookie: login.CookieConfig{SameSite: http.SameSiteLaxMode}, want: "Cookie.SameSite: the binding cookie is SameSite=Lax"},
		{name: "form_post.jwt, binding cookie insecure", mode: "form_post.jwt",
			cookie: login.CookieConfig{InsecureCookie: true}, want: "Cookie.InsecureCookie"},
		{name: "form_post, binding cookie default", mode: "form_post"},
		{name: "form_post, insecure binding cookie, provider on the same loopback host", mode: "form_post",
			issuer: "http://127.0.0.1:9000/op", redirect: "http://127.0.0.1:8080/callback",
			cookie: login.CookieConfig{InsecureCookie: true}},
		{name: "form_post, insecure binding cookie, localhost and 127.0.0.1", mode: "form_post",
			issuer: "http://127.0.0.1:9000/op", redirect: "http://localhost:8080/callback",
			cookie: login.CookieConfig{InsecureCookie: true}, want: "Cookie.InsecureCookie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			issuer, redirect := tt.issuer, tt.redirect
			if issuer == "" {
				issuer, redirect = broker, app
			}
			cfg := login.Config{Client: offlineClient(t, issuer, redirect, tt.mode), Cookie: tt.cookie}
			if tt.store != nil {
				cfg.Store = tt.store(t)
			}
			_, err := login.New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New = %v, want it accepted", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "login: config: ")):
				t.Errorf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestIsFormPostMode(t *testing.T) {
	t.Parallel()
	for mode, want := range map[string]bool{
		"form_post": true, "form_post.jwt": true, "jwt.form_post": true,
		"": false, "query": false, "fragment": false, "query.jwt": false, "fragment.jwt": false, "jwt": false,
	} {
		if got := login.IsFormPostMode(mode); got != want {
			t.Errorf("IsFormPostMode(%q) = %t, want %t", mode, got, want)
		}
	}
}

// TestNewRefusesUnreachableCallbackPath: the Handler serves CallbackPath
// (ServeHTTP) or prefix+CallbackPath (Mux); a redirect URI whose path does
// not end with it 404s on every callback. The code before this check
// accepted it.
func TestNewRefusesUnreachableCallbackPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		redirect, callbackPath string
		ok                     bool
	}{
		{"https://app.example/callback", "", true},
		{"https://app.example/auth/callback", "", true},               // Mux("/auth")
		{"https://app.example/auth/callback", "/auth/callback", true}, // ServeHTTP, or Callback mounted there
		{"https://app.example/auth/return", "/return", true},
		{"https://app.example/auth/return", "", false},
		{"https://app.example/auth/callback", "/cb", false},
		{"https://app.example/auth/callback/", "/auth/callback", false},
		{"https://app.example/xcallback", "/callback", false},
		{"https://app.example", "", false},
	}
	for _, tt := range tests {
		c := offlineClient(t, "https://idp.example", tt.redirect, "")
		_, err := login.New(login.Config{Client: c, CallbackPath: tt.callbackPath})
		if tt.ok && err != nil {
			t.Errorf("redirect %s, CallbackPath %q: New = %v, want it accepted", tt.redirect, tt.callbackPath, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "login: config: CallbackPath")) {
			t.Errorf("redirect %s, CallbackPath %q: New = %v, want an error naming CallbackPath", tt.redirect, tt.callbackPath, err)
		}
	}
}

// TestFlowNotFoundHintsAtReplicas: a flow missing from a MemoryStore may
// have been saved by another instance; the error says so, and stays
// ErrFlowNotFound.
func TestFlowNotFoundHintsAtReplicas(t *testing.T) {
	t.Parallel()
	st := login.NewMemoryStore(login.MemoryOptions{})
	_, err := st.Take(context.Background(), nil, nil, "unknown-state")
	if !errors.Is(err, login.ErrFlowNotFound) {
		t.Fatalf("Take = %v, want ErrFlowNotFound", err)
	}
	for _, want := range []string{"flow not found", "another instance's MemoryStore", "shared Store"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Take error %q lacks %q", err, want)
		}
	}
	// The user-facing page stays short.
	w := httptest.NewRecorder()
	login.DefaultOnError(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &login.Error{Op: login.OpCallback, Err: err})
	if body := w.Body.String(); strings.Contains(body, "MemoryStore") || w.Code != http.StatusBadRequest {
		t.Errorf("error page = %d %q", w.Code, body)
	}
	// An expired flow says the same.
	now := time.Now()
	st = login.NewMemoryStore(login.MemoryOptions{Now: func() time.Time { return now }})
	if err := st.Save(context.Background(), nil, nil, &client.Flow{State: "s"}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := st.Take(context.Background(), nil, nil, "s"); !errors.Is(err, login.ErrFlowNotFound) || !strings.Contains(err.Error(), "MemoryStore") {
		t.Errorf("Take of an expired flow = %v", err)
	}
}
