// Package jar builds request objects: JWT-secured authorization requests
// (RFC 9101), as pushed to a PAR endpoint (RFC 9126 §3).
//
// A [Builder] turns the parameters of an authorization request into a signed
// JWT whose claims are those parameters plus iss (the client ID), aud (the
// provider's issuer), client_id, iat, nbf, exp and jti. It signs with an
// asymmetric key ([crypto.Signer]: RS256, PS256, ES256, EdDSA, …) or, for
// providers like the Signaturgruppen MitID broker, with HS256 keyed with the
// client secret. It can then encrypt the signed JWT to the provider's
// encryption key (a nested JWT, RFC 7519 §5.2); [EncryptionKey] finds that key
// in the provider's JWKS, tolerating the broker's XML-Enc algorithm names.
//
//	b, err := jar.New(jar.Config{
//		ClientID: "0a775a87-…",
//		Audience: "https://pp.netseidbroker.dk/op",
//		Secret:   []byte(clientSecret), // or Signer: key.Signer, KeyID: key.KeyID
//		Type:     "oauth-authz-req+jwt",
//	})
//	request, err := b.Build(params) // PAR body: request, client_id, client auth
//
// A Builder is immutable and safe for concurrent use; it prepares the signer
// and the encrypter once, in [New]. Errors never contain parameter values,
// secrets or the request object.
package jar
