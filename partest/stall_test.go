package partest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

// TestDelayEndsWhenClientGivesUp: a stalled POST endpoint stops waiting as
// soon as the client times out, so Close does not wait for the Delay.
func TestDelayEndsWhenClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{partest.EndpointPAR, partest.EndpointToken, partest.EndpointDiscovery} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			srv := partest.NewServer(partest.Config{Faults: map[string]partest.Fault{endpoint: {Delay: time.Minute}}})
			target := map[string]string{
				partest.EndpointPAR:       srv.Metadata()["pushed_authorization_request_endpoint"].(string),
				partest.EndpointToken:     srv.Metadata()["token_endpoint"].(string),
				partest.EndpointDiscovery: srv.Issuer() + "/.well-known/openid-configuration",
			}[endpoint]
			hc := &http.Client{Timeout: 100 * time.Millisecond}
			ctx := context.Background()
			var req *http.Request
			if endpoint == partest.EndpointDiscovery {
				req, _ = http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			} else {
				req, _ = http.NewRequestWithContext(ctx, http.MethodPost, target,
					strings.NewReader(url.Values{"client_id": {"app"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("stalled %s answered %d", endpoint, resp.StatusCode)
			}
			start := time.Now()
			srv.Close()
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Close took %v: the stalled handler kept running", d)
			}
		})
	}
}
