package login_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/go-par/par/login"
)

// TestStatusCodeTimeout: a provider that does not answer in time is a
// 504 Gateway Timeout, whether the timeout arrives as a context deadline or
// as http.Client.Timeout's net.Error.
func TestStatusCodeTimeout(t *testing.T) {
	t.Parallel()
	tests := map[string]error{
		"context deadline": fmt.Errorf("client: token: %w", context.DeadlineExceeded),
		"client timeout": fmt.Errorf("client: token: %w", &url.Error{Op: "Post", URL: "https://op.example/token",
			Err: os.ErrDeadlineExceeded}),
	}
	for name, cause := range tests {
		err := &login.Error{Op: login.OpExchange, Err: cause}
		if got := login.StatusCode(err); got != http.StatusGatewayTimeout {
			t.Errorf("%s: StatusCode = %d, want 504", name, got)
		}
	}
}
