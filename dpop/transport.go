package dpop

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/dpopwire"
)

// ErrNotDPoPToken is returned by [Transport] when its token source gives a
// token whose type is not "DPoP" (RFC 9449 §5). A bound token is never sent
// as Bearer, and a Bearer token is never sent with a proof.
var ErrNotDPoPToken = errors.New("dpop: token type is not DPoP")

// maxDrain is how much of a challenged response body is read before it is
// closed for the retry, so that the connection can be reused.
const maxDrain = 64 << 10

// Transport is an [http.RoundTripper] for requests to resource servers with
// a DPoP-bound access token (RFC 9449 §7). For each request it sends a clone
// with "Authorization: DPoP <token>" and a DPoP header holding a fresh proof
// (with ath, and the latest nonce for the server's origin). It remembers the
// DPoP-Nonce of every response, and when a response is a 401 with a
// use_dpop_nonce challenge and a new nonce (§9) it retries exactly once with
// that nonce and a new proof — but only when the request body can be sent
// again (no body, or Request.GetBody set, as http.NewRequest does for
// in-memory bodies). It never retries for any other reason.
//
// The token's Type must be "DPoP" (case-insensitive), else RoundTrip fails
// with [ErrNotDPoPToken] and sends nothing; use [golang.org/x/oauth2.Transport]
// for Bearer tokens. Note that oauth2.Transport would send a DPoP token
// without a proof.
//
// The caller's request is never modified. Like any transport that adds
// credentials, Transport adds them to every request it sees, including the
// hops of redirects the http.Client follows; the proof binds each to its own
// URL, but the token is visible to the redirect target.
//
// A Transport must not be copied after first use; it is safe for concurrent
// use when its fields are not changed.
type Transport struct {
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Proofer mints the proofs; required.
	Proofer *Proofer
	// Source gives the access token; required. Wrap it with
	// oauth2.ReuseTokenSource to refresh only when needed.
	Source oauth2.TokenSource
	// Nonces keeps nonces per origin; nil means a store owned by this
	// Transport.
	Nonces NonceStore

	own dpopwire.MemoryStore
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) nonces() dpopwire.Store {
	if t.Nonces != nil {
		return t.Nonces
	}
	return &t.own
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if t.Proofer == nil || t.Source == nil {
		closeBody()
		return nil, errors.New("dpop: transport needs a Proofer and a Source")
	}
	if req.URL == nil {
		closeBody()
		return nil, fmt.Errorf("%w: nil url", ErrInvalidURL)
	}
	tok, err := t.Source.Token()
	if err != nil {
		closeBody()
		return nil, fmt.Errorf("dpop: token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		closeBody()
		return nil, errors.New("dpop: token source gave no access token")
	}
	if typ := tok.Type(); !strings.EqualFold(typ, "DPoP") {
		closeBody()
		return nil, fmt.Errorf("%w: %.32q", ErrNotDPoPToken, typ)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	htu, err := dpopwire.HTUOf(req.URL, req.Host)
	if err != nil {
		closeBody()
		return nil, err
	}
	first := true
	send := func(nonce string) (*http.Response, dpopwire.Reply, error) {
		body := req.Body
		if !first && req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			// RFC 9449 §9: the retry sends the same body again.
			if body, err = req.GetBody(); err != nil {
				return nil, dpopwire.Reply{}, fmt.Errorf("dpop: replaying the request body: %w", err)
			}
		}
		first = false
		r, err := t.prepare(req, body, method, htu, nonce, tok.AccessToken)
		if err != nil {
			if body != nil {
				body.Close()
			}
			return nil, dpopwire.Reply{}, err
		}
		resp, err := t.base().RoundTrip(r)
		if err != nil {
			return nil, dpopwire.Reply{}, err
		}
		return resp, dpopwire.Reply{Status: resp.StatusCode, Header: resp.Header}, nil
	}
	drain := func(resp *http.Response) {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
		resp.Body.Close()
	}
	return dpopwire.Retry(t.nonces(), dpopwire.OriginOf(req.URL), replayable(req), send, drain)
}

// prepare clones req with body and the DPoP headers.
func (t *Transport) prepare(req *http.Request, body io.ReadCloser, method, htu, nonce, token string) (*http.Request, error) {
	proof, err := t.Proofer.proof(method, htu, nonce, token)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "DPoP "+token)
	r.Header.Set("DPoP", proof)
	return r, nil
}

// replayable reports whether req's body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}
