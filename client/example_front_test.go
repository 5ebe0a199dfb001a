package client_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"slices"
	"strings"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// A provider without PAR (here partest with NoPAR): with
// InsecureFrontChannel set, Push sends nothing and the authorization URL
// carries the whole request; the rest of the login is the same.
func ExampleConfig_insecureFrontChannel() {
	srv := partest.NewServer(partest.Config{NoPAR: true, Clients: []partest.Client{
		{ID: "app", Secret: "s3cr+t/=", RedirectURIs: []string{"https://app.example/callback"}}}})
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(ctx, client.Config{
		Issuer:               srv.Issuer(),
		ClientID:             "app",
		Auth:                 client.ClientSecretBasic("s3cr+t/="), // used at the token endpoint only
		RedirectURL:          "https://app.example/callback",
		HTTPClient:           srv.Client(),
		InsecureFrontChannel: true, // the provider has no PAR endpoint
	})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx, client.WithPrompt("login"))
	if err != nil {
		log.Fatal(err)
	}
	authURL, err := c.AuthorizationURL(flow)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range u.Query() {
			if !yield(k) {
				return
			}
		}
	})
	fmt.Println("authorization URL parameters:", strings.Join(names, " "))

	params, err := srv.Login(authURL)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subject:", tokens.IDToken.Subject)
	// Output:
	// authorization URL parameters: client_id code_challenge code_challenge_method nonce prompt redirect_uri response_type scope state
	// subject: alice
}
