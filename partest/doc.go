// Package partest runs an in-process OAuth 2.0 / OpenID Connect
// authorization server for tests, in the spirit of [net/http/httptest].
//
// It is for tests only. Never use it in production: its keys are generated
// for tests, its stores live in memory and its login step approves a user
// without asking for anything.
//
// The server speaks Pushed Authorization Requests (RFC 9126), PKCE with S256
// (RFC 7636), request objects (RFC 9101), the iss authorization response
// parameter (RFC 9207), DPoP (RFC 9449), JWT-secured authorization
// responses (JARM), Rich Authorization Requests (RFC 9396), OpenID Connect
// Discovery and the
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
// callback parameters; [Server.LoginAs] picks the user. [Server.FailNextLogin]
// makes the next login end with an error instead, such as the user's cancel.
// With Config.Interactive a person picks the user on a page that shows each
// identity's name, assurance levels and details, and can press Cancel.
// Faults ([Fault], [Server.SetFault]) make any endpoint misbehave on
// purpose: error statuses, stalls, truncated or oversized bodies, wrong
// issuers, mix-up attacks and forged ID tokens.
//
// # JWT-secured responses (JARM) and Rich Authorization Requests
//
// A client chooses response_mode jwt (query.jwt for the code flow),
// query.jwt or form_post.jwt (JWT Secured Authorization Response Mode,
// JARM §2.3, as FAPI 2.0 Message Signing profiles it; fragment.jwt is
// refused, as fragment is). The redirect or form then carries one
// parameter, response: a JWT whose claims are the response parameters
// (code and state, or error, error_description and state) with iss, aud
// (the client_id) and exp (Config.AuthorizationResponseLifetime, default 5
// minutes), signed without typ by the server's key for the client's
// [Client].AuthorizationSignedResponseAlg (the keys of the JWKS that signs
// ID tokens) and, when the client registered
// AuthorizationEncryptedResponseAlg and a JWKS key with use "enc",
// encrypted to it (a nested JWT, cty JWT). Errors sent to the client are
// JWT-secured too. Discovery advertises the modes and algorithms (JARM §4).
// Faults forge what a client must refuse: unsigned (JARMAlg "none"), HS256
// with the client secret, a wrong iss (Issuer) or aud, a missing, past or
// far exp (JARMClaims), a key not in the JWKS (JARMKey), another flow's
// response (ReplayJARM) and plain parameters next to response
// (JARMWithPlainParams).
//
// authorization_details (RFC 9396) is accepted in pushed and front-channel
// requests, as a JSON array parameter or as an array claim of a request
// object: an array of objects, each with a type the client may use
// ([Client].AuthorizationDetailsTypes, advertised together in
// authorization_details_types_supported), and locations, actions,
// datatypes, privileges and identifier of the RFC's shapes; anything else
// is refused with invalid_authorization_details (§5). The token response
// (§7), refresh responses and the JWT access token (§9.1) carry the
// details exactly as the client sent them: large integers keep their
// digits, objects their members and order. Details sent to the token
// endpoint (§6) are not read.
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
// Front-channel authorization requests (every parameter in the
// authorization URL, or a signed request object by value, RFC 9101 §5) are
// accepted unless Config.RequirePAR or [Client].RequirePAR says otherwise.
// Config.NoPAR makes a provider without PAR, as most OpenID Connect
// providers are: no pushed_authorization_request_endpoint in discovery and
// 404 Not Found at its path.
//
// # The MitID broker
//
// [BrokerConfig] shapes the server like the Signaturgruppen MitID broker as
// it was recorded answering in pre-production (broker-recorded.md); where
// the broker's documentation says otherwise, the recording wins, and
// Config.BrokerDocumented switches to the documented variants. In short:
// the /op issuer with its endpoints, the recorded discovery document, a
// JWKS of three keys without alg (transaction signing, ID tokens,
// request-object encryption), 600 s request_uri values of 64 upper-case hex
// digits, users with string-typed claims, CIBA (OpenID CIBA Core 1.0, poll
// mode) with the broker's CIBA→PAR bridge, and the broker's answers:
//
//   - a cancelled login or login_required comes back with error,
//     error_description (a broker code such as mitid_user_aborted), state
//     and session_state, and without iss, although discovery advertises
//     authorization_response_iss_parameter_supported; a successful one with
//     code, state, session_state and iss;
//   - an invalid authorization request (an unknown idp_values, an expired,
//     reused or unknown request_uri, a missing scope) sends the browser to
//     the broker's own error page {issuer}/Error?errorId=…, never to the
//     client; Login reports it as an [*AuthorizeError] with its ErrorID;
//   - PAR, token and CIBA errors are bare {"error":…} bodies with 400, also
//     for invalid_client, and UserInfo with a bad token answers 401 with an
//     empty body and WWW-Authenticate: Bearer realm="IdentityServer",
//     error="invalid_token";
//   - the ID token carries the recorded claims (sid and neb_sid, acr, loa,
//     ial, aal, idp, identity_type, amr, transaction_id, idp_transaction_id,
//     session_expiry as a string, idtoken_type, subject_type) and no mitid.*
//     claims: those, with every value a string (auth_time too, amr a single
//     string), are in UserInfo and in the userinfo_token (a JWT, typ
//     at+jwt) of every token response;
//   - clients with the same [Client].Organisation see the same sub
//     ([Server.SubjectFor]).
//
// Transaction signing works as recorded: the app sends idp_params
// {"mitid":{"transaction_text":"<base64>","transaction_text_type":"text"}}
// (text, html or pdf) inside a signed request object with the
// transaction_token scope; partest refuses a transaction text outside a
// signed request object. The token response then carries a
// transaction_token, signed RS256 with the transaction key (found by kid in
// the JWKS; its certificate, CN=NEB Transact PP, is issued by
// [Server.TransactionCA]), valid for six years, with the text as sent in
// transaction_text and mitid.transaction_text, transaction_text_type, and
// transaction_text_sha256: the standard base64 of the SHA-256 of the
// decoded text, the bytes the user was shown (the recording's digest is
// that, not the hash of the base64 string), transaction_actions
// ["mitid.login","mitid.transaction_signing"] (a login with the scope and
// no text gets the one string "mitid.login"), a string auth_time and amr,
// transaction_client_ip and requested_scope; and
// transaction_token_ocsp_resp, the standard base64 of a DER OCSP response
// (RFC 6960) saying "good" about the transaction certificate. These
// transaction tokens are the MitID broker's, not the IETF draft's
// "Transaction Tokens".
//
// # Testing an app built on package login
//
// Point the app at a BrokerConfig server and drive its login the way a
// browser does: POST the app's /login, give the Location to [Server.Login]
// or [Server.LoginAs], and send the parameters to the app's callback.
//
//	srv := partest.NewServer(partest.BrokerConfig(partest.Client{
//		ID: "app", Secret: "s3cret", RedirectURIs: []string{app.URL + "/callback"},
//	}))
//	defer srv.Close()
//	c, _ := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app",
//		Auth: client.ClientSecretBasic("s3cret"), RedirectURL: app.URL + "/callback",
//		Profile: client.ProfileBroker, HTTPClient: srv.Client()})
//	h, _ := login.New(login.Config{Client: c, OnLogin: onLogin}) // the app under test
//
//	// A login of the minor at level Low (BrokerUsers()[1]):
//	params, err := srv.LoginAs(location, partest.BrokerUsers()[1].Subject)
//	// browser: GET app.URL + "/callback?" + params.Encode()
//
//	// The user cancels in MitID: the callback carries error=access_denied,
//	// error_description=mitid_user_aborted, state, session_state, no iss.
//	// The app's OnError recognises it with mitid.UserCancelled(err).
//	srv.FailNextLogin("access_denied", "mitid_user_aborted")
//	params, err = srv.Login(location)
//
// What such a test catches: an app that reads the user's name or age from
// the ID token shows nothing against the real broker, and against
// BrokerConfig too (read them from UserInfo, as the broker puts them there);
// an app that treats a cancel as a security failure; an app that expects
// its callback to be called for a request the broker refuses on its own
// error page. For manual testing, Config.Interactive shows the identity page
// with a Cancel button.
//
// Tokens of tls_client_auth clients are bound to the client certificate
// (RFC 8705 §3). With Config.InProcess nothing listens on a socket, so a
// whole flow can run inside a testing/synctest bubble on its fake clock.
//
// This package imports only the standard library, go-jose, x/crypto's ocsp
// and go-par's internal packages, so it checks the SDK independently of the
// SDK's own code.
package partest
