package dpopwire_test

import (
	"fmt"
	"net/http"

	"github.com/go-par/par/internal/dpopwire"
)

// HTU is a proof's htu claim: the request URI without query and fragment
// (RFC 9449 §4.2).
func ExampleHTU() {
	for _, u := range []string{
		"https://pp.netseidbroker.dk/op/connect/par",
		"https://rs.example/api/accounts?limit=5#top",
		"HTTPS://AS.Example:443/a/./b/../token",
		"ftp://as.example/token",
	} {
		htu, err := dpopwire.HTU(u)
		fmt.Printf("%q %v\n", htu, err != nil)
	}
	// Output:
	// "https://pp.netseidbroker.dk/op/connect/par" false
	// "https://rs.example/api/accounts" false
	// "https://as.example/a/token" false
	// "" true
}

// ParseNonce reads a server-provided DPoP-Nonce header (RFC 9449 §8); a
// Store keeps the latest one per origin for the next proof.
func ExampleParseNonce() {
	h := http.Header{}
	h.Set("DPoP-Nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v")
	nonce, ok := dpopwire.ParseNonce(h)
	fmt.Println(nonce, ok)

	var store dpopwire.MemoryStore
	origin := dpopwire.Origin("https://as.example/token")
	store.SetNonce(origin, nonce)
	fmt.Println(store.Nonce(origin), store.Nonce("https://rs.example") == "")

	_, ok = dpopwire.ParseNonce(http.Header{})
	fmt.Println(ok)
	// Output:
	// eyJ7S_zG.eyJH0-Z.HX4w-7v true
	// eyJ7S_zG.eyJH0-Z.HX4w-7v true
	// false
}

func ExampleParseWWWAuthenticate() {
	for _, c := range dpopwire.ParseWWWAuthenticate(`Bearer realm="api", DPoP algs="ES256 PS256", error="use_dpop_nonce"`) {
		fmt.Printf("%s %q\n", c.Scheme, c.Params)
	}
	// Output:
	// Bearer map["realm":"api"]
	// DPoP map["algs":"ES256 PS256" "error":"use_dpop_nonce"]
}

func ExampleOrigin() {
	var nonces dpopwire.MemoryStore
	nonces.SetNonce(dpopwire.Origin("https://pp.netseidbroker.dk/op/connect/par"), "n-1")
	fmt.Println(dpopwire.Origin("https://PP.netseidbroker.dk:443/op/connect/token"))
	fmt.Println(nonces.Nonce(dpopwire.Origin("https://pp.netseidbroker.dk/op/connect/token")))
	// Output:
	// https://pp.netseidbroker.dk:443
	// n-1
}
