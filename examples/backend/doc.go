// Backend is an example service that starts logins from the back end, for
// flows where a server (a call centre tool, a kiosk, a chat bot) needs a
// user to log in and then learns who it was.
//
//	go run ./examples/backend           # http://127.0.0.1:8081, embedded test provider
//
//	curl -X POST localhost:8081/logins  # {"id":…, "authorization_url":…, "expires_at":…}
//	# the user opens authorization_url (a link, a QR code) and logs in
//	curl localhost:8081/logins/ID       # {"status":"pending"|"done"|"failed", "sub":…}
//
// POST /logins pushes the authorization request (RFC 9126 §2); the returned
// URL carries only client_id and request_uri. GET|POST /callback takes the
// flow once by its state and exchanges the code (HEAD gets 405: a link
// checker's or prefetcher's HEAD must not use up the code); GET /logins/{id}
// reports the outcome with the subject.
//
// POST /ciba-logins is the MitID broker's CIBA→PAR variant (package
// mitid's CIBA): the service sends a backchannel authentication request,
// asks the broker's init-auth bridge for the authorization URL (the broker
// pushes the request itself), and polls the token endpoint until the user
// has finished. It is offered when the provider's metadata has a
// backchannel_authentication_endpoint; the endpoints of the bridge can be
// set with PAR_CIBA_INIT_AUTH_URL and PAR_CIBA_CANCEL_URL. The embedded
// provider is partest's MitID broker emulation (partest.BrokerConfig), which
// has CIBA, so both kinds of login work without configuration; the tests
// run them end to end against it. That emulation follows the broker's
// documentation; the variant has not been run against the real broker.
//
// Environment: PAR_ISSUER, PAR_CLIENT_ID, PAR_CLIENT_SECRET,
// PAR_REDIRECT_URL, PAR_SCOPES, PAR_PROFILE, PAR_CIBA_INIT_AUTH_URL,
// PAR_CIBA_CANCEL_URL, PORT; see -h.
package main
