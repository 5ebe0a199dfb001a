package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// A whole login: push, send the browser with client_id and request_uri
// only, then exchange the callback parameters for verified tokens.
func ExampleClient_Exchange() {
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", Clients: []partest.Client{
		{ID: "app", Secret: "s3cr+t/=", RedirectURIs: []string{"https://app.example/callback"}}}})
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(ctx, client.Config{
		Issuer:      srv.Issuer(),
		ClientID:    "app",
		Auth:        client.ClientSecretBasic("s3cr+t/="),
		RedirectURL: "https://app.example/callback",
		Scopes:      []string{"openid", "profile"},
		HTTPClient:  srv.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx, client.WithPrompt("login"), oauth2.SetAuthURLParam("ui_locales", "da"))
	if err != nil {
		log.Fatal(err)
	}
	authURL, err := c.AuthorizationURL(flow) // keep flow (package login stores it)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	fmt.Println("authorization URL parameters:", len(u.Query()))

	params, err := srv.Login(authURL) // the browser's round trip; in an app: client.ParseResponse(r)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subject:", tokens.IDToken.Subject)

	// The code is single-use: replaying the callback fails at the provider.
	_, err = c.Exchange(ctx, flow, params)
	var re *client.ResponseError
	fmt.Println("replay:", errors.As(err, &re) && re.Code == "invalid_grant")
	// Output:
	// authorization URL parameters: 2
	// subject: alice
	// replay: true
}

// Provider errors in the callback keep their code and description, e.g. a
// user who cancels at the MitID broker, which answers as recorded: state
// and session_state but no iss, although it advertises RFC 9207. Outside
// ProfileBroker the error is also an issuer failure (see the package doc).
func ExampleAuthorizationError() {
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{
		{ID: "app", Secret: "s", RedirectURIs: []string{"https://app.example/callback"}}}})
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx)
	if err != nil {
		log.Fatal(err)
	}
	callback := url.Values{"error": {"access_denied"}, "error_description": {"mitid_user_aborted"},
		"state": {flow.State}, "session_state": {"Yj3Vd1nY.6F4A1C1E"}}
	_, err = c.Exchange(ctx, flow, callback)
	var ae *client.AuthorizationError
	if errors.As(err, &ae) {
		fmt.Println(ae.Code, ae.Description)
	}
	fmt.Println("issuer failure too:", errors.Is(err, client.ErrIssuerMismatch))
	// Output:
	// access_denied mitid_user_aborted
	// issuer failure too: true
}
