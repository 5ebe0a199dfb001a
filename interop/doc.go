// Package interop holds go-par's interoperability suite: the SDK's flows
// (discovery, PAR with every client authentication method, authorization,
// code exchange, ID token verification) run against a real
// node-oidc-provider that the tests start themselves. See README.md.
package interop
