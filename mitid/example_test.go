package mitid_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
)

// printParams shows the parameters a list of options sets, as the client's
// Push would send them.
func printParams(opts ...oauth2.AuthCodeOption) {
	cfg := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://pp.netseidbroker.dk/op/connect/authorize"}}
	u, _ := url.Parse(cfg.AuthCodeURL("", opts...))
	q := u.Query()
	for _, k := range []string{"idp_values", "idp_params", "language", "prompt", "signtext_base64", "signtext_type"} {
		if v, ok := q[k]; ok {
			fmt.Printf("%s=%s\n", k, v[0])
		}
	}
}

func ExampleParams_Options() {
	opts, err := mitid.Params{
		LoA:           mitid.High,
		ReferenceText: "Overfør 100 kr.",
		ActionText:    "APPROVE",
		EnableStepUp:  true, // adds prompt=login
	}.Options()
	if err != nil {
		log.Fatal(err)
	}
	opts = append(opts, mitid.IDPValues(mitid.MitID), mitid.Language(mitid.Danish))
	// With a client: flow, err := c.Push(ctx, opts...)
	printParams(opts...)
	// Output:
	// idp_values=mitid
	// idp_params={"mitid":{"loa_value":"high","reference_text":"T3ZlcmbDuHIgMTAwIGtyLg==","action_text":"APPROVE","enable_step_up":true}}
	// language=da
	// prompt=login
}

func ExampleParams_Options_error() {
	_, err := mitid.Params{
		ReferenceText: "This reference text is far too long for the MitID client, which shows at most one hundred and thirty characters at its final steps.",
	}.Options()
	var pe *mitid.ParamError
	if errors.As(err, &pe) {
		fmt.Println(pe.Param)
		fmt.Println(err)
	}
	// Output:
	// reference_text
	// mitid: reference_text: 131 characters, at most 130 allowed
}

// IDPValues with several providers gives the user a chooser; Params carries
// the settings of each.
func ExampleIDPValues() {
	opts, err := mitid.Params{AllowPrivate: true}.Options()
	if err != nil {
		log.Fatal(err)
	}
	printParams(append(opts, mitid.IDPValues(mitid.MitIDErhverv, mitid.MitID))...)
	// Output:
	// idp_values=mitid_erhverv mitid
	// idp_params={"mitid_erhverv":{"allow_private":true}}
}

func ExampleSignText() {
	opts, err := mitid.SignText{Text: "Simple document to be signed"}.Options()
	if err != nil {
		log.Fatal(err)
	}
	printParams(opts...)
	// Output:
	// prompt=login
	// signtext_base64=U2ltcGxlIGRvY3VtZW50IHRvIGJlIHNpZ25lZA==
	// signtext_type=text
}

func ExampleParseLevel() {
	for _, uri := range []string{
		"https://data.gov.dk/concept/core/nsis/Substantial",     // MitID broker
		"https://data.gov.dk/concept/core/nsis/loa/Substantial", // NemLog-in
	} {
		l, err := mitid.ParseLevel(uri)
		fmt.Println(l, err, l >= mitid.Substantial)
	}
	// Output:
	// Substantial <nil> true
	// Substantial <nil> true
}

func ExampleClaims() {
	// A UserInfo response from the broker; values are strings.
	body := []byte(`{
		"sub": "7c9484f5-44bf-4e29-a683-84548951d3b8",
		"idp": "mitid",
		"identity_type": "private",
		"loa": "https://data.gov.dk/concept/core/nsis/Substantial",
		"amr": "code_app",
		"mitid.uuid": "eee4b272-6a33-40da-ab0b-5ce2abd42e78",
		"mitid.age": "88",
		"mitid.has_cpr": "true",
		"mitid.psd2": "false"
	}`)
	var c mitid.Claims // or: idToken.Claims(&c) with go-oidc
	if err := json.Unmarshal(body, &c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.IDP, c.IdentityType, c.AMR)
	fmt.Println(c.MitID.UUID, c.MitID.Age, c.MitID.HasCPR, c.MitID.PSD2)
	// Output:
	// mitid private [code_app]
	// eee4b272-6a33-40da-ab0b-5ce2abd42e78 88 true false
}

func ExampleClaims_RequireLevel() {
	c := mitid.Claims{LoA: "https://data.gov.dk/concept/core/nsis/Low"}
	err := c.RequireLevel(mitid.Substantial)
	var le *mitid.LevelError
	if errors.As(err, &le) {
		fmt.Println(le.Got, le.Want)
		fmt.Println(err)
	}
	// Output:
	// Low Substantial
	// mitid: level of assurance Low is below the required Substantial
}

// ExampleCIBA starts a MitID login from a backend: the user opens the
// returned URL on any device (a QR code, an app), the backend polls for the
// result. The broker here is an in-process stand-in (see ciba_test.go).
func ExampleCIBA() {
	broker := newFakeBroker(exampleTB{})
	broker.interval = 1
	ciba := newCIBA(exampleTB{}, broker, nil) // CIBAConfig{Client: c}
	ctx := context.Background()

	req, err := ciba.Start(ctx, mitid.CIBARequest{
		Scopes:  []string{"openid", "mitid"},
		Options: []oauth2.AuthCodeOption{mitid.IDPValues(mitid.MitID), client.WithPrompt("login")},
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := ciba.InitAuth(ctx, req, mitid.InitAuthParams{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open:", a.URI)

	tok, err := ciba.Poll(ctx, req) // waits req.Interval between polls
	if err != nil {
		log.Fatal(err)
	}
	var claims mitid.Claims
	if err := tok.IDToken.Claims(&claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.IDP, claims.MitID.Age, claims.RequireLevel(mitid.Substantial))
	// Output:
	// open: https://broker.test/op/connect/authorize?client_id=62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9&request_uri=urn:ietf:params:oauth:request_uri:4BEE3FBF81FBD52F997575BDBBC9459881E924E6535433D0427A7E46E8D7DB52
	// mitid 88 <nil>
}

// exampleTB lets the test helpers run in an Example.
type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                   {}
func (exampleTB) Fatal(args ...any)         { log.Fatal(args...) }
func (exampleTB) Fatalf(f string, a ...any) { log.Fatalf(f, a...) }
