// Package partest runs an in-process OAuth 2.0 / OpenID Connect
// authorization server for tests, in the spirit of [net/http/httptest].
//
// It is for tests only. Never use it in production: its keys are generated
// for tests, its stores live in memory and its login step approves a user
// without asking for anything.
//
// The server speaks Pushed Authorization Requests (RFC 9126), PKCE with S256
// (RFC 7636), request objects (RFC 9101), the iss authorization response
// parameter (RFC 9207), DPoP (RFC 9449), OpenID Connect Discovery and the
// RFC 8414 metadata document, and it checks what a strict provider such as
// node-oidc-provider 9.x checks: client authentication exactly as specified
// (RFC 6749 §2.3.1 form-encoded Basic credentials, client assertions with
// single-use jti values, RFC 7523), single-use request_uri values and codes,
// registered redirect URIs and DPoP proofs.
//
//	srv := partest.NewServer(partest.Config{
//		Clients: []partest.Client{{ID: "app", Secret: "s", RedirectURIs: []string{cb}}},
//	})
//	defer srv.Close()
//	// push to srv.Issuer()'s pushed_authorization_request_endpoint, then:
//	params, err := srv.Login(authorizationURL) // code, state, iss
//
// Login plays a headless user: it fetches the authorization URL without
// cookies or redirects, approves the default (or hinted) user and returns the
// callback parameters. Faults ([Fault], [Server.SetFault]) make any endpoint
// misbehave on purpose: error statuses, stalls, truncated or oversized
// bodies, wrong issuers, mix-up attacks and forged ID tokens.
//
// When a request_uri is used at the authorization endpoint, every other
// query parameter except client_id is ignored, following RFC 9126 §4 and
// RFC 9101 §6.3 (only the pushed parameters count); client_id must match
// the client that pushed the request. Like node-oidc-provider, the pushed
// request is consumed by its first use, and an expired one is refused with
// invalid_request_uri. Errors found before the redirect URI is trusted
// (unknown client, bad request_uri) are shown on an error page, later ones
// are sent to the redirect URI with state and iss.
//
// [BrokerConfig] shapes the server like the Signaturgruppen MitID broker:
// issuer path /op, endpoints below /connect, the broker's JWKS and discovery
// document, 600 s request_uri values of 64 upper-case hex digits, users with
// string-typed claims, and CIBA (OpenID CIBA Core 1.0, poll mode) with the
// broker's CIBA→PAR bridge: a backchannel authentication request with a
// broker_oidc login_hint_token, init-auth returning an authentication_uri,
// a browser login there (Login returns empty parameters for the broker's
// "you may close this window" page), and polls answered with
// authorization_pending, slow_down, access_denied ([Server.DenyCIBA]),
// expired_token, the tokens once, then invalid_grant. Tokens of
// tls_client_auth clients are bound to the client certificate (RFC 8705
// §3). With Config.InProcess nothing listens on a socket, so a whole flow
// can run inside a testing/synctest bubble on its fake clock.
//
// This package imports only the standard library, go-jose and go-par's
// internal packages, so it checks the SDK independently of the SDK's own code.
package partest
