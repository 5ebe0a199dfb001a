package mitid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/internal/httpx"
)

// GrantTypeCIBA is the CIBA grant type (OpenID CIBA Core §10.1), which the
// broker also expects on the backchannel authentication request.
const GrantTypeCIBA = "urn:openid:params:grant-type:ciba"

// Errors of a backend-initiated flow. Poll returns them wrapped together
// with the broker's *client.ResponseError (when there is one), so both
// errors.Is and errors.As work.
var (
	// ErrAccessDenied: the user refused or aborted, or the IdP failed the
	// login (CIBA Core §11 access_denied); the description holds the
	// broker's sub-code.
	ErrAccessDenied = errors.New("mitid: ciba: access denied")
	// ErrExpired: the auth_req_id expired before the user finished (CIBA
	// Core §11 expired_token, or its expires_in has passed).
	ErrExpired = errors.New("mitid: ciba: auth_req_id expired")
	// ErrInvalidGrant: the broker does not know the auth_req_id, or its
	// result was already fetched: the broker returns a result once only,
	// then invalid_grant (ciba-par-oidc-integration.md).
	ErrInvalidGrant = errors.New("mitid: ciba: invalid grant")
	// ErrInvalidResponse: a broker response was malformed.
	ErrInvalidResponse = errors.New("mitid: ciba: invalid response")
)

// BackChannel is the client's authenticated back channel to the broker.
// *client.Client implements it: PostForm applies the configured client
// authentication, refuses redirects and caps the response body.
type BackChannel interface {
	PostForm(ctx context.Context, endpoint string, form url.Values) (*http.Response, []byte, error)
	Metadata() *discovery.Metadata
}

// IDTokenVerifier verifies an ID token's signature, issuer, audience and
// expiry. *oidc.IDTokenVerifier implements it.
type IDTokenVerifier interface {
	Verify(ctx context.Context, rawIDToken string) (*oidc.IDToken, error)
}

// CIBAConfig configures a [CIBA] client.
type CIBAConfig struct {
	// BackChannel sends the authenticated requests (backchannel
	// authentication, token polling, init-auth). Required; pass the
	// *client.Client of the broker.
	BackChannel BackChannel
	// Verifier verifies the ID token of a completed flow. Default: the
	// BackChannel's own, when it has a Verifier() *oidc.IDTokenVerifier
	// method as *client.Client does (its key set copes with the broker's
	// JWKS, whose encryption key go-jose's JSONWebKeySet rejects, so prefer
	// it over one built on oidc.NewRemoteKeySet). Required otherwise.
	Verifier IDTokenVerifier
	// HTTPClient sends the requests that carry no client authentication:
	// Cancel, and InitAuth with InitAuthJSON. Default: a 30 s timeout.
	// Redirects are never followed.
	HTTPClient *http.Client
	// InitAuthEndpoint is the broker's CIBA→PAR bridge. Default:
	// {issuer}/api/ciba/broker-oidc/init-auth (ciba-par-oidc-integration.md).
	InitAuthEndpoint string
	// CancelEndpoint is the prefix of the cancel API; the auth_req_id is
	// appended as a path segment. Default: {issuer}/api/v1/ciba
	// (enterprise/flex-app-ciba.md).
	CancelEndpoint string
	// InitAuthJSON sends init-auth as the JSON body the broker's example
	// shows, without client authentication, through HTTPClient. By default
	// InitAuth sends the same members form-encoded through the BackChannel,
	// i.e. with the client's authentication (the broker does not document
	// how the call authenticates).
	InitAuthJSON bool
	// Logger receives Debug traces (never the auth_req_id or tokens).
	// Default: silent.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// CIBA runs the broker's backend-initiated flows: CIBA (OpenID CIBA Core,
// poll mode) and the broker's CIBA→PAR bridge, which turns a CIBA request
// into an authorization URL the user opens in any browser
// (ciba-par-oidc-integration.md). It is immutable and safe for concurrent
// use.
type CIBA struct {
	bc         BackChannel
	verifier   IDTokenVerifier
	hc         *http.Client
	cibaURL    string
	tokenURL   string
	initURL    string
	cancelURL  string
	authOrigin string
	initJSON   bool
	log        *slog.Logger
	now        func() time.Time
}

// NewCIBA validates cfg and returns a CIBA client. It does no I/O.
func NewCIBA(cfg CIBAConfig) (*CIBA, error) {
	if cfg.BackChannel == nil {
		return nil, errors.New("mitid: ciba: config: BackChannel is nil")
	}
	md := cfg.BackChannel.Metadata()
	if md == nil {
		return nil, errors.New("mitid: ciba: config: BackChannel has no metadata")
	}
	c := &CIBA{
		bc:       cfg.BackChannel,
		verifier: cfg.Verifier,
		hc:       httpx.NoRedirects(cfg.HTTPClient),
		initJSON: cfg.InitAuthJSON,
		log:      cfg.Logger,
		now:      cfg.Now,
	}
	if c.verifier == nil {
		if v, ok := cfg.BackChannel.(interface{ Verifier() *oidc.IDTokenVerifier }); ok && v.Verifier() != nil {
			c.verifier = v.Verifier()
		}
	}
	if c.verifier == nil {
		return nil, errors.New("mitid: ciba: config: Verifier is nil and the BackChannel has no Verifier")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	issuer := strings.TrimSuffix(md.Issuer, "/")
	if cfg.InitAuthEndpoint == "" {
		cfg.InitAuthEndpoint = issuer + "/api/ciba/broker-oidc/init-auth"
	}
	if cfg.CancelEndpoint == "" {
		cfg.CancelEndpoint = issuer + "/api/v1/ciba"
	}
	for _, e := range []struct {
		name string
		val  string
		dst  *string
	}{
		{"backchannel_authentication_endpoint", md.BackchannelAuthenticationEndpoint, &c.cibaURL},
		{"token_endpoint", md.TokenEndpoint, &c.tokenURL},
		{"InitAuthEndpoint", cfg.InitAuthEndpoint, &c.initURL},
		{"CancelEndpoint", cfg.CancelEndpoint, &c.cancelURL},
	} {
		if _, err := httpx.CheckEndpoint(e.name, e.val); err != nil {
			return nil, fmt.Errorf("mitid: ciba: config: %w", err)
		}
		*e.dst = e.val
	}
	c.cancelURL = strings.TrimSuffix(c.cancelURL, "/")
	if u, err := url.Parse(md.AuthorizationEndpoint); err == nil && u.Host != "" {
		c.authOrigin = u.Scheme + "://" + u.Host
	}
	return c, nil
}

// CIBARequest is a backchannel authentication request for the broker's
// broker_oidc flow type.
type CIBARequest struct {
	// Scopes are sent as scope. Default ["openid"]; "openid" is added when
	// missing.
	Scopes []string
	// Options are the OIDC parameters of the flow (idp_values, idp_params,
	// language, prompt, signtext_*, …), built with this package's builders
	// or client.WithPrompt. The broker takes them inside login_hint_token,
	// not as form parameters ("any other top-level parameters … is set as
	// part of the login_hint_token object", ciba-par-oidc-integration.md);
	// idp_params stays a JSON string there, as in a request object. scope,
	// client_id, response_type and flow_type cannot be set here.
	Options []oauth2.AuthCodeOption
}

// AuthRequest is a started backend-initiated flow (CIBA Core §7.3). Its ID
// lets the holder cancel the flow and start the browser part, so keep it
// server-side; it is redacted from String and logs.
type AuthRequest struct {
	ID        string        // auth_req_id
	ExpiresAt time.Time     // now + expires_in
	Interval  time.Duration // minimum wait between polls (default 5 s)
}

// String describes r without its ID. It has a value receiver, so an
// AuthRequest value is redacted too.
func (r AuthRequest) String() string {
	return fmt.Sprintf("ciba auth request (expires %s, interval %s, id redacted)",
		r.ExpiresAt.UTC().Format(time.RFC3339), r.Interval)
}

// GoString (the %#v verb) is String.
func (r AuthRequest) GoString() string { return r.String() }

// LogValue logs r without its ID.
func (r AuthRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// reservedInHint are parameters a caller may not put into login_hint_token.
var reservedInHint = []string{"scope", "flow_type", "client_id", "response_type", "request_uri", "auth_req_id", "grant_type"}

// Start sends the backchannel authentication request (CIBA Core §7.1) to the
// broker's backchannel_authentication_endpoint: grant_type, scope and
// login_hint_token = {"flow_type":"broker_oidc", …the options…}, with the
// client's authentication.
func (c *CIBA) Start(ctx context.Context, r CIBARequest) (*AuthRequest, error) {
	hint, err := loginHintToken(r.Options)
	if err != nil {
		return nil, err
	}
	scopes := r.Scopes
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	form := url.Values{
		"grant_type":       {GrantTypeCIBA},
		"scope":            {strings.Join(scopes, " ")},
		"login_hint_token": {hint},
	}
	start := c.now()
	resp, body, err := c.bc.PostForm(ctx, c.cibaURL, form)
	if err == nil && resp == nil {
		err = errors.New("no response")
	}
	if err != nil {
		return nil, fmt.Errorf("mitid: ciba: start: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mitid: ciba: start: %w", c.responseError("ciba", c.cibaURL, resp, body))
	}
	var out struct {
		AuthReqID json.RawMessage `json:"auth_req_id"`
		ExpiresIn json.RawMessage `json:"expires_in"`
		Interval  json.RawMessage `json:"interval"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%w: start: body is not a JSON object", ErrInvalidResponse)
	}
	id, ok := jsonString(out.AuthReqID)
	if !ok || id == "" {
		return nil, fmt.Errorf("%w: start: auth_req_id missing or not a string", ErrInvalidResponse)
	}
	expiresIn, ok := jsonInt(out.ExpiresIn)
	if !ok || expiresIn <= 0 {
		return nil, fmt.Errorf("%w: start: expires_in must be a positive integer", ErrInvalidResponse)
	}
	interval := int64(5) // CIBA Core §7.3: "If no value is provided, clients MUST use 5"
	if len(out.Interval) > 0 && string(out.Interval) != "null" {
		if interval, ok = jsonInt(out.Interval); !ok || interval < 0 {
			return nil, fmt.Errorf("%w: start: interval must be a non-negative integer", ErrInvalidResponse)
		}
		interval = max(interval, 1) // never poll in a tight loop
	}
	expiresIn = min(expiresIn, 24*3600)
	interval = min(interval, 600)
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: started", slog.String("endpoint", c.cibaURL),
		slog.Int64("expires_in", expiresIn), slog.Int64("interval", interval))
	return &AuthRequest{
		ID:        id,
		ExpiresAt: start.Add(time.Duration(expiresIn) * time.Second),
		Interval:  time.Duration(interval) * time.Second,
	}, nil
}

// loginHintToken renders opts as the login_hint_token JSON object.
func loginHintToken(opts []oauth2.AuthCodeOption) (string, error) {
	// AuthCodeOption is sealed; AuthCodeURL is the public way to apply it.
	cfg := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://options.invalid/"}}
	u, err := url.Parse(cfg.AuthCodeURL("", opts...))
	if err != nil {
		return "", fmt.Errorf("mitid: ciba: options: %w", err)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != "" {
		return "", &ParamError{Param: "login_hint_token", Err: errors.New("response_type and client_id cannot be set")}
	}
	q.Del("response_type")
	q.Del("client_id")
	hint := map[string]string{"flow_type": "broker_oidc"}
	for k, v := range q {
		if slices.Contains(reservedInHint, k) {
			return "", &ParamError{Param: "login_hint_token", Err: fmt.Errorf("%s cannot be set in login_hint_token", k)}
		}
		hint[k] = v[len(v)-1]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(hint); err != nil {
		return "", fmt.Errorf("mitid: ciba: login_hint_token: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// InitAuthParams are the optional members of the init-auth call.
type InitAuthParams struct {
	// RedirectURI replaces the broker's landing page at the end of the
	// browser flow; it receives State, and error / error_description on
	// failure (ciba-par-oidc-integration.md).
	RedirectURI string
	State       string
}

// Authentication is the browser part of a CIBA→PAR flow.
type Authentication struct {
	// URI is the authentication_uri: the broker's authorization endpoint
	// with client_id and request_uri. Open it in the user's browser, on this
	// device or another (a QR code), then Poll.
	URI        string
	RequestURI string
	ExpiresAt  time.Time // now + expires_in of the request_uri
}

// InitAuth calls the broker's CIBA→PAR bridge for r, which pushes the
// authorization request and returns the URL the user opens
// (ciba-par-oidc-integration.md). The members are requestId, redirectUri and
// state. The call authenticates as the client (form-encoded through the
// BackChannel) unless InitAuthJSON is set; 200 and 201 are accepted, as the
// broker documents neither. authentication_uri must be on the origin of the
// broker's authorization endpoint.
func (c *CIBA) InitAuth(ctx context.Context, r *AuthRequest, p InitAuthParams) (*Authentication, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("mitid: ciba: init-auth: no auth request")
	}
	if !c.now().Before(r.ExpiresAt) {
		return nil, fmt.Errorf("%w (init-auth not sent)", ErrExpired)
	}
	if p.RedirectURI != "" {
		if u, err := url.Parse(p.RedirectURI); err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, paramErr("redirectUri", "must be an absolute URL without fragment")
		}
	}
	start := c.now()
	var (
		status int
		header http.Header
		body   []byte
	)
	if c.initJSON {
		m := map[string]string{"requestId": r.ID}
		if p.RedirectURI != "" {
			m["redirectUri"] = p.RedirectURI
		}
		if p.State != "" {
			m["state"] = p.State
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("mitid: ciba: init-auth: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.initURL, bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("mitid: ciba: init-auth: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		status, header, body, err = c.do(req)
		if err != nil {
			return nil, fmt.Errorf("mitid: ciba: init-auth: %w", err)
		}
	} else {
		form := url.Values{"requestId": {r.ID}}
		if p.RedirectURI != "" {
			form.Set("redirectUri", p.RedirectURI)
		}
		if p.State != "" {
			form.Set("state", p.State)
		}
		resp, b, err := c.bc.PostForm(ctx, c.initURL, form)
		if err == nil && resp == nil {
			err = errors.New("no response")
		}
		if err != nil {
			return nil, fmt.Errorf("mitid: ciba: init-auth: %w", err)
		}
		status, header, body = resp.StatusCode, resp.Header, b
	}
	if status != http.StatusOK && status != http.StatusCreated {
		v := sentValues(r.ID, p.State) // requestId and state: the broker's error must not echo them
		return nil, fmt.Errorf("mitid: ciba: init-auth: %w", c.responseError("init-auth", c.initURL,
			&http.Response{StatusCode: status, Header: v.Header(header)}, v.Bytes(body)))
	}
	var out struct {
		RequestURI        json.RawMessage `json:"request_uri"`
		ExpiresIn         json.RawMessage `json:"expires_in"`
		AuthenticationURI json.RawMessage `json:"authentication_uri"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%w: init-auth: body is not a JSON object", ErrInvalidResponse)
	}
	a := &Authentication{}
	var ok bool
	if a.RequestURI, ok = jsonString(out.RequestURI); !ok || a.RequestURI == "" {
		return nil, fmt.Errorf("%w: init-auth: request_uri missing or not a string", ErrInvalidResponse)
	}
	expiresIn, ok := jsonInt(out.ExpiresIn)
	if !ok || expiresIn <= 0 {
		return nil, fmt.Errorf("%w: init-auth: expires_in must be a positive integer", ErrInvalidResponse)
	}
	a.ExpiresAt = start.Add(time.Duration(min(expiresIn, 24*3600)) * time.Second)
	if a.URI, ok = jsonString(out.AuthenticationURI); !ok {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri missing or not a string", ErrInvalidResponse)
	}
	u, err := httpx.CheckEndpoint("authentication_uri", a.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: init-auth: %w", ErrInvalidResponse, err)
	}
	if c.authOrigin != "" && u.Scheme+"://"+u.Host != c.authOrigin {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri is not on the authorization endpoint's origin %s",
			ErrInvalidResponse, c.authOrigin)
	}
	if u.Query().Get("request_uri") != a.RequestURI {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri does not carry the request_uri", ErrInvalidResponse)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: init-auth", slog.String("endpoint", c.initURL),
		slog.Int("status", status), slog.Int64("expires_in", expiresIn))
	return a, nil
}

// Poll polls the token endpoint with the CIBA grant (CIBA Core §10.1) until
// the flow ends, the auth_req_id expires or ctx is done. It waits
// r.Interval before each request, continues on authorization_pending, adds
// 5 s to the interval for this and every later request on slow_down (CIBA
// Core §11), and returns ErrAccessDenied, ErrExpired or ErrInvalidGrant for
// those outcomes. Once r.ExpiresAt has passed it polls one last time (the
// broker's clock decides) and then returns ErrExpired. Other errors
// (server_error, 5xx, the broker's own codes) are returned as they come; no
// request is retried.
//
// On success the ID token is verified (signature, issuer, audience, expiry,
// at_hash when present). The broker returns the result once only: a second
// Poll of the same request gives ErrInvalidGrant.
func (c *CIBA) Poll(ctx context.Context, r *AuthRequest) (*client.Tokens, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("mitid: ciba: poll: no auth request")
	}
	interval := r.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("mitid: ciba: poll: %w", context.Cause(ctx))
		case <-timer.C:
		}
		tok, code, err := c.pollOnce(ctx, r)
		switch {
		case err == nil:
			return tok, nil
		case code == "authorization_pending":
		case code == "slow_down":
			interval += 5 * time.Second
			c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: slow_down", slog.Duration("interval", interval))
		default:
			return nil, err
		}
		if !c.now().Before(r.ExpiresAt) {
			return nil, fmt.Errorf("%w (still pending at expiry): %w", ErrExpired, err)
		}
		timer.Reset(interval)
	}
}

// pollOnce makes one token request. It returns the tokens, or the error
// code (with the error) of an error response.
func (c *CIBA) pollOnce(ctx context.Context, r *AuthRequest) (*client.Tokens, string, error) {
	form := url.Values{"grant_type": {GrantTypeCIBA}, "auth_req_id": {r.ID}}
	start := c.now()
	resp, body, err := c.bc.PostForm(ctx, c.tokenURL, form)
	if err == nil && resp == nil {
		err = errors.New("no response")
	}
	if err != nil {
		return nil, "", fmt.Errorf("mitid: ciba: poll: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		v := sentValues(r.ID)
		re := c.responseError("token", c.tokenURL, &http.Response{StatusCode: resp.StatusCode, Header: v.Header(resp.Header)}, v.Bytes(body))
		c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: poll", slog.Int("status", resp.StatusCode), slog.String("error", re.Code))
		switch re.Code {
		case "authorization_pending", "slow_down":
			return nil, re.Code, re
		case "access_denied":
			return nil, re.Code, fmt.Errorf("%w: %w", ErrAccessDenied, re)
		case "expired_token":
			return nil, re.Code, fmt.Errorf("%w: %w", ErrExpired, re)
		case "invalid_grant":
			return nil, re.Code, fmt.Errorf("%w: %w", ErrInvalidGrant, re)
		}
		return nil, re.Code, fmt.Errorf("mitid: ciba: poll: %w", re)
	}
	tok, err := c.tokens(ctx, body, start)
	if err != nil {
		return nil, "", err
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: completed", slog.String("endpoint", c.tokenURL))
	return tok, "", nil
}

// tokens parses and verifies a successful token response (RFC 6749 §5.1).
func (c *CIBA) tokens(ctx context.Context, body []byte, start time.Time) (*client.Tokens, error) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: token: body is not a JSON object", ErrInvalidResponse)
	}
	str := func(k string) string { s, _ := raw[k].(string); return s }
	t := &oauth2.Token{
		AccessToken:  str("access_token"),
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("%w: token: access_token missing", ErrInvalidResponse)
	}
	if !strings.EqualFold(t.TokenType, "bearer") {
		return nil, fmt.Errorf("%w: token: token_type must be Bearer", ErrInvalidResponse)
	}
	if v, ok := raw["expires_in"]; ok {
		n, ok := anyInt(v)
		if !ok || n < 0 {
			return nil, fmt.Errorf("%w: token: expires_in is not a non-negative integer", ErrInvalidResponse)
		}
		if n > 0 {
			t.Expiry = start.Add(time.Duration(min(n, 10*365*24*3600)) * time.Second)
		}
	}
	t = t.WithExtra(raw)
	rawID := str("id_token")
	if rawID == "" {
		return nil, fmt.Errorf("%w: token: id_token missing", ErrInvalidResponse)
	}
	id, err := c.verifier.Verify(ctx, rawID)
	if err != nil {
		return nil, fmt.Errorf("mitid: ciba: id token: %w", err)
	}
	if id.AccessTokenHash != "" {
		if err := id.VerifyAccessToken(t.AccessToken); err != nil {
			return nil, fmt.Errorf("mitid: ciba: id token: %w", err)
		}
	}
	return &client.Tokens{Token: t, IDToken: id, RawIDToken: rawID}, nil
}

// Cancel cancels a pending flow: DELETE {CancelEndpoint}/{auth_req_id}
// (enterprise/flex-app-ciba.md). The broker documents the call without any
// authentication, so it is sent through HTTPClient without credentials; the
// auth_req_id itself is the capability. Any 2xx is success.
func (c *CIBA) Cancel(ctx context.Context, r *AuthRequest) error {
	if r == nil || r.ID == "" {
		return errors.New("mitid: ciba: cancel: no auth request")
	}
	endpoint := c.cancelURL + "/" + url.PathEscape(r.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, endpoint, nil)
	if err != nil {
		return errors.New("mitid: ciba: cancel: cannot build the request")
	}
	req.Header.Set("Accept", "application/json")
	status, header, body, err := c.do(req)
	if err != nil {
		return fmt.Errorf("mitid: ciba: cancel: %w", err)
	}
	if status < 200 || status > 299 {
		v := sentValues(r.ID)
		return fmt.Errorf("mitid: ciba: cancel: %w", c.responseError("cancel", c.cancelURL,
			&http.Response{StatusCode: status, Header: v.Header(header)}, v.Bytes(body)))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: cancelled", slog.Int("status", status))
	return nil
}

// do sends an unauthenticated request and reads the capped body. Transport
// errors are reduced to their cause: the URL may hold the auth_req_id.
func (c *CIBA) do(req *http.Request) (int, http.Header, []byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, nil, err
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// responseError builds the SDK's *client.ResponseError from an error
// response (RFC 6749 §5.2; CIBA Core §11 and §13).
func (c *CIBA) responseError(name, endpoint string, resp *http.Response, body []byte) *client.ResponseError {
	e := &client.ResponseError{Endpoint: name, URL: endpoint, StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	var b struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
		ErrorURI         any `json:"error_uri"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, _ = b.Error.(string)
		e.Description, _ = b.ErrorDescription.(string)
		e.URI, _ = b.ErrorURI.(string)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s > 0 {
			e.RetryAfter = time.Duration(min(s, 24*3600)) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil && t.After(c.now()) {
			e.RetryAfter = min(t.Sub(c.now()).Round(time.Second), 24*time.Hour)
		}
	}
	return e
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonInt reads an integer JSON number (the broker's own values are
// numbers; a string of digits is tolerated, as for its claims).
func jsonInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	v, err := parseNumber(raw, false)
	if err != nil || v == nil {
		return 0, false
	}
	return *v, true
}

func anyInt(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || n < -(1<<53) || n > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
