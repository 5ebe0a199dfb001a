package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
)

// Tokens is the result of a code exchange or refresh.
type Tokens struct {
	// Token holds the access and refresh tokens (x/oauth2).
	Token *oauth2.Token
	// IDToken is the verified ID token; nil after a refresh that returned none.
	IDToken *oidc.IDToken
	// RawIDToken is the compact ID token, e.g. for id_token_hint at logout.
	// Tokens restored from storage may carry it without IDToken: Refresh
	// then applies OIDC Core §12.2 against its claims.
	RawIDToken string
	// AuthorizationDetails are the authorization_details the provider
	// granted (RFC 9396 §7), each object exactly as received; nil when the
	// token response had none (after a refresh without them, the login's).
	AuthorizationDetails []AuthorizationDetail
	// DPoP is the key the tokens are bound to (RFC 9449), nil for Bearer
	// tokens: the client's (Config.DPoP, or the key of [Client.WithDPoP]).
	// Refresh, TokenSource, UserInfo and ResourceClient send proofs of it,
	// whatever key their own client has; restore it with tokens kept in
	// storage.
	DPoP *dpop.Proofer
}

// String never shows a token. It has a value receiver, so a Tokens value
// is redacted too.
func (t Tokens) String() string {
	if t.Token == nil {
		return "tokens(<nil>)"
	}
	sub := ""
	if t.IDToken != nil {
		sub = t.IDToken.Subject
	}
	return fmt.Sprintf("tokens(type=%s sub=%s expiry=%s, values redacted)", t.Token.Type(), sub, t.Token.Expiry.UTC().Format(time.RFC3339))
}

// GoString (the %#v verb) is String.
func (t Tokens) GoString() string { return t.String() }

// LogValue never shows a token.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Exchange completes the login: it checks the callback parameters against
// the flow, then exchanges the code at the token endpoint (with the
// code_verifier, the pushed redirect_uri and the same client
// authentication as the push), and verifies the ID token.
//
// A JWT-secured response (JARM: a response parameter) is first decrypted
// and verified as [Client.ResponseParams] describes (ErrInvalidResponseJWT);
// its claims then take the checks below as a plain response's parameters
// do, iss being the JWT's verified iss claim. After a JWT response mode
// (Flow.ResponseMode, or MessageSigning SignedResponses) a plain response is
// refused with ErrInvalidResponseJWT, joined with the provider's error if
// it is one.
//
// Checks, in order: iss (RFC 9207 §2.4: equal to the issuer when present;
// required when the provider advertises it or RequireIssuerParameter is
// set) → ErrIssuerMismatch; state (constant time) → ErrStateMismatch; a
// provider error → *AuthorizationError; missing code → ErrMissingCode. An
// error response of this flow (state matched) without iss still yields
// its *AuthorizationError, joined with ErrIssuerMismatch except under
// ProfileBroker (see the package documentation).
// Token errors are *ResponseError; ID token failures, a wrong nonce among
// them, wrap ErrInvalidIDToken.
//
// Exchange does not make the flow single-use by itself: the caller must
// take the flow out of its store before calling (package login does).
func (c *Client) Exchange(ctx context.Context, flow *Flow, params url.Values) (*Tokens, error) {
	if flow == nil {
		return nil, errors.New("client: exchange: nil flow")
	}
	if flow.DPoPJKT != "" && (c.dpop == nil || c.dpop.Thumbprint() != flow.DPoPJKT) {
		// The code is bound to the key the flow was pushed with (RFC 9449
		// §10): another key (a login's own, see WithDPoP) cannot redeem it.
		return nil, errors.New("client: exchange: the flow was pushed with another DPoP key than this client's (use WithDPoP with the flow's key)")
	}
	params, err := c.authorizationResponse(ctx, flow, params)
	if err != nil {
		return nil, err
	}
	if err := c.checkCallback(ctx, flow, params); err != nil {
		return nil, err
	}
	code := params.Get("code")

	tok, details, err := c.token(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {flow.RedirectURL},
		"code_verifier": {flow.CodeVerifier},
	})
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: token: no id_token although openid was requested (OIDC Core §3.1.3.3)", ErrInvalidResponse)
	}
	idt, err := c.verifyIDToken(ctx, raw, idCheck{nonce: flow.Nonce, checkNonce: true, accessToken: tok.AccessToken,
		maxAge: flow.MaxAge})
	if err != nil {
		return nil, err
	}
	return &Tokens{Token: tok, IDToken: idt, RawIDToken: raw, AuthorizationDetails: details, DPoP: c.dpop}, nil
}

// token makes a token request (RFC 6749 §3.2) with form through the back
// channel — client authentication, DPoP proof and nonce retry — and returns
// the parsed response (§5.1) with its token_type checked. Error responses
// (§5.2), also those sent with a 2xx status, are *ResponseError; a 2xx
// body that is not a token response is ErrInvalidResponse. details are the
// granted authorization_details (RFC 9396 §7), read from the body itself:
// Token.Extra has them decoded through float64.
func (c *Client) token(ctx context.Context, form url.Values) (tok *oauth2.Token, details []AuthorizationDetail, err error) {
	start := c.now()
	resp, err := c.call(ctx, backchannel.Request{Name: "token", URL: c.tokenURL, Form: form, DPoP: true})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, c.responseError("token", c.tokenURL, &resp)
	}
	tok, err = backchannel.ParseToken(resp.Header, resp.Body, start)
	switch {
	case errors.Is(err, backchannel.ErrErrorBody):
		return nil, nil, c.responseError("token", c.tokenURL, &resp)
	case err != nil:
		return nil, nil, fmt.Errorf("client: token: %w: %w", ErrInvalidResponse, err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: token", slog.String("endpoint", c.tokenURL),
		slog.String("token_type", tokenTypeName(tok.Type())), slog.Duration("duration", c.now().Sub(start)))
	if err := c.checkTokenType(tok); err != nil {
		return nil, nil, err
	}
	if details, err = grantedDetails(resp.Body); err != nil {
		return nil, nil, err
	}
	return tok, details, nil
}

func (c *Client) checkTokenType(tok *oauth2.Token) error {
	want := "Bearer"
	if c.dpop != nil {
		want = "DPoP"
	}
	if !strings.EqualFold(tok.Type(), want) {
		return fmt.Errorf("%w: token: token_type %s, want %s", ErrInvalidResponse, tokenTypeName(tok.Type()), want)
	}
	return nil
}

// tokenTypeName is a token_type for an error or a log line: one of the
// registered types (RFC 6749 §7.1, RFC 9449 §5, the IANA OAuth Access
// Token Types registry) quoted, anything else only by its length, since a
// provider-written value might echo what the client sent.
func tokenTypeName(t string) string {
	for _, known := range []string{"Bearer", "DPoP", "N_A", "PoP", "MAC"} {
		if strings.EqualFold(t, known) {
			return strconv.Quote(t)
		}
	}
	if t == "" {
		return "none"
	}
	return fmt.Sprintf("an unregistered token_type of %d bytes", len(t))
}

// withIDToken verifies the ID token of a token response, when it has one.
func (c *Client) withIDToken(ctx context.Context, tok *oauth2.Token, details []AuthorizationDetail, want idCheck) (*Tokens, error) {
	t := &Tokens{Token: tok, AuthorizationDetails: details, DPoP: c.dpop}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := c.verifyIDToken(ctx, raw, want)
		if err != nil {
			return nil, err
		}
		t.IDToken, t.RawIDToken = idt, raw
	}
	return t, nil
}
