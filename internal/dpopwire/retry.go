package dpopwire

import "net/http"

// Reply is what the retry rule reads of a response: its status, header and,
// for an authorization server's 400, its body.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Retry is the one use_dpop_nonce retry of the SDK (RFC 9449 §8 for
// authorization servers, §9 for resource servers). It sends a request with
// the latest nonce stored for origin and remembers the DPoP-Nonce of every
// response. When the response is a nonce challenge (see IsChallenge) that
// carries a nonce other than the one sent, and retry is true, it sends the
// request once more with that nonce; never more than once, and never for
// any other reason.
//
// send makes one attempt with the given nonce ("" for none): it must mint a
// new proof (and a new client assertion) each time. drop, when not nil,
// releases the result of a challenged attempt before the retry.
func Retry[R any](store Store, origin string, retry bool, send func(nonce string) (R, Reply, error), drop func(R)) (R, error) {
	sent := store.Nonce(origin)
	r, rep, err := send(sent)
	if err != nil {
		return r, err
	}
	nonce, ok := ParseNonce(rep.Header)
	if ok {
		store.SetNonce(origin, nonce)
	}
	if !retry || !ok || nonce == sent || !IsChallenge(rep.Status, rep.Header, rep.Body) {
		return r, nil
	}
	if drop != nil {
		drop(r)
	}
	r, rep, err = send(nonce)
	if err != nil {
		return r, err
	}
	if n, ok := ParseNonce(rep.Header); ok {
		store.SetNonce(origin, n)
	}
	return r, nil
}
