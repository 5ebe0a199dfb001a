package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/oauthparams"
	"github.com/go-par/par/pkce"
)

// Flow is what must be kept between the push and the callback: one login
// attempt. Store it server-side or in an encrypted cookie (package login
// does either); it holds the PKCE verifier, which is a secret.
type Flow struct {
	State        string    `json:"state"`
	Nonce        string    `json:"nonce"`
	CodeVerifier string    `json:"code_verifier"`
	RequestURI   string    `json:"request_uri"`
	ExpiresAt    time.Time `json:"expires_at"`
	RedirectURL  string    `json:"redirect_uri"`
	Issuer       string    `json:"issuer"`
	// DPoPJKT is the thumbprint of the DPoP key the code is bound to, if any.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// DPoPKey is, for a login with a DPoP key of its own (package login's
	// Config.DPoPPerLogin), that key's private part (PKCS #8 DER, base64url
	// without padding), kept with the flow until the callback: a secret,
	// sealed by every store like the verifier. Push does not set it and
	// Exchange does not read it: exchange on [Client.WithDPoP] with that
	// key.
	DPoPKey string `json:"dpop_key,omitempty"`
	// MaxAge is the max_age pushed, in seconds as sent, or "" when none;
	// Exchange then requires a recent enough auth_time (OIDC Core §3.1.2.1,
	// §3.1.3.7 item 13).
	MaxAge string `json:"max_age,omitempty"`
	// ResponseMode is the response_mode pushed, or "" for the default.
	// After a JWT response mode (jwt, query.jwt, form_post.jwt: JARM)
	// Exchange refuses a plain response.
	ResponseMode string `json:"response_mode,omitempty"`

	// front is the encoded front-channel request of a provider without
	// PAR (Config.InsecureFrontChannel), for AuthorizationURL; such a flow
	// has no RequestURI and a zero ExpiresAt. The callback does not need it.
	front string
}

// String shows the flow without its secrets (state, nonce, code
// verifier). It has a value receiver, so a Flow value is redacted too.
func (f Flow) String() string {
	if f.RequestURI == "" && f.front != "" {
		return fmt.Sprintf("flow(issuer=%s front channel, state/nonce/verifier redacted)", f.Issuer)
	}
	return fmt.Sprintf("flow(issuer=%s request_uri=%s expires=%s, state/nonce/verifier redacted)",
		f.Issuer, f.RequestURI, f.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString (the %#v verb) is String.
func (f Flow) GoString() string { return f.String() }

// LogValue logs the flow without its secrets.
func (f Flow) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", f.Issuer), slog.String("request_uri", f.RequestURI),
		slog.Time("expires_at", f.ExpiresAt))
}

// Option is a per-request authorization request parameter for Push. It is
// an alias of oauth2.AuthCodeOption, so the options of x/oauth2 and go-oidc
// (oauth2.SetAuthURLParam, oidc.Nonce, …) work too.
type Option = oauth2.AuthCodeOption

// WithParam sets any authorization request parameter (OIDC Core §3.1.2.1,
// RFC 9126 §2.1): acr_values, login_hint, ui_locales, scope (replacing the
// configured scopes; "openid" is kept), redirect_uri, state or nonce
// (instead of random ones; they must be unguessable), or the MitID
// broker's idp_values and language. Parameters the SDK owns are refused by
// Push (ErrReservedParameter).
func WithParam(name, value string) Option { return oauth2.SetAuthURLParam(name, value) }

// WithPrompt sets prompt, e.g. "login" (OIDC Core §3.1.2.1).
func WithPrompt(prompt string) Option { return oauth2.SetAuthURLParam("prompt", prompt) }

// WithMaxAge sets max_age in whole seconds (OIDC Core §3.1.2.1); Exchange
// then requires a recent enough auth_time.
func WithMaxAge(d time.Duration) Option {
	return oauth2.SetAuthURLParam("max_age", strconv.FormatInt(int64(d/time.Second), 10))
}

// Push sends a pushed authorization request (RFC 9126 §2): it makes fresh
// state, nonce and PKCE S256 values, posts every parameter with client
// authentication to the PAR endpoint, and returns the Flow to keep until the
// callback. Extra parameters (prompt, acr_values, idp_values, idp_params, …)
// pass through; parameters the SDK owns give ErrReservedParameter.
//
// Only a 201 response with a string request_uri and a positive integer
// expires_in is success (RFC 9126 §2.2). Errors are *ResponseError.
//
// For a provider without a PAR endpoint (Config.InsecureFrontChannel) Push
// sends nothing: the same parameters (a DPoP key bound by dpop_jkt, RFC
// 9449 §10) stay in the Flow for AuthorizationURL, and a parameter that
// carries a credential (code, a token, a password) gives
// ErrReservedParameter, as it would land in the URL.
func (c *Client) Push(ctx context.Context, opts ...Option) (*Flow, error) {
	extra := oauthparams.Values(opts)
	flow := &Flow{Issuer: c.issuer, RedirectURL: c.redirect}
	// Room for the 8 members every push has: a map of at most 8 stays in
	// one group (cheaper to make, fill and walk).
	size := 8 + len(extra)
	if c.respMode != "" {
		size++
	}
	if c.jktOnly {
		size++
	}
	params := make(url.Values, size)
	for k, v := range extra {
		switch {
		case k == "client_id":
			if len(v) != 1 || v[0] != c.clientID {
				return nil, fmt.Errorf("%w: client_id differs from the configured one", ErrReservedParameter)
			}
			continue
		case oauthparams.Owned(k):
			return nil, fmt.Errorf("%w: %s is set by the SDK (RFC 9126 §2.1)", ErrReservedParameter, k)
		}
		params[k] = v
	}
	if s := params.Get("state"); s != "" {
		flow.State = s
	} else {
		flow.State = rand.Text()
		params.Set("state", flow.State)
	}
	if n := params.Get("nonce"); n != "" {
		flow.Nonce = n
	} else {
		flow.Nonce = rand.Text()
		params.Set("nonce", flow.Nonce)
	}
	if r := params.Get("redirect_uri"); r != "" {
		flow.RedirectURL = r
	} else {
		params.Set("redirect_uri", c.redirect)
	}
	if ma, ok := params["max_age"]; ok {
		if len(ma) != 1 || !isMaxAge(ma[0]) {
			return nil, fmt.Errorf("client: push: max_age must be one non-negative integer (OIDC Core §3.1.2.1)")
		}
		flow.MaxAge = ma[0]
	}
	if s := params.Get("scope"); s != "" {
		if !strings.Contains(" "+s+" ", " openid ") {
			params.Set("scope", "openid "+s)
		}
	} else {
		params.Set("scope", c.scope)
	}
	flow.CodeVerifier = pkce.NewVerifier()
	params.Set("response_type", "code")
	params.Set("client_id", c.clientID)
	params.Set("code_challenge", pkce.Challenge(flow.CodeVerifier))
	params.Set("code_challenge_method", pkce.MethodS256)
	if c.respMode != "" && params.Get("response_mode") == "" {
		params.Set("response_mode", c.respMode)
	}
	if rm, ok := params["response_mode"]; ok {
		switch {
		case len(rm) != 1:
			return nil, fmt.Errorf("client: push: response_mode given %d times", len(rm))
		case c.requireJARM && !isJWTMode(rm[0]):
			return nil, fmt.Errorf("client: push: response_mode %.30q: MessageSigning SignedResponses needs a JWT response mode (FAPI 2.0 Message Signing §5.4)", rm[0])
		}
		flow.ResponseMode = rm[0]
	}

	if ad, ok := params["authorization_details"]; ok {
		v, err := c.checkAuthorizationDetails(ad)
		if err != nil {
			return nil, err
		}
		params.Set("authorization_details", v)
	}

	if c.dpop != nil {
		flow.DPoPJKT = c.dpop.Thumbprint()
		if c.jktOnly {
			params.Set("dpop_jkt", flow.DPoPJKT)
		}
	}
	if c.front {
		return c.pushFront(ctx, flow, params)
	}
	form := params
	if c.jar != nil {
		ro, err := c.jar.Build(params)
		if err != nil {
			return nil, fmt.Errorf("client: request object: %w", err)
		}
		form = url.Values{"request": {ro}, "client_id": {c.clientID}}
	}

	start := c.now()
	resp, err := c.call(ctx, backchannel.Request{Name: "par", URL: c.parURL, Form: form, DPoP: !c.jktOnly})
	if err != nil {
		return nil, err
	}
	status := resp.StatusCode
	if status != http.StatusCreated {
		if status >= 200 && status < 300 {
			return nil, fmt.Errorf("%w: par: HTTP %d instead of 201 Created (RFC 9126 §2.2)", ErrInvalidResponse, status)
		}
		// The flow's state, nonce and verifier are secrets a provider could
		// echo even when they travel inside a request object.
		return nil, c.responseError("par", c.parURL, &resp, flow.State, flow.Nonce, flow.CodeVerifier)
	}
	uri, expiresIn, err := parsePARResponse(resp.Body)
	if err != nil {
		return nil, err
	}
	flow.RequestURI = uri
	if c.profile == ProfileFAPI2 && expiresIn >= 600 {
		// R34: a conformance warning, not an error (the broker sends 600).
		c.log.LogAttrs(ctx, slog.LevelWarn, "client: par: expires_in of 600 s or more breaks FAPI 2.0 §5.3.2.2",
			slog.Int64("expires_in", expiresIn))
	}
	flow.ExpiresAt = start.Add(time.Duration(expiresIn) * time.Second)
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: pushed", slog.String("endpoint", c.parURL),
		slog.Int("status", status), slog.Int64("expires_in", expiresIn))
	return flow, nil
}

// isMaxAge reports whether v is a max_age value: a non-negative integer
// number of seconds.
func isMaxAge(v string) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n >= 0
}

// AuthorizationURL returns the URL to send the browser to: the
// authorization endpoint (with any query it already has) plus client_id and
// request_uri only (RFC 9126 §4). It returns ErrRequestURIExpired when the
// request_uri has expired or will within RequestURISkew; push again then.
// A request_uri must be used once only.
//
// For a provider without PAR (Config.InsecureFrontChannel) the URL carries
// the flow's whole request instead (RFC 6749 §4.1.1, OIDC Core §3.1.2.1):
// response_type=code, client_id, redirect_uri, scope, state, nonce,
// code_challenge with S256 and the options given to Push, or, with
// Config.RequestObject, client_id, request (the signed object by value,
// RFC 9101 §5), response_type and scope (OIDC Core §6.1). Such a URL does
// not expire; only the Flow that Push returned holds it.
func (c *Client) AuthorizationURL(flow *Flow) (string, error) {
	if flow != nil && (c.front || flow.front != "") {
		return c.frontURL(flow)
	}
	if flow == nil || flow.RequestURI == "" {
		return "", fmt.Errorf("client: authorization url: flow has no request_uri")
	}
	if flow.Issuer != "" && flow.Issuer != c.issuer {
		// A request_uri is bound to the provider that issued it (RFC 9126 §4).
		return "", fmt.Errorf("%w: flow was pushed to issuer %q", ErrIssuerMismatch, flow.Issuer)
	}
	if !c.now().Before(flow.ExpiresAt.Add(-c.uriSkew)) {
		return "", ErrRequestURIExpired
	}
	u := *c.authURL
	q := u.Query()
	q.Set("client_id", c.clientID)
	q.Set("request_uri", flow.RequestURI)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
