package client

import (
	"context"
	"crypto"
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
	// The JWT response modes "jwt", "query.jwt" and "form_post.jwt" ask
	// for JWT-secured authorization responses (JARM), which Exchange
	// verifies (see ResponseParams); the provider must list the mode in
	// response_modes_supported when it publishes that member.
	ResponseMode string
	// ResponseDecryptionKey decrypts JWT-secured authorization responses
	// that the provider encrypts to the client (JARM §2.2, a signed JWT
	// nested in a JWE): the private half of the key the client registered
	// with use "enc" (see keys.DecryptionKey): an *rsa.PrivateKey
	// (RSA-OAEP, RSA-OAEP-256), an *ecdsa.PrivateKey (ECDH-ES, ECDH-ES+A…KW)
	// or a crypto.Decrypter with an RSA public key (an HSM). When set, a
	// response JWT that is not encrypted is refused.
	ResponseDecryptionKey crypto.PrivateKey
	// ResponseJWTMaxLifetime is how far ahead (plus ClockSkew) the exp of a
	// JWT-secured authorization response may be. Default 10 minutes.
	ResponseJWTMaxLifetime time.Duration

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
	// IDTokenAlgorithms allow-lists the ID token signature algorithms, and
	// those of JWT-secured authorization responses (JARM). Default: the
	// provider's id_token_signing_alg_values_supported (for JARM its
	// authorization_signing_alg_values_supported, when it lists them)
	// without HS* and none, or RS256 when it lists none. "none" and HS* are
	// refused.
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

	// MessageSigning, with ProfileFAPI2, requires what FAPI 2.0 Message
	// Signing asks of the client: SignedRequests (request objects, §5.3),
	// SignedResponses (JARM, §5.4) or both. New refuses a Config that
	// breaks the choice and names the field.
	MessageSigning MessageSigning

	// DPoPNonces keeps server-provided DPoP nonces per origin (RFC 9449 §8).
	// Default: an in-memory store per Client.
	DPoPNonces dpop.NonceStore

	// InsecureFrontChannel lets the Client log in at a provider without a
	// PAR endpoint: Push then prepares a classic authorization request
	// (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), and AuthorizationURL carries
	// all of it in the URL, or a request object by value (RFC 9101 §5). It
	// is named Insecure because it gives up what PAR protects (RFC 9126
	// §1): the request travels through the browser, which can read and
	// change it, the provider learns of it before authenticating the
	// client, and the URL lands in histories and logs. It never downgrades
	// a provider that has PAR: with a PAR endpoint in the metadata, PAR is
	// used. New refuses it under ProfileFAPI2 (FAPI 2.0 §5.3.3.2 requires
	// PAR), for a provider that sets require_pushed_authorization_requests,
	// and with an unencrypted RequestObject keyed with the client secret.
	// See "Providers without PAR" in the package doc.
	InsecureFrontChannel bool
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
	// front: the provider has no PAR endpoint and InsecureFrontChannel is
	// set; Push prepares front-channel requests (front.go).
	front bool

	// responseJWTs checks JARM responses like userInfo (exp is checked by
	// openResponse), with their own algorithm list; decrypter decrypts
	// encrypted ones (nil: none expected); jarmMaxLife bounds their exp;
	// requireJARM refuses plain responses (MessageSigning SignedResponses).
	responseJWTs *jwtverify.Verifier
	jarmAlgs     []string
	decrypter    any
	jarmMaxLife  time.Duration
	requireJARM  bool

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
	if c.jarmMaxLife = cfg.ResponseJWTMaxLifetime; c.jarmMaxLife == 0 {
		c.jarmMaxLife = defaultResponseJWTMaxLifetime
	} else if c.jarmMaxLife < 0 {
		return nil, errors.New("client: config: ResponseJWTMaxLifetime is negative")
	}
	if a, ok := cfg.Auth.(*JWTAuth); cfg.Auth == nil || ok && a == nil {
		return nil, errors.New("client: config: Auth is nil (use client.None() for a public client)")
	}
	if err := applyProfile(ctx, &cfg, c.log); err != nil {
		return nil, err
	}
	c.profile = cfg.Profile
	c.requireJARM = cfg.MessageSigning&SignedResponses != 0
	var err error
	if c.decrypter, err = responseDecrypter(cfg.ResponseDecryptionKey); err != nil {
		return nil, err
	}
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
	if isJWTMode(cfg.ResponseMode) && len(md.ResponseModesSupported) > 0 && !slices.Contains(md.ResponseModesSupported, cfg.ResponseMode) {
		return nil, fmt.Errorf("client: config: ResponseMode: the provider does not list %q in response_modes_supported", cfg.ResponseMode)
	}
	c.origins = providerOrigins(md)

	mtls := cfg.Auth.Method() == methodTLSClientAuth
	if hasPAR(md) {
		if c.parURL, err = endpoint(md, "pushed_authorization_request_endpoint", mtls); err != nil {
			return nil, err
		}
	} else if err = frontChannel(md, cfg.InsecureFrontChannel); err != nil {
		return nil, err
	} else {
		c.front = true
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
		if c.front && len(ro.Secret) > 0 && ro.Encryption == nil {
			return nil, errFrontSecretRequestObject
		}
	}
	c.dpop, c.jktOnly, c.nonces = cfg.DPoP, cfg.DPoPJKTOnly || c.front, cfg.DPoPNonces
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
	// JARM responses: the ID token rules (the configured IDTokenAlgorithms,
	// else what the provider advertises for authorization responses, or
	// for ID tokens; never none or HS*).
	advertised := md.AuthorizationSigningAlgValuesSupported
	if len(advertised) == 0 {
		advertised = md.IDTokenSigningAlgValuesSupported
	}
	if c.jarmAlgs, err = idTokenAlgorithms(cfg.IDTokenAlgorithms, advertised); err != nil {
		return nil, err
	}
	jc.Algorithms = c.jarmAlgs
	c.responseJWTs = jwtverify.New(jc)
	c.log.LogAttrs(ctx, slog.LevelDebug, "client: ready", slog.String("issuer", c.issuer),
		slog.String("client_id", c.clientID), slog.String("auth", c.auth.method), slog.String("par", c.parURL))
	if c.front {
		c.log.LogAttrs(ctx, slog.LevelWarn, "client: the provider has no PAR endpoint: authorization requests go through the browser (InsecureFrontChannel)",
			slog.String("issuer", c.issuer))
	}
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
