package mitid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/oauthparams"
)

// grantTypeCIBA is the CIBA grant type (OpenID CIBA Core §10.1), which the
// broker also expects on the backchannel authentication request.
const grantTypeCIBA = "urn:openid:params:grant-type:ciba"

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
	// then invalid_grant (broker docs page ciba-par-oidc-integration).
	ErrInvalidGrant = errors.New("mitid: ciba: invalid grant")
	// ErrInvalidResponse: a broker response was malformed.
	ErrInvalidResponse = errors.New("mitid: ciba: invalid response")
)

// CIBAConfig configures a [CIBA] client.
type CIBAConfig struct {
	// Client is the broker's client: it sends the authenticated requests
	// (backchannel authentication, token polling, init-auth) through its
	// back channel, with its client authentication, and verifies the ID
	// token of a completed flow with the same check as a code exchange.
	// Required.
	Client *client.Client
	// HTTPClient sends the requests that carry no client authentication:
	// Cancel, and InitAuth with InitAuthJSON. Default: a 30 s timeout.
	// Redirects are never followed.
	HTTPClient *http.Client
	// InitAuthEndpoint is the broker's CIBA→PAR bridge. Default:
	// {issuer}/api/ciba/broker-oidc/init-auth (broker docs page ciba-par-oidc-integration).
	InitAuthEndpoint string
	// CancelEndpoint is the prefix of the cancel API; the auth_req_id is
	// appended as a path segment. Default: {issuer}/api/v1/ciba
	// (broker docs page enterprise/flex-app-ciba).
	CancelEndpoint string
	// InitAuthJSON sends init-auth as the JSON body the broker's example
	// shows, without client authentication, through HTTPClient. By default
	// InitAuth sends the same members form-encoded through the Client,
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
// (broker docs page ciba-par-oidc-integration). It is immutable and safe for concurrent
// use.
type CIBA struct {
	client     *client.Client
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
	if cfg.Client == nil {
		return nil, errors.New("mitid: ciba: config: Client is nil")
	}
	md := cfg.Client.Metadata()
	c := &CIBA{
		client:   cfg.Client,
		hc:       httpx.NoRedirects(cfg.HTTPClient),
		initJSON: cfg.InitAuthJSON,
		log:      cfg.Logger,
		now:      cfg.Now,
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
	// part of the login_hint_token object", broker docs page ciba-par-oidc-integration);
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
		"grant_type":       {grantTypeCIBA},
		"scope":            {strings.Join(scopes, " ")},
		"login_hint_token": {hint},
	}
	start := c.now()
	status, body, err := c.client.Post(ctx, c.cibaURL, form)
	if err != nil {
		return nil, stepError("start", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: start: HTTP %d instead of 200 (CIBA Core §7.3)", ErrInvalidResponse, status)
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
	q := oauthparams.Values(opts)
	hint := map[string]string{"flow_type": "broker_oidc"}
	for k, v := range q {
		// Set by the SDK, or top-level CIBA parameters (CIBA Core §7.1).
		if oauthparams.Owned(k) || k == "scope" || k == "flow_type" || k == "client_id" || k == "auth_req_id" {
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
// On success the ID token is verified by the client, with the same check as
// a code exchange's (signature and algorithm, iss, aud and azp, exp, iat,
// sub, at_hash), but without nonce, which CIBA does not send. The broker returns the result once only: a second
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

// pollOnce makes one token request with the CIBA grant through the
// client, which verifies the ID token. It returns the tokens, or the error
// code (with the error) of an error response.
func (c *CIBA) pollOnce(ctx context.Context, r *AuthRequest) (*client.Tokens, string, error) {
	tok, err := c.client.Grant(ctx, grantTypeCIBA, url.Values{"auth_req_id": {r.ID}})
	var re *client.ResponseError
	switch {
	case errors.As(err, &re):
		c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: poll", slog.Int("status", re.StatusCode), slog.String("error", re.Code))
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
		return nil, re.Code, stepError("poll", re)
	case err != nil:
		return nil, "", stepError("poll", err)
	case tok.IDToken == nil:
		// CIBA Core §10.1.1: the token response of an openid flow carries
		// an ID token.
		return nil, "", fmt.Errorf("%w: token: id_token missing", ErrInvalidResponse)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: completed", slog.String("endpoint", c.tokenURL))
	return tok, "", nil
}

// Cancel cancels a pending flow: DELETE {CancelEndpoint}/{auth_req_id}
// (broker docs page enterprise/flex-app-ciba). The broker documents the call without any
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
	status, _, err := c.do(req, "cancel", c.cancelURL, r.ID)
	if err != nil {
		return stepError("cancel", err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: cancelled", slog.Int("status", status))
	return nil
}

// do sends a request that carries no client authentication (the broker
// documents Cancel, and init-auth's JSON form, without any) and reads the
// capped body. An answer other than 2xx is a *client.ResponseError, read
// with the SDK's one RFC 6749 §5.2 parser and Retry-After rule from the
// header and body with every value of sent (the auth_req_id, the init-auth
// state) redacted: the broker's error must not echo them into Error() or a
// log line. Transport errors show the origin only: the path may hold the
// auth_req_id.
func (c *CIBA) do(req *http.Request, name, endpoint string, sent ...string) (int, []byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, httpx.RedactError(err, false)
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		v := sentValues(sent...)
		h, body := v.Header(resp.Header), v.Bytes(body)
		e := &client.ResponseError{Endpoint: name, URL: endpoint, StatusCode: resp.StatusCode, Header: h,
			Body: body, RetryAfter: backchannel.RetryAfter(h.Get("Retry-After"), c.now())}
		e.Code, e.Description, e.URI = backchannel.ParseError(h, body)
		return 0, nil, e
	}
	return resp.StatusCode, body, nil
}

// stepError names the step of err, unless err is a provider's
// *client.ResponseError, which names its endpoint itself ("client: token:
// slow_down …"): no step said twice.
func stepError(step string, err error) error {
	var re *client.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("mitid: ciba: %w", err)
	}
	return fmt.Errorf("mitid: ciba: %s: %w", step, err)
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
