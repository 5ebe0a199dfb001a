package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// A login with a JWT-secured authorization response (JARM, response_mode
// jwt): the callback carries one parameter, response, which Exchange
// verifies (signature, iss, aud, exp) before it redeems the code. A forged
// one is refused before any token request.
func Example_jarm() {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s",
		RedirectURIs: []string{"https://app.example/callback"}, AuthorizationSignedResponseAlg: jose.PS256}}})
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client(), ResponseMode: "jwt"})
	if err != nil {
		log.Fatal(err)
	}
	login := func() (*client.Flow, url.Values) {
		flow, err := c.Push(ctx)
		if err != nil {
			log.Fatal(err)
		}
		u, _ := c.AuthorizationURL(flow)
		cb, err := srv.Login(u)
		if err != nil {
			log.Fatal(err)
		}
		// The browser's GET to the redirect URI, read by ParseResponse.
		params, err := client.ParseResponse(httptest.NewRequest(http.MethodGet, "https://app.example/callback?"+cb.Encode(), nil))
		if err != nil {
			log.Fatal(err)
		}
		return flow, params
	}

	flow, params := login()
	fmt.Println("callback parameters:", len(params), params.Has("response"))
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("nonce checked:", tokens.IDToken.Nonce == flow.Nonce)

	srv.SetFault(partest.EndpointAuthorize, partest.Fault{JARMAlg: "none", Times: 1})
	flow, params = login()
	_, err = c.Exchange(ctx, flow, params)
	fmt.Println(errors.Is(err, client.ErrInvalidResponseJWT), err)
	// Output:
	// callback parameters: 1 true
	// nonce checked: true
	// true client: callback: response JWT invalid: alg "none" is not allowed (want one of RS256, PS256, ES256, EdDSA; never none or HS*)
}

// Rich Authorization Requests (RFC 9396): the details go with the push and
// come back granted, exactly as sent, in the tokens.
func ExampleWithAuthorizationDetails() {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s",
		RedirectURIs: []string{"https://app.example/callback"}, AuthorizationDetailsTypes: []string{"payment_initiation"}}}})
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	type payment struct {
		Type   string          `json:"type"`
		Amount json.RawMessage `json:"amount"`
		Ref    uint64          `json:"ref"`
	}
	p, _ := json.Marshal(payment{Type: "payment_initiation", Amount: json.RawMessage(`{"value":"12.50","currency":"EUR"}`), Ref: 12345678901234567890})
	flow, err := c.Push(ctx, client.WithAuthorizationDetails(client.AuthorizationDetail(p)))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := c.AuthorizationURL(flow)
	params, err := srv.Login(u)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range tokens.AuthorizationDetails {
		var got payment
		_ = json.Unmarshal(d, &got)
		fmt.Println(d.Type(), got.Ref, string(got.Amount))
	}

	_, err = c.Push(ctx, client.WithAuthorizationDetails(client.AuthorizationDetail(`{"amount":"1"}`)))
	fmt.Println(err)
	// Output:
	// payment_initiation 12345678901234567890 {"value":"12.50","currency":"EUR"}
	// client: push: invalid authorization_details: [0] has no type string (RFC 9396 §2)
}
