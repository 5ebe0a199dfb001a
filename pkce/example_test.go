package pkce_test

import (
	"errors"
	"fmt"

	"github.com/go-par/par/pkce"
)

func ExampleChallenge() {
	// The verifier of RFC 7636 Appendix B.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	fmt.Println(pkce.Challenge(verifier))
	// Output: E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
}

func ExampleNewVerifier() {
	verifier := pkce.NewVerifier() // store with the flow; send only the challenge
	fmt.Println(len(verifier), pkce.ValidateVerifier(verifier))
	fmt.Println(len(pkce.Challenge(verifier)), pkce.MethodS256)
	// Output:
	// 43 <nil>
	// 43 S256
}

func ExampleValidateVerifier() {
	err := pkce.ValidateVerifier("too-short")
	fmt.Println(errors.Is(err, pkce.ErrInvalidVerifier))
	fmt.Println(err)
	// Output:
	// true
	// pkce: invalid code verifier: length 9, want 43 to 128
}
