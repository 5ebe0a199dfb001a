package mitid_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/crypto/ocsp"

	"github.com/go-par/par/client"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// A MitID login in which the user signs a text, against partest's broker
// mode: the text goes in Params.TransactionText inside a signed request
// object with the transaction_token scope; VerifySigningToken checks the
// broker's signed evidence against it.
func ExampleVerifySigningToken() {
	const secret = "rE4+Zp1/a8Vq2nXk9Lw0sT3yUi7oP6mB+c5dF/gH2jK="
	srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: "app", Secret: secret,
		RedirectURIs: []string{"https://rp.example/signin-oidc"}}))
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{
		Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic(secret),
		RedirectURL: "https://rp.example/signin-oidc", HTTPClient: srv.Client(), Profile: client.ProfileBroker,
		Scopes:        []string{"openid", "mitid", "transaction_token"},
		RequestObject: &jar.Config{Secret: []byte(secret)}, // the broker takes the text only in a signed request object
	})
	if err != nil {
		log.Fatal(err)
	}

	sign := mitid.Params{TransactionText: []byte("Overfør 100 kr. til konto 1234-5678")} // keep it with the flow
	opts, err := sign.Options()
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx, append(opts, mitid.IDPValues(mitid.MitID))...)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := c.AuthorizationURL(flow)
	params, _ := srv.Login(u) // the user signs in MitID
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}

	st, err := mitid.VerifySigningToken(ctx, c, tokens, sign)
	if err != nil {
		log.Fatal(err) // errors.Is(err, mitid.ErrTextMismatch): not evidence of this text
	}
	fmt.Printf("%s signed %q (%s)\n", st.Claims.DisplayName(), st.Text, st.TextType)
	fmt.Println(st.Claims.TransactionActions)
	resp, err := st.OCSPResponse(srv.TransactionCA()) // the broker's CA, for the real broker
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signing certificate good:", resp.Status == ocsp.Good)
	// Keep st.Raw and st.OCSP as the evidence.
	// Output:
	// Karen Test Hansen signed "Overfør 100 kr. til konto 1234-5678" (text)
	// [mitid.login mitid.transaction_signing]
	// signing certificate good: true
}

// Identity merges the ID token, the userinfo_token and UserInfo: the
// recorded broker's ID token carries no name.
func ExampleIdentity() {
	srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: "app", Secret: "s3cret",
		RedirectURIs: []string{"https://rp.example/signin-oidc"}}))
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{
		Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s3cret"),
		RedirectURL: "https://rp.example/signin-oidc", HTTPClient: srv.Client(), Profile: client.ProfileBroker,
		Scopes: []string{"openid", "mitid"},
	})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx, mitid.IDPValues(mitid.MitID))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := c.AuthorizationURL(flow)
	params, _ := srv.Login(u)
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}

	var idToken mitid.Claims
	_ = tokens.IDToken.Claims(&idToken)
	fmt.Printf("ID token alone: %q\n", idToken.DisplayName())

	id, err := mitid.Identity(ctx, c, tokens)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Identity: %q, age %d, %s\n", id.DisplayName(), id.MitID.Age, id.LoA)
	// Output:
	// ID token alone: ""
	// Identity: "Karen Test Hansen", age 88, https://data.gov.dk/concept/core/nsis/Substantial
}
