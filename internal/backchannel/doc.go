// Package backchannel is the SDK's one path for authenticated calls to the
// provider: PAR, the token endpoint (code, refresh, extension grants such
// as CIBA), CIBA initiation and the MitID broker's init-auth, and UserInfo.
//
// [Channel.Do] adds the client authentication (RFC 6749 §2.3, minted afresh
// per attempt), the DPoP proof and its single use_dpop_nonce retry (RFC 9449
// §8, re-minting proof and assertion), refuses redirects and caps response
// bodies at 1 MiB. [ParseError] reads RFC 6749 §5.2 error bodies (or, without a
// code there, the error parameters of a WWW-Authenticate challenge),
// [RetryAfter] the Retry-After header, and [ParseToken] token responses
// (RFC 6749 §5.1) as tolerantly as golang.org/x/oauth2 does. Package client
// builds its ResponseError from them, after removing from the answer what
// the request carried ([Response.Sent]: the secret form members,
// Authorization credentials and DPoP proofs of every attempt), since a
// provider may echo the request in its error.
//
//	resp, err := ch.Do(ctx, backchannel.Request{Name: "token", URL: tokenURL, Form: form, DPoP: true})
//	tok, err := backchannel.ParseToken(resp.Header, resp.Body, start)
package backchannel
