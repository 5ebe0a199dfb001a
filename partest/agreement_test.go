package partest

// Tests for the fixes found by interop's agreement test: each pins one
// answer partest now gives the way node-oidc-provider 9.13 gives it.

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// TestAuthorizeClientIDErrors: a missing client_id is a missing required
// parameter (invalid_request, RFC 6749 §4.1.2.1); an unknown one stays
// invalid_client. Both are shown on the error page.
func TestAuthorizeClientIDErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	tests := []struct {
		name, clientID, code string
	}{
		{"missing", "", "invalid_request"},
		{"unknown", "nobody", "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			uri := push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
			q := url.Values{"request_uri": {uri}}
			if tt.clientID != "" {
				q.Set("client_id", tt.clientID)
			}
			_, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + q.Encode())
			var ae *AuthorizeError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.Code != tt.code {
				t.Fatalf("Login: %v, want an error page 400 %s", err, tt.code)
			}
		})
	}
}
