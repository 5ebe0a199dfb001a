// Package client is a relying party for OAuth 2.0 Pushed Authorization
// Requests (RFC 9126) with OpenID Connect.
//
// A login is three calls around a browser redirect:
//
//	c, err := client.New(ctx, client.Config{
//		Issuer:      "https://pp.netseidbroker.dk/op",
//		ClientID:    clientID,
//		Auth:        client.ClientSecretBasic(secret),
//		RedirectURL: "https://app.example/callback",
//		Scopes:      []string{"openid", "mitid"},
//	})
//	flow, err := c.Push(ctx, client.WithPrompt("login"))     // back channel: PAR
//	u, err := c.AuthorizationURL(flow)                        // send the browser here; keep flow
//	// … callback …
//	params, err := client.ParseResponse(r)
//	tokens, err := c.Exchange(ctx, flow, params)             // state, iss, code → verified ID token
//
// The authorization URL carries only client_id and request_uri. Client
// authentication is explicit ([ClientSecretBasic], [ClientSecretPost],
// [ClientSecretJWT], [PrivateKeyJWT], [TLSClientAuth], [None]) and the same at
// the PAR and token endpoints. Provider errors are [*ResponseError] (back
// channel) and [*AuthorizationError] (callback); the sentinels
// [ErrStateMismatch], [ErrIssuerMismatch], [ErrNonceMismatch] and
// [ErrRequestURIExpired] mark failed checks. No error or log line ever holds
// a secret, code, verifier, assertion or token.
//
// Token exchange and refresh go through golang.org/x/oauth2; ID tokens are
// verified by github.com/coreos/go-oidc/v3 over a process-wide cached JWKS;
// every JWS is made by github.com/go-jose/go-jose/v4.
package client
