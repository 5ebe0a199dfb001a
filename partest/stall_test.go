package partest_test

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

// TestDelayEndsWhenClientGivesUp: a stalled endpoint stops waiting as soon
// as the client hangs up, also for a POST whose body the fault never needed,
// so Close does not wait for the Delay.
func TestDelayEndsWhenClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{partest.EndpointPAR, partest.EndpointToken, partest.EndpointDiscovery} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			srv := partest.NewServer(partest.Config{Faults: map[string]partest.Fault{endpoint: {Delay: time.Minute}}})
			target, err := url.Parse(map[string]string{
				partest.EndpointPAR:       srv.Metadata()["pushed_authorization_request_endpoint"].(string),
				partest.EndpointToken:     srv.Metadata()["token_endpoint"].(string),
				partest.EndpointDiscovery: srv.Issuer() + "/.well-known/openid-configuration",
			}[endpoint])
			if err != nil {
				t.Fatal(err)
			}
			// A raw HTTP/1.1 client that sends the request and hangs up.
			conn, err := net.Dial("tcp", target.Host)
			if err != nil {
				t.Fatal(err)
			}
			if endpoint == partest.EndpointDiscovery {
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target.Path, target.Host)
			} else {
				body := url.Values{"client_id": {"app"}, "state": {strings.Repeat("s", 100)}}.Encode()
				fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
					target.Path, target.Host, len(body), body)
			}
			for deadline := time.Now().Add(5 * time.Second); srv.Requests(endpoint) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the request never reached the server")
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // the handler is now stalling
			conn.Close()
			start := time.Now()
			srv.Close()
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Close took %v: the stalled handler kept running after the client left", d)
			}
		})
	}
}
