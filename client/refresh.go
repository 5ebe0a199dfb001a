package client

import (
	"context"
	"errors"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/httpx"
)

// Refresh exchanges prev's refresh token for new tokens (RFC 6749 §6) with
// the client's authentication. An ID token that comes back is verified
// like the login's (no nonce) and must belong to the same login as prev's
// (OIDC Core §12.2): the same iss, sub, aud and azp, and the same
// auth_time and nonce when both carry one; otherwise the error wraps
// ErrInvalidIDToken. When none comes back, IDToken and RawIDToken are
// carried over from prev. A provider that does not rotate refresh tokens
// returns none: prev's is kept; so are prev's AuthorizationDetails when the
// response has none (RFC 9396 §7).
//
// prev may come from storage without IDToken (which cannot be rebuilt once
// it has expired) but with RawIDToken: §12.2 is then checked against the
// claims of RawIDToken, which are not verified again — keep stored tokens
// where only the app can change them (package session seals them). With
// neither, a returned ID token is verified without the §12.2 comparison.
// prev.DPoP, when set, is the key the refresh proves (RFC 9449 §5), also
// when it is not the client's.
func (c *Client) Refresh(ctx context.Context, prev *Tokens) (*Tokens, error) {
	if prev == nil || prev.Token == nil {
		return nil, errors.New("client: refresh: no tokens")
	}
	var login *loginClaims
	switch {
	case prev.IDToken != nil:
		l, err := claimsOf(prev.IDToken)
		if err != nil {
			return nil, err
		}
		login = l
	case prev.RawIDToken != "":
		l, err := unverifiedClaims(prev.RawIDToken)
		if err != nil {
			return nil, err
		}
		login = l
	}
	t, err := c.bound(prev).refresh(ctx, prev.Token.RefreshToken, login)
	if err != nil {
		return nil, err
	}
	if t.IDToken == nil {
		t.IDToken, t.RawIDToken = prev.IDToken, prev.RawIDToken
	}
	if t.Token.RefreshToken == "" {
		t.Token.RefreshToken = prev.Token.RefreshToken
	}
	if t.AuthorizationDetails == nil {
		t.AuthorizationDetails = prev.AuthorizationDetails
	}
	return t, nil
}

// refresh sends the refresh_token grant; a returned ID token must match
// prev (OIDC Core §12.2) when prev is not nil.
func (c *Client) refresh(ctx context.Context, refreshToken string, prev *loginClaims) (*Tokens, error) {
	if refreshToken == "" {
		return nil, errors.New("client: refresh: empty refresh token")
	}
	tok, details, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
	if err != nil {
		return nil, err
	}
	return c.withIDToken(ctx, tok, details, idCheck{accessToken: tok.AccessToken, prev: prev})
}

// TokenSource returns an oauth2.TokenSource that hands out t's access token
// until it expires, then refreshes it with [Client.Refresh] (so OIDC Core
// §12.2 applies) and hands out the new one (x/oauth2's ReuseTokenSource
// semantics). Each refresh runs with a background context bounded by the
// HTTP client's timeout, or 30 s when it has none.
func (c *Client) TokenSource(t *Tokens) oauth2.TokenSource {
	if t == nil {
		t = &Tokens{}
	}
	return oauth2.ReuseTokenSource(t.Token, &refresher{c: c, t: t})
}

type refresher struct {
	c *Client
	t *Tokens
}

func (r *refresher) Token() (*oauth2.Token, error) {
	if r.t.Token == nil || r.t.Token.RefreshToken == "" {
		return nil, errors.New("client: refresh: token expired and no refresh token")
	}
	// oauth2.TokenSource has no ctx: bound the refresh ourselves, since an
	// HTTP client without Timeout would otherwise wait forever.
	timeout := r.c.hc.Timeout
	if timeout <= 0 {
		timeout = httpx.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tk, err := r.c.Refresh(ctx, r.t) // Refresh uses r.t.DPoP
	if err != nil {
		return nil, err
	}
	r.t = tk
	return tk.Token, nil
}
