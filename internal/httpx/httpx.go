package httpx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxBody is the most a back-channel response body may hold (1 MiB).
const MaxBody = 1 << 20

// DefaultTimeout is the timeout of the default HTTP client.
const DefaultTimeout = 30 * time.Second

// ErrBodyTooLarge is returned by ReadBody when a body is larger than the limit.
var ErrBodyTooLarge = errors.New("response body larger than 1 MiB")

// ErrRedirect is returned when a back-channel endpoint answers with a redirect.
var ErrRedirect = errors.New("redirect refused on back channel")

var defaultClient = &http.Client{
	Timeout:       DefaultTimeout,
	CheckRedirect: noRedirect,
	Transport:     NewTransport(),
}

// NewTransport returns a clone of net/http's default transport (HTTP/2,
// proxy from the environment, dial and TLS handshake timeouts) with room
// for more idle connections per host: its default of 2 makes most
// concurrent pushes to one provider open a new TLS connection
// (BENCHMARKS.md: −37 % pushes/s at concurrency 32).
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 256
	return t
}

// DefaultClient returns the shared default client: a 30 s timeout, up to 64
// idle connections per provider, and no
// redirects followed (back-channel bodies carry client credentials).
func DefaultClient() *http.Client { return defaultClient }

// Client returns hc, or the default client when hc is nil.
func Client(hc *http.Client) *http.Client {
	if hc == nil {
		return defaultClient
	}
	return hc
}

// NoRedirects returns a shallow copy of hc (or the default client) that never
// follows redirects: a 3xx response is returned to the caller as it is.
func NoRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		return defaultClient
	}
	c := *hc
	c.CheckRedirect = noRedirect
	return &c
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ReadBody reads at most MaxBody bytes of resp's body and closes it. A larger
// body gives ErrBodyTooLarge.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// IsLoopback reports whether host (without port) names the local machine:
// localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckEndpoint parses raw and requires an absolute https URL, or http on a
// loopback host, with no fragment. what names the endpoint in errors, which
// show the URL without its query, fragment or user info.
func CheckEndpoint(what, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is empty", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a URL", what)
	}
	shown := Redact(u)
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("%s %q is not absolute", what, shown)
	case u.Fragment != "":
		return nil, fmt.Errorf("%s %q has a fragment", what, shown)
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%s %q must use https (http is allowed on loopback only)", what, shown)
	}
	return u, nil
}

// Redact returns u as scheme://host/path: no user info, query or fragment,
// which may carry credentials. It is the SDK's one URL redactor; errors go
// through [RedactError].
func Redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, Opaque: u.Opaque}
	return r.String()
}

// RedactError returns err with the URL of a *url.Error (a failed request or
// url.Parse) shown as [Redact] shows it, or as scheme://host only when
// withPath is false (paths that hold a capability, such as a CIBA
// auth_req_id). An unparsable URL is left out. Other errors are returned as
// they are.
func RedactError(err error, withPath bool) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	op := strings.ToLower(ue.Op)
	u, perr := url.Parse(ue.URL)
	if perr != nil || u.Host == "" {
		return fmt.Errorf("%s: %w", op, ue.Err)
	}
	shown := u.Scheme + "://" + u.Host
	if withPath {
		shown = Redact(u)
	}
	return fmt.Errorf("%s %s: %w", op, shown, ue.Err)
}
