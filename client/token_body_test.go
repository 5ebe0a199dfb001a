package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestExchangeMalformedTokenBody: a 2xx token response that is not a
// usable JSON token response is ErrInvalidResponse (RFC 6749 §5.1), and a
// body over 1 MiB is refused rather than cut.
func TestExchangeMalformedTokenBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault partest.Fault
	}{
		{"html page", partest.Fault{Status: http.StatusOK, ContentType: "text/html", Body: "<html><body>hi</body></html>"}},
		{"truncated json", partest.Fault{TruncateBody: true}},
		{"oversized json", partest.Fault{OversizeBody: true}},
		{"no access_token", partest.Fault{Status: http.StatusOK, Body: `{"token_type":"Bearer"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t)
			c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)})
			srv.SetFault(partest.EndpointToken, tt.fault)
			tok, err := c.Exchange(context.Background(), flow, params)
			if tok != nil || !errors.Is(err, client.ErrInvalidResponse) {
				t.Fatalf("Exchange() = %v, %v; want ErrInvalidResponse", tok, err)
			}
			var re *client.ResponseError
			if errors.As(err, &re) {
				t.Errorf("got a *ResponseError for a 2xx answer: %v", re)
			}
		})
	}
}
