package client

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// idCheck is what one ID token must match beyond the provider's signature,
// iss, aud and exp.
type idCheck struct {
	// nonce is the nonce sent with the authorization request; the token
	// must carry exactly it (OIDC Core §3.1.3.7 item 11). Exchange always
	// sends one, so checkNonce makes an empty flow nonce fail too.
	nonce      string
	checkNonce bool
	// accessToken is checked against at_hash when the token has one
	// (§3.1.3.8, §3.2.2.9).
	accessToken string
	// maxAge is the max_age sent, as sent, or "": auth_time must then be
	// present and recent enough (§3.1.2.1, §3.1.3.7 item 13).
	maxAge string
	// prev are the ID token claims of the login being refreshed: the new
	// token must belong to the same login (§12.2).
	prev *loginClaims
}

// verifyIDToken is the SDK's one ID token check, used by Exchange, every
// refresh and every extension grant (CIBA): the provider's signature with
// an allowed algorithm, iss, aud and exp (package internal/jwtverify, which
// signed UserInfo responses share), then iat (required, not in the future),
// sub (required), azp, nonce, at_hash, auth_time against max_age and, on a
// refresh, OIDC Core §12.2. Every failure wraps ErrInvalidIDToken.
func (c *Client) verifyIDToken(ctx context.Context, raw string, want idCheck) (*oidc.IDToken, error) {
	idt, err := c.idTokens.Verify(ctx, raw)
	if err != nil {
		return nil, keyError(fmt.Errorf("%w: %w", ErrInvalidIDToken, c.redactText(err)))
	}
	// OIDC Core §2: iat is REQUIRED; §3.1.3.7 item 10: go-oidc ignores it,
	// so a token without iat, or issued in the future (beyond ClockSkew), is
	// refused here.
	if idt.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: iat missing", ErrInvalidIDToken)
	}
	if idt.IssuedAt.After(c.now().Add(c.skew)) {
		return nil, fmt.Errorf("%w: iat is in the future", ErrInvalidIDToken)
	}
	// OIDC Core §2: sub is required; go-oidc does not check it, and an
	// empty subject must never reach an app's account lookup.
	if idt.Subject == "" {
		return nil, fmt.Errorf("%w: sub missing", ErrInvalidIDToken)
	}
	var extra struct {
		AZP      *string         `json:"azp"`
		AuthTime json.RawMessage `json:"auth_time"`
	}
	if err := idt.Claims(&extra); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	// OIDC Core §3.1.3.7 items 3–5 (go-oidc checks only that aud contains
	// the client): with several audiences azp must be present, and when
	// present it must name this client.
	switch {
	case extra.AZP != nil && *extra.AZP != c.clientID:
		return nil, fmt.Errorf("%w: azp %q is not this client", ErrInvalidIDToken, truncate(*extra.AZP, 100))
	case extra.AZP == nil && len(idt.Audience) > 1:
		return nil, fmt.Errorf("%w: several audiences and no azp", ErrInvalidIDToken)
	}
	// An empty flow nonce (a store that lost it) must not match a token
	// without nonce (OIDC Core §3.1.3.7 item 11).
	if want.checkNonce && (want.nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(want.nonce)) != 1) {
		return nil, fmt.Errorf("%w: nonce is not the flow's", ErrInvalidIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(want.accessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", ErrInvalidIDToken, err)
		}
	}
	if want.maxAge != "" {
		if err := c.checkAuthTime(extra.AuthTime, want.maxAge); err != nil {
			return nil, err
		}
	}
	if want.prev != nil {
		if err := sameLogin(want.prev, idt); err != nil {
			return nil, err
		}
	}
	return idt, nil
}

// checkAuthTime applies max_age: the ID token must carry auth_time (OIDC
// Core §3.1.2.1: REQUIRED when max_age was sent), no older than max_age
// plus ClockSkew (§3.1.3.7 item 13).
func (c *Client) checkAuthTime(authTime json.RawMessage, maxAge string) error {
	limit, err := strconv.ParseInt(maxAge, 10, 64)
	if err != nil || limit < 0 {
		return fmt.Errorf("client: exchange: flow max_age %q is not a non-negative integer", truncate(maxAge, 20))
	}
	raw := strings.Trim(string(authTime), `"`) // string-typed numbers too (R29)
	if raw == "" || raw == "null" {
		return fmt.Errorf("%w: %w: auth_time missing although max_age was sent", ErrInvalidIDToken, ErrMaxAgeExceeded)
	}
	at, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(at) || math.IsInf(at, 0) {
		return fmt.Errorf("%w: auth_time is not a number", ErrInvalidIDToken)
	}
	t := time.Unix(int64(at), 0)
	if c.now().Sub(t) > time.Duration(limit)*time.Second+c.skew {
		return fmt.Errorf("%w: %w: authenticated at %s, max_age %d s", ErrInvalidIDToken, ErrMaxAgeExceeded,
			t.UTC().Format(time.RFC3339), limit)
	}
	return nil
}

// loginClaims are the ID token claims that OIDC Core §12.2 compares.
type loginClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience audience        `json:"aud"`
	AZP      *string         `json:"azp"`
	Nonce    string          `json:"nonce"`
	AuthTime json.RawMessage `json:"auth_time"`
}

// audience is aud: one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// claimsOf reads the §12.2 claims of a verified ID token.
func claimsOf(t *oidc.IDToken) (*loginClaims, error) {
	var l loginClaims
	if err := t.Claims(&l); err != nil {
		return nil, fmt.Errorf("%w: id token: %w", ErrInvalidIDToken, err)
	}
	return &l, nil
}

// unverifiedClaims reads the §12.2 claims of a compact ID token without
// checking it: one verified when it was issued and kept since (Refresh of
// tokens restored from storage).
func unverifiedClaims(raw string) (*loginClaims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: stored id token is not a compact JWS", ErrInvalidIDToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: stored id token payload is not base64url", ErrInvalidIDToken)
	}
	var l loginClaims
	if err := json.Unmarshal(payload, &l); err != nil {
		return nil, fmt.Errorf("%w: stored id token payload is not a JSON object", ErrInvalidIDToken)
	}
	return &l, nil
}

// sameLogin applies OIDC Core §12.2 to a refreshed ID token: the same iss,
// sub, aud and azp, and the same auth_time and nonce when both carry one.
// Values are not put in the error: sub may be personal data.
func sameLogin(old *loginClaims, cur *oidc.IDToken) error {
	b, err := claimsOf(cur)
	if err != nil {
		return err
	}
	a := old
	var differs string
	switch {
	case a.Issuer != b.Issuer:
		differs = "iss"
	case a.Subject != b.Subject:
		differs = "sub"
	case !sameSet(a.Audience, b.Audience):
		differs = "aud"
	case (a.AZP == nil) != (b.AZP == nil) || a.AZP != nil && *a.AZP != *b.AZP:
		differs = "azp"
	case a.Nonce != "" && b.Nonce != "" && a.Nonce != b.Nonce:
		differs = "nonce"
	case len(a.AuthTime) > 0 && len(b.AuthTime) > 0 &&
		strings.Trim(string(a.AuthTime), `"`) != strings.Trim(string(b.AuthTime), `"`):
		differs = "auth_time"
	default:
		return nil
	}
	return fmt.Errorf("%w: refreshed id token: %s differs from the original (OIDC Core §12.2)", ErrInvalidIDToken, differs)
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
