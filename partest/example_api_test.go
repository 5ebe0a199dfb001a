package partest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-par/par/partest"
)

// NewUnstartedServer lets a test mount the provider on a listener of its
// own: set Config.URL to the listener's address, serve Handler, and the
// metadata names that address (RFC 8414 §3).
func ExampleNewUnstartedServer() {
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv := partest.NewUnstartedServer(partest.Config{URL: base, IssuerPath: "/op"})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	defer ts.Close()

	resp, err := http.Get(base + "/op/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer string `json:"issuer"`
		PAR    string `json:"pushed_authorization_request_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, md.Issuer == base+"/op", md.Issuer == srv.Issuer(), md.PAR != "")
	fmt.Println("discovery requests:", srv.Requests(partest.EndpointDiscovery))

	// Or let partest listen itself.
	own := partest.NewUnstartedServer(partest.Config{})
	own.Start()
	defer own.Close()
	resp, err = own.Client().Get(own.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 true true true
	// discovery requests: 1
	// 200
}
