package login_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// TestLoginWithoutPAR runs a whole login through the Handler, unchanged,
// against a provider without PAR (client.Config.InsecureFrontChannel): the
// redirect carries the whole request, the flow in either store holds what
// the callback needs, and the callback completes as with PAR. It also
// runs with response_mode form_post.
func TestLoginWithoutPAR(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		for _, formPost := range []bool{false, true} {
			name := st.name
			if formPost {
				name += " form_post"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				a := newApp(t, appOptions{
					cookieStore: st.cookie,
					partest:     func(pc *partest.Config) { pc.NoPAR = true },
					client: func(c *client.Config) {
						c.InsecureFrontChannel = true
						if formPost {
							c.ResponseMode = "form_post"
						}
					},
					login: func(c *login.Config) {
						c.PushOptions = func(*http.Request) []client.Option { return []client.Option{client.WithPrompt("login")} }
					},
				})
				b := a.browser()
				authURL := b.start()
				u, err := url.Parse(authURL)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				for _, p := range []string{"client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "prompt"} {
					if q.Get(p) == "" {
						t.Errorf("authorization URL lacks %s: %s", p, authURL)
					}
				}
				if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Has("request_uri") {
					t.Errorf("authorization URL %s", authURL)
				}
				params := b.authorize(authURL)
				var r response
				if formPost {
					r = b.do(http.MethodPost, "/callback", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"null"}}, params)
				} else {
					r = b.callback(params)
				}
				if r.status != http.StatusOK || r.body != "alice" {
					t.Fatalf("callback = %d %q (err %v), want 200 alice", r.status, r.body, a.lastErr())
				}
				if tok := a.logins[0]; tok.IDToken.Nonce != q.Get("nonce") {
					t.Errorf("ID token nonce %q, want the URL's %q", tok.IDToken.Nonce, q.Get("nonce"))
				}
				if n := a.srv.Requests(partest.EndpointPAR); n != 0 {
					t.Errorf("PAR requests = %d, want none", n)
				}
				if n := a.srv.Requests(partest.EndpointToken); n != 1 {
					t.Errorf("token requests = %d, want 1", n)
				}
				// The flow is single-use, as with PAR.
				r = b.callback(params)
				if r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), login.ErrFlowNotFound) {
					t.Errorf("replayed callback = %d, %v; want 400 ErrFlowNotFound", r.status, a.lastErr())
				}
			})
		}
	}
}
