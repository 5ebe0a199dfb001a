package login_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// TestCallbackCancelWithoutIss: a user who cancels at the MitID broker is
// sent back with error, error_description, state and session_state and no
// iss (broker-recorded.md), although the provider advertises RFC 9207. The
// handler answers with the cancel/denial page (403), never as a security
// failure; the flow is used up and no token request is sent. In every
// profile.
func TestCallbackCancelWithoutIss(t *testing.T) {
	t.Parallel()
	for _, profile := range []client.Profile{client.ProfileDefault, client.ProfileBroker} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{
				client: func(c *client.Config) { c.Profile = profile },
				login: func(c *login.Config) {
					c.PushOptions = func(r *http.Request) []oauth2.AuthCodeOption {
						return []oauth2.AuthCodeOption{client.WithParam("state", r.URL.Query().Get("state"))}
					}
				},
			})
			if !a.c.Metadata().AuthorizationResponseISSParameterSupported {
				t.Fatal("setup: the provider must advertise iss")
			}
			b := a.browser()
			state := "cancel-" + strings.Repeat("x", 20)
			if r := b.do(http.MethodPost, "/login?state="+state, sameOrigin, url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("start = %d", r.status)
			}
			cancel := url.Values{"error": {"access_denied"}, "error_description": {"mitid_user_aborted"},
				"state": {state}, "session_state": {"Yj3Vd1nY-2Q.6F4A1C1E0B2D3F4A5B6C7D8E9F0A1B2C"}}
			r := b.callback(cancel)
			var ae *client.AuthorizationError
			if !errors.As(a.lastErr(), &ae) || ae.Code != "access_denied" || ae.Description != "mitid_user_aborted" {
				t.Fatalf("error = %v, want *client.AuthorizationError access_denied", a.lastErr())
			}
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "cancelled or denied") ||
				strings.Contains(r.body, "mitid_user_aborted") || strings.Contains(r.body, "invalid login response") {
				t.Errorf("page = %d %q, want 403, the cancel message, no provider text", r.status, r.body)
			}
			if n := a.srv.Requests(partest.EndpointToken); n != 0 {
				t.Errorf("token requests = %d, want 0", n)
			}
			// The flow is used up: the same callback again finds nothing.
			if r := b.callback(cancel); r.status != http.StatusBadRequest || !errors.Is(a.lastErr(), login.ErrFlowNotFound) {
				t.Errorf("replayed cancel = %d, %v; want 400 ErrFlowNotFound", r.status, a.lastErr())
			}
		})
	}
}
