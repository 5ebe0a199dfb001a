package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// backchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (OIDC Back-Channel Logout 1.0 §2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// ErrInvalidLogoutToken marks a logout token that fails a check of
// [Client.VerifyLogoutToken].
var ErrInvalidLogoutToken = errors.New("client: invalid logout token")

// LogoutToken is a verified logout token (OIDC Back-Channel Logout 1.0
// §2.4): the provider asks to end the sessions of SessionID (sid) or, when
// it is empty, every session of Subject.
type LogoutToken struct {
	Issuer    string
	Subject   string // sub; may be empty when SessionID is set
	SessionID string // sid; may be empty when Subject is set
	ID        string // jti, for single use
	IssuedAt  time.Time
	// Expiry is exp, or zero when the token has none.
	Expiry time.Time
}

// VerifyLogoutToken checks a logout_token posted to the client's
// back-channel logout URI (OIDC Back-Channel Logout 1.0 §2.6), with the
// check ID tokens share (package internal/jwtverify): the provider's
// signature under the ID token algorithm allow-list, iss exactly the
// issuer, aud containing the client; then typ logout+jwt (§2.4, which
// keeps an ID token or another JWT of the provider from passing as one),
// iat present and not in the future, exp when present not past (both with
// ClockSkew), jti present, an events claim holding the
// http://schemas.openid.net/event/backchannel-logout member as a JSON
// object, sid or sub (or both), and no nonce. Every failure wraps
// ErrInvalidLogoutToken; its text never holds the token.
//
// Single use of jti is the caller's to enforce, in storage every replica
// shares (package session does). Encrypted logout tokens are not
// supported.
func (c *Client) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutToken, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidLogoutToken)
	}
	typ, err := jwtType(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidLogoutToken, err)
	}
	if !strings.EqualFold(typ, "logout+jwt") && !strings.EqualFold(typ, "application/logout+jwt") {
		return nil, fmt.Errorf("%w: typ %.40q, want logout+jwt (OIDC Back-Channel Logout 1.0 §2.4)", ErrInvalidLogoutToken, typ)
	}
	// The verifier of signed UserInfo responses: the ID token algorithms,
	// iss and aud, no exp required (checked below when present).
	tok, err := c.userInfo.Verify(ctx, raw)
	if err != nil {
		return nil, keyError(fmt.Errorf("%w: %w", ErrInvalidLogoutToken, c.redactText(err)))
	}
	var claims struct {
		Subject string                     `json:"sub"`
		SID     string                     `json:"sid"`
		JTI     string                     `json:"jti"`
		IAT     *float64                   `json:"iat"`
		EXP     *float64                   `json:"exp"`
		Nonce   *json.RawMessage           `json:"nonce"`
		Events  map[string]json.RawMessage `json:"events"`
	}
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrInvalidLogoutToken, err)
	}
	now := c.now()
	lt := &LogoutToken{Issuer: tok.Issuer, Subject: claims.Subject, SessionID: claims.SID, ID: claims.JTI}
	switch {
	case claims.Nonce != nil:
		return nil, fmt.Errorf("%w: has a nonce (§2.4: prohibited)", ErrInvalidLogoutToken)
	case claims.IAT == nil || !finite(*claims.IAT):
		return nil, fmt.Errorf("%w: iat missing", ErrInvalidLogoutToken)
	case claims.JTI == "":
		return nil, fmt.Errorf("%w: jti missing", ErrInvalidLogoutToken)
	case claims.SID == "" && claims.Subject == "":
		return nil, fmt.Errorf("%w: neither sid nor sub", ErrInvalidLogoutToken)
	}
	lt.IssuedAt = time.Unix(int64(*claims.IAT), 0)
	if lt.IssuedAt.After(now.Add(c.skew)) {
		return nil, fmt.Errorf("%w: iat is in the future", ErrInvalidLogoutToken)
	}
	if claims.EXP != nil {
		if !finite(*claims.EXP) {
			return nil, fmt.Errorf("%w: exp is not a number", ErrInvalidLogoutToken)
		}
		lt.Expiry = time.Unix(int64(*claims.EXP), 0)
		if !now.Add(-c.skew).Before(lt.Expiry) {
			return nil, fmt.Errorf("%w: expired", ErrInvalidLogoutToken)
		}
	}
	ev, ok := claims.Events[backchannelLogoutEvent]
	if !ok {
		return nil, fmt.Errorf("%w: events has no %s member", ErrInvalidLogoutToken, backchannelLogoutEvent)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(ev, &obj) != nil || obj == nil {
		return nil, fmt.Errorf("%w: the %s event is not a JSON object", ErrInvalidLogoutToken, backchannelLogoutEvent)
	}
	return lt, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// jwtType returns the typ header of a compact JWS, without verifying it.
func jwtType(raw string) (string, error) {
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "", errors.New("header is not base64url")
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", errors.New("header is not a JSON object")
	}
	return h.Typ, nil
}
