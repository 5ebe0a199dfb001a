package partest

import (
	"crypto/tls"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Endpoint names, as used by [Server.Requests], [Server.SetFault] and
// [Config.Faults].
const (
	EndpointDiscovery  = "discovery"   // both metadata documents
	EndpointJWKS       = "jwks"        // jwks_uri
	EndpointPAR        = "par"         // pushed_authorization_request_endpoint (RFC 9126 §2)
	EndpointAuthorize  = "authorize"   // authorization_endpoint (and the interactive login form)
	EndpointToken      = "token"       // token_endpoint
	EndpointUserinfo   = "userinfo"    // userinfo_endpoint
	EndpointEndSession = "end_session" // end_session_endpoint (RP-Initiated Logout 1.0)
	EndpointCIBA       = "ciba"        // backchannel_authentication_endpoint (OpenID CIBA Core §7)
	EndpointInitAuth   = "init_auth"   // the MitID broker's CIBA→PAR bridge, {issuer}/api/ciba/broker-oidc/init-auth
	EndpointCIBACancel = "ciba_cancel" // the MitID broker's cancel API, DELETE {issuer}/api/v1/ciba/{auth_req_id}
	EndpointErrorPage  = "error_page"  // the MitID broker's own error page, {issuer}/Error?errorId=… (broker mode)
)

// Client authentication methods (RFC 7591 §2, RFC 8705 §2.1.1).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthClientSecretJWT   = "client_secret_jwt"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthTLSClientAuth     = "tls_client_auth"
	AuthNone              = "none"
)

// Endpoint paths below the issuer path. They mimic the Signaturgruppen
// broker's layout; clients must take them from discovery, never hard-code
// them.
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathRFC8414    = "/.well-known/oauth-authorization-server"
	pathJWKS       = "/.well-known/openid-configuration/jwks"
	pathPAR        = "/connect/par"
	pathAuthorize  = "/connect/authorize"
	pathLoginForm  = "/connect/authorize/login"
	pathToken      = "/connect/token"
	pathUserinfo   = "/connect/userinfo"
	pathEndSession = "/connect/endsession"
	pathCIBA       = "/connect/ciba"
	pathInitAuth   = "/api/ciba/broker-oidc/init-auth"
	pathCIBACancel = "/api/v1/ciba/" // + auth_req_id
	pathErrorPage  = "/Error"
)

// Config configures a [Server]. The zero value gives a server with no
// clients and the default user "alice".
type Config struct {
	// Clients are the registered clients.
	Clients []Client
	// Users are the identities the server can log in. Default: one user,
	// "alice", with a few claims. The first user is the default one.
	Users []User
	// IssuerPath is appended to the server URL to form the issuer, such as
	// "/op" to mimic the MitID broker's path-bearing issuer. Default "".
	IssuerPath string
	// URL is the base URL when the server is mounted with [Server.Handler]
	// on a listener of the caller's own. Start sets it when empty.
	URL string
	// TLS starts the server with TLS (httptest's certificate) and requests,
	// without verifying, client certificates. It is implied when a client
	// uses tls_client_auth.
	TLS bool

	// MTLSEndpointAliases publishes mtls_endpoint_aliases (RFC 8705 §5)
	// for the PAR, token and userinfo endpoints, served below /mtls, and
	// makes the plain endpoints ignore client certificates, as a provider
	// whose plain host does not ask for them: tls_client_auth and
	// certificate-bound tokens then work through the aliases only. It
	// implies TLS. DPoP proofs are checked against the plain endpoint URLs.
	MTLSEndpointAliases bool

	// RequirePAR advertises require_pushed_authorization_requests and
	// rejects front-channel requests without a request_uri (RFC 9126 §5).
	RequirePAR bool
	// NoPAR makes a provider without PAR, as most OpenID Connect providers
	// are: discovery advertises neither pushed_authorization_request_endpoint
	// nor require_pushed_authorization_requests (nor a PAR mTLS alias), and
	// the PAR path answers 404 Not Found (such requests still count in
	// Requests(EndpointPAR), so a test can see that a client tried).
	// Classic front-channel authorization requests, with every parameter in
	// the authorization URL or a request object by value (RFC 9101 §5),
	// work as always. With RequirePAR as well, discovery advertises the
	// requirement without an endpoint, a contradiction a client must refuse.
	NoPAR bool
	// NoIssParameter neither advertises nor sends the RFC 9207 iss
	// authorization response parameter.
	NoIssParameter bool
	// RequestURILifetime is the request_uri lifetime (expires_in). Default
	// 60 s, as in node-oidc-provider; the MitID broker uses 600 s.
	RequestURILifetime time.Duration
	// CodeLifetime is the authorization code lifetime. Default 60 s.
	CodeLifetime time.Duration
	// AccessTokenLifetime is the access token lifetime. Default 1 h.
	AccessTokenLifetime time.Duration
	// IDTokenLifetime is the ID token lifetime. Default 5 min.
	IDTokenLifetime time.Duration
	// AuthorizationResponseLifetime is how long a JWT-secured authorization
	// response is valid (its exp, JARM §2.1, which recommends at most 10
	// minutes). Default 5 min.
	AuthorizationResponseLifetime time.Duration
	// IDTokenAlg signs ID tokens and signed userinfo: RS256 (default),
	// PS256, ES256 or EdDSA.
	IDTokenAlg jose.SignatureAlgorithm
	// BrokerJWKS shapes the JWKS like the MitID broker's: each signing key
	// has a self-signed certificate (x5c), its SHA-1 thumbprint (x5t) and
	// the upper-case hex of that thumbprint as kid, and an RSA encryption
	// key (use enc) carries the XML-Enc URI
	// http://www.w3.org/2001/04/xmlenc#rsa-oaep as its alg. Clients must
	// tolerate the unknown alg and pick signing keys by kid. Request objects
	// encrypted to that key (nested JWTs, RSA-OAEP or RSA-OAEP-256, RFC 9101
	// §6.1) are then accepted and decrypted.
	BrokerJWKS bool
	// OpaqueAccessTokens issues random access tokens instead of RFC 9068
	// JWT access tokens.
	OpaqueAccessTokens bool
	// RefreshTokens issues refresh tokens for every grant; without it they
	// are issued only when offline_access was granted.
	RefreshTokens bool
	// Now is the server clock. Default time.Now. It also judges the exp,
	// iat and nbf of client assertions, request objects and DPoP proofs, so
	// clients under test should share it.
	Now func() time.Time
	// ClockSkew is how far in the future iat and nbf of client assertions,
	// request objects and DPoP proofs may be. Default 5 s.
	ClockSkew time.Duration
	// MaxAssertionLifetime is the longest a client assertion may live
	// (exp - iat, and exp - now). Default 5 min.
	MaxAssertionLifetime time.Duration
	// StrictAssertionAudience accepts only the issuer, as a single string,
	// as a client assertion's aud (RFC 10070). Without it the token and PAR
	// endpoint URLs are accepted too (RFC 9126 §2), and an array needs one
	// accepted value among others (RFC 7523 §3).
	StrictAssertionAudience bool

	// DPoPNonce makes PAR, token and userinfo demand a server-provided
	// DPoP nonce (RFC 9449 §8, §9): a proof without the current nonce gets
	// use_dpop_nonce and a DPoP-Nonce header.
	DPoPNonce bool
	// RequireDPoP treats every client as DPoPBound: token requests without
	// a DPoP proof fail with invalid_grant (RFC 9449 §5.2, FAPI 2.0).
	RequireDPoP bool
	// DPoPProofLifetime is how old a DPoP proof's iat may be. Default 60 s.
	DPoPProofLifetime time.Duration

	// Interactive shows an HTML page listing Users at the authorization
	// endpoint, each with its name, kind, assurance levels and a few
	// details (and the transaction text to sign, if any); choosing one
	// completes the login, its Cancel button ends the login with
	// access_denied (error_description mitid_user_aborted with
	// BrokerLayout). Login still works: it submits the form for the hinted
	// or first user.
	Interactive bool

	// CIBA serves OpenID CIBA Core 1.0 in poll mode at
	// /connect/ciba, the CIBA grant at the token endpoint, and the MitID
	// broker's CIBA→PAR bridge (init-auth) and cancel API. See
	// [Server.DenyCIBA] and [Server.ApproveCIBA].
	CIBA bool
	// CIBALifetime is the auth_req_id lifetime (expires_in). Default 300 s,
	// as at the MitID broker.
	CIBALifetime time.Duration
	// CIBAInterval is the minimum time between token polls (interval),
	// in whole seconds. Default 3 s, as at the MitID broker.
	CIBAInterval time.Duration

	// BrokerLayout makes the server answer the way the MitID broker was
	// recorded answering (broker-recorded.md; see [BrokerConfig] for the
	// whole list): its discovery document, its error shapes on the front
	// and back channel, its ID token, UserInfo, userinfo_token and
	// transaction_token. The endpoint paths are the broker's in every
	// layout. [BrokerConfig] sets it.
	BrokerLayout bool
	// BrokerDocumented makes a BrokerLayout or BrokerJWKS server follow the
	// broker's documentation (brokers-and-profiles.md §8) where it differs
	// from what the broker was recorded answering: the §8.1 discovery
	// document, a JWKS whose signing keys carry alg and whose encryption key
	// has a hex x5t and the XML-Enc alg URI, RFC-shaped errors (invalid_client
	// with 401 and WWW-Authenticate, an error_description, errors of the
	// authorization endpoint sent to the client with iss, a JSON body on
	// UserInfo errors), an unknown idp_values refused at the PAR endpoint,
	// an ID token carrying mitid.uuid, mitid.age, mitid.has_cpr and
	// mitid.psd2 as in the documented pre-production token, and a
	// userinfo_token only when the userinfo_token scope asks for one. The
	// recording wins where they differ, so this is off in [BrokerConfig].
	BrokerDocumented bool

	// InProcess serves without a listener: Start binds nothing, URL defaults
	// to https://partest.test, and [Server.Client],
	// [Server.ClientWithCertificate] and [Server.Login] reach the handler
	// through an in-memory transport. Nothing touches the network, so a
	// whole flow, clients included, runs inside a testing/synctest bubble,
	// whose fake clock then drives the server's default clock.
	InProcess bool

	// Faults are installed at start, keyed by endpoint name (EndpointPAR,
	// ...). See also [Server.SetFault].
	Faults map[string]Fault
}

// Client is a registered client.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client secret for client_secret_* authentication and
	// HS256 request objects.
	Secret string
	// RedirectURIs are the registered redirect URIs, compared exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the registered post_logout_redirect_uri
	// values for the end-session endpoint.
	PostLogoutRedirectURIs []string
	// AuthMethod is the token_endpoint_auth_method. Default:
	// client_secret_basic when Secret is set, private_key_jwt when JWKS has
	// keys, tls_client_auth when a TLS subject or thumbprint is set, else
	// none.
	AuthMethod string
	// JWKS holds the client's public keys: signing keys for
	// private_key_jwt and request objects, and keys with use "enc" for
	// encrypted authorization responses (AuthorizationEncryptedResponseAlg).
	JWKS jose.JSONWebKeySet
	// Scopes, when set, are the only scopes the client may request; other
	// scopes fail the request with invalid_scope, as at the MitID broker.
	Scopes []string
	// RequirePAR rejects front-channel requests of this client without a
	// request_uri (RFC 9126 §6).
	RequirePAR bool
	// RequireSignedRequestObject demands a request object (RFC 9101 §10.5).
	RequireSignedRequestObject bool
	// TLSSubjectDN is the certificate subject DN, as
	// [crypto/x509.Certificate.Subject.String] prints it, for
	// tls_client_auth (RFC 8705 §2.1.2).
	TLSSubjectDN string
	// TLSCertThumbprint is the base64url SHA-256 thumbprint of the client
	// certificate (x5t#S256), an alternative to TLSSubjectDN.
	TLSCertThumbprint string
	// AllowUnregisteredRedirectURIsViaPAR accepts any absolute redirect_uri
	// in pushed requests of this (authenticated) client (RFC 9126 §2.4).
	AllowUnregisteredRedirectURIsViaPAR bool
	// DPoPBound requires DPoP-bound tokens (dpop_bound_access_tokens,
	// RFC 9449 §5.2): the token request must carry a proof.
	DPoPBound bool
	// SignedUserinfo answers userinfo with a signed JWT.
	SignedUserinfo bool
	// AuthorizationSignedResponseAlg signs this client's JWT-secured
	// authorization responses (JARM §3 authorization_signed_response_alg):
	// RS256, PS256, ES256 or EdDSA. Default: Config.IDTokenAlg. The
	// client chooses a JWT response mode per request (response_mode jwt,
	// query.jwt or form_post.jwt).
	AuthorizationSignedResponseAlg jose.SignatureAlgorithm
	// AuthorizationEncryptedResponseAlg, when set, encrypts the signed
	// authorization response to the client's key with use "enc" in JWKS
	// (JARM §2.2 nested JWT, §3 authorization_encrypted_response_alg):
	// RSA-OAEP or RSA-OAEP-256 for an RSA key, ECDH-ES, ECDH-ES+A128KW or
	// ECDH-ES+A256KW for an EC key.
	AuthorizationEncryptedResponseAlg jose.KeyAlgorithm
	// AuthorizationEncryptedResponseEnc is the content encryption of those
	// responses (authorization_encrypted_response_enc): A128CBC-HS256
	// (default, JARM §3), A256CBC-HS512, A128GCM or A256GCM.
	AuthorizationEncryptedResponseEnc jose.ContentEncryption
	// AuthorizationDetailsTypes are the authorization_details types the
	// client may request (RFC 9396 §2, the authorization_details_types
	// client metadata of §10.2). Without any, every authorization_details
	// parameter of the client is refused with invalid_authorization_details.
	// The server advertises the types of all clients in
	// authorization_details_types_supported.
	AuthorizationDetailsTypes []string
	// DefaultUser is the subject logged in for this client when no
	// login_hint names a user. Default: the first user.
	DefaultUser string
	// BackchannelLogoutURI is the client's back-channel logout URI (OIDC
	// Back-Channel Logout 1.0 §2.2): [Server.EndSession], the end-session
	// endpoint and [Server.LogoutPageURL] post logout tokens to it. With it
	// (or FrontchannelLogoutURI) the client's ID tokens carry sid.
	BackchannelLogoutURI string
	// FrontchannelLogoutURI is the client's front-channel logout URI (OIDC
	// Front-Channel Logout 1.0 §2), loaded with iss and sid in an iframe of
	// the provider's logout pages (the end-session endpoint's and
	// [Server.LogoutPageURL]'s).
	FrontchannelLogoutURI string
	// Organisation maps subjects per organisation, as the MitID broker does
	// (subject_type "org_mapped"): clients of one Organisation see the same
	// sub for a user, clients of another organisation a different one (a
	// name-based UUID of the organisation and the user's Subject, see
	// [Server.SubjectFor]). Clients without an Organisation see the user's
	// Subject itself. login_hint and [Server.LoginAs] always name the user
	// by its Subject.
	Organisation string
}

// User is an end-user identity.
type User struct {
	Subject string
	Claims  map[string]any
}

// DefaultUsers returns the users a Config without Users gets.
func DefaultUsers() []User {
	return []User{
		{Subject: "alice", Claims: map[string]any{
			"name": "Alice Andersen", "given_name": "Alice", "family_name": "Andersen",
			"email": "alice@example.com", "email_verified": true,
			"idp": "mitid", "identity_type": "private",
			"loa":       "https://data.gov.dk/concept/core/nsis/Substantial",
			"mitid.age": "34", "mitid.has_cpr": "true",
		}},
	}
}

// Server is an in-process authorization server. Create it with [NewServer]
// or [NewUnstartedServer]. It is safe for concurrent use.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:1234, without the
	// issuer path.
	URL string
	// Config is the configuration; it must not be modified after Start.
	Config Config

	ts      *httptest.Server
	routes  map[string]route
	clients map[string]*Client
	users   []User

	mu      sync.Mutex
	started bool
	counts  map[string]int
	faults  map[string]*faultState
	keys    keyRing
	pars    map[string]*parRecord
	codes   map[string]*codeRecord
	access  map[string]*tokenRecord
	refresh map[string]*refreshRecord
	seen    map[string]time.Time // single-use jti values and the like, until expiry
	txs     map[string]*txRecord
	cibas   map[string]*cibaRecord
	// sessions are the provider sessions by sid, for logout.
	sessions map[string]*provSession
	nonce    string
	// errPages are the errors shown on the broker's own error page, by
	// errorId (BrokerLayout).
	errPages map[string]errPage
	// failures are the outcomes queued by FailNextLogin, oldest first.
	failures []*oauthError
	// lastJARM is the JWT-secured authorization response last sent to each
	// client, for Fault.ReplayJARM.
	lastJARM map[string]string
}

type route struct {
	endpoint string
	handle   func(s *Server, w http.ResponseWriter, r *http.Request, f *Fault)
}

// NewServer starts and returns a new server. The caller must Close it.
// It panics on an invalid Config.
func NewServer(cfg Config) *Server {
	s := NewUnstartedServer(cfg)
	s.Start()
	return s
}

// NewUnstartedServer returns a server that is not listening yet: call Start,
// or mount Handler on a listener of your own (then set Config.URL). It
// panics on an invalid Config.
func NewUnstartedServer(cfg Config) *Server {
	cfg = withDefaults(cfg)
	s := &Server{
		Config:  cfg,
		URL:     strings.TrimSuffix(cfg.URL, "/"),
		clients: map[string]*Client{},
		users:   cfg.Users,
		counts:  map[string]int{},
		faults:  map[string]*faultState{},
		pars:    map[string]*parRecord{},
		codes:   map[string]*codeRecord{},
		access:  map[string]*tokenRecord{},
		refresh: map[string]*refreshRecord{},
		seen:    map[string]time.Time{},
		txs:     map[string]*txRecord{},
		cibas:   map[string]*cibaRecord{},
		nonce:   randomString(24),

		sessions: map[string]*provSession{},

		errPages: map[string]errPage{},
		lastJARM: map[string]string{},
	}
	for i := range cfg.Clients {
		c := normalizeClient(cfg.Clients[i], cfg.IDTokenAlg)
		if _, dup := s.clients[c.ID]; dup {
			panic(fmt.Sprintf("partest: duplicate client %q", c.ID))
		}
		s.clients[c.ID] = &c
		if c.AuthMethod == AuthTLSClientAuth {
			s.Config.TLS = true
		}
	}
	for ep, f := range cfg.Faults {
		s.faults[ep] = &faultState{f: f, left: f.Times}
	}
	p := cfg.IssuerPath
	s.routes = map[string]route{
		p + pathDiscovery:  {EndpointDiscovery, (*Server).handleDiscovery},
		pathRFC8414 + p:    {EndpointDiscovery, (*Server).handleDiscovery},
		p + pathRFC8414:    {EndpointDiscovery, (*Server).handleDiscovery},
		p + pathJWKS:       {EndpointJWKS, (*Server).handleJWKS},
		p + pathPAR:        {EndpointPAR, (*Server).handlePAR},
		p + pathAuthorize:  {EndpointAuthorize, (*Server).handleAuthorize},
		p + pathLoginForm:  {EndpointAuthorize, (*Server).handleLoginForm},
		p + pathToken:      {EndpointToken, (*Server).handleToken},
		p + pathUserinfo:   {EndpointUserinfo, (*Server).handleUserinfo},
		p + pathEndSession: {EndpointEndSession, (*Server).handleEndSession},

		p + pathProviderLogout: {EndpointEndSession, (*Server).handleProviderLogout},
	}
	if cfg.BrokerLayout {
		s.routes[p+pathErrorPage] = route{EndpointErrorPage, (*Server).handleErrorPage}
	}
	if cfg.CIBA {
		s.routes[p+pathCIBA] = route{EndpointCIBA, (*Server).handleCIBA}
		s.routes[p+pathInitAuth] = route{EndpointInitAuth, (*Server).handleInitAuth}
	}
	if cfg.MTLSEndpointAliases {
		s.Config.TLS = true
		for _, ep := range mtlsAliased {
			s.routes[p+pathMTLS+ep] = s.routes[p+ep]
		}
	}
	if !cfg.InProcess {
		s.ts = httptest.NewUnstartedServer(s)
	}
	// Generate the keys now, so the first request is not slowed and the
	// JWKS holds every key a client's authorization responses are signed
	// with.
	if _, err := s.signingKey(cfg.IDTokenAlg); err != nil {
		panic("partest: " + err.Error())
	}
	for _, c := range s.clients {
		if _, err := s.signingKey(c.AuthorizationSignedResponseAlg); err != nil {
			panic("partest: " + err.Error())
		}
	}
	if cfg.BrokerJWKS {
		if _, err := encryptionJWK(); err != nil {
			panic("partest: " + err.Error())
		}
	}
	if cfg.BrokerJWKS || cfg.BrokerLayout {
		if _, err := transactionKeys(); err != nil {
			panic("partest: " + err.Error())
		}
	}
	return s
}

func withDefaults(cfg Config) Config {
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	cfg.IssuerPath = strings.TrimSuffix(cfg.IssuerPath, "/")
	if cfg.IssuerPath != "" && !strings.HasPrefix(cfg.IssuerPath, "/") {
		panic("partest: IssuerPath must start with /")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.RequestURILifetime, 60*time.Second)
	def(&cfg.CodeLifetime, 60*time.Second)
	def(&cfg.AccessTokenLifetime, time.Hour)
	def(&cfg.IDTokenLifetime, 5*time.Minute)
	def(&cfg.AuthorizationResponseLifetime, 5*time.Minute)
	def(&cfg.ClockSkew, 5*time.Second)
	def(&cfg.MaxAssertionLifetime, 5*time.Minute)
	def(&cfg.DPoPProofLifetime, 60*time.Second)
	def(&cfg.CIBALifetime, 300*time.Second)
	def(&cfg.CIBAInterval, 3*time.Second)
	cfg.CIBAInterval = max(cfg.CIBAInterval.Truncate(time.Second), time.Second)
	if cfg.IDTokenAlg == "" {
		cfg.IDTokenAlg = jose.RS256
	}
	if !slices.Contains(idTokenAlgs, cfg.IDTokenAlg) {
		panic(fmt.Sprintf("partest: unsupported IDTokenAlg %q", cfg.IDTokenAlg))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Copy the slices the server keeps, so callers cannot change them.
	cfg.Clients = slices.Clone(cfg.Clients)
	cfg.Users = slices.Clone(cfg.Users)
	for i := range cfg.Users {
		if cfg.Users[i].Subject == "" {
			panic("partest: user without Subject")
		}
		cfg.Users[i].Claims = maps.Clone(cfg.Users[i].Claims)
	}
	return cfg
}

func normalizeClient(c Client, idTokenAlg jose.SignatureAlgorithm) Client {
	if c.ID == "" {
		panic("partest: client without ID")
	}
	if c.AuthMethod == "" {
		switch {
		case c.Secret != "":
			c.AuthMethod = AuthClientSecretBasic
		case hasSigningKeys(c.JWKS):
			c.AuthMethod = AuthPrivateKeyJWT
		case c.TLSSubjectDN != "" || c.TLSCertThumbprint != "":
			c.AuthMethod = AuthTLSClientAuth
		default:
			c.AuthMethod = AuthNone
		}
	}
	switch c.AuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT:
		if c.Secret == "" {
			panic(fmt.Sprintf("partest: client %q uses %s without a Secret", c.ID, c.AuthMethod))
		}
	case AuthPrivateKeyJWT:
		if !hasSigningKeys(c.JWKS) {
			panic(fmt.Sprintf("partest: client %q uses private_key_jwt without JWKS", c.ID))
		}
	case AuthTLSClientAuth:
		if c.TLSSubjectDN == "" && c.TLSCertThumbprint == "" {
			panic(fmt.Sprintf("partest: client %q uses tls_client_auth without TLSSubjectDN or TLSCertThumbprint", c.ID))
		}
	case AuthNone:
	default:
		panic(fmt.Sprintf("partest: client %q has unknown AuthMethod %q", c.ID, c.AuthMethod))
	}
	for _, k := range c.JWKS.Keys {
		if !k.IsPublic() {
			panic(fmt.Sprintf("partest: client %q JWKS holds a private key; register public keys only", c.ID))
		}
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.Scopes = slices.Clone(c.Scopes)
	c.AuthorizationDetailsTypes = slices.Clone(c.AuthorizationDetailsTypes)
	if c.AuthorizationSignedResponseAlg == "" {
		c.AuthorizationSignedResponseAlg = idTokenAlg
	}
	if err := checkJARMClient(&c); err != nil {
		panic(fmt.Sprintf("partest: client %q: %v", c.ID, err))
	}
	return c
}

// hasSigningKeys reports whether set holds a key not reserved for
// encryption.
func hasSigningKeys(set jose.JSONWebKeySet) bool {
	for _, k := range set.Keys {
		if k.Use != "enc" {
			return true
		}
	}
	return false
}

// Start starts the server (with TLS when Config.TLS or a tls_client_auth
// client asks for it; without a listener when Config.InProcess is set). It
// panics when called twice.
func (s *Server) Start() {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		panic("partest: server already started")
	}
	s.started = true
	s.mu.Unlock()
	if s.Config.InProcess {
		if s.URL == "" {
			s.URL = "https://partest.test"
		}
		s.Config.URL = s.URL
		return
	}
	if s.Config.TLS {
		s.ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL
	s.Config.URL = s.ts.URL
}

// Close shuts the server down, as [httptest.Server.Close] does.
func (s *Server) Close() {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started && s.ts != nil {
		s.ts.Close()
	}
}

// Handler returns the server's handler, to mount it on a listener of your
// own; set Config.URL to the base URL it is reachable at.
func (s *Server) Handler() http.Handler { return s }

// Client returns an HTTP client that trusts the server's TLS certificate
// (when TLS is on) and follows no redirects.
func (s *Server) Client() *http.Client {
	if s.ts == nil {
		return s.inProcessClient(nil)
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		// Mounted with Handler on the caller's own listener: a plain
		// client (the caller's listener has its own TLS, if any).
		return &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	c := *s.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 30 * time.Second
	return &c
}

// ClientWithCertificate is [Server.Client] presenting cert, for
// tls_client_auth (RFC 8705 §2) and certificate-bound tokens (§3). With
// Config.InProcess the certificate is handed to the handler as the TLS peer
// certificate of https requests, without a handshake.
func (s *Server) ClientWithCertificate(cert tls.Certificate) *http.Client {
	if s.ts == nil {
		return s.inProcessClient(&cert)
	}
	c := s.Client()
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr = tr.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
		c.Transport = tr
	}
	return c
}

// Certificate returns the server's TLS certificate, or nil without TLS.
func (s *Server) Certificate() []byte {
	if s.ts == nil {
		return nil
	}
	if c := s.ts.Certificate(); c != nil {
		return c.Raw
	}
	return nil
}

// Issuer returns the issuer identifier: URL + Config.IssuerPath.
func (s *Server) Issuer() string { return s.URL + s.Config.IssuerPath }

// endpointURL returns the absolute URL of the endpoint at path p.
func (s *Server) endpointURL(p string) string { return s.Issuer() + p }

// Requests returns how many requests the endpoint (EndpointPAR, ...) got,
// faulted ones included. The interactive login form counts as
// EndpointAuthorize; both metadata documents count as EndpointDiscovery.
func (s *Server) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.routes[r.URL.Path]
	if !ok && s.Config.CIBA && strings.HasPrefix(r.URL.Path, s.Config.IssuerPath+pathCIBACancel) {
		rt, ok = route{EndpointCIBACancel, (*Server).handleCIBACancel}, true
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if s.URL == "" {
		http.Error(w, "partest: server not started and Config.URL not set", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.counts[rt.endpoint]++
	s.mu.Unlock()
	r = s.withoutPlainCertificate(r)
	f := s.takeFault(rt.endpoint)
	if f == nil {
		rt.handle(s, w, r, nil)
		return
	}
	s.serveFault(w, r, rt, f)
}
