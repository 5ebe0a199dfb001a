package discovery

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors, reachable with [errors.Is] through a [*ParseError] or a
// wrapped error.
var (
	// ErrInvalidIssuer means the configured issuer is not an https URL (http is
	// allowed on loopback) without query, fragment or user info
	// (RFC 8414 §2).
	ErrInvalidIssuer = errors.New("discovery: invalid issuer")
	// ErrMalformed means the document is not a single JSON object.
	ErrMalformed = errors.New("discovery: malformed metadata document")
	// ErrTooLarge means the response body is larger than 1 MiB.
	ErrTooLarge = errors.New("discovery: metadata document larger than 1 MiB")
	// ErrDuplicateMember means a member name appears twice (RFC 8259 §4 leaves
	// the meaning open; an issuer must not be ambiguous).
	ErrDuplicateMember = errors.New("discovery: duplicate member")
	// ErrWrongType means a known member has the wrong JSON type.
	ErrWrongType = errors.New("discovery: wrong JSON type")
	// ErrMissingMember means a required member is absent, null or empty.
	ErrMissingMember = errors.New("discovery: required member missing")
	// ErrInvalidEndpoint means an endpoint is not an absolute https URL (http
	// is allowed on loopback) without fragment.
	ErrInvalidEndpoint = errors.New("discovery: invalid endpoint URL")
)

// ParseError reports a metadata document that cannot be used. Err is one of
// the sentinel errors above, possibly wrapping the JSON decoder's error
// (for example an [*encoding/json.SyntaxError]).
type ParseError struct {
	URL    string // where the document came from; empty for [Parse]
	Member string // the member at fault, "" for the whole document
	Err    error
}

// Error names the source URL and the member at fault, when known.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("discovery: ")
	if e.URL != "" {
		fmt.Fprintf(&b, "metadata from %s: ", e.URL)
	}
	if e.Member != "" {
		fmt.Fprintf(&b, "member %q: ", clip(e.Member))
	}
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "discovery: "))
	return b.String()
}

// Unwrap returns the underlying error, for [errors.Is] and [errors.As].
func (e *ParseError) Unwrap() error { return e.Err }

// IssuerMismatchError reports metadata whose issuer is not exactly the
// configured one (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3). No
// normalisation is applied: case and a trailing slash matter.
type IssuerMismatchError struct {
	Expected string // the configured issuer
	Got      string // the metadata's issuer member
}

// Error shows both issuers, quoted.
func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("discovery: issuer mismatch: configured %q, metadata has %q", e.Expected, clip(e.Got))
}

// HTTPError reports a metadata request answered with a status other than
// 200. Redirects are refused, not followed: a 3xx gives an HTTPError with
// Location set.
type HTTPError struct {
	URL        string
	StatusCode int
	Location   string // the Location header of a 3xx response
	Body       []byte // at most the first 512 bytes of the body
}

// Error shows the URL and status, and the Location of a refused redirect.
func (e *HTTPError) Error() string {
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		return fmt.Sprintf("discovery: GET %s: redirect refused (status %d, location %q)", e.URL, e.StatusCode, clip(e.Location))
	}
	return fmt.Sprintf("discovery: GET %s: unexpected status %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// clip shortens s for an error message: documents may be up to 1 MiB.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
