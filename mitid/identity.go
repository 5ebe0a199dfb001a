package mitid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-par/par/client"
)

// Identity returns the user's claims from every place the broker puts
// them, merged into one Claims: the verified ID token of t, the
// userinfo_token of its token response, and the UserInfo response. The
// recorded broker puts the mitid.* claims (name, age, uuid) in UserInfo
// and the userinfo_token, not in the ID token of a code-flow login, while
// a documented CIBA ID token carries some of them (broker-recorded.md):
// an app must not rely on one place.
//
//   - The userinfo_token, when the token response has one, is verified as
//     the broker signs it: a JWT with header typ at+jwt, signed with the
//     broker's published keys (found by kid) under the client's ID token
//     algorithm allow-list, iss the issuer, aud the client, exp not passed
//     ([client.Client.VerifyJWT]; it lives as long as the ID token, so call
//     Identity right after the login).
//   - UserInfo is fetched with [client.Client.UserInfo] when the provider
//     has a userinfo_endpoint: one request with the access token.
//
// Each source's sub must be the verified ID token's: ErrSubjectMismatch
// for the userinfo_token; client.UserInfo refuses a UserInfo sub that
// differs with client.ErrInvalidResponse (OIDC Core §5.3.2). A claim takes
// its value from the first source that has it, in the order ID token,
// userinfo_token, UserInfo: the ID token is the one bound to this login by
// its nonce. Values are decoded as [Claims] decodes them (strings such as
// "88" and "true" included); a claim of the wrong type is a *ClaimError.
func Identity(ctx context.Context, c *client.Client, t *client.Tokens) (*Claims, error) {
	if c == nil || t == nil || t.Token == nil || t.IDToken == nil {
		return nil, errors.New("mitid: identity: needs a client and tokens with a verified ID token")
	}
	merged := make(map[string]json.RawMessage)
	merge := func(source string, m map[string]json.RawMessage) error {
		var sub string
		if err := json.Unmarshal(m["sub"], &sub); err != nil && m["sub"] != nil {
			return inSource(source, &ClaimError{Claim: "sub", Err: valueError(err)})
		}
		if err := sameSubject(source, sub, t); err != nil {
			return err
		}
		for k, v := range m {
			if _, ok := merged[k]; !ok {
				merged[k] = v
			}
		}
		return nil
	}

	var fromIDToken map[string]json.RawMessage
	if err := t.IDToken.Claims(&fromIDToken); err != nil {
		return nil, fmt.Errorf("mitid: identity: id token: %w", err)
	}
	if err := merge("id token", fromIDToken); err != nil {
		return nil, err
	}
	if raw, _ := t.Token.Extra("userinfo_token").(string); raw != "" {
		m, err := verifyUserinfoToken(ctx, c, raw)
		if err != nil {
			return nil, err
		}
		if err := merge("userinfo_token", m); err != nil {
			return nil, err
		}
	}
	if c.Metadata().UserinfoEndpoint != "" {
		ui, err := c.UserInfo(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("mitid: identity: %w", err)
		}
		var m map[string]json.RawMessage
		if err := ui.Claims(&m); err != nil {
			return nil, fmt.Errorf("mitid: identity: userinfo: %w", err)
		}
		if err := merge("userinfo", m); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("mitid: identity: %w", err)
	}
	var claims Claims
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, inSource("identity", err)
	}
	return &claims, nil
}

// verifyUserinfoToken verifies the broker's userinfo_token (a JWT with
// header typ at+jwt, signed with its published keys) and returns its
// claims.
func verifyUserinfoToken(ctx context.Context, c *client.Client, raw string) (map[string]json.RawMessage, error) {
	const source = "userinfo_token"
	payload, h, err := verifyToken(ctx, c, raw)
	if err != nil {
		return nil, inSource(source, err)
	}
	// RFC 7515 §4.1.9: typ is compared case-insensitively, and may omit
	// the "application/" prefix.
	if typ := strings.ToLower(h.Type); typ != "at+jwt" && typ != "application/at+jwt" {
		return nil, inSource(source, fmt.Errorf("%w: header typ is not at+jwt", client.ErrInvalidResponse))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, inSource(source, fmt.Errorf("%w: %w", client.ErrInvalidResponse, err))
	}
	return m, nil
}
