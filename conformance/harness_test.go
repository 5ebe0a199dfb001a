package conformance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/pkce"
)

const (
	clientID = "rp"
	// secret is long enough to key HS256 (RFC 7518 §3.2) and holds the
	// + / = that Basic credentials must form-encode.
	secret   = "conformance+secret/0123456789abcdefghij="
	redirect = "https://rp.example/cb"
	keyID    = "rp-key-1"
)

// creds are the relying party's keys, made once: an ES256 key for client
// assertions and request objects, another for DPoP proofs, and a
// self-signed client certificate for tls_client_auth (RFC 8705 §2.1).
var creds = sync.OnceValue(func() (c struct {
	key, dpopKey *ecdsa.PrivateKey
	cert         tls.Certificate
	thumbprint   string // x5t#S256 of cert
	err          error
}) {
	if c.key, c.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); c.err != nil {
		return c
	}
	if c.dpopKey, c.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); c.err != nil {
		return c
	}
	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.err = err
		return c
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(15),
		Subject:      pkix.Name{CommonName: "rp.example", Organization: []string{"go-par conformance"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &certKey.PublicKey, certKey)
	if err != nil {
		c.err = err
		return c
	}
	sum := sha256.Sum256(der)
	c.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: certKey}
	c.thumbprint = base64.RawURLEncoding.EncodeToString(sum[:])
	return c
})

// clock is the time of both the provider and the relying party: real time
// plus an offset that a module may move ("two logins seconds apart").
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// exchange is one back-channel request the relying party made, as the
// recording transport saw it.
type exchange struct {
	method, path string
	auth         string // the Authorization header's scheme
	query, body  bool   // the request had a query or a body
	contentType  string // of the response
	status       int
}

// recorder records the relying party's back-channel requests.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchange{method: req.Method, path: req.URL.Path, query: req.URL.RawQuery != "",
		body: req.ContentLength > 0 || req.Body != nil && req.Body != http.NoBody}
	x.auth, _, _ = strings.Cut(req.Header.Get("Authorization"), " ")
	resp, err := r.base.RoundTrip(req)
	if resp != nil {
		x.status, x.contentType = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	r.mu.Lock()
	r.log = append(r.log, x)
	r.mu.Unlock()
	return resp, err
}

// requests returns the recorded requests whose path ends with suffix.
func (r *recorder) requests(suffix string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, x := range r.log {
		if strings.HasSuffix(x.path, suffix) {
			out = append(out, x)
		}
	}
	return out
}

// env is one module run: a partest provider set up for the module and the
// variant, and the go-par configuration that logs in against it.
type env struct {
	t    *testing.T
	v    variantSpec
	spec *moduleSpec
	srv  *partest.Server
	pc   partest.Config
	clk  *clock
	rec  *recorder
	ccfg client.Config
	// proofer is the DPoP key (FAPI, private_key_jwt + DPoP).
	proofer *dpop.Proofer
}

func newEnv(t *testing.T, v variantSpec, spec *moduleSpec) *env {
	t.Helper()
	cr := creds()
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	e := &env{t: t, v: v, spec: spec, clk: &clock{}}
	pcl := partest.Client{ID: clientID, RedirectURIs: []string{redirect}}
	pc := partest.Config{Now: e.clk.now}
	clientJWK := jose.JSONWebKey{Key: cr.key.Public(), KeyID: keyID, Use: "sig", Algorithm: string(jose.ES256)}
	switch {
	case v.family == "oidc" && v.auth == "tls_client_auth":
		pcl.AuthMethod, pcl.TLSCertThumbprint = partest.AuthTLSClientAuth, cr.thumbprint
	case v.family == "oidc":
		pcl.AuthMethod, pcl.Secret = partest.AuthClientSecretBasic, secret
	case v.family == "fapi":
		// FAPI 2.0 Security Profile §5.3.2: PAR required, PS256 ID tokens.
		pc.RequirePAR, pc.IDTokenAlg, pc.StrictAssertionAudience = true, jose.PS256, true
		if v.mtls {
			pcl.AuthMethod, pcl.TLSCertThumbprint = partest.AuthTLSClientAuth, cr.thumbprint
		} else {
			pcl.AuthMethod, pcl.DPoPBound = partest.AuthPrivateKeyJWT, true
			pcl.JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{clientJWK}}
			pc.RequireDPoP, pc.DPoPNonce = true, true
		}
		if v.signed {
			pcl.JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{clientJWK}}
			pcl.RequireSignedRequestObject = true
		}
		if v.jarm {
			// FAPI 2.0 Message Signing §5.4: JWT-secured responses,
			// signed PS256 like the ID tokens.
			pcl.AuthorizationSignedResponseAlg = jose.PS256
		}
	default:
		t.Fatalf("variant %+v cannot be run", v)
	}
	front := v.transport == "front"
	if front {
		// A provider without PAR, as the suite's OpenID Connect plans play
		// one: the request travels in the front channel.
		pc.NoPAR = true
		if v.dynamic {
			// The plan's request_uri (a request object by reference) is
			// sent by value (RFC 9101 §5): go-par hosts no request objects.
			pcl.JWKS = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{clientJWK}}
			pcl.RequireSignedRequestObject = true
		}
	}
	pc.Clients = []partest.Client{pcl}
	if spec.provider != nil {
		spec.provider(e, &pc)
	}
	e.pc = pc
	e.srv = partest.NewServer(pc)
	t.Cleanup(e.srv.Close)

	hc := e.srv.Client()
	mtls := v.auth == "tls_client_auth" || v.mtls
	if mtls {
		hc = e.srv.ClientWithCertificate(cr.cert)
	}
	e.rec = &recorder{base: hc.Transport}
	hc.Transport = e.rec
	e.ccfg = client.Config{
		Issuer: e.srv.Issuer(), ClientID: clientID, RedirectURL: redirect, HTTPClient: hc, Now: e.clk.now,
	}
	switch {
	case v.family == "oidc" && mtls:
		e.ccfg.Auth = client.TLSClientAuth()
	case v.family == "oidc":
		e.ccfg.Auth = client.ClientSecretBasic(secret)
	case mtls:
		e.ccfg.Profile, e.ccfg.Auth = client.ProfileFAPI2, client.TLSClientAuth()
	default:
		e.ccfg.Profile, e.ccfg.Auth = client.ProfileFAPI2, client.PrivateKeyJWT(cr.key, keyID)
		p, err := dpop.NewProofer(cr.dpopKey, &dpop.Config{Now: e.clk.now})
		if err != nil {
			t.Fatal(err)
		}
		e.ccfg.DPoP, e.proofer = p, p
	}
	if v.formPost {
		e.ccfg.ResponseMode = "form_post"
	}
	if v.signed || front && v.dynamic {
		e.ccfg.RequestObject = &jar.Config{Signer: cr.key, KeyID: keyID, Type: jar.TypeRequestObject}
	}
	if v.signed {
		e.ccfg.MessageSigning |= client.SignedRequests // FAPI 2.0 Message Signing variants
	}
	if v.jarm {
		e.ccfg.ResponseMode = "jwt"
		e.ccfg.MessageSigning |= client.SignedResponses
	}
	e.ccfg.InsecureFrontChannel = front
	if spec.client != nil {
		spec.client(&e.ccfg)
	}
	return e
}

// counts snapshots the provider's request counts per endpoint.
type counts map[string]int

var endpoints = []string{partest.EndpointDiscovery, partest.EndpointJWKS, partest.EndpointPAR,
	partest.EndpointAuthorize, partest.EndpointToken, partest.EndpointUserinfo}

func (e *env) counts() counts {
	c := counts{}
	for _, ep := range endpoints {
		c[ep] = e.srv.Requests(ep)
	}
	return c
}

// observation is what a module run showed.
type observation struct {
	outcome string // one of the outcome names, or "error at <step>"
	err     error  // the error that stopped the relying party
	// before and after are the provider's request counts around the call
	// that failed (or the last call).
	before, after counts
	flow          *client.Flow
	authURL       string         // the last authorization URL
	tokens        *client.Tokens // from the login (the refresh, in refresh modules)
	userinfo      *client.UserInfo
}

// newClient makes the go-par client; its error means a stop at discovery.
func (e *env) newClient(ctx context.Context, o *observation) *client.Client {
	o.before = e.counts()
	c, err := client.New(ctx, e.ccfg)
	o.after = e.counts()
	if err != nil {
		o.outcome, o.err = stopDiscovery, err
		return nil
	}
	return c
}

// callback turns the parameters partest's headless user brought back into
// the request the relying party's redirect URI gets: a GET with a query,
// or a form_post POST.
func (e *env) callback(params url.Values) *http.Request {
	if e.v.formPost {
		r := httptest.NewRequest(http.MethodPost, redirect, strings.NewReader(params.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	return httptest.NewRequest(http.MethodGet, redirect+"?"+params.Encode(), nil)
}

// login runs Push, AuthorizationURL, partest's headless Login,
// ParseResponse and Exchange, and records where it stopped. It returns
// false when the run stopped.
func (e *env) login(ctx context.Context, c *client.Client, o *observation) bool {
	flow, err := c.Push(ctx, e.spec.options...)
	if err != nil {
		o.outcome, o.err = "error at push", err
		return false
	}
	o.flow = flow
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		o.outcome, o.err = "error at authorization url", err
		return false
	}
	o.authURL = u
	params, err := e.srv.Login(u)
	if err != nil {
		o.outcome, o.err = "error at the provider's authorization endpoint", err
		return false
	}
	if e.spec.callback != nil {
		e.spec.callback(params)
	}
	o.before = e.counts()
	got, err := client.ParseResponse(e.callback(params))
	if err == nil {
		o.tokens, err = c.Exchange(ctx, flow, got)
	}
	o.after = e.counts()
	switch {
	case err == nil:
		return true
	case o.after[partest.EndpointToken] == o.before[partest.EndpointToken]:
		o.outcome = stopCallback
	default:
		o.outcome = stopIDToken
	}
	o.err = err
	return false
}

// userinfo calls the userinfo endpoint, the resource of these runs. Under
// FAPI with DPoP nonces the resource demands its own nonce first
// (requireResourceServerEndpointDpopNonce in the suite): the provider's
// nonce is rotated, so the call meets a use_dpop_nonce challenge.
func (e *env) userinfo(ctx context.Context, c *client.Client, t *client.Tokens, o *observation) bool {
	if e.proofer != nil && e.pc.DPoPNonce {
		e.srv.RotateDPoPNonce()
	}
	o.before = e.counts()
	ui, err := c.UserInfo(ctx, t)
	o.after = e.counts()
	if err != nil {
		o.outcome, o.err = stopUserinfo, err
		return false
	}
	o.userinfo = ui
	return true
}

// drive runs a module the standard way: client, login, userinfo, and for
// refresh modules a refresh and userinfo again.
func drive(ctx context.Context, e *env) *observation {
	o := &observation{}
	c := e.newClient(ctx, o)
	if c == nil || !e.login(ctx, c, o) || !e.userinfo(ctx, c, o.tokens, o) {
		return o
	}
	if e.spec.refresh {
		if e.spec.refreshFault != nil {
			e.srv.SetFault(partest.EndpointToken, *e.spec.refreshFault)
		}
		o.before = e.counts()
		t, err := c.Refresh(ctx, o.tokens)
		o.after = e.counts()
		if err != nil {
			o.outcome, o.err = stopRefresh, err
			return o
		}
		o.tokens = t
		if !e.userinfo(ctx, c, t, o) {
			return o
		}
	}
	o.outcome = complete
	return o
}

// twoLogins is the signing-key rotation modules' run: a first login (the
// relying party now holds the provider's keys, as a running one does),
// then, seconds later, rotate (between the logins, or at the token
// endpoint just before the ID token is signed) and a second login.
func twoLogins(rotate func(e *env)) func(context.Context, *env) *observation {
	return func(ctx context.Context, e *env) *observation {
		o := &observation{}
		c := e.newClient(ctx, o)
		if c == nil || !e.login(ctx, c, o) || !e.userinfo(ctx, c, o.tokens, o) {
			o.outcome = "error in the first login: " + o.outcome
			return o
		}
		e.clk.advance(time.Second) // no 5 s wait: the first load does not count
		rotate(e)
		if !e.login(ctx, c, o) || !e.userinfo(ctx, c, o.tokens, o) {
			return o
		}
		o.outcome = complete
		return o
	}
}

// checkErr checks the typed error of a stopped run: the module's own check,
// else the one of its outcome.
func (e *env) checkErr(o *observation) error {
	if e.spec.wantErr != nil {
		return e.spec.wantErr(o.err)
	}
	switch o.outcome {
	case stopDiscovery:
		return isAs[*discovery.IssuerMismatchError](o.err)
	case stopIDToken, stopRefresh:
		return is(client.ErrInvalidIDToken)(o.err)
	case stopUserinfo:
		return isAbout(client.ErrInvalidResponse, "sub")(o.err)
	}
	return fmt.Errorf("outcome %s needs the module's own error check", o.outcome)
}

// checkTransport checks how the authorization request went: for par rows
// pushed, the URL holding client_id and request_uri only (RFC 9126 §4);
// for front rows never pushed (the provider has no PAR), the URL holding
// the whole request, or client_id and a request object by value (RFC 9101
// §5) with response_type and scope (OIDC Core §6.1).
func (e *env) checkTransport(o *observation) error {
	if o.authURL == "" {
		return nil // stopped before the redirect
	}
	u, err := url.Parse(o.authURL)
	if err != nil {
		return err
	}
	q := u.Query()
	var names []string
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	pushes := e.srv.Requests(partest.EndpointPAR)
	switch {
	case e.v.family == "fapi" || e.v.transport == "par":
		if pushes == 0 || !slices.Equal(names, []string{"client_id", "request_uri"}) {
			return fmt.Errorf("%d pushes, authorization URL parameters %v; want a push and client_id, request_uri", pushes, names)
		}
	case pushes != 0:
		return fmt.Errorf("%d requests to the PAR path of a provider without PAR", pushes)
	case e.ccfg.RequestObject != nil:
		if !slices.Equal(names, []string{"client_id", "request", "response_type", "scope"}) {
			return fmt.Errorf("authorization URL parameters %v, want client_id, request, response_type, scope", names)
		}
	default:
		f := o.flow
		want := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
			"state": {f.State}, "nonce": {f.Nonce}, "code_challenge": {pkce.Challenge(f.CodeVerifier)}, "code_challenge_method": {"S256"}}
		for k, v := range want {
			if q.Get(k) != v[0] {
				return fmt.Errorf("authorization URL %s = %q, want %q", k, q.Get(k), v[0])
			}
		}
		if !strings.Contains(" "+q.Get("scope")+" ", " openid ") || q.Has("request_uri") {
			return fmt.Errorf("authorization URL parameters %v", names)
		}
	}
	return nil
}

// checkNoCallAfter checks that the relying party made no call past the
// faulty response: the endpoints that follow it in the flow got no request
// during (or after) the call that failed. A JWT-secured authorization
// response (jarm) is verified with the provider's keys, so its JWKS may be
// fetched then; the token endpoint may not.
func checkNoCallAfter(o *observation, jarm bool) error {
	var none []string
	switch o.outcome {
	case stopDiscovery:
		none = []string{partest.EndpointJWKS, partest.EndpointPAR, partest.EndpointAuthorize, partest.EndpointToken, partest.EndpointUserinfo}
	case stopCallback:
		none = []string{partest.EndpointToken, partest.EndpointUserinfo}
		if !jarm {
			none = append(none, partest.EndpointJWKS)
		}
	case stopIDToken, stopRefresh:
		none = []string{partest.EndpointUserinfo}
		if d := o.after[partest.EndpointToken] - o.before[partest.EndpointToken]; d != 1 {
			return fmt.Errorf("%d token requests in the failing call, want 1 (no retry)", d)
		}
	case stopUserinfo:
		none = []string{partest.EndpointToken}
	}
	for _, ep := range none {
		if d := o.after[ep] - o.before[ep]; d != 0 {
			return fmt.Errorf("%d request(s) to %s after the faulty response", d, ep)
		}
	}
	return nil
}

func is(target error) func(error) error {
	return func(err error) error {
		if !errors.Is(err, target) {
			return fmt.Errorf("error %v is not %v", err, target)
		}
		return nil
	}
}

// isAbout is is(target) for an error that must also name what failed
// (the SDK folds, e.g., a wrong nonce into ErrInvalidIDToken and says
// "nonce").
func isAbout(target error, what string) func(error) error {
	return func(err error) error {
		if e := is(target)(err); e != nil {
			return e
		}
		if !strings.Contains(err.Error(), what) {
			return fmt.Errorf("error %v does not name %s", err, what)
		}
		return nil
	}
}

func isAs[T error](err error) error {
	var target T
	if !errors.As(err, &target) {
		return fmt.Errorf("error %v (%T) is not a %T", err, err, target)
	}
	return nil
}

// authorizationError expects a provider error in the callback with code.
func authorizationError(code string) func(error) error {
	return func(err error) error {
		var ae *client.AuthorizationError
		if !errors.As(err, &ae) || ae.Code != code {
			return fmt.Errorf("error %v is not an *client.AuthorizationError with code %s", err, code)
		}
		return nil
	}
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// jwtHeader decodes a JWT's header.
func jwtHeader(raw string) (map[string]any, error) {
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
