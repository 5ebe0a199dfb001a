// Package joseutil holds the small go-jose adapters shared by the client
// authentication, request-object and DPoP code: choosing a JWS algorithm for
// a [crypto.Signer] and building a reusable [jose.Signer] from it.
//
//	alg, err := joseutil.DefaultAlgorithm(key.Public(), false) // RS256, ES256, EdDSA, …
//	signer, err := joseutil.NewSigner(key, alg, kid, "dpop+jwt", nil)
//	jws, err := signer.Sign(payload)
package joseutil
