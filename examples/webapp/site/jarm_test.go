package site

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// jarmLogin runs a login of the first test user through the interactive
// login page with a JWT response mode and returns the browser and the
// callback parameters (response alone).
func jarmLogin(t *testing.T, ta *testApp) (*http.Client, url.Values) {
	t.Helper()
	hc := browser(t)
	do(t, hc, http.MethodGet, ta.url+"/", nil) // the home page sets the cookie probe
	resp, _ := do(t, hc, http.MethodPost, ta.url+"/auth/login", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /auth/login = %d, want 303", resp.StatusCode)
	}
	_, page := do(t, hc, http.MethodGet, resp.Header.Get("Location"), nil)
	action, tx := reAction.FindStringSubmatch(page), reTx.FindStringSubmatch(page)
	if action == nil || tx == nil {
		t.Fatalf("no login page:\n%s", page)
	}
	resp, _ = do(t, hc, http.MethodPost, html.UnescapeString(action[1]), url.Values{"tx": {html.UnescapeString(tx[1])}, "sub": {TestUsers()[0].Subject}})
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at the provider = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	params := cb.Query()
	if len(params) != 1 || params.Get("response") == "" {
		t.Fatalf("callback parameters %v, want response alone", params)
	}
	ta.spy.add(params.Get("response"))
	return hc, params
}

// TestTraceShowsJARM: with PAR_RESPONSE_MODE=jwt the login completes and
// the trace shows the JWT-secured response's step with its checks (never
// the JWT or the code inside it); a forged response shows the refusal.
func TestTraceShowsJARM(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, Config{ResponseMode: "jwt"})
	hc, params := jarmLogin(t, ta)
	resp, _ := do(t, hc, http.MethodGet, ta.url+"/auth/callback?"+params.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" {
		t.Fatalf("callback = %d %q, want 303 /me", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := do(t, hc, http.MethodGet, ta.url+"/me", nil)
	var kinds []string
	for _, m := range reKind.FindAllStringSubmatch(page, -1) {
		kinds = append(kinds, m[1])
	}
	got := strings.Replace(strings.Join(kinds, " "), "jwks ", "", 1)
	if want := "discovery push authorize callback jarm token idtoken userinfo"; got != want {
		t.Errorf("timeline steps = %q, want %q", got, want)
	}
	for _, want := range []string{"Open the JWT-secured response (JARM)", "JWS, alg RS256", "<strong>signature</strong>",
		"<strong>iss</strong>", "<strong>aud</strong>", "<strong>exp</strong>", "<strong>state</strong>", "[redacted,"} {
		if !strings.Contains(page, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	if regexp.MustCompile(`class="fail"`).MatchString(page) {
		t.Error("a check failed on the result page")
	}
	assertNoSecrets(t, ta, "result page", page)
	assertNoSecrets(t, ta, "log", ta.logs.String())

	// An unsigned copy of a genuine response: refused, the trace says so.
	hc, params = jarmLogin(t, ta)
	parts := strings.Split(params.Get("response"), ".")
	forged := url.Values{"response": {"eyJhbGciOiJub25lIn0." + parts[1] + "."}}
	resp, page = do(t, hc, http.MethodGet, ta.url+"/auth/callback?"+forged.Encode(), nil)
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("forged response accepted")
	}
	for _, want := range []string{"Open the JWT-secured response (JARM)", "refused before any token request"} {
		if !strings.Contains(page, want) {
			t.Errorf("error page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, parts[1]) {
		t.Error("error page shows the forged JWT's payload")
	}
}

func TestResponseModeConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode string
		ok   bool
	}{{"", true}, {"jwt", true}, {"form_post.jwt", true}, {"fragment", false}, {"JWT", false}} {
		_, err := ConfigFromEnv(func(k string) string {
			if k == "PAR_RESPONSE_MODE" {
				return tt.mode
			}
			return ""
		})
		if tt.ok != (err == nil) {
			t.Errorf("PAR_RESPONSE_MODE %q: %v, want ok=%v", tt.mode, err, tt.ok)
		}
	}
}
