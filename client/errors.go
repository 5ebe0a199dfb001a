package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/jwks"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrStateMismatch: the callback's state is not the flow's (CSRF or a
	// mixed-up flow).
	ErrStateMismatch = errors.New("client: callback: state mismatch")
	// ErrIssuerMismatch: the callback's iss is not the issuer, or is missing
	// although the provider advertises RFC 9207 support (RFC 9207 §2.4).
	ErrIssuerMismatch = errors.New("client: callback: issuer mismatch")
	// ErrRequestURIExpired: the flow's request_uri has expired (or is about
	// to); push again (RFC 9126 §4).
	ErrRequestURIExpired = errors.New("client: request_uri expired")
	// ErrMissingCode: the callback carries neither a code nor an error.
	ErrMissingCode = errors.New("client: callback: missing code")
	// ErrInvalidIDToken wraps every ID token verification failure
	// (signature, algorithm, issuer, audience, azp, expiry, iat, sub, nonce,
	// at_hash, auth_time, and a refreshed token's OIDC Core §12.2 match).
	// errors.As still reaches go-oidc's typed errors such as
	// *oidc.TokenExpiredError.
	ErrInvalidIDToken = errors.New("client: id token invalid")
	// ErrMaxAgeExceeded: max_age was pushed and the ID token's auth_time is
	// missing or older (OIDC Core §3.1.2.1, §3.1.3.7 item 13); authenticate
	// again. Errors wrapping it also wrap ErrInvalidIDToken.
	ErrMaxAgeExceeded = errors.New("client: id token: auth_time older than max_age")
	// ErrInvalidResponse: a provider response was malformed or failed a
	// check: not JSON, missing or wrong-typed members, oversized, no id_token
	// from an openid login, a token_type other than the one asked for (DPoP
	// asked, Bearer given), or a UserInfo sub that is not the ID token's
	// (OIDC Core §5.3.2).
	ErrInvalidResponse = errors.New("client: invalid response")
	// ErrInvalidResponseJWT wraps every refusal of a JWT-secured
	// authorization response (JARM): not signed, or signed with an
	// algorithm outside the ID token allow-list (none, HS*), a bad
	// signature or unknown key, iss not the issuer (the error then also
	// wraps ErrIssuerMismatch), aud not this client, exp missing, past or
	// too far ahead, not encrypted although a decryption key is configured
	// (or the reverse), undecryptable, or a plain response where the flow
	// asked for a JWT-secured one.
	ErrInvalidResponseJWT = errors.New("client: callback: response JWT invalid")
	// ErrReservedParameter: a caller tried to set a parameter that the SDK owns
	// (request_uri, a different client_id, PKCE parameters).
	ErrReservedParameter = errors.New("client: reserved parameter")
)

// ResponseError is an error response from a back-channel endpoint (PAR,
// token, UserInfo): RFC 6749 §5.2 and RFC 9126 §2.3. It never holds request
// secrets: a provider may echo the request in its error, so in every
// provider-written member (Code, Description, URI, Header and Body) the
// values the client sent — its client secret, client assertion and DPoP
// proof, the codes, verifiers, tokens, request object, state and nonce of
// the request — are replaced by "[redacted]" before the error is made.
// Values shorter than 8 bytes are left alone (they would cut ordinary
// words). Error() and log lines therefore cannot show them either.
type ResponseError struct {
	// Endpoint is "par", "token", "userinfo" or another endpoint name.
	Endpoint string
	// URL is the endpoint URL.
	URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code, Description and URI are the RFC 6749 §5.2 error members. When
	// the body has no error code, they come from the first WWW-Authenticate
	// challenge with an error parameter (RFC 6750 §3, RFC 9449 §7.1, RFC
	// 9470 §3), as in the MitID broker's UserInfo 401 (empty body, Bearer
	// realm="IdentityServer", error="invalid_token"). Empty when neither
	// has one (e.g. an HTML error page, a bare "Bearer" challenge).
	Code        string
	Description string
	URI         string
	// RetryAfter is the parsed Retry-After delay (429/503), zero if none.
	RetryAfter time.Duration
	// Header is the response header, with echoed values redacted.
	Header http.Header
	// Body is the response body, at most 1 MiB: a redacted copy. Each
	// echoed value is replaced in place when it appears as sent or in a
	// common encoding (form-, path-, JSON- or HTML-escaped, base64); a JSON
	// body in which a value still shows after that is re-encoded from its
	// decoded form with the value redacted, and any other such body is
	// replaced by a note saying it was withheld.
	Body []byte
}

// Error describes the response: endpoint, OAuth error code and description
// (RFC 6749 §5.2) or the bare HTTP status, and any Retry-After delay.
func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
		if e.Description != "" {
			b.WriteString(": ")
			b.WriteString(truncate(e.Description, 200))
		}
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	} else {
		fmt.Fprintf(&b, "unexpected HTTP status %d", e.StatusCode)
		switch e.StatusCode {
		case http.StatusMethodNotAllowed:
			b.WriteString(" (method not allowed)")
		case http.StatusRequestEntityTooLarge:
			b.WriteString(" (request too large)")
		case http.StatusTooManyRequests:
			b.WriteString(" (too many requests)")
		case http.StatusServiceUnavailable:
			b.WriteString(" (service unavailable)")
		}
		if ct := e.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
			b.WriteString(" with ")
			b.WriteString(truncate(ct, 60))
			b.WriteString(" body")
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Temporary reports whether the error is one a caller may retry later
// (429, 503, temporarily_unavailable).
func (e *ResponseError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable ||
		e.Code == "temporarily_unavailable"
}

// AuthorizationError is an error returned by the authorization endpoint in
// the callback (RFC 6749 §4.1.2.1). Brokers put sub-codes in the
// description, e.g. access_denied with "mitid_user_aborted". When it comes
// from [Client.Exchange], Code, Description and URI have the values the
// client knows (its secret, the flow's state, nonce and verifier, a code in
// the callback) replaced by "[redacted]", as in [ResponseError].
type AuthorizationError struct {
	Code        string
	Description string
	URI         string
	// State is the state the provider returned, already checked against the
	// flow when the error comes from Exchange.
	State string
}

// Error shows the provider's error code and description (RFC 6749
// §4.1.2.1), truncated.
func (e *AuthorizationError) Error() string {
	s := "client: authorization: " + truncate(e.Code, 100)
	if e.Description != "" {
		s += ": " + truncate(e.Description, 200)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// call sends one request through the back channel and names the endpoint
// in its errors; an oversized body is ErrInvalidResponse.
func (c *Client) call(ctx context.Context, r backchannel.Request) (backchannel.Response, error) {
	resp, err := c.bc.Do(ctx, r)
	switch {
	case errors.Is(err, httpx.ErrBodyTooLarge):
		return resp, fmt.Errorf("client: %s: %w: %w", r.Name, ErrInvalidResponse, err)
	case err != nil:
		return resp, fmt.Errorf("client: %s: %w", r.Name, err)
	}
	return resp, nil
}

// responseError builds the *ResponseError of a provider's error answer
// (RFC 6749 §5.2): every endpoint's errors are made here. Before the
// answer is read, its header and body lose every value the client sent
// (see sentValues): a provider that echoes the request must not get the
// client secret, an assertion, a proof, a code or a token into the error's
// members, its Error() or a log line. extra are secret values the request
// carried where the back channel cannot see them (the flow's state, nonce
// and verifier inside a request object, tokens).
func (c *Client) responseError(name, endpoint string, r *backchannel.Response, extra ...string) *ResponseError {
	v := c.sentValues(r, extra...)
	h, body := v.Header(r.Header), v.Bytes(r.Body)
	e := &ResponseError{Endpoint: name, URL: endpoint, StatusCode: r.StatusCode, Header: h, Body: body,
		RetryAfter: backchannel.RetryAfter(h.Get("Retry-After"), c.now())}
	e.Code, e.Description, e.URI = backchannel.ParseError(h, body)
	return e
}

// keyError marks an error that a malformed JWKS caused as ErrInvalidResponse
// too, without repeating its text.
func keyError(err error) error {
	if errors.Is(err, jwks.ErrInvalid) {
		return also{err, ErrInvalidResponse}
	}
	return err
}

// also is err that errors.Is also matches with extra, while its text stays
// err's: no doubled "client: … client: …" prefixes.
type also struct {
	error
	extra error
}

func (a also) Unwrap() []error { return []error{a.error, a.extra} }
