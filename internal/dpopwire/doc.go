// Package dpopwire holds the wire rules of DPoP (RFC 9449) that package
// dpop and the SDK's back channel share: the htu normalisation (§4.3), the
// DPoP-Nonce header (§8.1), origins as nonce-store keys (§8.2), the
// WWW-Authenticate parser and nonce challenges (§8, §9), and [Retry], the
// one use_dpop_nonce retry.
//
//	htu, err := dpopwire.HTU("https://as.example/token?x=1") // https://as.example/token
//	resp, err := dpopwire.Retry(store, dpopwire.Origin(u), true, send, nil)
package dpopwire
