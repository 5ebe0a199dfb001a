package dpop

// NonceStore keeps the latest DPoP nonce per server origin (RFC 9449 §8.2:
// a nonce is valid for the server that issued it), keyed by
// "scheme://host:port". Implementations must be safe for concurrent use.
// Share one between Transports (or with client.Config.DPoPNonces) to spare
// each a first nonce challenge.
type NonceStore interface {
	// Nonce returns the latest nonce for origin, or "".
	Nonce(origin string) string
	// SetNonce records nonce for origin; an empty nonce forgets it.
	SetNonce(origin, nonce string)
}
