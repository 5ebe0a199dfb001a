package login_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// TestDPoPPerLogin: with DPoPPerLogin each login pushes with a key of its
// own, the flow keeps it through the store (memory, and the cookie store's
// packed cookie), the code is exchanged with it, and the tokens carry it.
func TestDPoPPerLogin(t *testing.T) {
	t.Parallel()
	for _, cookie := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory store", true: "cookie store"}[cookie], func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{cookieStore: cookie,
				partest: func(c *partest.Config) { c.Clients[0].DPoPBound = true; c.DPoPNonce = true },
				login:   func(c *login.Config) { c.DPoPPerLogin = true }})
			for range 2 {
				b := a.browser()
				if r := b.callback(b.authorize(b.start())); r.status != http.StatusOK || r.body != "alice" {
					t.Fatalf("callback = %d %q (%v)", r.status, r.body, a.lastErr())
				}
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.logins) != 2 {
				t.Fatalf("logins = %d, want 2", len(a.logins))
			}
			k1, k2 := a.logins[0].DPoP, a.logins[1].DPoP
			if k1 == nil || k2 == nil || k1.Thumbprint() == k2.Thumbprint() {
				t.Fatalf("tokens' DPoP keys = %v, %v; want one key per login", k1, k2)
			}
			for _, tok := range a.logins {
				if tok.Token.Type() != "DPoP" {
					t.Errorf("token_type = %q, want DPoP", tok.Token.Type())
				}
				// The key works for the tokens: UserInfo proves it.
				if _, err := a.c.UserInfo(t.Context(), tok); err != nil {
					t.Errorf("UserInfo with the login's key: %v", err)
				}
			}
		})
	}
}

// TestStartWith: an app-initiated login (a step-up) starts from a GET
// without Sec-Fetch-Site, adds its options after PushOptions, and still
// meets the start limits.
func TestStartWith(t *testing.T) {
	t.Parallel()
	var pushed []url.Values
	a := newApp(t, appOptions{
		login: func(c *login.Config) {
			c.PushOptions = func(*http.Request) []client.Option { return []client.Option{client.WithParam("acr_values", "urn:low")} }
			c.StartLimits = login.StartLimits{PerClient: login.RateLimit{Rate: 0.001, Burst: 1}}
		},
		client: func(c *client.Config) {
			base := c.HTTPClient.Transport
			c.HTTPClient = &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
				if strings.HasSuffix(r.URL.Path, "/par") {
					_ = r.ParseForm()
					pushed = append(pushed, r.PostForm)
				}
				return base.RoundTrip(r)
			})}
		},
	})
	step := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.h.StartWith(w, r, client.WithParam("acr_values", "urn:high"), client.WithPrompt("login"))
	})
	rec := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, a.web.URL+"/account", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		step.ServeHTTP(w, req)
		return w.Result()
	}
	resp := rec()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), a.srv.Issuer()) {
		t.Fatalf("StartWith from a GET = %d %q, want 302 to the provider", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(pushed) != 1 || pushed[0].Get("acr_values") != "urn:high" || pushed[0].Get("prompt") != "login" {
		t.Errorf("pushed %v, want acr_values urn:high (the step-up's, after PushOptions) and prompt=login", pushed)
	}
	if resp := rec(); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second StartWith over the limit = %d, want 429", resp.StatusCode)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOnLoginFlow: OnLoginFlow replaces OnLogin and gets the flow the
// login completed (its nonce is the ID token's).
func TestOnLoginFlow(t *testing.T) {
	t.Parallel()
	var got *client.Flow
	var gotTok *client.Tokens
	a := newApp(t, appOptions{login: func(c *login.Config) {
		c.DPoPPerLogin = true
		c.OnLoginFlow = func(w http.ResponseWriter, r *http.Request, f *client.Flow, tok *client.Tokens) {
			got, gotTok = f, tok
			w.WriteHeader(http.StatusNoContent)
		}
	}})
	b := a.browser()
	if r := b.callback(b.authorize(b.start())); r.status != http.StatusNoContent {
		t.Fatalf("callback = %d %q (%v)", r.status, r.body, a.lastErr())
	}
	if got == nil || got.Nonce != gotTok.IDToken.Nonce || got.DPoPKey == "" || a.loginCount() != 0 {
		t.Errorf("OnLoginFlow got flow %v (key set: %t), OnLogin calls %d", got, got != nil && got.DPoPKey != "", a.loginCount())
	}
}
