package dpop_test

import (
	"fmt"
	"net/http"

	"github.com/go-par/par/dpop"
)

// AccessTokenHash is a proof's ath claim (RFC 9449 §4.2), here for the
// access token of the RFC's own example (§7.1).
func ExampleAccessTokenHash() {
	fmt.Println(dpop.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))
	// Output: fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo
}

// HTU is a proof's htu claim: the request URI without query and fragment
// (RFC 9449 §4.2).
func ExampleHTU() {
	for _, u := range []string{
		"https://pp.netseidbroker.dk/op/connect/par",
		"https://rs.example/api/accounts?limit=5#top",
		"HTTPS://AS.Example:443/a/./b/../token",
		"ftp://as.example/token",
	} {
		htu, err := dpop.HTU(u)
		fmt.Printf("%q %v\n", htu, err != nil)
	}
	// Output:
	// "https://pp.netseidbroker.dk/op/connect/par" false
	// "https://rs.example/api/accounts" false
	// "https://as.example/a/token" false
	// "" true
}

// ParseNonce reads a server-provided DPoP-Nonce header (RFC 9449 §8);
// a MemoryNonceStore keeps the latest one per origin for the next proof.
func ExampleParseNonce() {
	h := http.Header{}
	h.Set("DPoP-Nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v")
	nonce, ok := dpop.ParseNonce(h)
	fmt.Println(nonce, ok)

	var store dpop.MemoryNonceStore
	origin := dpop.Origin("https://as.example/token")
	store.SetNonce(origin, nonce)
	fmt.Println(store.Nonce(origin), store.Nonce("https://rs.example") == "")

	_, ok = dpop.ParseNonce(http.Header{})
	fmt.Println(ok)
	// Output:
	// eyJ7S_zG.eyJH0-Z.HX4w-7v true
	// eyJ7S_zG.eyJH0-Z.HX4w-7v true
	// false
}
