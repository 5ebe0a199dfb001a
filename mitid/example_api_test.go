package mitid_test

import (
	"errors"
	"fmt"
	"log"
	"net/url"

	"golang.org/x/oauth2"

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
	opt, err := mitid.Simulation(mitid.SimulationParams{Mode: mitid.SimulationNoUI, CPR: "0101701234"})
	if err != nil {
		log.Fatal(err)
	}
	showParams([]string{"simulation"}, opt)

	_, err = mitid.Simulation(mitid.SimulationParams{Mode: mitid.SimulationNoUI, CPR: "12345"})
	var pe *mitid.ParamError
	fmt.Println(errors.As(err, &pe), pe.Param)
	// Output:
	// simulation="no-ui cpr:0101701234"
	// true simulation
}

// SignTextID shows a text registered through the broker's Signtext API; it
// adds prompt=login, without which the broker does not show the text.
func ExampleSignTextID() {
	opts, err := mitid.SignTextID("c7a4b2e0-3f5d-4a8e-9b1c-2d6e8f0a1b3c")
	if err != nil {
		log.Fatal(err)
	}
	showParams([]string{"signtext_id", "prompt"}, opts...)
	// Output:
	// signtext_id="c7a4b2e0-3f5d-4a8e-9b1c-2d6e8f0a1b3c"
	// prompt="login"
}

// JSON gives the idp_params object for callers that build their own
// request object.
func ExampleParams_JSON() {
	b, err := mitid.Params{MitID: &mitid.MitIDParams{LoA: mitid.High, RequirePSD2: true}}.JSON()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"mitid":{"loa_value":"high","require_psd2":true}}
}

// FrontChannelOptions refuses a cpr_hint, which the broker accepts only in a
// pushed or encrypted request.
func ExampleParams_FrontChannelOptions() {
	p := mitid.Params{MitID: &mitid.MitIDParams{CPRHint: "0101701234"}}
	_, err := p.FrontChannelOptions()
	fmt.Println(errors.Is(err, mitid.ErrCPRHintFrontChannel))

	opts, err := p.Options() // for Push: the same parameters travel server to server
	fmt.Println(len(opts) > 0, err)
	// Output:
	// true
	// true <nil>
}
