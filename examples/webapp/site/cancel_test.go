package site

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-par/par/partest"
)

// brokerApp runs the app against partest's broker mode (the MitID broker as
// recorded: a cancel comes back without iss) with the interactive identity
// page, in the broker profile.
func brokerApp(t *testing.T) (*testApp, *partest.Server, *http.Client) {
	t.Helper()
	const id, secret = "broker-client", "abc+/def=="
	var op *partest.Server
	ta := newTestAppWith(t, func(base string) (Config, http.RoundTripper) {
		cfg := partest.BrokerConfig(partest.Client{ID: id, Secret: secret, RedirectURIs: []string{base + "/auth/callback"}})
		cfg.Interactive = true
		op = partest.NewServer(cfg)
		t.Cleanup(op.Close)
		return Config{Issuer: op.Issuer(), ClientID: id, ClientSecret: secret, ProfileName: "broker",
			Scopes: []string{"openid", "mitid"}}, op.Client().Transport
	})
	hc := browser(t)
	hc.Transport = op.Client().Transport
	return ta, op, hc
}

// identityPage starts a login and returns the broker's identity page form:
// its action and transaction.
func identityPage(t *testing.T, ta *testApp, hc *http.Client) (action, tx string) {
	t.Helper()
	do(t, hc, http.MethodGet, ta.url+"/", nil)
	resp, _ := do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /auth/login = %d, want 303", resp.StatusCode)
	}
	resp, page := do(t, hc, http.MethodGet, resp.Header.Get("Location"), nil)
	a, x := reAction.FindStringSubmatch(page), reTx.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || a == nil || x == nil || !strings.Contains(page, `name="cancel"`) {
		t.Fatalf("identity page = %d, no form with a Cancel button:\n%s", resp.StatusCode, page)
	}
	return html.UnescapeString(a[1]), html.UnescapeString(x[1])
}

// TestBrokerOutcomePages: a login the MitID broker ends with an error code
// (the Cancel button, or FailNextLogin with a code of each group of the
// broker's catalogue) arrives without iss; the app shows the message of
// the code's group — "You cancelled the login" for a cancel, a generic
// denial for a code outside the catalogue — never the provider's text and
// never a security failure, uses up the flow and sends no token request.
// The code before showed login.Message ("login was cancelled or denied")
// and a failed iss check in the trace.
func TestBrokerOutcomePages(t *testing.T) {
	t.Parallel()
	const phish = "Your account is locked - call 70 12 34 56"
	tests := []struct {
		name          string
		cancel        bool   // press Cancel on the identity page
		code, desc    string // else FailNextLogin(code, desc) and pick a user
		status        int
		title, reason string
	}{
		{"cancel button", true, "", "", http.StatusForbidden, "Login cancelled", "You cancelled the login."},
		{"user aborted", false, "access_denied", "mitid_user_aborted", http.StatusForbidden, "Login cancelled", "You cancelled the login."},
		{"erhverv user aborted", false, "access_denied", "mitid_erhverv_user_aborted", http.StatusForbidden, "Login cancelled", "You cancelled the login."},
		{"cookies", false, "access_denied", "user_is_missing_cookies", http.StatusForbidden, "Login interrupted", "Your browser lost track of the login"},
		{"bad request", false, "access_denied", "invalid_idp_params", http.StatusForbidden, "Login failed", "this service sent an invalid request"},
		{"identity", false, "access_denied", "mitid_cpr_match_failed", http.StatusForbidden, "Login not completed", "did not give an identity this service can accept"},
		{"technical", false, "access_denied", "mitid_timeout", http.StatusForbidden, "Login failed", "had a technical problem"},
		{"login_required", false, "login_required", "user_navigation_error", http.StatusBadRequest, "Login interrupted", "Your browser lost track of the login"},
		{"code outside the catalogue", false, "access_denied", "mitid_new_code_2030", http.StatusForbidden, "Login denied", "The login was denied or did not complete."},
		{"a sentence", false, "access_denied", phish, http.StatusForbidden, "Login denied", "The login was denied or did not complete."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ta, op, hc := brokerApp(t)
			action, tx := identityPage(t, ta, hc)
			form := url.Values{"tx": {tx}, "cancel": {"1"}}
			if !tt.cancel {
				op.FailNextLogin(tt.code, tt.desc)
				form = url.Values{"tx": {tx}, "sub": {partest.BrokerUsers()[0].Subject}}
			}
			resp, _ := do(t, hc, http.MethodPost, action, form)
			cb, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(cb.String(), ta.url+"/auth/callback?") {
				t.Fatalf("identity page answer = %d %q, want 303 to the callback", resp.StatusCode, resp.Header.Get("Location"))
			}
			if q := cb.Query(); q.Has("iss") || q.Get("error") == "" || q.Get("session_state") == "" {
				t.Fatalf("callback query = %v, want the broker's error without iss", q)
			}
			resp, page := do(t, hc, http.MethodGet, cb.String(), nil)
			if resp.StatusCode != tt.status {
				t.Errorf("callback = %d, want %d", resp.StatusCode, tt.status)
			}
			for _, want := range []string{tt.title + " (", tt.reason, `data-kind="callback"`, "absent from an error response"} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q:\n%s", want, page)
				}
			}
			for _, bad := range []string{"invalid login response", "issuer mismatch", "mix-up refused", "✗", "account is locked", "70 12 34 56", "mitid_", "user_navigation_error", "login was cancelled or denied"} {
				if strings.Contains(page, bad) {
					t.Errorf("page shows %q", bad)
				}
			}
			if n := op.Requests(partest.EndpointToken); n != 0 {
				t.Errorf("%d token requests after the provider ended the login", n)
			}
			// The flow is used up: the same callback again is a replay.
			resp, page = do(t, hc, http.MethodGet, cb.String(), nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "this login has expired or was already used") {
				t.Errorf("replayed callback = %d, want 400 expired or already used", resp.StatusCode)
			}
			if logs := ta.logs.String(); !strings.Contains(logs, "outcome=") {
				t.Errorf("the log lacks the outcome")
			}
			assertNoSecrets(t, ta, "error page", page)
		})
	}
}

// TestBrokerLoginShowsName: against the broker mode, whose ID token carries
// no name, the result page shows the name from UserInfo, for MitID
// (mitid.identity_name) and MitID Erhverv (nemlogin.name).
func TestBrokerLoginShowsName(t *testing.T) {
	t.Parallel()
	for _, u := range partest.BrokerUsers() {
		name, _ := u.Claims["mitid.identity_name"].(string)
		if name == "" {
			name, _ = u.Claims["nemlogin.name"].(string)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ta, _, hc := brokerApp(t)
			action, tx := identityPage(t, ta, hc)
			resp, _ := do(t, hc, http.MethodPost, action, url.Values{"tx": {tx}, "sub": {u.Subject}})
			resp, _ = do(t, hc, http.MethodGet, resp.Header.Get("Location"), nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback = %d, want 303", resp.StatusCode)
			}
			resp, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<h1>Logged in as "+html.EscapeString(name)+"</h1>") {
				t.Errorf("GET /me = %d, want the name %q:\n%s", resp.StatusCode, name, page)
			}
		})
	}
}
