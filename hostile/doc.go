// Package hostile holds go-par's hardening tests; it has no API of its own.
//
// The tests drive the SDK (discovery, client, login, dpop) against a
// misbehaving provider — package partest with its faults switched on, or a
// hand-written httptest server — and check what an auth SDK must do when
// things go wrong:
//
//   - TestHostile: a table of hostile providers (wrong statuses, malformed,
//     truncated and oversized bodies, stalls, redirects from the PAR and token
//     endpoints, wrong or missing issuers, RFC 9207 mix-ups, reused and
//     expired request_uri values, JWKS rotation and forgery, alg confusion,
//     HTML error pages, Retry-After on 429/503), and a section of forged
//     JWT-secured authorization responses (JARM: unsigned, HS256 with the
//     client secret, a key not in the JWKS, wrong or missing iss, wrong
//     aud, expired, missing or far exp, another flow's response replayed,
//     response next to plain parameters, a plain response to a JARM flow),
//     each refused before any token request. Each case asserts the typed
//     error, no panic, a return within its timeout and no goroutine left
//     behind.
//   - TestSecretHygiene: every flow, successful and failing, run with unique
//     marker values as secrets, keys, codes, verifiers, assertions and
//     tokens; no marker may appear in an error string or a Debug log line.
//     Every exported type that holds a secret is formatted with %v, %+v, %s
//     and %#v and logged with slog's JSON and text handlers; none may show
//     a marker. It prints one summary line, "secrets: … 0 found".
//   - TestEchoingProvider: a provider that echoes the request (client
//     secret, assertion, request object, code, verifier, state, nonce,
//     tokens, auth_req_id) in its error responses at the PAR, token,
//     UserInfo and CIBA endpoints and in the authorization response; none
//     of it may reach an error string, a typed error's members or a log
//     line.
//   - TestSecretTypesCovered: scans the module's source (go/ast) for
//     exported struct types with fields that hold secrets (by name, by type,
//     or through another such type; the rule is documented in
//     secretscan_test.go) and fails when one is missing from the hygiene
//     table.
//   - TestConcurrentLogins: many concurrent logins through the login
//     handlers, each ending with its own subject.
//   - TestLoadHeld: pushes and logins at a steady rate with flat memory and
//     goroutine counts (GOPAR_LOAD sets the duration).
//   - TestJWKSRefetchRateLimited: a flood of tokens with unknown kid values
//     does not make the client hammer the provider's jwks_uri.
//
// Run them with
//
//	go test -race -v ./hostile/
//
// GOPAR_LONG=1 runs the 10,000-login concurrency test; GOPAR_LOAD=60s holds
// the load test for a minute.
package hostile
