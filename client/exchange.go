package client

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/oauthparams"
)

// maxCallbackBody caps a form_post callback body.
const maxCallbackBody = 64 << 10

// ParseResponse reads the authorization response parameters from a callback
// request: the query of a GET (response_mode=query) or the form body of a
// POST (response_mode=form_post). A parameter given twice is refused
// (RFC 6749 §3.1).
func ParseResponse(r *http.Request) (url.Values, error) {
	if r == nil || r.URL == nil {
		return nil, fmt.Errorf("%w: callback: no request", ErrInvalidResponse)
	}
	var v url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		var err error
		if v, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, fmt.Errorf("%w: callback: %w", ErrInvalidResponse, err)
		}
	case http.MethodPost:
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("%w: callback: form_post with content type %q", ErrInvalidResponse, ct)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCallbackBody+1))
		if err != nil {
			return nil, fmt.Errorf("client: callback: %w", err)
		}
		if len(body) > maxCallbackBody {
			return nil, fmt.Errorf("%w: callback: body larger than 64 KiB", ErrInvalidResponse)
		}
		if v, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("%w: callback: %w", ErrInvalidResponse, err)
		}
	default:
		return nil, fmt.Errorf("%w: callback: method %s", ErrInvalidResponse, r.Method)
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, fmt.Errorf("%w: callback: parameter %q given %d times", ErrInvalidResponse, k, len(vals))
		}
	}
	return v, nil
}

// Tokens is the result of a code exchange or refresh.
type Tokens struct {
	// Token holds the access and refresh tokens (x/oauth2).
	Token *oauth2.Token
	// IDToken is the verified ID token; nil after a refresh that returned none.
	IDToken *oidc.IDToken
	// RawIDToken is the compact ID token, e.g. for id_token_hint at logout.
	RawIDToken string
}

// String never shows a token.
func (t *Tokens) String() string {
	if t == nil || t.Token == nil {
		return "tokens(<nil>)"
	}
	sub := ""
	if t.IDToken != nil {
		sub = t.IDToken.Subject
	}
	return fmt.Sprintf("tokens(type=%s sub=%s expiry=%s, values redacted)", t.Token.Type(), sub, t.Token.Expiry.UTC().Format(time.RFC3339))
}

// LogValue never shows a token.
func (t *Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Exchange completes the login: it checks the callback parameters against
// the flow, then exchanges the code at the token endpoint (with the
// code_verifier, the pushed redirect_uri and the same client
// authentication as the push), and verifies the ID token.
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
	if err := c.checkCallback(ctx, flow, params); err != nil {
		return nil, err
	}
	code := params.Get("code")

	tok, err := c.token(ctx, url.Values{
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
	return &Tokens{Token: tok, IDToken: idt, RawIDToken: raw}, nil
}

// checkCallback applies the RFC 9207, state and error checks; see the
// package documentation ("Error responses without iss") for the rule on
// error responses that lack iss.
func (c *Client) checkCallback(ctx context.Context, flow *Flow, params url.Values) error {
	// RFC 9700 §4.4: a flow started with another provider must not have its
	// code sent to this one's token endpoint (mix-up).
	if flow.Issuer != "" && flow.Issuer != c.issuer {
		return fmt.Errorf("%w: flow was started with issuer %q", ErrIssuerMismatch, flow.Issuer)
	}
	var authErr *AuthorizationError
	if e := params.Get("error"); e != "" {
		authErr = &AuthorizationError{Code: e, Description: params.Get("error_description"),
			URI: params.Get("error_uri"), State: params.Get("state")}
	}
	stateOK := flow.State != "" && subtle.ConstantTimeCompare([]byte(params.Get("state")), []byte(flow.State)) == 1
	if iss, ok := params["iss"]; ok {
		// A wrong iss is a mix-up refusal in every profile, error or not.
		if len(iss) != 1 || iss[0] != c.issuer {
			return ErrIssuerMismatch
		}
	} else if c.requireIss {
		missing := fmt.Errorf("%w: iss parameter missing (RFC 9207)", ErrIssuerMismatch)
		if authErr == nil || !stateOK {
			return missing // a success without iss is never accepted
		}
		// An error response of this flow without iss: no code, nothing to
		// steal; the provider's error stays reachable.
		if c.profile == ProfileBroker {
			c.log.LogAttrs(ctx, slog.LevelDebug, "client: callback: error response without iss (as the MitID broker answers)",
				slog.String("error", truncate(authErr.Code, 100)))
			return authErr
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "client: callback: error response without iss although the provider advertises RFC 9207",
			slog.String("error", truncate(authErr.Code, 100)))
		return errors.Join(authErr, missing)
	}
	if !stateOK {
		// Providers answer some errors without state (node-oidc-provider on
		// a reused request_uri): keep the provider's code reachable with
		// errors.As, while errors.Is(err, ErrStateMismatch) still holds.
		if authErr != nil {
			return errors.Join(ErrStateMismatch, authErr)
		}
		return ErrStateMismatch
	}
	if authErr != nil {
		return authErr
	}
	if params.Get("code") == "" {
		return ErrMissingCode
	}
	return nil
}

// token makes a token request (RFC 6749 §3.2) with form through the back
// channel — client authentication, DPoP proof and nonce retry — and returns
// the parsed response (§5.1) with its token_type checked. Error responses
// (§5.2), also those sent with a 2xx status, are *ResponseError; a 2xx
// body that is not a token response is ErrInvalidResponse.
func (c *Client) token(ctx context.Context, form url.Values) (*oauth2.Token, error) {
	start := c.now()
	resp, err := c.call(ctx, backchannel.Request{Name: "token", URL: c.tokenURL, Form: form, DPoP: true})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.responseError("token", c.tokenURL, resp)
	}
	tok, err := backchannel.ParseToken(resp.Header, resp.Body, start)
	switch {
	case errors.Is(err, backchannel.ErrErrorBody):
		return nil, c.responseError("token", c.tokenURL, resp)
	case err != nil:
		return nil, fmt.Errorf("client: token: %w: %w", ErrInvalidResponse, err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: token", slog.String("endpoint", c.tokenURL),
		slog.String("token_type", tok.Type()), slog.Duration("duration", c.now().Sub(start)))
	if err := c.checkTokenType(tok); err != nil {
		return nil, err
	}
	return tok, nil
}

func (c *Client) checkTokenType(tok *oauth2.Token) error {
	want := "Bearer"
	if c.dpop != nil {
		want = "DPoP"
	}
	if !strings.EqualFold(tok.Type(), want) {
		return fmt.Errorf("%w: token: token_type %q, want %s", ErrInvalidResponse, truncate(tok.Type(), 32), want)
	}
	return nil
}

// Refresh exchanges prev's refresh token for new tokens (RFC 6749 §6) with
// the client's authentication. An ID token that comes back is verified
// like the login's (no nonce) and must belong to the same login as prev's
// (OIDC Core §12.2): the same iss, sub, aud and azp, and the same
// auth_time and nonce when both carry one; otherwise the error wraps
// ErrInvalidIDToken. When none comes back, IDToken and RawIDToken are
// carried over from prev. A provider that does not rotate refresh tokens
// returns none: prev's is kept.
func (c *Client) Refresh(ctx context.Context, prev *Tokens) (*Tokens, error) {
	if prev == nil || prev.Token == nil {
		return nil, errors.New("client: refresh: no tokens")
	}
	t, err := c.refresh(ctx, prev.Token.RefreshToken, prev.IDToken)
	if err != nil {
		return nil, err
	}
	if t.IDToken == nil {
		t.IDToken, t.RawIDToken = prev.IDToken, prev.RawIDToken
	}
	if t.Token.RefreshToken == "" {
		t.Token.RefreshToken = prev.Token.RefreshToken
	}
	return t, nil
}

// refresh sends the refresh_token grant; a returned ID token must match
// prev (OIDC Core §12.2) when prev is not nil.
func (c *Client) refresh(ctx context.Context, refreshToken string, prev *oidc.IDToken) (*Tokens, error) {
	if refreshToken == "" {
		return nil, errors.New("client: refresh: empty refresh token")
	}
	tok, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
	if err != nil {
		return nil, err
	}
	return c.withIDToken(ctx, tok, idCheck{accessToken: tok.AccessToken, prev: prev})
}

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
	tok, err := c.token(ctx, form)
	if err != nil {
		return nil, err
	}
	return c.withIDToken(ctx, tok, idCheck{accessToken: tok.AccessToken})
}

// withIDToken verifies the ID token of a token response, when it has one.
func (c *Client) withIDToken(ctx context.Context, tok *oauth2.Token, want idCheck) (*Tokens, error) {
	t := &Tokens{Token: tok}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := c.verifyIDToken(ctx, raw, want)
		if err != nil {
			return nil, err
		}
		t.IDToken, t.RawIDToken = idt, raw
	}
	return t, nil
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
	tk, err := r.c.Refresh(ctx, r.t)
	if err != nil {
		return nil, err
	}
	r.t = tk
	return tk.Token, nil
}

// ResourceClient returns an HTTP client for calls to resource servers with
// t's access token: DPoP-bound tokens go through [dpop.Transport] (a fresh
// proof per request, nonce retry), Bearer tokens through oauth2.Transport.
// Expired tokens are refreshed through [Client.TokenSource] when a refresh
// token is present. (Config.HTTPClient, by contrast, is the back channel to
// the provider.)
func (c *Client) ResourceClient(t *Tokens) *http.Client {
	src := c.TokenSource(t)
	base := transportOf(c.hc)
	var rt http.RoundTripper = &oauth2.Transport{Base: base, Source: src}
	if c.dpop != nil {
		rt = &dpop.Transport{Base: base, Proofer: c.dpop, Source: src, Nonces: c.nonces}
	}
	return &http.Client{Transport: rt, Timeout: c.hc.Timeout, CheckRedirect: c.hc.CheckRedirect}
}

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
	// the caller would never see.
	resp, err := c.call(ctx, backchannel.Request{Name: "userinfo", URL: c.userinfoURL, Token: t.Token.AccessToken,
		DPoP: true, Accept: "application/json, application/jwt"})
	if err != nil {
		return nil, err
	}
	body := resp.Body
	if resp.StatusCode != http.StatusOK {
		return nil, c.responseError("userinfo", c.userinfoURL, resp)
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
		return nil, fmt.Errorf("%w: userinfo: signed response: %w", ErrInvalidResponse, err)
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrInvalidResponse, err)
	}
	return payload, nil
}

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
