package site

import (
	"fmt"
	"net/url"
)

// Example_redactQuery shows how the timeline lists request parameters:
// sorted, with secrets replaced by their length.
func Example_redactQuery() {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"SplxlOBeZQQYbYS6WxSbIA"},
		"code_verifier": {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		"redirect_uri":  {"http://127.0.0.1:8080/auth/callback"},
	}
	for _, p := range redactQuery(form) {
		fmt.Printf("%s = %s\n", p.Name, p.Value)
	}
	// Output:
	// code = [redacted, 22 chars]
	// code_verifier = [redacted, 43 chars]
	// grant_type = authorization_code
	// redirect_uri = http://127.0.0.1:8080/auth/callback
}
