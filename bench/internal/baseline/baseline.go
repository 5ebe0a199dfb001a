// Package baseline is the hand-written floor that go-par's benchmarks compare
// against: the same pushed authorization request (RFC 9126 §2) and code
// exchange, written directly with net/http, url.Values, encoding/json,
// crypto/rand, x/oauth2's PKCE helpers and go-jose. It does what the
// protocol needs and nothing more: no configuration checks, no typed
// errors, no logging. It is not for production use.
package baseline

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// maxBody caps every response body read, as the SDK does.
const maxBody = 1 << 20

// assertionType is the client_assertion_type of RFC 7523 §2.2.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Config describes the client. Exactly one of Secret (client_secret_basic)
// and Key (private_key_jwt) is set.
type Config struct {
	HTTPClient  *http.Client
	Issuer      string // aud of assertions and request objects; expected iss
	PARURL      string
	TokenURL    string
	JWKSURL     string
	ClientID    string
	RedirectURL string
	Scope       string

	Secret string // client_secret_basic

	Key    crypto.Signer // private_key_jwt
	KeyAlg jose.SignatureAlgorithm
	KeyID  string

	// RequestObjectKey, when set, pushes a signed request object (RFC 9101).
	RequestObjectKey   crypto.Signer
	RequestObjectAlg   jose.SignatureAlgorithm
	RequestObjectKeyID string
	RequestObjectType  string

	// DPoPKey, when set, adds a DPoP proof (RFC 9449 §10.1) to the push.
	DPoPKey crypto.Signer
	DPoPAlg jose.SignatureAlgorithm
}

// Client pushes authorization requests and exchanges codes.
type Client struct {
	cfg       Config
	basic     string
	assertion jose.Signer
	ro        jose.Signer
	dpop      jose.Signer

	mu        sync.Mutex
	dpopNonce string
	jwks      map[string]*jose.JSONWebKey
}

// New prepares the signers once; they are reused for every request.
func New(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	var err error
	if cfg.Secret != "" {
		c.basic = "Basic " + base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(cfg.ClientID)+":"+url.QueryEscape(cfg.Secret)))
	}
	if cfg.Key != nil {
		opts := &jose.SignerOptions{}
		if cfg.KeyID != "" {
			opts.WithHeader("kid", cfg.KeyID)
		}
		if c.assertion, err = jose.NewSigner(jose.SigningKey{Algorithm: cfg.KeyAlg, Key: cfg.Key}, opts); err != nil {
			return nil, fmt.Errorf("baseline: assertion signer: %w", err)
		}
	}
	if cfg.RequestObjectKey != nil {
		opts := &jose.SignerOptions{}
		if cfg.RequestObjectKeyID != "" {
			opts.WithHeader("kid", cfg.RequestObjectKeyID)
		}
		if cfg.RequestObjectType != "" {
			opts.WithType(jose.ContentType(cfg.RequestObjectType))
		}
		if c.ro, err = jose.NewSigner(jose.SigningKey{Algorithm: cfg.RequestObjectAlg, Key: cfg.RequestObjectKey}, opts); err != nil {
			return nil, fmt.Errorf("baseline: request object signer: %w", err)
		}
	}
	if cfg.DPoPKey != nil {
		opts := &jose.SignerOptions{EmbedJWK: true}
		opts.WithType("dpop+jwt")
		if c.dpop, err = jose.NewSigner(jose.SigningKey{Algorithm: cfg.DPoPAlg, Key: cfg.DPoPKey}, opts); err != nil {
			return nil, fmt.Errorf("baseline: dpop signer: %w", err)
		}
	}
	return c, nil
}

// Flow is what a push returns and the callback needs.
type Flow struct {
	State, Nonce, Verifier, RequestURI string
	ExpiresAt                          time.Time
}

type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Jti string `json:"jti"`
	Iat int64  `json:"iat"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
}

type dpopClaims struct {
	Jti   string `json:"jti"`
	Htm   string `json:"htm"`
	Htu   string `json:"htu"`
	Iat   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
}

func jti() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sign(s jose.Signer, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// authenticate adds client_id and the client authentication to a request.
func (c *Client) authenticate(form url.Values, h http.Header) error {
	form.Set("client_id", c.cfg.ClientID)
	if c.basic != "" {
		h.Set("Authorization", c.basic)
		return nil
	}
	now := time.Now().Unix()
	a, err := sign(c.assertion, assertionClaims{Iss: c.cfg.ClientID, Sub: c.cfg.ClientID, Aud: c.cfg.Issuer,
		Jti: jti(), Iat: now, Nbf: now, Exp: now + 60})
	if err != nil {
		return err
	}
	form.Set("client_assertion_type", assertionType)
	form.Set("client_assertion", a)
	return nil
}

// Push sends one pushed authorization request.
func (c *Client) Push(ctx context.Context) (*Flow, error) {
	f := &Flow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	params := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.cfg.ClientID},
		"redirect_uri":          {c.cfg.RedirectURL},
		"scope":                 {c.cfg.Scope},
		"state":                 {f.State},
		"nonce":                 {f.Nonce},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(f.Verifier)},
		"code_challenge_method": {"S256"},
	}
	if c.ro != nil {
		now := time.Now().Unix()
		claims := map[string]any{"iss": c.cfg.ClientID, "aud": c.cfg.Issuer, "iat": now, "nbf": now,
			"exp": now + 300, "jti": jti()}
		for k, v := range params {
			claims[k] = v[0]
		}
		ro, err := sign(c.ro, claims)
		if err != nil {
			return nil, err
		}
		params = url.Values{"request": {ro}}
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		h := http.Header{}
		form := make(url.Values, len(params)+3)
		for k, v := range params {
			form[k] = v
		}
		if err := c.authenticate(form, h); err != nil {
			return nil, err
		}
		if c.dpop != nil {
			c.mu.Lock()
			nonce := c.dpopNonce
			c.mu.Unlock()
			proof, err := sign(c.dpop, dpopClaims{Jti: jti(), Htm: http.MethodPost, Htu: c.cfg.PARURL,
				Iat: time.Now().Unix(), Nonce: nonce})
			if err != nil {
				return nil, err
			}
			h.Set("DPoP", proof)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.PARURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if c.dpop != nil {
			if n := resp.Header.Get("DPoP-Nonce"); n != "" {
				c.mu.Lock()
				c.dpopNonce = n
				c.mu.Unlock()
				if attempt == 0 && resp.StatusCode == http.StatusBadRequest && bytes.Contains(body, []byte("use_dpop_nonce")) {
					continue
				}
			}
		}
		if resp.StatusCode != http.StatusCreated {
			return nil, fmt.Errorf("baseline: par: HTTP %d", resp.StatusCode)
		}
		uri, expiresIn, err := ParsePARResponse(body)
		if err != nil {
			return nil, err
		}
		f.RequestURI = uri
		f.ExpiresAt = start.Add(time.Duration(expiresIn) * time.Second)
		return f, nil
	}
}

// ParsePARResponse reads a 201 body: a string request_uri and a positive
// expires_in (RFC 9126 §2.2).
func ParsePARResponse(body []byte) (requestURI string, expiresIn int64, err error) {
	var r struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", 0, fmt.Errorf("baseline: par: %w", err)
	}
	if r.RequestURI == "" || r.ExpiresIn <= 0 {
		return "", 0, errors.New("baseline: par: request_uri or expires_in missing")
	}
	return r.RequestURI, r.ExpiresIn, nil
}

// AuthorizationURL appends client_id and request_uri to the authorization
// endpoint (RFC 9126 §4).
func (c *Client) AuthorizationURL(authorizationEndpoint string, f *Flow) string {
	return authorizationEndpoint + "?" + url.Values{"client_id": {c.cfg.ClientID}, "request_uri": {f.RequestURI}}.Encode()
}

// Tokens is the token response with the checked ID token claims.
type Tokens struct {
	AccessToken, TokenType, RefreshToken, IDToken string
	Claims                                        *IDTokenClaims
}

// IDTokenClaims are the ID token claims the baseline checks.
type IDTokenClaims struct {
	Iss    string   `json:"iss"`
	Sub    string   `json:"sub"`
	Aud    Audience `json:"aud"`
	Exp    int64    `json:"exp"`
	Iat    int64    `json:"iat"`
	Nonce  string   `json:"nonce"`
	AtHash string   `json:"at_hash"`
}

// Audience is a JWT aud claim: one string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// Exchange checks the callback (iss, state, error, code), redeems the code
// and verifies the ID token (signature against the cached JWKS, iss, aud,
// exp, nonce, at_hash).
func (c *Client) Exchange(ctx context.Context, f *Flow, cb url.Values) (*Tokens, error) {
	if cb.Get("iss") != c.cfg.Issuer {
		return nil, errors.New("baseline: callback: iss mismatch")
	}
	if subtle.ConstantTimeCompare([]byte(cb.Get("state")), []byte(f.State)) != 1 {
		return nil, errors.New("baseline: callback: state mismatch")
	}
	if e := cb.Get("error"); e != "" {
		return nil, fmt.Errorf("baseline: callback: error %s", e)
	}
	code := cb.Get("code")
	if code == "" {
		return nil, errors.New("baseline: callback: no code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.cfg.RedirectURL}, "code_verifier": {f.Verifier}}
	h := http.Header{}
	if err := c.authenticate(form, h); err != nil {
		return nil, err
	}
	if c.basic != "" {
		form.Del("client_id") // x/oauth2 sends it only in the Basic header
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("baseline: token: HTTP %d", resp.StatusCode)
	}
	t, err := ParseTokenResponse(body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(t.TokenType, "Bearer") {
		return nil, errors.New("baseline: token: not a Bearer token")
	}
	if t.Claims, err = c.verifyIDToken(ctx, t.IDToken); err != nil {
		return nil, err
	}
	cl := t.Claims
	now := time.Now().Unix()
	switch {
	case cl.Iss != c.cfg.Issuer:
		return nil, errors.New("baseline: id token: iss mismatch")
	case !contains(cl.Aud, c.cfg.ClientID):
		return nil, errors.New("baseline: id token: aud mismatch")
	case cl.Exp <= now-30:
		return nil, errors.New("baseline: id token: expired")
	case subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(f.Nonce)) != 1:
		return nil, errors.New("baseline: id token: nonce mismatch")
	}
	if cl.AtHash != "" {
		sum := sha256.Sum256([]byte(t.AccessToken))
		if cl.AtHash != base64.RawURLEncoding.EncodeToString(sum[:16]) {
			return nil, errors.New("baseline: id token: at_hash mismatch")
		}
	}
	return t, nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// ParseTokenResponse reads a token response body (RFC 6749 §5.1) that
// carries an ID token.
func ParseTokenResponse(body []byte) (*Tokens, error) {
	var r struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("baseline: token: %w", err)
	}
	if r.AccessToken == "" || r.IDToken == "" {
		return nil, errors.New("baseline: token: access_token or id_token missing")
	}
	return &Tokens{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: r.RefreshToken, IDToken: r.IDToken}, nil
}

var idTokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// verifyIDToken checks the signature with the key named by kid, fetching
// the JWKS when the kid is not cached, and decodes the claims.
func (c *Client) verifyIDToken(ctx context.Context, raw string) (*IDTokenClaims, error) {
	jws, err := jose.ParseSignedCompact(raw, idTokenAlgs)
	if err != nil {
		return nil, fmt.Errorf("baseline: id token: %w", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	c.mu.Lock()
	key := c.jwks[kid]
	c.mu.Unlock()
	if key == nil {
		if err := c.fetchJWKS(ctx); err != nil {
			return nil, err
		}
		c.mu.Lock()
		key = c.jwks[kid]
		c.mu.Unlock()
		if key == nil {
			return nil, errors.New("baseline: id token: unknown kid")
		}
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("baseline: id token: %w", err)
	}
	var cl IDTokenClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, fmt.Errorf("baseline: id token: %w", err)
	}
	return &cl, nil
}

func (c *Client) fetchJWKS(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.JWKSURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&set); err != nil {
		return fmt.Errorf("baseline: jwks: %w", err)
	}
	m := make(map[string]*jose.JSONWebKey, len(set.Keys))
	for i := range set.Keys {
		m[set.Keys[i].KeyID] = &set.Keys[i]
	}
	c.mu.Lock()
	c.jwks = m
	c.mu.Unlock()
	return nil
}

// Endpoints are the provider metadata the baseline needs.
type Endpoints struct {
	Issuer string `json:"issuer"`
	PAR    string `json:"pushed_authorization_request_endpoint"`
	Token  string `json:"token_endpoint"`
	JWKS   string `json:"jwks_uri"`
}

// Discover fetches the provider's metadata (OIDC Discovery §4) and checks
// its issuer.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Endpoints, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("baseline: discovery: HTTP %d", resp.StatusCode)
	}
	var ep Endpoints
	if err := json.Unmarshal(body, &ep); err != nil {
		return nil, fmt.Errorf("baseline: discovery: %w", err)
	}
	if ep.Issuer != issuer || ep.PAR == "" || ep.Token == "" || ep.JWKS == "" {
		return nil, errors.New("baseline: discovery: issuer mismatch or endpoint missing")
	}
	return &ep, nil
}
