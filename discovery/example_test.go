package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/go-par/par/discovery"
)

// brokerServer serves the MitID broker's pre-production discovery document
// (testdata/discovery/broker-pp.json) under /op, with the broker's host
// replaced by the test server's; it stands in for
// https://pp.netseidbroker.dk.
func brokerServer() *httptest.Server {
	doc, err := os.ReadFile("../testdata/discovery/broker-pp.json")
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	doc = []byte(strings.ReplaceAll(string(doc), "https://pp.netseidbroker.dk", "https://"+srv.Listener.Addr().String()))
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/op/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	srv.StartTLS()
	return srv
}

func ExampleFetch() {
	srv := brokerServer()
	defer srv.Close()
	issuer := srv.URL + "/op" // in production: "https://pp.netseidbroker.dk/op"

	// A nil *http.Client means a safe default (timeout, no redirects);
	// the test server needs its own client to trust its certificate.
	md, err := discovery.Fetch(context.Background(), srv.Client(), issuer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.TrimPrefix(md.PushedAuthorizationRequestEndpoint, issuer))
	fmt.Println("PAR required:", md.RequirePushedAuthorizationRequests)
	fmt.Println("iss in responses:", md.AuthorizationResponseISSParameterSupported)
	fmt.Println("PKCE:", md.CodeChallengeMethodsSupported)
	// Output:
	// /connect/par
	// PAR required: false
	// iss in responses: true
	// PKCE: [plain S256]
}

func ExampleParse() {
	doc := []byte(`{
		"issuer": "https://as.example",
		"authorization_endpoint": "https://as.example/authorize",
		"token_endpoint": "https://as.example/token",
		"pushed_authorization_request_endpoint": "https://as.example/par",
		"require_pushed_authorization_requests": true,
		"dpop_signing_alg_values_supported": ["ES256"]
	}`)
	md, err := discovery.Parse(doc, "https://as.example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.PushedAuthorizationRequestEndpoint, md.RequirePushedAuthorizationRequests, md.DPoPSigningAlgValuesSupported)
	// Output: https://as.example/par true [ES256]
}

func ExampleParse_issuerMismatch() {
	doc := []byte(`{"issuer": "https://as.example/",
		"authorization_endpoint": "https://as.example/authorize",
		"token_endpoint": "https://as.example/token"}`)
	_, err := discovery.Parse(doc, "https://as.example")
	var mismatch *discovery.IssuerMismatchError
	if errors.As(err, &mismatch) {
		fmt.Println(err)
	}
	// Output: discovery: issuer mismatch: configured "https://as.example", metadata has "https://as.example/"
}

func ExampleParse_wrongType() {
	doc := []byte(`{"issuer": "https://as.example",
		"authorization_endpoint": "https://as.example/authorize",
		"token_endpoint": "https://as.example/token",
		"require_pushed_authorization_requests": "true"}`)
	_, err := discovery.Parse(doc, "https://as.example")
	var pe *discovery.ParseError
	fmt.Println(errors.As(err, &pe), pe.Member, errors.Is(err, discovery.ErrWrongType))
	fmt.Println(err)
	// Output:
	// true require_pushed_authorization_requests true
	// discovery: member "require_pushed_authorization_requests": wrong JSON type: string, want boolean
}

func ExampleMetadata_Claims() {
	doc := []byte(`{"issuer": "https://as.example",
		"authorization_endpoint": "https://as.example/authorize",
		"token_endpoint": "https://as.example/token",
		"x_tenant": {"name": "demo", "regions": ["eu"]}}`)
	md, err := discovery.Parse(doc, "https://as.example")
	if err != nil {
		log.Fatal(err)
	}
	var extra struct {
		Tenant struct {
			Name    string   `json:"name"`
			Regions []string `json:"regions"`
		} `json:"x_tenant"`
	}
	if err := md.Claims(&extra); err != nil {
		log.Fatal(err)
	}
	fmt.Println(extra.Tenant.Name, extra.Tenant.Regions)
	// Output: demo [eu]
}

func ExampleMetadata_Endpoint() {
	doc := []byte(`{"issuer": "https://as.example",
		"authorization_endpoint": "https://as.example/authorize",
		"token_endpoint": "https://as.example/token",
		"pushed_authorization_request_endpoint": "https://as.example/par",
		"mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token"}}`)
	md, err := discovery.Parse(doc, "https://as.example")
	if err != nil {
		log.Fatal(err)
	}
	// With mutual TLS client authentication (RFC 8705 §5), aliases win.
	fmt.Println(md.Endpoint("token_endpoint", true))
	fmt.Println(md.Endpoint("pushed_authorization_request_endpoint", true))
	fmt.Println(md.Endpoint("token_endpoint", false))
	// Output:
	// https://mtls.as.example/token
	// https://as.example/par
	// https://as.example/token
}

func ExampleCache() {
	srv := brokerServer()
	defer srv.Close()
	issuer := srv.URL + "/op"

	// One Cache per process; TTL defaults to an hour.
	cache := discovery.NewCache(discovery.CacheConfig{HTTPClient: srv.Client()})
	for range 3 {
		md, err := cache.Get(context.Background(), issuer)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.TrimPrefix(md.TokenEndpoint, issuer))
	}
	// Output:
	// /connect/token
	// /connect/token
	// /connect/token
}
