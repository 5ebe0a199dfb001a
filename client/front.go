package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/go-par/par/discovery"
	"github.com/go-par/par/internal/oauthparams"
)

// Providers without PAR (Config.InsecureFrontChannel). Push builds the
// same parameters as for PAR and keeps them in the flow instead of sending
// them; AuthorizationURL puts them into the URL. The callback, the token
// request and every check after it are the PAR flow's.

// errFrontSecretRequestObject refuses an HMAC request object in the front
// channel: its signature, keyed with the client secret, would be in every
// copy of the URL, for anyone to test guesses of the secret against.
var errFrontSecretRequestObject = errors.New("client: config: RequestObject: the provider has no PAR endpoint, so the request object " +
	"would travel in the authorization URL, and one keyed with the client secret lets whoever sees the URL guess the secret offline; " +
	"sign with an asymmetric Signer, or set Encryption")

// hasPAR reports whether the provider advertises a PAR endpoint, plain or
// as an mTLS alias (RFC 9126 §5, RFC 8705 §5). Either one means PAR is
// used: no front-channel request is ever made to such a provider.
func hasPAR(md *discovery.Metadata) bool {
	const name = "pushed_authorization_request_endpoint"
	return md.PushedAuthorizationRequestEndpoint != "" || md.MTLSEndpointAliases[name] != ""
}

// frontChannel checks that a provider without a PAR endpoint may be sent
// front-channel requests.
func frontChannel(md *discovery.Metadata, allowed bool) error {
	switch {
	case !allowed:
		return errors.New("client: metadata: pushed_authorization_request_endpoint is missing " +
			"(the provider has no PAR; Config.InsecureFrontChannel sends requests through the browser instead)")
	case md.RequirePushedAuthorizationRequests:
		return errors.New("client: metadata: require_pushed_authorization_requests is set but pushed_authorization_request_endpoint is missing (RFC 9126 §5)")
	}
	return nil
}

// pushFront ends Push for a provider without PAR: nothing is sent; the flow
// keeps the request (every parameter, or client_id and a request object by
// value, RFC 9101 §5) for AuthorizationURL.
func (c *Client) pushFront(ctx context.Context, flow *Flow, params url.Values) (*Flow, error) {
	for k := range params {
		if oauthparams.Credential(k) {
			return nil, fmt.Errorf("%w: %s would carry a credential in the authorization URL (front channel)", ErrReservedParameter, k)
		}
	}
	q := params
	if c.jar != nil {
		ro, err := c.jar.Build(params)
		if err != nil {
			return nil, fmt.Errorf("client: request object: %w", err)
		}
		// RFC 9101 §5 needs client_id and request; OIDC Core §6.1 also
		// response_type and scope outside the object, with equal values.
		q = url.Values{"client_id": {c.clientID}, "request": {ro}, "response_type": {"code"}, "scope": {params.Get("scope")}}
	}
	flow.front = q.Encode()
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: front-channel authorization request prepared (no PAR endpoint)",
		slog.String("endpoint", c.authURL.String()), slog.Bool("request_object", c.jar != nil), slog.Int("bytes", len(flow.front)))
	return flow, nil
}

// frontURL is AuthorizationURL for a front-channel flow: the endpoint (with
// any query it already has) plus the flow's request.
func (c *Client) frontURL(flow *Flow) (string, error) {
	switch {
	case !c.front:
		return "", errors.New("client: authorization url: the flow holds a front-channel request, but the provider has a PAR endpoint")
	case flow.front == "":
		return "", errors.New("client: authorization url: the flow holds no front-channel request (only the Flow Push returned does)")
	case flow.Issuer != "" && flow.Issuer != c.issuer:
		return "", fmt.Errorf("%w: flow was made for issuer %q", ErrIssuerMismatch, flow.Issuer)
	}
	req, err := url.ParseQuery(flow.front)
	if err != nil {
		return "", errors.New("client: authorization url: malformed front-channel request")
	}
	u := *c.authURL
	q := u.Query()
	for k, v := range req {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
