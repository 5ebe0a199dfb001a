// Webapp is an example web app that logs users in with OAuth 2.0 Pushed
// Authorization Requests (RFC 9126) and OpenID Connect through go-par's
// login handlers, and shows, for each login, every protocol step that went
// over the wire: discovery, the push, the two-parameter authorization
// redirect, the callback, the token exchange, the ID token checks and
// UserInfo, with secrets redacted.
//
//	go run ./examples/webapp            # http://127.0.0.1:8080, embedded test provider
//	go run ./examples/webapp -addr 127.0.0.1:0 -v
//
// Without configuration it starts an embedded partest provider (issuer
// http://127.0.0.1:<port>/op) with Danish test identities shaped like the
// MitID broker's, and needs no network. With these environment variables
// the same code logs in at a real provider, such as the MitID broker's
// pre-production https://pp.netseidbroker.dk/op:
//
//	PAR_ISSUER           issuer; without it the embedded provider is used
//	PAR_CLIENT_ID        client_id
//	PAR_CLIENT_SECRET    client secret (client_secret_basic by default)
//	PAR_KEY_FILE         private_key_jwt key: PEM, JWK(S) or PKCS#12 (.p12, OCES3)
//	PAR_KEY_PASSWORD     PKCS#12 password
//	PAR_AUTH_METHOD      client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none
//	PAR_REDIRECT_URL     registered redirect_uri (default http://<addr>/auth/callback)
//	PAR_POST_LOGOUT_URL  registered post_logout_redirect_uri (optional)
//	PAR_SCOPES           space-separated scopes, e.g. "openid mitid"
//	PAR_PARAMS           extra authorization parameters, k=v&k=v, e.g. idp_values=mitid&language=da
//	PAR_PROFILE          default, broker or fapi2 (FAPI 2.0: private_key_jwt + DPoP)
//	PAR_RESPONSE_MODE    query, form_post, or JWT-secured (JARM) jwt, query.jwt, form_post.jwt
//	PAR_RESPONSE_KEY_FILE  key that decrypts encrypted JARM responses (use enc)
//	PORT                 listen on :PORT when -addr is not given
//
// With a JWT response mode (PAR_RESPONSE_MODE=jwt works with the embedded
// provider too) the timeline gains a step between the callback and the
// token exchange: the response JWT's form (JWS or JWE, alg, kid) and the
// checks the client made before reading the code inside it (decryption,
// signature, iss, aud, exp), or why it was refused.
//
// Sessions are package session's: the browser holds only the opaque
// __Host-webapp-session cookie (host-only, Path=/, Secure, HttpOnly,
// SameSite=Lax); the tokens, the ID token and the provider's sid stay
// server-side (in memory here; the browser test in interop/browser runs two
// replicas on one Redis through package site's Options); UserInfo is called
// with the session's access token, refreshed when needed; the provider's
// back-channel (POST /auth/backchannel) and front-channel (GET
// /auth/frontchannel) logouts end the session, and logout ends it before
// the browser goes to the provider. The result page draws a waterfall of the
// login (each back- and front-channel hop on a time axis with its duration,
// inline SVG) next to the step-by-step trace.
//
// What the app does for its users' safety, to copy along with the login:
// a new login replaces the browser's previous session (new id, old one
// dead); pages with personal data are no-store and
// never come back from the back/forward cache (site/static/app.js empties them
// when they are left and reloads them when they are restored); every page
// sends Content-Security-Policy with frame-ancestors 'none', X-Frame-Options
// DENY and Referrer-Policy same-origin; error pages show login.Message, or
// for a login the provider ended with an error code the message of the
// code's group (mitid.OutcomeOf: "You cancelled the login" for the MitID
// broker's cancel, which arrives without iss; a generic denial for codes
// outside the broker's catalogue), never text from the callback URL, which
// anybody can write, and the details go to the log. http://localhost is redirected to the redirect
// URI's host (127.0.0.1 by default) before a login, a browser that blocks
// cookies is told to allow them, a reopened callback in a logged-in
// browser shows the session, and the login handler's default start limits
// apply.
//
// On the loopback development setup the cookies keep __Host- and Secure:
// Chromium (checked by the browser test in interop/browser) and Firefox
// accept them from http://127.0.0.1 and localhost; a browser that does not
// gets the "cookies are blocked" page when it starts a login. Cookies
// ignore ports, though: any other program serving pages on 127.0.0.1 can
// set cookies for the app, such as a login-binding cookie of a flow it
// started, and so log your browser in as someone else. That is a risk of
// development on loopback only; deployed over https on a host of its own,
// the __Host- prefix keeps other hosts from planting cookies. Over plain
// http on any other host the cookies cannot be Secure (the app logs a
// warning): use that for development only.
//
// Each step is logged at Info level to stderr. The page's timeline is
// recorded by an http.RoundTripper around the client's HTTP client, keyed
// per login by the pushed state; it never holds a secret, code, verifier or
// token.
package main
