// Par is a command-line debugger for OAuth 2.0 Pushed Authorization
// Requests (RFC 9126) and OpenID Connect providers, built on go-par.
//
//	par discover ISSUER   metadata, with what PAR / FAPI 2.0 needs flagged
//	par push [flags]      push a request; print the authorization URL, request_uri, expiry
//	par login [flags]     a whole login on a loopback redirect URI; print the verified claims
//	par decode JWT        a JWT's header and claims, UNVERIFIED
//
// Every command takes --json. Exit codes: 0 ok, 1 protocol or provider
// error, 2 usage, 3 network. Flags of push and login default to the
// PAR_ISSUER, PAR_CLIENT_ID, PAR_CLIENT_SECRET, PAR_KEY_FILE,
// PAR_KEY_PASSWORD, PAR_AUTH_METHOD, PAR_REDIRECT_URL, PAR_SCOPES, PAR_PARAMS,
// PAR_PROFILE, PAR_RESPONSE_MODE and PAR_RESPONSE_KEY_FILE environment
// variables (--help never shows the secret ones). --response-mode jwt (or
// query.jwt, form_post.jwt) asks for JWT-secured responses (JARM), which
// login verifies, decrypting them with --response-key when the provider
// encrypts; --authorization-details file.json pushes Rich Authorization
// Request details (RFC 9396), and login prints those granted. Secrets, codes, verifiers and tokens are never printed. The page
// that par login's loopback callback shows in the browser says only what
// par chose to say (an RFC 6749 error code at most); the provider's own
// text goes to stderr. A login the provider ended with an error code is
// told by the code's group in the MitID broker's catalogue
// (mitid.OutcomeOf): "You cancelled the login" for the broker's cancel,
// which comes without iss, and a generic denial for codes outside it.
//
//	go run ./cmd/par discover https://pp.netseidbroker.dk/op
//	PAR_CLIENT_SECRET=… go run ./cmd/par login --issuer https://pp.netseidbroker.dk/op \
//	    --client-id 0a775a87-… --redirect-uri http://127.0.0.1:8400/callback --scope "openid mitid" --open
package main
