package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/httpx"
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
	// MaxAge is the max_age pushed, in seconds as sent, or "" when none;
	// Exchange then requires a recent enough auth_time (OIDC Core §3.1.2.1,
	// §3.1.3.7 item 13).
	MaxAge string `json:"max_age,omitempty"`
}

// String shows the flow without its secrets (state, nonce, code
// verifier). It has a value receiver, so a Flow value is redacted too.
func (f Flow) String() string {
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
// work too.
type Option = oauth2.AuthCodeOption

// WithParam sets any authorization request parameter, such as the MitID
// broker's idp_values or language. Parameters the SDK owns are refused by
// Push (ErrReservedParameter).
func WithParam(name, value string) Option { return oauth2.SetAuthURLParam(name, value) }

// Typed helpers for common authorization request parameters follow.

// WithPrompt sets prompt, e.g. "login" (OIDC Core §3.1.2.1).
func WithPrompt(prompt string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("prompt", prompt) }

// WithACRValues sets acr_values (OIDC Core §3.1.2.1).
func WithACRValues(values ...string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("acr_values", strings.Join(values, " "))
}

// WithLoginHint sets login_hint (OIDC Core §3.1.2.1).
func WithLoginHint(hint string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("login_hint", hint)
}

// WithMaxAge sets max_age (OIDC Core §3.1.2.1).
func WithMaxAge(d time.Duration) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("max_age", strconv.FormatInt(int64(d/time.Second), 10))
}

// WithUILocales sets ui_locales (OIDC Core §3.1.2.1).
func WithUILocales(locales ...string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("ui_locales", strings.Join(locales, " "))
}

// WithScopes replaces the configured scopes for one push ("openid" is kept).
func WithScopes(scopes ...string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("scope", strings.Join(scopes, " "))
}

// WithRedirectURL replaces the configured redirect_uri for one push.
func WithRedirectURL(u string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("redirect_uri", u)
}

// WithState sets the state instead of a random one. Only for callers that
// derive state themselves; it must be unguessable.
func WithState(state string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("state", state) }

// WithNonce sets the nonce instead of a random one; it must be unguessable.
func WithNonce(nonce string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("nonce", nonce) }

// reserved are parameters the SDK owns and callers may not set.
var reserved = []string{"request_uri", "request", "code_challenge", "code_challenge_method", "code_verifier",
	"client_secret", "client_assertion", "client_assertion_type", "response_type"}

// optionValues extracts the parameters of x/oauth2 options. x/oauth2's
// option interface is sealed, so they are read back from AuthCodeURL.
func optionValues(opts []oauth2.AuthCodeOption) (url.Values, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	probe := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "x:"}}
	u, err := url.Parse(probe.AuthCodeURL("", opts...))
	if err != nil {
		return nil, fmt.Errorf("client: options: %w", err)
	}
	v := u.Query()
	if rt := v.Get("response_type"); rt == "code" {
		v.Del("response_type") // the probe's own default
	}
	if v.Get("client_id") == "" {
		v.Del("client_id")
	}
	return v, nil
}

// Push sends a pushed authorization request (RFC 9126 §2): it makes fresh
// state, nonce and PKCE S256 values, posts every parameter with client
// authentication to the PAR endpoint, and returns the Flow to keep until the
// callback. Extra parameters (prompt, acr_values, idp_values, idp_params, …)
// pass through; parameters the SDK owns give ErrReservedParameter.
//
// Only a 201 response with a string request_uri and a positive integer
// expires_in is success (RFC 9126 §2.2). Errors are *ResponseError.
func (c *Client) Push(ctx context.Context, opts ...oauth2.AuthCodeOption) (*Flow, error) {
	extra, err := optionValues(opts)
	if err != nil {
		return nil, err
	}
	flow := &Flow{Issuer: c.issuer, RedirectURL: c.redirect}
	params := make(url.Values, 10+len(extra))
	for k, v := range extra {
		switch {
		case k == "client_id":
			if len(v) != 1 || v[0] != c.clientID {
				return nil, fmt.Errorf("%w: client_id differs from the configured one", ErrReservedParameter)
			}
			continue
		case isReserved(k):
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

	if c.dpop != nil {
		flow.DPoPJKT = c.dpop.Thumbprint()
		if c.jktOnly {
			params.Set("dpop_jkt", flow.DPoPJKT)
		}
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
	// The flow's state, nonce and verifier are secrets a provider could
	// echo even when they travel inside a request object.
	status, header, body, err := c.post(ctx, "par", c.parURL, form, !c.jktOnly, flow.State, flow.Nonce, flow.CodeVerifier)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		if status >= 200 && status < 300 {
			return nil, fmt.Errorf("%w: par: HTTP %d instead of 201 Created (RFC 9126 §2.2)", ErrInvalidResponse, status)
		}
		return nil, c.responseError("par", c.parURL, status, header, body)
	}
	uri, expiresIn, err := parsePARResponse(body)
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

func isReserved(k string) bool {
	for _, r := range reserved {
		if k == r {
			return true
		}
	}
	return false
}

// post sends an authenticated form POST to a back-channel endpoint. With
// DPoP it adds a proof and, on a use_dpop_nonce challenge, retries exactly
// once with the server's nonce, re-minting the proof and the client
// assertion (RFC 9449 §8). params is not modified.
//
// The header and body of a response other than 2xx come back with every
// secret the requests carried (client secret, assertion, DPoP proof, the
// values of secret parameters such as code or auth_req_id) and every extra
// value redacted: a provider's error must not echo them into an error
// string or a log line.
func (c *Client) post(ctx context.Context, name, endpoint string, params url.Values, withDPoP bool, extra ...string) (int, http.Header, []byte, error) {
	withDPoP = withDPoP && c.dpop != nil
	var sentBuf [2]sentRequest // for redaction, read only on errors; no allocation
	sent := sentBuf[:0]
	for attempt := 0; ; attempt++ {
		form := make(url.Values, len(params)+3)
		for k, v := range params {
			form[k] = v
		}
		header := make(http.Header, 4)
		if err := c.auth.apply(form, header); err != nil {
			return 0, nil, nil, err
		}
		if withDPoP {
			proof, err := c.dpop.Proof(http.MethodPost, endpoint, c.nonces.Nonce(dpop.Origin(endpoint)), "")
			if err != nil {
				return 0, nil, nil, fmt.Errorf("client: %s: %w", name, err)
			}
			header.Set("DPoP", proof)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return 0, nil, nil, fmt.Errorf("client: %s: %w", name, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		sent = append(sent, sentRequest{form, header})
		resp, err := c.hc.Do(req)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("client: %s: %w", name, redactURLError(err))
		}
		body, err := httpx.ReadBody(resp)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("client: %s: %w: %w", name, ErrInvalidResponse, err)
		}
		if withDPoP {
			nonce, ok := dpop.ParseNonce(resp.Header)
			if ok {
				c.nonces.SetNonce(dpop.Origin(endpoint), nonce)
			}
			if attempt == 0 && ok && dpop.IsUseNonceError(resp, body) {
				c.log.LogAttrs(ctx, slog.LevelDebug, "client: dpop nonce challenge, retrying once", slog.String("endpoint", endpoint))
				continue
			}
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			v := c.sentValues(sent, extra...)
			return resp.StatusCode, v.Header(resp.Header), v.Bytes(body), nil
		}
		return resp.StatusCode, resp.Header, body, nil
	}
}

// PostForm sends an authenticated form POST (the client's authentication
// method applied, redirects refused, body capped at 1 MiB) to an endpoint of
// this provider, for protocol extensions such as CIBA. The caller interprets
// the response; the returned response's Body is already consumed and closed.
// For a status other than 2xx, the returned header and body have every
// secret the request carried replaced by "[redacted]": the client's
// credentials (secret, assertion, DPoP proof) and the values of the
// parameters client_secret, client_assertion, code, code_verifier,
// refresh_token, access_token, token, id_token, request, auth_req_id,
// device_code, assertion, subject_token, actor_token, password, state and
// nonce.
func (c *Client) PostForm(ctx context.Context, endpoint string, form url.Values) (*http.Response, []byte, error) {
	// The form carries the client's credentials: https only (loopback
	// excepted), as for every metadata endpoint (RFC 6749 §2.3.1, §3.2).
	if _, err := httpx.CheckEndpoint("endpoint", endpoint); err != nil {
		return nil, nil, fmt.Errorf("client: post: %w", err)
	}
	status, header, body, err := c.post(ctx, "post", endpoint, form, false)
	if err != nil {
		return nil, nil, err
	}
	return &http.Response{StatusCode: status, Header: header, Body: http.NoBody}, body, nil
}

// redactURLError drops the URL wrapper's query (never secret here, but
// kept short) and returns the underlying transport error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s %s: %w", strings.ToLower(ue.Op), stripQuery(ue.URL), ue.Err)
	}
	return err
}

func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// parsePARResponse reads a successful PAR response body (RFC 9126 §2.2).
func parsePARResponse(body []byte) (requestURI string, expiresIn int64, err error) {
	var r struct {
		RequestURI json.RawMessage `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", 0, fmt.Errorf("%w: par: body is not a JSON object: %w", ErrInvalidResponse, err)
	}
	if len(r.RequestURI) == 0 || r.RequestURI[0] != '"' {
		return "", 0, fmt.Errorf("%w: par: request_uri missing or not a string", ErrInvalidResponse)
	}
	if err := json.Unmarshal(r.RequestURI, &requestURI); err != nil || strings.TrimSpace(requestURI) == "" {
		return "", 0, fmt.Errorf("%w: par: request_uri is empty", ErrInvalidResponse)
	}
	raw := bytes.TrimSpace(r.ExpiresIn)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", 0, fmt.Errorf("%w: par: expires_in missing", ErrInvalidResponse)
	}
	n, perr := strconv.ParseInt(string(raw), 10, 64)
	if perr != nil || n <= 0 {
		return "", 0, fmt.Errorf("%w: par: expires_in must be a positive integer", ErrInvalidResponse)
	}
	if n > 24*3600 {
		n = 24 * 3600
	}
	return requestURI, n, nil
}

// responseError builds a *ResponseError from a non-success response.
func (c *Client) responseError(name, endpoint string, status int, header http.Header, body []byte) *ResponseError {
	e := &ResponseError{Endpoint: name, URL: endpoint, StatusCode: status, Header: header, Body: body,
		RetryAfter: parseRetryAfter(header.Get("Retry-After"), c.now())}
	e.Code, e.Description, e.URI = parseErrorBody(body)
	return e
}

// parseErrorBody reads an RFC 6749 §5.2 error object; anything else yields
// empty strings.
func parseErrorBody(body []byte) (code, description, uri string) {
	var r struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
		ErrorURI         any `json:"error_uri"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", "", ""
	}
	str := func(v any) string { s, _ := v.(string); return s }
	return str(r.Error), str(r.ErrorDescription), str(r.ErrorURI)
}

// AuthorizationURL returns the URL to send the browser to: the
// authorization endpoint (with any query it already has) plus client_id and
// request_uri only (RFC 9126 §4). It returns ErrRequestURIExpired when the
// request_uri has expired or will within RequestURISkew; push again then.
// A request_uri must be used once only.
func (c *Client) AuthorizationURL(flow *Flow) (string, error) {
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
