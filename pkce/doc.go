// Package pkce is a thin layer over the PKCE helpers of golang.org/x/oauth2
// (RFC 7636, https://www.rfc-editor.org/rfc/rfc7636): it makes code
// verifiers, derives their S256 challenges and checks verifiers.
//
// Only the S256 method is offered ([MethodS256]); "plain" is never sent, as
// the FAPI 2.0 Security Profile requires and RFC 9700 §2.1.1 recommends.
//
//	verifier := pkce.NewVerifier()          // keep it with the flow, never log it
//	challenge := pkce.Challenge(verifier)   // send with code_challenge_method=S256
package pkce
