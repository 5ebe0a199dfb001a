package client

import (
	"errors"
	"fmt"
	"net/url"
)

// LogoutURL builds an RP-initiated logout URL (OIDC RP-Initiated Logout
// §2) at the provider's end_session_endpoint, with the id_token_hint that
// the MitID broker requires. postLogoutRedirect and state may be empty.
func (c *Client) LogoutURL(idTokenHint, postLogoutRedirect, state string) (string, error) {
	if c.md.EndSessionEndpoint == "" {
		return "", errors.New("client: logout: provider has no end_session_endpoint")
	}
	if idTokenHint == "" {
		return "", errors.New("client: logout: id_token_hint is required")
	}
	u, err := url.Parse(c.md.EndSessionEndpoint)
	if err != nil {
		return "", fmt.Errorf("client: logout: %w", err)
	}
	q := u.Query()
	q.Set("id_token_hint", idTokenHint)
	q.Set("client_id", c.clientID)
	if postLogoutRedirect != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirect)
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
