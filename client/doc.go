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
// The authorization URL carries only client_id and request_uri (for a
// provider without PAR, see below). Client
// authentication is explicit ([ClientSecretBasic], [ClientSecretPost],
// [ClientSecretJWT], [PrivateKeyJWT], [TLSClientAuth], [None]) and the same at
// the PAR and token endpoints. Provider errors are [*ResponseError] (back
// channel) and [*AuthorizationError] (callback); the sentinels
// [ErrStateMismatch], [ErrIssuerMismatch], [ErrInvalidIDToken],
// [ErrInvalidResponse] and [ErrRequestURIExpired] mark failed checks. No
// error or log line ever holds a secret, code, verifier, assertion or token.
//
// After the login: [Client.Refresh] (and [Client.TokenSource]) refreshes
// tokens, checking a new ID token against the login's (OIDC Core §12.2);
// [Client.UserInfo] and [Client.ResourceClient] call the provider and
// resource servers with the access token; [Client.LogoutURL] ends the
// session at the provider. [Client.Grant] (extension grants such as CIBA's)
// and [Client.Post] (other authenticated calls, such as CIBA initiation)
// are the hooks package mitid is built on.
//
// To trust a private CA or present a client certificate (tls_client_auth),
// set Config.HTTPClient to [NewHTTPClient]: a bare
// &http.Transport{TLSClientConfig: …} loses HTTP/2 and keeps net/http's two
// idle connections per host.
//
// # Error responses without iss
//
// RFC 9207 §2.4 says a client that expects iss must refuse a response
// without it. The MitID broker advertises iss but redirects a user's
// cancel (access_denied, mitid_user_aborted) and login_required without
// it, so following the letter would turn the most common error a user
// causes into a security failure. The rule here: when the provider
// advertises iss (or RequireIssuerParameter is set), an error response
// without iss whose state matches the flow still gives the app the
// provider's [*AuthorizationError] (errors.As works) in every profile. Under
// [ProfileBroker] that is all (a Debug log line); under the default and FAPI
// 2.0 profiles the error is joined with [ErrIssuerMismatch] (errors.Is
// works) and logged at Warn. Reasoning: iss defends against mix-up attacks,
// whose goal is to get the authorization code (or tokens) of one provider
// sent to another; an error response carries no code and leads to no token
// request, so an attacker who forges or redirects one gains at most an
// error page — which it could cause by never sending the user back. A
// wrong iss is a mix-up refusal in every profile, error or not, and a
// success response without iss is refused.
//
// # Providers without PAR
//
// Most OpenID Connect providers have no PAR endpoint, and New refuses them
// unless Config.InsecureFrontChannel is set. Then Push sends nothing and
// AuthorizationURL carries a classic authorization request (RFC 6749
// §4.1.1, OIDC Core §3.1.2.1): response_type=code, client_id,
// redirect_uri, scope, state, nonce, the PKCE S256 code_challenge,
// dpop_jkt with DPoP (RFC 9449 §10) and the options given to Push; with
// Config.RequestObject, client_id and the signed request object by value
// (request, RFC 9101 §5) with response_type and scope (OIDC Core §6.1).
// The Flow holds what the callback needs, as with PAR, so ParseResponse,
// Exchange, package login and everything after are unchanged.
//
// The field is named Insecure, like crypto/tls's InsecureSkipVerify,
// because it gives up what PAR is for (RFC 9126 §1): the request passes
// through the browser, where extensions, proxies and the user can read or
// change it, the provider sees it before it knows the client is genuine,
// and the URL is kept in browser history and server logs. PKCE, state,
// nonce and iss still protect the login itself. So the setting is narrow:
// a provider with a PAR endpoint (or an mTLS alias of one) always gets
// PAR, whatever the setting says; New refuses the setting under
// ProfileFAPI2 (FAPI 2.0 §5.3.3.2 requires PAR), for a provider whose
// metadata requires PAR without offering it, and with a request object
// keyed with the client secret and not encrypted (its HMAC in the URL
// would let anyone who sees the URL test guesses of the secret); Push
// refuses options that carry a credential (code, tokens, passwords,
// assertions) with ErrReservedParameter. The client secret and assertions
// only ever go to the token endpoint.
//
// # JWT-secured responses (JARM) and FAPI 2.0 Message Signing
//
// With Config.ResponseMode "jwt", "query.jwt" or "form_post.jwt" the
// provider sends the authorization response as one parameter, response: a
// JWT it signs (JARM §2.1) and, when the client registered an encryption
// key (Config.ResponseDecryptionKey), encrypts to the client (§2.2).
// [ParseResponse] has no keys: it hands the response on unverified, and
// refuses it next to plain response parameters. [Client.Exchange]
// decrypts and verifies it where the keys are, before anything else: the
// provider's signature from its key set with an allowed asymmetric
// algorithm (as for ID tokens; never none or HS*), iss the issuer, aud
// the client, exp present, not past and at most ResponseJWTMaxLifetime
// ahead. Every refusal wraps [ErrInvalidResponseJWT] and comes before any
// token request. The JWT's claims then take exactly the checks of a plain
// response: state, the provider's error, the code. [Client.ResponseParams]
// opens a response without a flow, to find the flow by its state.
//
// JARM and RFC 9207: the iss claim of a response JWT is required (JARM
// §2.1) and covered by the signature, so it is the response's iss; the
// exception above for error responses without iss does not apply to a
// response JWT, which is refused without it (ErrInvalidResponseJWT and
// ErrIssuerMismatch) in every profile, error or not. A plain response where
// the flow asked for a JWT response mode is refused too, its provider error
// still reachable with errors.As.
//
// Config.MessageSigning adds FAPI 2.0 Message Signing to [ProfileFAPI2]:
// [SignedRequests] (request objects, §5.3), [SignedResponses] (JARM, §5.4),
// or both; New refuses a Config that breaks the choice.
//
// Every authenticated call to the provider (PAR, token, UserInfo) takes one
// back channel that adds the client authentication, the DPoP proof and its
// single use_dpop_nonce retry, caps bodies at 1 MiB and turns RFC 6749 §5.2
// errors into [*ResponseError]. Tokens are golang.org/x/oauth2's
// [oauth2.Token]; ID tokens are verified by github.com/coreos/go-oidc/v3
// over a process-wide cached JWKS; every JWS is made by
// github.com/go-jose/go-jose/v4.
package client
