package partest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-par/par/partest"
)

// FailNextLogin makes the next login end as the MitID broker ends a login
// the user cancelled: error, error_description, state and session_state,
// and no iss.
func ExampleServer_FailNextLogin() {
	const callback = "https://rp.example/callback"
	srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: "app", Secret: "s3cret", RedirectURIs: []string{callback}}))
	defer srv.Close()

	sum := sha256.Sum256([]byte("a-code-verifier-of-at-least-43-characters-0123"))
	req, _ := http.NewRequest(http.MethodPost, srv.Metadata()["pushed_authorization_request_endpoint"].(string),
		strings.NewReader(url.Values{
			"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {callback},
			"scope": {"openid mitid"}, "state": {"xyz"}, "idp_values": {"mitid"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "s3cret")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&par); err != nil {
		panic(err)
	}

	srv.FailNextLogin("access_denied", "mitid_user_aborted")
	params, err := srv.Login(srv.Metadata()["authorization_endpoint"].(string) + "?" +
		url.Values{"client_id": {"app"}, "request_uri": {par.RequestURI}}.Encode())
	if err != nil {
		panic(err)
	}
	fmt.Println(slices.Sorted(maps.Keys(params)))
	fmt.Println(params.Get("error"), params.Get("error_description"), params.Get("state"))
	// Output:
	// [error error_description session_state state]
	// access_denied mitid_user_aborted xyz
}
