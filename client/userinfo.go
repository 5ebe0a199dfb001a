package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/go-par/par/internal/backchannel"
)

// UserInfo is the UserInfo response (OIDC Core §5.3), its sub already
// checked against the ID token.
type UserInfo struct {
	Subject string
	raw     []byte
}

// Claims decodes the UserInfo claims into v.
func (u *UserInfo) Claims(v any) error { return json.Unmarshal(u.raw, v) }

// UserInfo calls the UserInfo endpoint with the access token and checks that
// its sub equals the ID token's (OIDC Core §5.3.2). Signed (application/jwt)
// responses are verified with the provider's keys, and their iss and aud
// checked with the ID tokens' algorithm allow-list; a failure there is
// ErrInvalidResponse.
func (c *Client) UserInfo(ctx context.Context, t *Tokens) (*UserInfo, error) {
	if c.userinfoURL == "" {
		return nil, errors.New("client: userinfo: provider has no userinfo_endpoint")
	}
	if t == nil || t.Token == nil || t.IDToken == nil {
		return nil, errors.New("client: userinfo: tokens without a verified id token")
	}
	// The token as given: no hidden refresh, whose rotated refresh token
	// the caller would never see. A DPoP-bound token proves its own key.
	c = c.bound(t)
	resp, err := c.call(ctx, backchannel.Request{Name: "userinfo", URL: c.userinfoURL, Token: t.Token.AccessToken,
		DPoP: true, Accept: "application/json, application/jwt"})
	if err != nil {
		return nil, err
	}
	body := resp.Body
	if resp.StatusCode != http.StatusOK {
		return nil, c.responseError("userinfo", c.userinfoURL, &resp, t.Token.RefreshToken, t.RawIDToken)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "application/jwt" {
		if body, err = c.verifySignedUserInfo(ctx, body); err != nil {
			return nil, err
		}
	}
	var claims struct {
		Subject *string `json:"sub"`
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrInvalidResponse, err)
	}
	if claims.Subject == nil || *claims.Subject != t.IDToken.Subject {
		return nil, fmt.Errorf("%w: userinfo: sub is not the ID token's (OIDC Core §5.3.2)", ErrInvalidResponse)
	}
	return &UserInfo{Subject: *claims.Subject, raw: body}, nil
}

func (c *Client) verifySignedUserInfo(ctx context.Context, body []byte) ([]byte, error) {
	// OIDC Core §5.3.2: a signed response MUST contain iss and aud; the ID
	// token algorithm allow-list (IDTokenAlgorithms, FAPI 2.0 §5.4) holds
	// for it too; exp is optional.
	tok, err := c.userInfo.Verify(ctx, strings.TrimSpace(string(body)))
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: signed response: %w", ErrInvalidResponse, c.redactText(err))
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrInvalidResponse, err)
	}
	return payload, nil
}
