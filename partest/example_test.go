package partest_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-par/par/partest"
)

// Example pushes an authorization request with plain net/http, logs in as
// the headless user and redeems the code.
func Example() {
	const callback = "https://rp.example/callback"
	srv := partest.NewServer(partest.Config{
		IssuerPath: "/op",
		Clients:    []partest.Client{{ID: "app", Secret: "s+cr/t=", RedirectURIs: []string{callback}}},
	})
	defer srv.Close()
	md := srv.Metadata()
	hc := srv.Client()

	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	// RFC 6749 §2.3.1: form-encode the credentials, then base64.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("app")+":"+url.QueryEscape("s+cr/t=")))

	post := func(endpoint string, form url.Values) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", basic)
		resp, err := hc.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		fmt.Println(resp.StatusCode)
		return body
	}

	par := post(md["pushed_authorization_request_endpoint"].(string), url.Values{
		"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {callback},
		"scope": {"openid"}, "state": {"xyz"}, "nonce": {"n-0S6"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	})
	authURL := md["authorization_endpoint"].(string) + "?" + url.Values{
		"client_id": {"app"}, "request_uri": {par["request_uri"].(string)},
	}.Encode()

	params, err := srv.Login(authURL)
	if err != nil {
		panic(err)
	}
	fmt.Println(params.Get("state"), params.Get("iss") == srv.Issuer())

	tok := post(md["token_endpoint"].(string), url.Values{
		"grant_type": {"authorization_code"}, "code": {params.Get("code")},
		"redirect_uri": {callback}, "code_verifier": {verifier},
	})
	fmt.Println(tok["token_type"], tok["id_token"] != nil)
	fmt.Println(srv.Requests(partest.EndpointPAR), srv.Requests(partest.EndpointToken))
	// Output:
	// 201
	// xyz true
	// 200
	// Bearer true
	// 1 1
}

// ExampleServer_SetFault makes the PAR endpoint answer 429 once.
func ExampleServer_SetFault() {
	srv := partest.NewServer(partest.Config{})
	defer srv.Close()
	srv.SetFault(partest.EndpointPAR, partest.Fault{
		Status: http.StatusTooManyRequests,
		Body:   `{"error":"slow_down"}`,
		Header: http.Header{"Retry-After": {"3"}},
		Times:  1,
	})
	for range 2 {
		resp, err := srv.Client().PostForm(srv.Metadata()["pushed_authorization_request_endpoint"].(string), url.Values{})
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// 429 3
	// 401
}
