package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-par/par/internal/httpx"
)

const (
	oidcWellKnown  = "/.well-known/openid-configuration"
	oauthWellKnown = "/.well-known/oauth-authorization-server"
)

// Fetch loads and validates the metadata of issuer, which must be an https
// URL (http is allowed on loopback) without query or fragment.
//
// It first GETs {issuer}/.well-known/openid-configuration, with any
// trailing "/" of the issuer removed (OpenID Connect Discovery 1.0 §4).
// Only when that answers 404 does it try the RFC 8414 §3.1 location, with
// /.well-known/oauth-authorization-server inserted between the host and the
// issuer's path. The document is checked by [Parse]; one found at the
// OpenID Connect location must also have jwks_uri.
//
// hc is used as it is except that redirects are never followed: a 3xx
// answer is an [*HTTPError]. A nil hc means a client with a 30 s timeout.
// Other statuses than 200 give an [*HTTPError]; bodies over 1 MiB give
// [ErrTooLarge]. ctx bounds the whole call.
func Fetch(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	u, err := checkIssuer(issuer)
	if err != nil {
		return nil, err
	}
	hc = httpx.NoRedirects(hc)
	md, err := get(ctx, hc, strings.TrimRight(issuer, "/")+oidcWellKnown, issuer, true)
	var he *HTTPError
	if err == nil || !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		return md, err
	}
	md, err2 := get(ctx, hc, rfc8414URL(u), issuer, false)
	if err2 != nil {
		return nil, errors.Join(err, err2)
	}
	return md, nil
}

// rfc8414URL returns the RFC 8414 §3.1 metadata URL of an issuer: the
// well-known path goes between the host and the issuer's path, whose
// terminating "/" is removed.
func rfc8414URL(issuer *url.URL) string {
	return issuer.Scheme + "://" + issuer.Host + oauthWellKnown + strings.TrimRight(issuer.EscapedPath(), "/")
}

// get fetches and parses one metadata URL.
func get(ctx context.Context, hc *http.Client, target, issuer string, oidc bool) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: fetch metadata: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		prefix, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		return nil, &HTTPError{
			URL:        target,
			StatusCode: resp.StatusCode,
			Location:   resp.Header.Get("Location"),
			Body:       prefix,
		}
	}
	body, err := httpx.ReadBody(resp)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		return nil, &ParseError{URL: target, Err: ErrTooLarge}
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: read metadata from %s: %w", target, err)
	}
	md, err := parse(body, issuer, oidc)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.URL = target
	}
	return md, err
}
