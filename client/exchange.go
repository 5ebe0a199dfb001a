package client

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/httpx"
)

// ErrInvalidIDToken wraps every ID token verification failure (signature,
// issuer, audience, expiry, algorithm, at_hash). errors.As still reaches
// go-oidc's typed errors such as *oidc.TokenExpiredError.
var ErrInvalidIDToken = errors.New("client: id token invalid")

// maxCallbackBody caps a form_post callback body.
const maxCallbackBody = 64 << 10

// ParseResponse reads the authorization response parameters from a callback
// request: the query of a GET (response_mode=query) or the form body of a
// POST (response_mode=form_post). A parameter given twice is refused
// (RFC 6749 §3.1). Every other method is refused with an error wrapping
// ErrInvalidResponse, HEAD included: HEAD is a safe method (RFC 9110
// §9.2.1, §9.3.2) that link checkers and prefetchers send, and it must not
// redeem the code that the user's own GET then needs.
func ParseResponse(r *http.Request) (url.Values, error) {
	if r == nil || r.URL == nil {
		return nil, fmt.Errorf("%w: callback: no request", ErrInvalidResponse)
	}
	var v url.Values
	switch r.Method {
	case http.MethodGet:
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
		return nil, fmt.Errorf("%w: callback: method %.10q (want GET or POST)", ErrInvalidResponse, r.Method)
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
// the flow, then exchanges the code at the token endpoint (through x/oauth2,
// with the code_verifier, the pushed redirect_uri and the same client
// authentication as the push), and verifies the ID token.
//
// Checks, in order: iss (RFC 9207 §2.4: equal to the issuer when present;
// required when the provider advertises it or RequireIssuerParameter is
// set) → ErrIssuerMismatch; state (constant time) → ErrStateMismatch; a
// provider error → *AuthorizationError; missing code → ErrMissingCode. An
// error response of this flow (state matched) without iss still yields
// its *AuthorizationError, joined with ErrIssuerMismatch except under
// ProfileBroker (see the package documentation).
// Token errors are *ResponseError; ID token failures wrap ErrInvalidIDToken;
// a wrong nonce is ErrNonceMismatch.
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

	start := c.now()
	opts := []oauth2.AuthCodeOption{
		oauth2.VerifierOption(flow.CodeVerifier),
		oauth2.SetAuthURLParam("redirect_uri", flow.RedirectURL),
	}
	tok, err := c.oauth.Exchange(c.tokenContext(ctx), code, opts...)
	if err != nil {
		return nil, c.tokenError(err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: token", slog.String("endpoint", c.tokenURL),
		slog.String("token_type", tokenTypeName(tok.Type())), slog.Duration("duration", c.now().Sub(start)))
	if err := c.checkTokenType(tok); err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, ErrNoIDToken
	}
	idt, err := c.verifyIDToken(ctx, raw, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	// An empty flow nonce (a store that lost it) must not match a token
	// without nonce (OIDC Core §3.1.3.7 item 11).
	if flow.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, ErrNonceMismatch
	}
	if flow.MaxAge != "" {
		if err := c.checkAuthTime(idt, flow.MaxAge); err != nil {
			return nil, err
		}
	}
	return &Tokens{Token: tok, IDToken: idt, RawIDToken: raw}, nil
}

// checkAuthTime applies max_age: the ID token must carry auth_time (OIDC
// Core §3.1.2.1: REQUIRED when max_age was sent), no older than max_age
// plus ClockSkew (§3.1.3.7 item 13).
func (c *Client) checkAuthTime(idt *oidc.IDToken, maxAge string) error {
	limit, err := strconv.ParseInt(maxAge, 10, 64)
	if err != nil || limit < 0 {
		return fmt.Errorf("client: exchange: flow max_age %q is not a non-negative integer", truncate(maxAge, 20))
	}
	var claims struct {
		AuthTime json.RawMessage `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		return fmt.Errorf("%w: auth_time: %w", ErrInvalidIDToken, err)
	}
	raw := strings.Trim(string(claims.AuthTime), `"`) // string-typed numbers too (R29)
	if raw == "" || raw == "null" {
		return fmt.Errorf("%w: %w: auth_time missing although max_age was sent", ErrInvalidIDToken, ErrMaxAgeExceeded)
	}
	at, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(at) || math.IsInf(at, 0) {
		return fmt.Errorf("%w: auth_time is not a number", ErrInvalidIDToken)
	}
	authTime := time.Unix(int64(at), 0)
	if c.now().Sub(authTime) > time.Duration(limit)*time.Second+c.skew {
		return fmt.Errorf("%w: %w: authenticated at %s, max_age %d s", ErrInvalidIDToken, ErrMaxAgeExceeded,
			authTime.UTC().Format(time.RFC3339), limit)
	}
	return nil
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
		// Before anything logs or returns it: no echo of what we sent.
		c.redactAuthorizationError(authErr, flow, params)
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

// tokenContext bridges our HTTP client into x/oauth2 and go-oidc.
func (c *Client) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.tokenHC)
}

func (c *Client) tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fromRetrieveError("token", c.tokenURL, re, c.now())
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, httpx.ErrBodyTooLarge) {
		return fmt.Errorf("client: token: %w", redactURLError(err)) // transport
	}
	// x/oauth2 could not read the 2xx body: not JSON, truncated, oversized
	// or without access_token.
	return fmt.Errorf("client: token: %w: %w", ErrInvalidResponse, err)
}

func (c *Client) checkTokenType(tok *oauth2.Token) error {
	want := "Bearer"
	if c.dpop != nil {
		want = "DPoP"
	}
	if !strings.EqualFold(tok.Type(), want) {
		return fmt.Errorf("%w: got %s, want %s", ErrTokenType, tokenTypeName(tok.Type()), want)
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

// verifyIDToken runs go-oidc's verifier and the at_hash check.
func (c *Client) verifyIDToken(ctx context.Context, raw, accessToken string) (*oidc.IDToken, error) {
	// A verifier per call keeps the key set's own error (ErrUnknownKeyID,
	// ErrInvalidResponse, a timeout), which go-oidc flattens with %v.
	keys := &keySetCall{ks: c.keys}
	idt, err := oidc.NewVerifier(c.issuer, keys, c.oidcConfig).Verify(oidc.ClientContext(ctx, c.hc), raw)
	if err != nil {
		if keys.err != nil {
			err = keys.err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
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
	// OIDC Core §3.1.3.7 items 3–5 (go-oidc checks only that aud contains
	// the client): with several audiences azp must be present, and when
	// present it must name this client.
	var az struct {
		AZP *string `json:"azp"`
	}
	if err := idt.Claims(&az); err != nil {
		return nil, fmt.Errorf("%w: azp: %w", ErrInvalidIDToken, err)
	}
	switch {
	case az.AZP != nil && *az.AZP != c.clientID:
		return nil, fmt.Errorf("%w: azp %q is not this client", ErrInvalidIDToken, truncate(*az.AZP, 100))
	case az.AZP == nil && len(idt.Audience) > 1:
		return nil, fmt.Errorf("%w: several audiences and no azp", ErrInvalidIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", ErrInvalidIDToken, err)
		}
	}
	return idt, nil
}

// Refresh exchanges a refresh token for new tokens (RFC 6749 §6) through
// x/oauth2, with the client's authentication. A returned ID token is
// verified (no nonce, OIDC Core §12.2); IDToken is nil when none came back.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, errors.New("client: refresh: empty refresh token")
	}
	ts := c.oauth.TokenSource(c.tokenContext(ctx), &oauth2.Token{RefreshToken: refreshToken})
	tok, err := ts.Token()
	if err != nil {
		return nil, c.tokenError(err)
	}
	if err := c.checkTokenType(tok); err != nil {
		return nil, err
	}
	t := &Tokens{Token: tok}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if t.IDToken, err = c.verifyIDToken(ctx, raw, tok.AccessToken); err != nil {
			return nil, err
		}
		t.RawIDToken = raw
	}
	return t, nil
}

// RefreshTokens is [Client.Refresh] for tokens from Exchange: an ID token
// that comes back must also belong to the same login as prev's (OIDC Core
// §12.2): the same iss, sub, aud and azp, and the same auth_time and nonce
// when both carry one; otherwise the error wraps ErrInvalidIDToken. When no ID token
// comes back, IDToken and RawIDToken are carried over from prev.
func (c *Client) RefreshTokens(ctx context.Context, prev *Tokens) (*Tokens, error) {
	if prev == nil || prev.Token == nil {
		return nil, errors.New("client: refresh: no tokens")
	}
	t, err := c.Refresh(ctx, prev.Token.RefreshToken)
	if err != nil {
		return nil, err
	}
	if t.IDToken == nil {
		t.IDToken, t.RawIDToken = prev.IDToken, prev.RawIDToken
		return t, nil
	}
	if prev.IDToken != nil {
		if err := sameLogin(prev.IDToken, t.IDToken); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// sameLogin applies OIDC Core §12.2 to a refreshed ID token. Values are
// not put in the error: sub may be personal data.
func sameLogin(old, cur *oidc.IDToken) error {
	type extra struct {
		AZP      *string         `json:"azp"`
		AuthTime json.RawMessage `json:"auth_time"`
	}
	var a, b extra
	if err := old.Claims(&a); err != nil {
		return fmt.Errorf("%w: original id token: %w", ErrInvalidIDToken, err)
	}
	if err := cur.Claims(&b); err != nil {
		return fmt.Errorf("%w: refreshed id token: %w", ErrInvalidIDToken, err)
	}
	var differs string
	switch {
	case old.Issuer != cur.Issuer:
		differs = "iss"
	case old.Subject != cur.Subject:
		differs = "sub"
	case !sameSet(old.Audience, cur.Audience):
		differs = "aud"
	case (a.AZP == nil) != (b.AZP == nil) || a.AZP != nil && *a.AZP != *b.AZP:
		differs = "azp"
	case old.Nonce != "" && cur.Nonce != "" && old.Nonce != cur.Nonce:
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

// TokenSource returns an oauth2.TokenSource that hands out t until it
// expires, then refreshes it with the client (RFC 6749 §6). Each refresh
// runs with a background context bounded by the HTTP client's timeout, or
// 30 s when it has none.
func (c *Client) TokenSource(t *oauth2.Token) oauth2.TokenSource {
	return c.tokenSource(&Tokens{Token: t})
}

// tokenSource is TokenSource that also checks refreshed ID tokens against
// t's (OIDC Core §12.2).
func (c *Client) tokenSource(t *Tokens) oauth2.TokenSource {
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
	tk, err := r.c.RefreshTokens(ctx, r.t)
	if err != nil {
		return nil, err
	}
	if tk.Token.RefreshToken == "" {
		tk.Token.RefreshToken = r.t.Token.RefreshToken
	}
	r.t = tk
	return tk.Token, nil
}

// tokenTransport applies what x/oauth2 cannot to token-endpoint requests:
// a fresh client assertion (new jti) per request and, with DPoP, a proof and
// the single use_dpop_nonce retry (RFC 9449 §8), re-minting both.
type tokenTransport struct {
	base http.RoundTripper
	c    *Client
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent []sentRequest
	resp, err := t.roundTrip(req, &sent)
	if err != nil {
		return nil, err
	}
	// x/oauth2 silently cuts bodies at 1 MiB; refuse them instead.
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// An error response must not echo what the requests carried (the
		// code, verifier, refresh token, secret, assertion, proof) into
		// x/oauth2's RetrieveError and from there into our errors.
		if len(sent) == 0 && req.GetBody != nil { // sent as x/oauth2 made it
			if rb, err := req.GetBody(); err == nil {
				b, _ := io.ReadAll(io.LimitReader(rb, httpx.MaxBody))
				rb.Close()
				form, _ := url.ParseQuery(string(b))
				sent = append(sent, sentRequest{form, req.Header})
			}
		}
		v := t.c.sentValues(sent)
		body, resp.Header, resp.Status = v.Bytes(body), v.Header(resp.Header), v.Redact(resp.Status)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (t *tokenTransport) roundTrip(req *http.Request, sent *[]sentRequest) (*http.Response, error) {
	c := t.c
	if (!c.auth.isJWT() && c.dpop == nil) || req.Body == nil {
		return t.base.RoundTrip(req)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, httpx.MaxBody))
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	endpoint := req.URL.String()
	for attempt := 0; ; attempt++ {
		r2 := req.Clone(req.Context())
		form := params
		if c.auth.isJWT() {
			form = make(url.Values, len(params)+2)
			for k, v := range params {
				form[k] = v
			}
			if err := c.auth.apply(form, r2.Header); err != nil {
				return nil, err
			}
		}
		if c.dpop != nil {
			proof, err := c.dpop.Proof(req.Method, endpoint, c.nonces.Nonce(dpop.Origin(endpoint)), "")
			if err != nil {
				return nil, err
			}
			r2.Header.Set("DPoP", proof)
		}
		*sent = append(*sent, sentRequest{form, r2.Header})
		enc := form.Encode()
		r2.Body = io.NopCloser(strings.NewReader(enc))
		r2.ContentLength = int64(len(enc))
		r2.GetBody = nil
		resp, err := t.base.RoundTrip(r2)
		if err != nil || c.dpop == nil {
			return resp, err
		}
		nonce, ok := dpop.ParseNonce(resp.Header)
		if ok {
			c.nonces.SetNonce(dpop.Origin(endpoint), nonce)
		}
		if attempt > 0 || !ok || resp.StatusCode != http.StatusBadRequest {
			return resp, nil
		}
		// Peek at the error body; hand it back intact if it is not a
		// nonce challenge.
		rb, err := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxBody))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if !dpop.IsUseNonceError(resp, rb) {
			resp.Body = io.NopCloser(bytes.NewReader(rb))
			return resp, nil
		}
	}
}

// HTTPClient returns an HTTP client for resource-server calls with the
// tokens: DPoP-bound tokens go through [dpop.Transport] (a fresh proof per
// request, nonce retry), Bearer tokens through oauth2.Transport. Expired
// tokens are refreshed as by [Client.RefreshTokens] when a refresh token is
// present.
func (c *Client) HTTPClient(t *Tokens) *http.Client {
	if t == nil {
		t = &Tokens{}
	}
	src := c.tokenSource(t)
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
// checked; a failure there is ErrInvalidResponse (wrapping ErrUnknownKeyID
// for an unknown kid).
func (c *Client) UserInfo(ctx context.Context, t *Tokens) (*UserInfo, error) {
	if c.userinfoURL == "" {
		return nil, errors.New("client: userinfo: provider has no userinfo_endpoint")
	}
	if t == nil || t.Token == nil || t.IDToken == nil {
		return nil, errors.New("client: userinfo: tokens without a verified id token")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.userinfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("client: userinfo: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwt")
	hc := c.hc
	var sent []sentRequest // the proofs sent, redacted from an error response
	if c.dpop != nil {
		// The token as given: no hidden refresh, whose rotated refresh token
		// the caller would never see (as on the Bearer path).
		hc = &http.Client{Transport: &dpop.Transport{Base: &recordHeaders{base: transportOf(c.hc), sent: &sent}, Proofer: c.dpop,
			Source: oauth2.StaticTokenSource(t.Token), Nonces: c.nonces}, Timeout: c.hc.Timeout, CheckRedirect: c.hc.CheckRedirect}
	} else {
		req.Header.Set("Authorization", "Bearer "+t.Token.AccessToken)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: userinfo: %w", redactURLError(err))
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("client: userinfo: %w: %w", ErrInvalidResponse, err)
	}
	if resp.StatusCode != http.StatusOK {
		v := c.sentValues(sent, t.Token.AccessToken, t.Token.RefreshToken, t.RawIDToken)
		e := c.responseError("userinfo", c.userinfoURL, resp.StatusCode, v.Header(resp.Header), v.Bytes(body))
		return nil, e
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
		return nil, ErrSubjectMismatch
	}
	return &UserInfo{Subject: *claims.Subject, raw: body}, nil
}

func (c *Client) verifySignedUserInfo(ctx context.Context, body []byte) ([]byte, error) {
	raw := strings.TrimSpace(string(body))
	// The ID token algorithm allow-list (IDTokenAlgorithms, FAPI 2.0 §5.4)
	// holds for signed UserInfo responses too.
	algs := make([]jose.SignatureAlgorithm, len(c.oidcConfig.SupportedSigningAlgs))
	for i, a := range c.oidcConfig.SupportedSigningAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	if _, err := jose.ParseSignedCompact(raw, algs); err != nil {
		return nil, fmt.Errorf("%w: userinfo: signed response: %w", ErrInvalidResponse, err)
	}
	payload, err := c.keys.VerifySignature(oidc.ClientContext(ctx, c.hc), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: signed response: %w", ErrInvalidResponse, err)
	}
	var std struct {
		Issuer   string          `json:"iss"`
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &std); err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrInvalidResponse, err)
	}
	// OIDC Core §5.3.2: a signed response MUST contain iss and aud.
	if std.Issuer != c.issuer {
		return nil, fmt.Errorf("%w: userinfo: signed response from issuer %q", ErrInvalidResponse,
			truncate(c.sentValues(nil).Redact(std.Issuer), 100))
	}
	if len(std.Audience) == 0 {
		return nil, fmt.Errorf("%w: userinfo: signed response without aud", ErrInvalidResponse)
	}
	var one string
	var many []string
	if json.Unmarshal(std.Audience, &one) == nil {
		many = []string{one}
	} else if json.Unmarshal(std.Audience, &many) != nil {
		return nil, fmt.Errorf("%w: userinfo: aud", ErrInvalidResponse)
	}
	if !slices.Contains(many, c.clientID) {
		return nil, fmt.Errorf("%w: userinfo: signed response for another audience", ErrInvalidResponse)
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
