package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// VerifyJWT checks a JWT that the provider signed for this client other
// than an ID token, such as the MitID broker's userinfo_token and
// transaction_token (package mitid verifies those with it), and returns its
// payload: the JSON claims set. It applies the part of the ID token check
// that every provider-signed JWT shares (OIDC Core §3.1.3.7 items 1–3, 6,
// 9): the signature with a key of the provider's published JWKS, found by
// kid (an unseen kid refetches the JWKS, as for ID tokens), an algorithm of
// the ID token allow-list (IDTokenAlgorithms; never none or HS*), iss equal
// to the issuer, aud containing the client ID, exp not passed (ClockSkew
// tolerated) and nbf not ahead. It checks nothing else: the header's typ,
// sub, nonce and the token's own claims are the caller's. ID tokens are
// verified by Exchange, Refresh and Grant, which add the ID token's own
// checks.
//
// Every failure wraps ErrInvalidResponse; errors.As still reaches go-oidc's
// typed errors such as *oidc.TokenExpiredError.
func (c *Client) VerifyJWT(ctx context.Context, raw string) ([]byte, error) {
	tok, err := c.idTokens.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: jwt: %w", ErrInvalidResponse, c.redactText(err))
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: jwt: %w", ErrInvalidResponse, err)
	}
	return payload, nil
}
