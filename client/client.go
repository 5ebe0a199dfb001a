package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/internal/jwtverify"
	"github.com/go-par/par/jar"
)

// Config configures a [Client]. Fields left zero take the default stated
// beside them. New copies what it needs; changing a Config afterwards has no
// effect on the Client.
type Config struct {
	// Issuer is the provider's issuer identifier. Discovery
	// (OIDC Discovery §4, RFC 8414) runs against it unless Metadata is set.
	Issuer string
	// Metadata, when set, is used instead of fetching discovery. Its issuer
	// must equal Issuer when both are given.
	Metadata *discovery.Metadata

	// ClientID is the client identifier registered at the provider.
	ClientID string
	// Auth is the client authentication method at the PAR and token
	// endpoints (RFC 9126 §2). Required; use [None] for public clients.
	Auth AuthMethod
	// RedirectURL is the redirect_uri sent in every push.
	RedirectURL string
	// Scopes requested. Default: ["openid"]. "openid" is added when missing.
	Scopes []string
	// ResponseMode is sent as response_mode when set, e.g. "form_post".
	ResponseMode string

	// HTTPClient is used for every back-channel call. Default: a client
	// with a 30 s timeout. Redirects are never followed, whatever this
	// client's CheckRedirect says: the bodies carry credentials.
	HTTPClient *http.Client
	// Logger receives Debug-level protocol traces (never secrets). Default:
	// silent.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// ClockSkew is tolerated when checking ID token expiry. Default 30 s.
	ClockSkew time.Duration
	// RequestURISkew is how long before expires_in a request_uri is treated
	// as expired by AuthorizationURL. Default 5 s.
	RequestURISkew time.Duration
	// IDTokenAlgorithms allow-lists the ID token signature algorithms.
	// Default: the provider's id_token_signing_alg_values_supported without
	// HS* and none, or RS256 when it lists none. "none" and HS* are refused.
	IDTokenAlgorithms []string
	// RequireIssuerParameter requires the RFC 9207 iss callback parameter
	// even when the provider does not advertise it (the FAPI 2.0 profile
	// sets it).
	RequireIssuerParameter bool

	// RequestObject, when set, pushes every request as a signed (and
	// optionally encrypted) request object (RFC 9101, RFC 9126 §3): the PAR
	// form then carries only request, client_id and client authentication.
	// ClientID, Audience (the issuer) and Now are filled in when empty.
	RequestObject *jar.Config

	// DPoP, when set, sender-constrains the code and tokens to this key
	// (RFC 9449): the PAR request carries a proof (§10.1), the token request
	// carries a proof, and the token_type must come back as DPoP.
	DPoP *dpop.Proofer
	// DPoPJKTOnly sends the key's thumbprint as dpop_jkt at the PAR endpoint
	// instead of a proof (RFC 9449 §10).
	DPoPJKTOnly bool
	// Profile selects provider defaults and rules: ProfileDefault,
	// ProfileBroker (the MitID broker) or ProfileFAPI2 (enforced by New).
	Profile Profile

	// DPoPNonces keeps server-provided DPoP nonces per origin (RFC 9449 §8).
	// Default: an in-memory store per Client.
	DPoPNonces dpop.NonceStore
}

// Client is a relying party of one provider. It is immutable after New and
// safe for concurrent use.
type Client struct {
	md       *discovery.Metadata
	issuer   string
	clientID string
	redirect string
	scope    string
	openid   bool
	respMode string

	auth    *authenticator
	secrets []string             // redacted from provider errors (clientSecrets)
	hc      *http.Client         // back channel, no redirects
	bc      *backchannel.Channel // every authenticated call to the provider
	// idTokens checks the signature, iss, aud and exp of ID tokens,
	// userInfo those of signed UserInfo responses (no exp needed).
	idTokens *jwtverify.Verifier
	userInfo *jwtverify.Verifier
	keys     *jwks.KeySet
	jar      *jar.Builder
	dpop     *dpop.Proofer
	jktOnly  bool
	nonces   dpop.NonceStore

	// origins are the provider's origins (issuer and metadata endpoints),
	// to which Post sends credentials.
	origins map[string]bool

	parURL   string
	authURL  *url.URL
	tokenURL string
	// userinfoURL is the UserInfo endpoint (its mTLS alias with
	// tls_client_auth, for certificate-bound tokens); empty when none.
	userinfoURL string

	profile    Profile
	requireIss bool
	skew       time.Duration
	uriSkew    time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// New validates cfg, runs discovery when cfg.Metadata is nil, and returns a
// Client. Errors name the Config field at fault.
func New(ctx context.Context, cfg Config) (*Client, error) {
	c := &Client{
		clientID: cfg.ClientID,
		redirect: cfg.RedirectURL,
		respMode: cfg.ResponseMode,
		now:      cfg.Now,
		log:      cfg.Logger,
		skew:     cfg.ClockSkew,
		uriSkew:  cfg.RequestURISkew,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.skew == 0 {
		c.skew = 30 * time.Second
	}
	if c.uriSkew == 0 {
		c.uriSkew = 5 * time.Second
	}
	if cfg.ClientID == "" {
		return nil, errors.New("client: config: ClientID is empty")
	}
	if a, ok := cfg.Auth.(*JWTAuth); cfg.Auth == nil || ok && a == nil {
		return nil, errors.New("client: config: Auth is nil (use client.None() for a public client)")
	}
	if err := applyProfile(ctx, &cfg, c.log); err != nil {
		return nil, err
	}
	c.profile = cfg.Profile
	if cfg.RedirectURL == "" {
		return nil, errors.New("client: config: RedirectURL is empty")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || !u.IsAbs() || u.Fragment != "" {
		return nil, fmt.Errorf("client: config: RedirectURL %q must be an absolute URL without fragment", cfg.RedirectURL)
	}
	c.hc = httpx.NoRedirects(cfg.HTTPClient)

	md := cfg.Metadata
	switch {
	case md == nil && cfg.Issuer == "":
		return nil, errors.New("client: config: Issuer and Metadata are both empty")
	case md == nil:
		var err error
		if md, err = discovery.Fetch(ctx, c.hc, cfg.Issuer); err != nil {
			return nil, fmt.Errorf("client: %w", err) // "discovery: …" names the step
		}
	case cfg.Issuer != "" && cfg.Issuer != md.Issuer:
		return nil, &discovery.IssuerMismatchError{Expected: cfg.Issuer, Got: md.Issuer}
	}
	c.md = md
	c.issuer = md.Issuer
	c.origins = providerOrigins(md)

	mtls := cfg.Auth.Method() == methodTLSClientAuth
	var err error
	if c.parURL, err = endpoint(md, "pushed_authorization_request_endpoint", mtls); err != nil {
		return nil, err
	}
	if c.tokenURL, err = endpoint(md, "token_endpoint", mtls); err != nil {
		return nil, err
	}
	authURL, err := endpoint(md, "authorization_endpoint", false)
	if err != nil {
		return nil, err
	}
	c.authURL, _ = url.Parse(authURL)
	if md.UserinfoEndpoint != "" {
		if c.userinfoURL, err = endpoint(md, "userinfo_endpoint", mtls); err != nil {
			return nil, err
		}
	}

	c.auth, err = cfg.Auth.bind(binding{clientID: cfg.ClientID, issuer: md.Issuer, now: c.now, logger: c.log})
	if err != nil {
		return nil, err
	}
	c.secrets = clientSecrets(cfg)

	if ro := cfg.RequestObject; ro != nil {
		jc := *ro
		if jc.ClientID == "" {
			jc.ClientID = cfg.ClientID
		}
		if jc.Audience == "" {
			jc.Audience = md.Issuer
		}
		if jc.Now == nil {
			jc.Now = c.now
		}
		if c.jar, err = jar.New(jc); err != nil {
			return nil, fmt.Errorf("client: config: RequestObject: %w", err)
		}
	}
	c.dpop, c.jktOnly, c.nonces = cfg.DPoP, cfg.DPoPJKTOnly, cfg.DPoPNonces
	if c.nonces == nil {
		// Also without Config.DPoP: clients from WithDPoP share it.
		c.nonces = &dpopwire.MemoryStore{}
	}
	c.bc = &backchannel.Channel{HTTPClient: c.hc, Auth: c.auth, DPoP: c.dpop, Nonces: c.nonces, Logger: c.log}

	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid"}
	}
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	c.openid = true
	c.scope = strings.Join(scopes, " ")
	c.requireIss = cfg.RequireIssuerParameter || md.AuthorizationResponseISSParameterSupported

	algs, err := idTokenAlgorithms(cfg.IDTokenAlgorithms, md.IDTokenSigningAlgValuesSupported)
	if err != nil {
		return nil, err
	}
	if md.JWKSURI == "" {
		return nil, errors.New("client: metadata: jwks_uri is missing")
	}
	if _, err := httpx.CheckEndpoint("jwks_uri", md.JWKSURI); err != nil {
		return nil, fmt.Errorf("client: metadata: %w", err)
	}
	c.keys = jwks.Shared(md.JWKSURI, cfg.HTTPClient, c.hc, c.now)
	jc := jwtverify.Config{Issuer: md.Issuer, ClientID: cfg.ClientID, Algorithms: algs, Keys: c.keys, Now: c.now, Skew: c.skew}
	c.idTokens = jwtverify.New(jc)
	jc.SkipExpiry = true
	c.userInfo = jwtverify.New(jc)
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: ready", slog.String("issuer", c.issuer),
		slog.String("client_id", c.clientID), slog.String("auth", c.auth.method), slog.String("par", c.parURL))
	return c, nil
}

// endpoint returns a checked endpoint URL from the metadata.
func endpoint(md *discovery.Metadata, name string, mtls bool) (string, error) {
	u := md.Endpoint(name, mtls)
	if u == "" {
		return "", fmt.Errorf("client: metadata: %s is missing", name)
	}
	if _, err := httpx.CheckEndpoint(name, u); err != nil {
		return "", fmt.Errorf("client: metadata: %w", err)
	}
	return u, nil
}

// providerOrigins returns the lower-cased scheme://host of the issuer and
// of every endpoint in md, mTLS aliases included.
func providerOrigins(md *discovery.Metadata) map[string]bool {
	urls := []string{md.Issuer, md.AuthorizationEndpoint, md.TokenEndpoint, md.UserinfoEndpoint, md.JWKSURI,
		md.RegistrationEndpoint, md.EndSessionEndpoint, md.RevocationEndpoint, md.IntrospectionEndpoint,
		md.DeviceAuthorizationEndpoint, md.PushedAuthorizationRequestEndpoint, md.BackchannelAuthenticationEndpoint}
	for _, u := range md.MTLSEndpointAliases {
		urls = append(urls, u)
	}
	origins := make(map[string]bool, 4)
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
		}
	}
	return origins
}

var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// idTokenAlgorithms derives the ID token algorithm allow-list; HS* and none
// are never allowed (the provider must not sign with our secret).
func idTokenAlgorithms(configured, advertised []string) ([]string, error) {
	if len(configured) > 0 {
		for _, a := range configured {
			if !slices.Contains(asymmetric, a) {
				return nil, fmt.Errorf("client: config: IDTokenAlgorithms: %q is not allowed (asymmetric algorithms only)", a)
			}
		}
		return slices.Clone(configured), nil
	}
	var algs []string
	for _, a := range advertised {
		if slices.Contains(asymmetric, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	return algs, nil
}

// RedirectURL returns the configured redirect_uri (a push may replace it
// with WithParam("redirect_uri", …)). Package login checks its
// CallbackPath against it.
func (c *Client) RedirectURL() string { return c.redirect }

// ResponseMode returns the configured response_mode ("" for the default,
// query).
func (c *Client) ResponseMode() string { return c.respMode }

// Metadata returns the provider metadata (its Issuer is the issuer
// identifier). It must not be modified.
func (c *Client) Metadata() *discovery.Metadata { return c.md }
