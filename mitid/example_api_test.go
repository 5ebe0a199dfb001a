package mitid_test

import (
	"errors"
	"fmt"
	"log"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
)

// showParams prints the named parameters that opts set, as Push sends them.
func showParams(names []string, opts ...oauth2.AuthCodeOption) {
	cfg := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://pp.netseidbroker.dk/op/connect/authorize"}}
	u, _ := url.Parse(cfg.AuthCodeURL("", opts...))
	for _, k := range names {
		fmt.Printf("%s=%q\n", k, u.Query().Get(k))
	}
}

// Simulation replaces MitID with the broker's simulator in a test
// environment (enterprise/simulation.md); never in production.
func ExampleSimulation() {
	opts, err := mitid.Simulation{NoUI: true, CPR: "0101701234"}.Options()
	if err != nil {
		log.Fatal(err)
	}
	showParams([]string{"simulation"}, opts...)

	_, err = mitid.Simulation{NoUI: true, CPR: "12345"}.Options()
	var pe *mitid.ParamError
	fmt.Println(errors.As(err, &pe), pe.Param)
	// Output:
	// simulation="no-ui cpr:0101701234"
	// true simulation
}

// A text registered through the broker's Signtext API is sent by its id,
// with prompt=login, without which the broker does not show the text.
func ExampleSignText_registered() {
	opts, err := mitid.SignText{ID: "c7a4b2e0-3f5d-4a8e-9b1c-2d6e8f0a1b3c"}.Options()
	if err != nil {
		log.Fatal(err)
	}
	showParams([]string{"signtext_id", "prompt"}, opts...)
	// Output:
	// signtext_id="c7a4b2e0-3f5d-4a8e-9b1c-2d6e8f0a1b3c"
	// prompt="login"
}

// Language takes one of the three languages the broker supports; map a
// user's preference onto them.
func ExampleLanguage() {
	lang := mitid.English
	if accept := "da-DK,da;q=0.9"; strings.HasPrefix(accept, "da") {
		lang = mitid.Danish
	}
	showParams([]string{"language"}, mitid.Language(lang))
	// Output:
	// language="da"
}

// Level.URI gives the NSIS URI the broker issues in loa, ial and aal, for
// test fixtures and logs.
func ExampleLevel_URI() {
	fmt.Println(mitid.Substantial.URI())
	// Output:
	// https://data.gov.dk/concept/core/nsis/Substantial
}

// OutcomeOf tells an app what the broker's error response means, so that a
// cancel is shown as a cancel. The error is what client.Exchange (or
// login.Handler's OnError) returns for the broker's recorded cancel:
// error=access_denied, error_description=mitid_user_aborted, no iss.
func ExampleOutcomeOf() {
	err := fmt.Errorf("login: exchange: %w", &client.AuthorizationError{Code: "access_denied", Description: "mitid_user_aborted"})

	if mitid.UserCancelled(err) {
		fmt.Println("cancelled: offer to start again")
	}
	switch o := mitid.OutcomeOf(err); o {
	case mitid.OutcomeNone:
		fmt.Println("not an outcome from the provider: show your failure page")
	default:
		fmt.Printf("%s: %s\n", o, o.Message())
	}
	other := &client.AuthorizationError{Code: "access_denied", Description: "mitid_erhverv.no_identities"}
	fmt.Println(mitid.OutcomeOf(other))
	fmt.Println(mitid.OutcomeOf(&client.AuthorizationError{Code: "access_denied", Description: "a code from 2030"}))
	// Output:
	// cancelled: offer to start again
	// cancelled: You cancelled the login.
	// identity
	// unknown
}
