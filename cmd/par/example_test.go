package main

import (
	"context"
	"os"
)

// Example_decode takes a JWT apart without verifying it.
func Example_decode() {
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWIiOiJhbGljZSJ9.c2ln"
	code := run(context.Background(), []string{"decode", jwt}, os.Stdout, os.Stderr)
	os.Stdout.WriteString("exit code " + string(rune('0'+code)) + "\n")
	// Output:
	// UNVERIFIED: the signature and the claims were not checked. Do not trust them.
	//
	// header:
	// {
	//   "alg": "RS256",
	//   "kid": "k1"
	// }
	//
	// claims:
	// {
	//   "iss": "https://op.example",
	//   "sub": "alice"
	// }
	//
	// signature: 3 bytes, alg RS256 (not verified)
	// exit code 0
}
