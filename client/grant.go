package client

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"strings"

	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/oauthparams"
)

// Grant requests tokens at the token endpoint with an extension grant (RFC
// 6749 §4.5), such as CIBA's urn:openid:params:grant-type:ciba with its
// auth_req_id (OpenID CIBA Core §10.1): params go with grant_type through
// the client's back channel (authentication, DPoP proof and nonce retry),
// the token_type is checked as after Exchange, and a returned ID token is
// verified by the same check as Exchange's, without nonce; IDToken is nil
// when none came back. grant_type and client authentication parameters in
// params give ErrReservedParameter. Error responses are *ResponseError.
func (c *Client) Grant(ctx context.Context, grantType string, params url.Values) (*Tokens, error) {
	if grantType == "" {
		return nil, errors.New("client: grant: empty grant_type")
	}
	form := make(url.Values, len(params)+1)
	for k, v := range params {
		if k == "client_id" || oauthparams.Owned(k) {
			return nil, fmt.Errorf("%w: %s is set by the SDK", ErrReservedParameter, k)
		}
		form[k] = v
	}
	form.Set("grant_type", grantType)
	tok, details, err := c.token(ctx, form)
	if err != nil {
		return nil, err
	}
	return c.withIDToken(ctx, tok, details, idCheck{accessToken: tok.AccessToken})
}

// Post sends an authenticated form POST to an endpoint of this provider,
// for protocol extensions that are not token requests: OpenID CIBA's
// backchannel authentication request (CIBA Core §7.1), or the MitID broker's
// init-auth (package mitid uses it). It goes through the client's one back
// channel: the configured client authentication (client_id is added to the
// form), no redirects, the body capped at 1 MiB. endpoint must be https
// (loopback excepted) and on the origin of the issuer or of an endpoint in
// the provider's metadata, so the client's credentials never go to a third
// party. A 2xx answer gives its status and body; any other is a
// *ResponseError whose members, header and body have every secret the
// request carried replaced by "[redacted]": the client's credentials
// (secret, assertion, DPoP proof) and the values of the parameters
// client_secret, client_assertion, code, code_verifier, refresh_token,
// access_token, token, id_token, id_token_hint, request, auth_req_id,
// device_code, assertion, subject_token, actor_token, password, state and
// nonce. Token requests use [Client.Grant], which also verifies the ID
// token.
func (c *Client) Post(ctx context.Context, endpoint string, form url.Values) (int, []byte, error) {
	u, err := httpx.CheckEndpoint("endpoint", endpoint)
	if err != nil {
		return 0, nil, fmt.Errorf("client: post: %w", err)
	}
	if !c.origins[strings.ToLower(u.Scheme+"://"+u.Host)] {
		return 0, nil, fmt.Errorf("client: post: endpoint %q is not on an origin of the provider", httpx.Redact(u))
	}
	f := make(url.Values, len(form)+1)
	maps.Copy(f, form)
	f.Set("client_id", c.clientID)
	name := path.Base(u.Path)
	if endpoint == c.md.BackchannelAuthenticationEndpoint {
		name = "backchannel_authentication" // not "ciba", which a caller's own context names
	}
	resp, err := c.call(ctx, backchannel.Request{Name: name, URL: endpoint, Form: f})
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, nil, c.responseError(name, endpoint, &resp)
	}
	return resp.StatusCode, resp.Body, nil
}
