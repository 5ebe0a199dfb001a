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

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/partest"
)

// pushAndLogin pushes params for client app (secret s3cret) with plain
// net/http and returns the callback parameters of the headless login.
func pushAndLogin(srv *partest.Server, params url.Values) url.Values {
	req, _ := http.NewRequest(http.MethodPost, srv.Metadata()["pushed_authorization_request_endpoint"].(string), strings.NewReader(params.Encode()))
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
	cb, err := srv.Login(srv.Metadata()["authorization_endpoint"].(string) + "?" +
		url.Values{"client_id": {"app"}, "request_uri": {par.RequestURI}}.Encode())
	if err != nil {
		panic(err)
	}
	return cb
}

func authzParams(verifier string) url.Values {
	sum := sha256.Sum256([]byte(verifier))
	return url.Values{
		"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"},
		"scope": {"openid"}, "state": {"st-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
}

func newVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// A client asks for a JWT-secured authorization response (JARM) with
// response_mode jwt: the callback carries one parameter, response, a JWT
// signed with the client's AuthorizationSignedResponseAlg whose claims are
// the response parameters with iss, aud and exp. A fault forges it: here
// an unsigned one, which the client must refuse.
func Example_jarm() {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{
		ID: "app", Secret: "s3cret", RedirectURIs: []string{"https://rp.example/cb"},
		AuthorizationSignedResponseAlg: jose.PS256,
	}}})
	defer srv.Close()

	params := authzParams(newVerifier())
	params.Set("response_mode", "jwt")
	cb := pushAndLogin(srv, params)
	fmt.Println("callback parameters:", len(cb), cb.Has("response"))

	// A client verifies it with the provider's JWKS (here taken directly).
	obj, err := jose.ParseSignedCompact(cb.Get("response"), []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		panic(err)
	}
	jwks := srv.PublicJWKS()
	keys := jwks.Key(obj.Signatures[0].Protected.KeyID)
	payload, err := obj.Verify(keys[0])
	if err != nil {
		panic(err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	fmt.Println("alg:", obj.Signatures[0].Protected.Algorithm)
	fmt.Println("iss is the issuer:", claims["iss"] == srv.Issuer(), "aud:", claims["aud"], "state:", claims["state"], "code:", claims["code"] != nil)

	srv.SetFault(partest.EndpointAuthorize, partest.Fault{JARMAlg: "none", Times: 1})
	forged := pushAndLogin(srv, params).Get("response")
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(forged, ".")[0])
	fmt.Println("forged header:", string(header))
	// Output:
	// callback parameters: 1 true
	// alg: PS256
	// iss is the issuer: true aud: app state: st-1 code: true
	// forged header: {"alg":"none","typ":"JWT"}
}

// The token response carries the authorization_details (RFC 9396) a client
// was granted exactly as it sent them: the large integer keeps its digits,
// the nested object its member order.
func Example_authorizationDetails() {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{
		ID: "app", Secret: "s3cret", RedirectURIs: []string{"https://rp.example/cb"},
		AuthorizationDetailsTypes: []string{"payment_initiation"},
	}}})
	defer srv.Close()
	fmt.Println(srv.Metadata()["authorization_details_types_supported"])

	verifier := newVerifier()
	params := authzParams(verifier)
	params.Set("authorization_details", `[{"type":"payment_initiation","amount":{"value":"12.50","currency":"EUR"},"sequence":12345678901234567890}]`)
	cb := pushAndLogin(srv, params)

	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"https://rp.example/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, srv.Metadata()["token_endpoint"].(string), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "s3cret")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var tok map[string]json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	fmt.Println(string(tok["authorization_details"]))

	// A type the client may not use is refused at the PAR endpoint.
	params.Set("authorization_details", `[{"type":"credit_card"}]`)
	req, _ = http.NewRequest(http.MethodPost, srv.Metadata()["pushed_authorization_request_endpoint"].(string), strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "s3cret")
	resp, err = srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	fmt.Println(resp.StatusCode, e.Error)
	// Output:
	// [payment_initiation]
	// [{"type":"payment_initiation","amount":{"value":"12.50","currency":"EUR"},"sequence":12345678901234567890}]
	// 400 invalid_authorization_details
}
