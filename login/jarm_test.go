package login_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// unsigned turns a signed response JWT into an alg none forgery with the
// same claims.
func unsigned(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
}

// TestCallbackJARM: a JWT-secured response (response_mode jwt) logs in
// through the handlers, with either store; a forged one is refused before
// the flow is taken (the genuine one then still completes), and a plain
// response to the JARM flow is refused.
func TestCallbackJARM(t *testing.T) {
	t.Parallel()
	for _, cookies := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory store", true: "cookie store"}[cookies], func(t *testing.T) {
			t.Parallel()
			app := newApp(t, appOptions{cookieStore: cookies,
				partest: func(c *partest.Config) { c.Clients[0].AuthorizationSignedResponseAlg = jose.ES256 },
				client:  func(c *client.Config) { c.ResponseMode = "jwt" }})
			b := app.browser()
			params := b.authorize(b.start())
			if len(params) != 1 || params.Get("response") == "" {
				t.Fatalf("callback parameters %v, want response alone", params)
			}

			r := b.callback(url.Values{"response": {unsigned(t, params.Get("response"))}})
			if r.status == http.StatusOK || !errors.Is(app.lastErr(), client.ErrInvalidResponseJWT) {
				t.Fatalf("forged response: %d, %v", r.status, app.lastErr())
			}
			if r := b.callback(params); r.status != http.StatusOK || app.loginCount() != 1 {
				t.Fatalf("genuine response after a forged one: %d %q, %v", r.status, r.body, app.lastErr())
			}

			// A second login answered in the clear: code and state of the
			// flow, but not JWT-secured.
			params = b.authorize(b.start())
			inner, err := app.c.ResponseParams(t.Context(), params)
			if err != nil {
				t.Fatal(err)
			}
			r = b.callback(url.Values{"code": {inner.Get("code")}, "state": {inner.Get("state")}, "iss": {inner.Get("iss")}})
			if r.status == http.StatusOK || !errors.Is(app.lastErr(), client.ErrInvalidResponseJWT) {
				t.Fatalf("plain response to a JARM flow: %d, %v", r.status, app.lastErr())
			}
			if n := app.srv.Requests(partest.EndpointToken); n != 1 {
				t.Errorf("%d token requests, want 1 (the genuine login)", n)
			}
		})
	}
}
