// Package discovery fetches, validates and caches OAuth 2.0 authorization
// server metadata: OpenID Connect Discovery 1.0 and RFC 8414, with the
// members of RFC 9126 (PAR), RFC 9207, RFC 9449 (DPoP) and RFC 8705 (mTLS).
//
// The issuer is compared exactly with the configured one, every endpoint
// must be https (http only on loopback), redirects are refused and bodies
// are capped at 1 MiB. Unknown members are kept: see [Metadata.Claims].
//
//	md, err := discovery.Fetch(ctx, nil, "https://pp.netseidbroker.dk/op")
//	if err != nil { ... }
//	par := md.Endpoint("pushed_authorization_request_endpoint", false)
//
// A long-running program shares one [Cache], which fetches each issuer once
// for any number of concurrent callers and refreshes it after a TTL.
package discovery
