package backchannel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/redact"
)

// Authenticator authenticates one request (RFC 6749 §2.3): it sets form
// members and/or the Authorization header, and mints any client assertion
// afresh on every call (a new jti per attempt). The form it is given is
// empty and holds its members only: they are sent with the request's form,
// replacing members of the same name.
type Authenticator interface {
	Authenticate(form url.Values, h http.Header) error
}

// Channel sends authenticated requests to one provider. It is immutable
// and safe for concurrent use.
type Channel struct {
	// HTTPClient sends the requests; it must refuse redirects (the bodies
	// carry credentials), as httpx.NoRedirects makes it.
	HTTPClient *http.Client
	// Auth authenticates form POSTs; nil sends none.
	Auth Authenticator
	// DPoP mints proofs for requests that ask for one; nil for none.
	DPoP *dpop.Proofer
	// Nonces keeps the DPoP nonces per origin; required with DPoP.
	Nonces dpopwire.Store
	// Logger receives a Debug line per nonce retry; required.
	Logger *slog.Logger
}

// Request is one call.
type Request struct {
	// Name names the call in errors and logs: "par", "token", "userinfo", …
	Name string
	// URL is the endpoint.
	URL string
	// Form, when not nil, is sent as an authenticated form POST; it is not
	// modified. A nil Form makes a GET.
	Form url.Values
	// DPoP adds a DPoP proof (when the Channel has a Proofer) and the
	// single use_dpop_nonce retry.
	DPoP bool
	// Token, for a GET, is the access token: "Authorization: Bearer", or
	// "DPoP" with a proof carrying its hash when DPoP is set (RFC 9449 §7).
	Token string
	// Accept is the Accept header; default application/json.
	Accept string
}

// Response is a provider's answer, its body read (at most 1 MiB).
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte

	// sent are the attempts that led to this answer (the first and any
	// nonce retry), kept for Sent; held by value, so a success costs no
	// allocation.
	sent [2]attempt
}

// attempt is one request as sent: its form (nil for a GET) with the
// members the client authentication set (auth, which win), and its header.
type attempt struct {
	form, auth url.Values
	header     http.Header
}

// Sent adds to v what the requests behind r carried that is secret (see
// redact.Values.AddRequest): the secret form members of every attempt (code,
// code_verifier, refresh_token, auth_req_id, client_secret, the client
// assertion, …), the Authorization credentials and the DPoP proofs. A
// provider's error response must not echo them into an error string or a
// log line; the caller adds what only it knows (the client secret, values
// inside a request object).
func (r *Response) Sent(v *redact.Values) {
	for _, a := range r.sent {
		if a.header != nil {
			v.AddRequest(a.form, a.header)
			v.AddRequest(a.auth, nil)
		}
	}
}

// Do sends r. Transport errors are returned with the URL redacted; a body
// over 1 MiB gives an error wrapping httpx.ErrBodyTooLarge. Any status is a
// Response: the caller decides what is success.
func (c *Channel) Do(ctx context.Context, r Request) (Response, error) {
	method := http.MethodGet
	if r.Form != nil {
		method = http.MethodPost
	}
	if !r.DPoP || c.DPoP == nil {
		return c.send(ctx, r, method, "", false)
	}
	return c.doDPoP(ctx, r, method)
}

// doDPoP sends r with a DPoP proof and the single nonce retry. (Apart from
// Do, so that a request without DPoP does not pay for the closure.)
func (c *Channel) doDPoP(ctx context.Context, r Request, method string) (Response, error) {
	var first attempt // the challenged attempt, for the retry's Sent
	return dpopwire.Retry(c.Nonces, dpopwire.Origin(r.URL), true, func(nonce string) (Response, dpopwire.Reply, error) {
		retry := first.header != nil
		if retry {
			c.Logger.LogAttrs(ctx, slog.LevelDebug, "client: dpop nonce challenge, retrying once",
				slog.String("endpoint", r.URL))
		}
		resp, err := c.send(ctx, r, method, nonce, true)
		if err != nil {
			return Response{}, dpopwire.Reply{}, err
		}
		if retry {
			resp.sent[1] = first
		} else {
			first = resp.sent[0]
		}
		return resp, dpopwire.Reply{Status: resp.StatusCode, Header: resp.Header, Body: resp.Body}, nil
	}, nil)
}

// send makes one attempt and reads the response.
func (c *Channel) send(ctx context.Context, r Request, method, nonce string, dp bool) (Response, error) {
	req, auth, err := c.request(ctx, r, method, nonce, dp)
	if err != nil {
		return Response{}, err
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return Response{}, httpx.RedactError(err, true)
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return Response{}, err
	}
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body,
		sent: [2]attempt{{form: r.Form, auth: auth, header: req.Header}}}, nil
}

// request builds one attempt: r's form with the client authentication's
// members (in a map of their own, returned; r.Form is not modified), and a
// fresh DPoP proof with nonce.
func (c *Channel) request(ctx context.Context, r Request, method, nonce string, dp bool) (*http.Request, url.Values, error) {
	var req *http.Request
	var err error
	if r.Form != nil {
		// The header is the request's own; the body is set once the
		// authentication has added its members.
		req, err = http.NewRequestWithContext(ctx, method, r.URL, http.NoBody)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, r.URL, nil)
	}
	if err != nil {
		return nil, nil, httpx.RedactError(err, true)
	}
	h := req.Header
	var auth url.Values
	if r.Form != nil {
		auth = make(url.Values, 4)
		if c.Auth != nil {
			if err := c.Auth.Authenticate(auth, h); err != nil {
				return nil, nil, fmt.Errorf("client authentication: %w", err)
			}
		}
		body := strings.NewReader(encodeForm(r.Form, auth))
		req.Body = io.NopCloser(body)
		req.ContentLength = body.Size()
		snapshot := *body
		req.GetBody = func() (io.ReadCloser, error) {
			r := snapshot
			return io.NopCloser(&r), nil
		}
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if dp {
		proof, err := c.DPoP.Proof(method, r.URL, nonce, r.Token)
		if err != nil {
			return nil, nil, err
		}
		h.Set("DPoP", proof)
	}
	if r.Token != "" {
		scheme := "Bearer "
		if dp {
			scheme = "DPoP "
		}
		h.Set("Authorization", scheme+r.Token)
	}
	accept := r.Accept
	if accept == "" {
		accept = "application/json"
	}
	h.Set("Accept", accept)
	return req, auth, nil
}
