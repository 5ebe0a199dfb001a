package interop_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/interop/internal/opharness"
	"github.com/go-par/par/partest"
)

// The agreement test (issue 4) sends the same hand-made requests — plain
// net/http and go-jose, no SDK — to node-oidc-provider and to partest, both
// configured with the same clients, and compares what comes back: success
// or error, HTTP status, the OAuth error code, and whether an authorization
// error is redirected to the client or shown as a page. Every difference
// must be listed in README.md ("Known differences") with its reason.

// outcome is the comparable result of one request.
type outcome struct {
	OK     bool
	Via    string // "json" (back channel), "redirect", "jwt" (a JARM response) or "page" (authorization endpoint)
	Status int    // HTTP status; 0 for redirects to the client
	Code   string // OAuth error code
	Desc   string // error_description, for the log only
}

func (o outcome) String() string {
	if o.OK {
		return fmt.Sprintf("ok/%s/%d", o.Via, o.Status)
	}
	return fmt.Sprintf("error/%s/%d/%s", o.Via, o.Status, o.Code)
}

// agrees compares class, delivery, status and, when both have one, the
// error code.
func agrees(a, b outcome) bool {
	return a.OK == b.OK && a.Via == b.Via && a.Status == b.Status &&
		(a.Code == "" || b.Code == "" || a.Code == b.Code)
}

// target is one authorization server under test.
type target struct {
	name                            string
	issuer, par, authz, token, jwks string
	hc                              *http.Client
	redirectURI                     string
	secrets                         map[string]string
	keys                            map[string]key
	encKeys                         map[string]*rsa.PrivateKey
	authorize                       func(ctx context.Context, u string) (url.Values, outcome, error)
}

// agreementCase is one request (or short sequence) sent to both servers.
// Only the last request's outcome is compared; earlier steps must succeed.
type agreementCase struct {
	name string
	run  func(ctx context.Context, tg *target) (outcome, error)
	// known names the README.md "Known differences" entry when the servers
	// differ on purpose; the test fails if such a case agrees after all.
	known string
}

// partestClients registers server.mjs's catalogue (the clients the cases
// use) with partest: same ids, secrets, keys, methods and redirect_uri.
func partestClients(f *fixture) []partest.Client {
	jwks := func(id string) jose.JSONWebKeySet {
		k := f.keys[id]
		return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.signer.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}}}
	}
	ru := []string{f.redirectURI}
	return []partest.Client{
		{ID: "basic", Secret: f.secrets["basic"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic},
		{ID: "basic-special", Secret: f.secrets["basic-special"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic},
		{ID: "post", Secret: f.secrets["post"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretPost},
		{ID: "secret-jwt", Secret: f.secrets["secret-jwt"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretJWT},
		{ID: "pkjwt-es256", JWKS: jwks("pkjwt-es256"), RedirectURIs: ru, AuthMethod: partest.AuthPrivateKeyJWT},
		{ID: "jar-es256", JWKS: jwks("jar-es256"), RedirectURIs: ru, AuthMethod: partest.AuthPrivateKeyJWT, RequireSignedRequestObject: true},
		{ID: "jar-hs256", Secret: f.secrets["jar-hs256"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic, RequireSignedRequestObject: true},
		{ID: "dpop", Secret: f.secrets["dpop"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic, DPoPBound: true},
		{ID: "jarm", Secret: f.secrets["jarm"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic, AuthorizationSignedResponseAlg: jose.PS256},
		{ID: "jarm-enc", Secret: f.secrets["jarm-enc"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic,
			AuthorizationSignedResponseAlg: jose.ES256, AuthorizationEncryptedResponseAlg: jose.RSA_OAEP_256, AuthorizationEncryptedResponseEnc: jose.A256GCM,
			JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.encKeys["jarm-enc"].PublicKey, KeyID: "jarm-enc-enc", Use: "enc"}}}},
		{ID: "rar", Secret: f.secrets["rar"], RedirectURIs: ru, AuthMethod: partest.AuthClientSecretBasic, AuthorizationDetailsTypes: rarTypes},
	}
}

// discover reads the endpoints of the issuer's discovery document.
func discover(ctx context.Context, hc *http.Client, tg *target) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var md struct {
		PAR   string `json:"pushed_authorization_request_endpoint"`
		Authz string `json:"authorization_endpoint"`
		Token string `json:"token_endpoint"`
		JWKS  string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		return fmt.Errorf("%s discovery: %w", tg.name, err)
	}
	if md.PAR == "" || md.Authz == "" || md.Token == "" {
		return fmt.Errorf("%s discovery: endpoints missing", tg.name)
	}
	tg.par, tg.authz, tg.token, tg.jwks = md.PAR, md.Authz, md.Token, md.JWKS
	return nil
}

// TestAgreement is issue 4's differential test.
func TestAgreement(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	srv := partest.NewServer(partest.Config{Clients: partestClients(f)})
	t.Cleanup(srv.Close)

	hc := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	node := &target{name: "node-oidc-provider", issuer: f.op.Issuer, hc: hc, redirectURI: f.redirectURI, secrets: f.secrets, keys: f.keys, encKeys: f.encKeys}
	node.authorize = func(ctx context.Context, u string) (url.Values, outcome, error) {
		b, err := opharness.NewBrowser(f.redirectURI)
		if err != nil {
			return nil, outcome{}, err
		}
		cb, err := b.Authorize(ctx, u)
		var page *opharness.ErrorPage
		if errors.As(err, &page) {
			return nil, outcome{Via: "page", Status: page.StatusCode, Code: page.Code, Desc: page.Description}, nil
		}
		if err != nil {
			return nil, outcome{}, err
		}
		return node.callback(ctx, u, cb.Params)
	}
	pt := &target{name: "partest", issuer: srv.Issuer(), hc: hc, redirectURI: f.redirectURI, secrets: f.secrets, keys: f.keys, encKeys: f.encKeys}
	pt.authorize = func(ctx context.Context, u string) (url.Values, outcome, error) {
		params, err := srv.Login(u)
		var page *partest.AuthorizeError
		if errors.As(err, &page) {
			return nil, outcome{Via: "page", Status: page.StatusCode, Code: page.Code, Desc: page.Description}, nil
		}
		if err != nil {
			return nil, outcome{}, err
		}
		return pt.callback(ctx, u, params)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, documented, _ := strings.Cut(string(readme), "## Known differences")
	for _, tc := range agreementCases {
		if tc.known != "" && !strings.Contains(documented, "**"+tc.known+"**") {
			t.Errorf("case %q: known difference %q is not in README.md's Known differences", tc.name, tc.known)
		}
	}

	ctx := testContext(t)
	for _, tg := range []*target{node, pt} {
		if err := discover(ctx, hc, tg); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu                    sync.Mutex
		total, agree, missing int
	)
	t.Run("cases", func(t *testing.T) {
		for _, tc := range agreementCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := testContext(t)
				a, err := tc.run(ctx, node)
				if err != nil {
					t.Fatalf("node-oidc-provider: %v", err)
				}
				b, err := tc.run(ctx, pt)
				if err != nil {
					t.Fatalf("partest: %v", err)
				}
				same := agrees(a, b)
				mu.Lock()
				total++
				if same {
					agree++
				}
				mu.Unlock()
				switch {
				case same && tc.known != "":
					t.Errorf("both %v, but README.md lists %q as a known difference: remove it", a, tc.known)
				case !same && tc.known == "":
					mu.Lock()
					missing++
					mu.Unlock()
					t.Errorf("disagreement: node-oidc-provider %v (%s), partest %v (%s)", a, a.Desc, b, b.Desc)
				case !same:
					t.Logf("known difference %q: node-oidc-provider %v, partest %v", tc.known, a, b)
				}
			})
		}
	})
	t.Logf("agreement: %d cases, %d agree", total, agree)
	if total < 30 {
		t.Errorf("only %d cases ran", total)
	}
	if missing > 0 {
		t.Errorf("%d undocumented disagreements", missing)
	}
}

// callback reads the parameters an authorization request at u brought to
// the redirect_uri. A JWT-secured response (JARM §2) is opened and checked
// as a client must (§2.4): decrypted with the client's key when it is a
// JWE, its signature verified with a key of the server's JWKS, iss the
// issuer, aud the client_id, exp ahead by at most ten minutes; any failure
// is an error, not an outcome. Its claims are then the parameters, and
// the outcome's Via is "jwt".
func (tg *target) callback(ctx context.Context, u string, params url.Values) (url.Values, outcome, error) {
	if !params.Has("response") {
		return params, redirectOutcome(params), nil
	}
	if len(params) != 1 {
		return nil, outcome{}, fmt.Errorf("%s: parameters next to response: %v", tg.name, params)
	}
	au, err := url.Parse(u)
	if err != nil {
		return nil, outcome{}, err
	}
	clientID := au.Query().Get("client_id")
	raw := params.Get("response")
	if strings.Count(raw, ".") == 4 {
		k := tg.encKeys[clientID]
		if k == nil {
			return nil, outcome{}, fmt.Errorf("%s: encrypted response for %s, which registered no encryption", tg.name, clientID)
		}
		obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			return nil, outcome{}, fmt.Errorf("%s: response JWE: %w", tg.name, err)
		}
		inner, err := obj.Decrypt(k)
		if err != nil {
			return nil, outcome{}, fmt.Errorf("%s: decrypt response: %w", tg.name, err)
		}
		raw = string(inner)
	}
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
	if err != nil {
		return nil, outcome{}, fmt.Errorf("%s: response JWT: %w", tg.name, err)
	}
	set, err := tg.keySet(ctx)
	if err != nil {
		return nil, outcome{}, err
	}
	keys := set.Key(obj.Signatures[0].Protected.KeyID)
	if len(keys) == 0 {
		return nil, outcome{}, fmt.Errorf("%s: response signed with kid %q, not in the JWKS", tg.name, obj.Signatures[0].Protected.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		return nil, outcome{}, fmt.Errorf("%s: response signature: %w", tg.name, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, outcome{}, err
	}
	exp, _ := claims["exp"].(float64)
	now := float64(time.Now().Unix())
	switch {
	case claims["iss"] != tg.issuer:
		return nil, outcome{}, fmt.Errorf("%s: response iss %v", tg.name, claims["iss"])
	case claims["aud"] != clientID:
		return nil, outcome{}, fmt.Errorf("%s: response aud %v, want %s", tg.name, claims["aud"], clientID)
	case exp < now || exp > now+600:
		return nil, outcome{}, fmt.Errorf("%s: response exp %v, now %v", tg.name, exp, now)
	}
	inner := url.Values{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			inner.Set(k, s)
		}
	}
	o := redirectOutcome(inner)
	o.Via = "jwt"
	return inner, o, nil
}

// keySet fetches the server's JWKS.
func (tg *target) keySet(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.jwks, nil)
	if err != nil {
		return set, err
	}
	resp, err := tg.hc.Do(req)
	if err != nil {
		return set, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return set, fmt.Errorf("%s: JWKS: %w", tg.name, err)
	}
	return set, nil
}

func redirectOutcome(p url.Values) outcome {
	if e := p.Get("error"); e != "" {
		return outcome{Via: "redirect", Code: e, Desc: p.Get("error_description")}
	}
	return outcome{OK: p.Get("code") != "", Via: "redirect"}
}

// --- raw requests ---

// send posts body (form-encoded unless ctype says otherwise) and reads an
// RFC 6749 §5.2 error or a JSON success.
func (tg *target) send(ctx context.Context, method, endpoint, body string, hdr http.Header) (outcome, map[string]any, error) {
	o, b, err := tg.sendRaw(ctx, method, endpoint, body, hdr)
	if err != nil {
		return o, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return o, m, nil
}

// sendRaw is send returning the body undecoded.
func (tg *target) sendRaw(ctx context.Context, method, endpoint, body string, hdr http.Header) (outcome, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, r)
	if err != nil {
		return outcome{}, nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := tg.hc.Do(req)
	if err != nil {
		return outcome{}, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return outcome{}, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	o := outcome{OK: resp.StatusCode/100 == 2, Via: "json", Status: resp.StatusCode}
	o.Code, _ = m["error"].(string)
	o.Desc, _ = m["error_description"].(string)
	return o, b, nil
}

func formHeader() http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// basicHeader is RFC 6749 §2.3.1 Basic: id and secret form-encoded first
// unless raw.
func basicHeader(h http.Header, id, secret string, raw bool) http.Header {
	if !raw {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	return h
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newVerifier() string { return randomSecret() + randomSecret()[:10] }

// authzParams are a valid code flow request for client id with PKCE S256.
func (tg *target) authzParams(id, verifier string) url.Values {
	return url.Values{
		"client_id":             {id},
		"response_type":         {"code"},
		"redirect_uri":          {tg.redirectURI},
		"scope":                 {"openid email"},
		"state":                 {randomSecret()[:16]},
		"nonce":                 {randomSecret()[:16]},
		"code_challenge":        {s256(verifier)},
		"code_challenge_method": {"S256"},
	}
}

// claimsMod changes an assertion's or request object's header and claims.
type claimsMod func(hdr map[string]any, claims map[string]any)

// signJWT signs claims for client id with its registered key (HS256 with
// its secret for secret-based clients); alg "none" gives an unsigned JWT.
func (tg *target) signJWT(id string, hdr, claims map[string]any) (string, error) {
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	if hdr["alg"] == "none" {
		hb, err := json.Marshal(hdr)
		if err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb) + ".", nil
	}
	var sk jose.SigningKey
	if k, ok := tg.keys[id]; ok {
		sk = jose.SigningKey{Algorithm: k.alg, Key: k.signer}
	} else {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: []byte(tg.secrets[id])}
	}
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{}}
	for k, v := range hdr {
		if k != "alg" {
			opts.ExtraHeaders[jose.HeaderKey(k)] = v
		}
	}
	s, err := jose.NewSigner(sk, opts)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(pb)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (tg *target) jwtHeader(id, typ string) map[string]any {
	h := map[string]any{"alg": "HS256"}
	if k, ok := tg.keys[id]; ok {
		h["alg"] = string(k.alg)
		h["kid"] = k.kid
	}
	if typ != "" {
		h["typ"] = typ
	}
	return h
}

// assertion is an RFC 7523 client assertion for id, aud the issuer.
func (tg *target) assertion(id string, mods ...claimsMod) (string, error) {
	now := time.Now()
	hdr := tg.jwtHeader(id, "JWT")
	claims := map[string]any{
		"iss": id, "sub": id, "aud": tg.issuer, "jti": randomSecret(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	for _, m := range mods {
		m(hdr, claims)
	}
	return tg.signJWT(id, hdr, claims)
}

// authenticate adds client id's registered authentication to form and hdr.
func (tg *target) authenticate(id string, form url.Values, hdr http.Header, mods ...claimsMod) error {
	switch id {
	case "post":
		form.Set("client_secret", tg.secrets[id])
	case "secret-jwt", "pkjwt-es256", "jar-es256":
		a, err := tg.assertion(id, mods...)
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	default:
		basicHeader(hdr, id, tg.secrets[id], false)
	}
	return nil
}

// push sends a pushed authorization request for id with params, mutated
// by mod before client authentication is added.
func (tg *target) push(ctx context.Context, id string, mod func(url.Values), amods ...claimsMod) (outcome, map[string]any, error) {
	form := tg.authzParams(id, newVerifier())
	if mod != nil {
		mod(form)
	}
	hdr := formHeader()
	if err := tg.authenticate(id, form, hdr, amods...); err != nil {
		return outcome{}, nil, err
	}
	return tg.send(ctx, http.MethodPost, tg.par, form.Encode(), hdr)
}

func pushCase(id string, mod func(url.Values), amods ...claimsMod) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		o, _, err := tg.push(ctx, id, mod, amods...)
		return o, err
	}
}

// requestObject builds a request object for id over params.
func (tg *target) requestObject(id string, params url.Values, mods ...claimsMod) (string, error) {
	now := time.Now()
	hdr := tg.jwtHeader(id, "oauth-authz-req+jwt")
	claims := map[string]any{
		"iss": id, "aud": tg.issuer, "jti": randomSecret(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	for k := range params {
		claims[k] = params.Get(k)
	}
	for _, m := range mods {
		m(hdr, claims)
	}
	return tg.signJWT(id, hdr, claims)
}

// jarPush pushes a request object for jar-es256 changed by mods.
func jarPush(mods ...claimsMod) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		const id = "jar-es256"
		ro, err := tg.requestObject(id, tg.authzParams(id, newVerifier()), mods...)
		if err != nil {
			return outcome{}, err
		}
		form := url.Values{"client_id": {id}, "request": {ro}}
		hdr := formHeader()
		if err := tg.authenticate(id, form, hdr); err != nil {
			return outcome{}, err
		}
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), hdr)
		return o, err
	}
}

// pushOK pushes a valid request for id and returns its request_uri.
func (tg *target) pushOK(ctx context.Context, id string, params url.Values) (string, error) {
	hdr := formHeader()
	if err := tg.authenticate(id, params, hdr); err != nil {
		return "", err
	}
	o, m, err := tg.send(ctx, http.MethodPost, tg.par, params.Encode(), hdr)
	if err != nil {
		return "", err
	}
	uri, _ := m["request_uri"].(string)
	if o.Status != http.StatusCreated || uri == "" {
		return "", fmt.Errorf("push: %v %s", o, o.Desc)
	}
	return uri, nil
}

func (tg *target) authzURL(q url.Values) string { return tg.authz + "?" + q.Encode() }

// code runs a whole front channel for id (pushing params changed by mod)
// and returns the code and the verifier.
func (tg *target) code(ctx context.Context, id string, mod func(url.Values)) (code, verifier string, err error) {
	verifier = newVerifier()
	params := tg.authzParams(id, verifier)
	if mod != nil {
		mod(params)
	}
	uri, err := tg.pushOK(ctx, id, params)
	if err != nil {
		return "", "", err
	}
	p, o, err := tg.authorize(ctx, tg.authzURL(url.Values{"client_id": {id}, "request_uri": {uri}}))
	if err != nil {
		return "", "", err
	}
	if !o.OK {
		return "", "", fmt.Errorf("authorize: %v %s", o, o.Desc)
	}
	return p.Get("code"), verifier, nil
}

// redeem posts an authorization_code grant for id.
func (tg *target) redeem(ctx context.Context, id string, form url.Values, hdr http.Header) (outcome, error) {
	if hdr == nil {
		hdr = formHeader()
	}
	if err := tg.authenticate(id, form, hdr); err != nil {
		return outcome{}, err
	}
	o, _, err := tg.send(ctx, http.MethodPost, tg.token, form.Encode(), hdr)
	return o, err
}

func (tg *target) codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {tg.redirectURI},
		"code_verifier": {verifier},
	}
}

// tokenCase gets a code for id and redeems it after change.
func tokenCase(id string, change func(tg *target, form url.Values)) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		code, verifier, err := tg.code(ctx, id, nil)
		if err != nil {
			return outcome{}, err
		}
		form := tg.codeForm(code, verifier)
		if change != nil {
			change(tg, form)
		}
		return tg.redeem(ctx, id, form, nil)
	}
}

// dpopProof is an RFC 9449 §4.2 proof; mod may change header and claims.
func dpopProof(k *ecdsa.PrivateKey, htm, htu string, mod claimsMod) (string, error) {
	hdr := map[string]any{"typ": "dpop+jwt"}
	claims := map[string]any{"htm": htm, "htu": htu, "iat": time.Now().Unix(), "jti": randomSecret()}
	if mod != nil {
		mod(hdr, claims)
	}
	opts := &jose.SignerOptions{EmbedJWK: true, ExtraHeaders: map[jose.HeaderKey]any{}}
	for name, v := range hdr {
		opts.ExtraHeaders[jose.HeaderKey(name)] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(pb)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func thumbprint(k *ecdsa.PrivateKey) string {
	tp, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func newECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// dpopCase gets a code for the DPoP-bound client (the push binds no key
// unless jkt is set) and redeems it with the proof proof returns ("" for
// none). replay sends the same proof twice and compares the second answer.
func dpopCase(jkt bool, replay bool, proof func(tg *target, k *ecdsa.PrivateKey) (string, error)) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		k := newECKey()
		code, verifier, err := tg.code(ctx, "dpop", func(v url.Values) {
			if jkt {
				v.Set("dpop_jkt", thumbprint(k))
			}
		})
		if err != nil {
			return outcome{}, err
		}
		p, err := proof(tg, k)
		if err != nil {
			return outcome{}, err
		}
		hdr := formHeader()
		if p != "" {
			hdr.Set("DPoP", p)
		}
		if replay {
			// A first, valid use of the proof: redeem a second code.
			code2, verifier2, err := tg.code(ctx, "dpop", nil)
			if err != nil {
				return outcome{}, err
			}
			o, err := tg.redeem(ctx, "dpop", tg.codeForm(code2, verifier2), hdr.Clone())
			if err != nil || !o.OK {
				return outcome{}, fmt.Errorf("first use of the proof: %v %s %v", o, o.Desc, err)
			}
		}
		return tg.redeem(ctx, "dpop", tg.codeForm(code, verifier), hdr)
	}
}

// parDPoP pushes for the DPoP-bound client with the proof proof returns,
// and with dpop_jkt of the generated key when jkt is set (RFC 9449 §10).
func parDPoP(jkt bool, proof func(tg *target, k *ecdsa.PrivateKey) (string, error)) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		k := newECKey()
		p, err := proof(tg, k)
		if err != nil {
			return outcome{}, err
		}
		form := tg.authzParams("dpop", newVerifier())
		if jkt {
			form.Set("dpop_jkt", thumbprint(k))
		}
		hdr := basicHeader(formHeader(), "dpop", tg.secrets["dpop"], false)
		hdr.Set("DPoP", p)
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), hdr)
		return o, err
	}
}

func validProof(mod claimsMod) func(tg *target, k *ecdsa.PrivateKey) (string, error) {
	return func(tg *target, k *ecdsa.PrivateKey) (string, error) {
		return dpopProof(k, http.MethodPost, tg.token, mod)
	}
}

// authorizeCase pushes for "basic" and opens an authorization URL built
// by query from the request_uri.
func authorizeCase(uses int, query func(tg *target, uri string) url.Values) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		uri, err := tg.pushOK(ctx, "basic", tg.authzParams("basic", newVerifier()))
		if err != nil {
			return outcome{}, err
		}
		var o outcome
		for i := range uses {
			_, o, err = tg.authorize(ctx, tg.authzURL(query(tg, uri)))
			if err != nil {
				return outcome{}, err
			}
			if i < uses-1 && !o.OK {
				return outcome{}, fmt.Errorf("first use: %v %s", o, o.Desc)
			}
		}
		return o, nil
	}
}

func set(k, v string) func(url.Values) { return func(f url.Values) { f.Set(k, v) } }
func del(k string) func(url.Values)    { return func(f url.Values) { f.Del(k) } }
func claim(k string, v any) claimsMod  { return func(_, c map[string]any) { c[k] = v } }
func noClaim(k string) claimsMod       { return func(_, c map[string]any) { delete(c, k) } }
func header(k string, v any) claimsMod { return func(h, _ map[string]any) { h[k] = v } }
func issuerAud(f func(string) any) claimsMod {
	return func(_, c map[string]any) { c["aud"] = f(c["aud"].(string)) }
}

var past = func() int64 { return time.Now().Add(-time.Minute).Unix() }

// jarmCase pushes for id with response_mode mode (and mod), opens the
// authorization URL, and, for a code, redeems it: the outcome is the
// authorization response's (Via "jwt" when JWT-secured), or the token
// endpoint's if that fails.
func jarmCase(id, mode string, mod func(url.Values)) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		verifier := newVerifier()
		params := tg.authzParams(id, verifier)
		params.Set("response_mode", mode)
		if mod != nil {
			mod(params)
		}
		uri, err := tg.pushOK(ctx, id, params)
		if err != nil {
			return outcome{}, err
		}
		p, o, err := tg.authorize(ctx, tg.authzURL(url.Values{"client_id": {id}, "request_uri": {uri}}))
		if err != nil || !o.OK {
			return o, err
		}
		if p.Get("state") != params.Get("state") {
			return outcome{}, fmt.Errorf("state %q, want %q", p.Get("state"), params.Get("state"))
		}
		if t, err := tg.redeem(ctx, id, tg.codeForm(p.Get("code"), verifier), nil); err != nil || !t.OK {
			return t, err
		}
		return o, nil
	}
}

// rarTypes are the authorization_details types of the rar client.
var rarTypes = []string{"payment_initiation", "account_information"}

// rarDetails is a valid authorization_details value for the rar client.
const rarDetails = `[{"type":"payment_initiation","actions":["initiate"],"locations":["https://bank.example/payments"],` +
	`"instructedAmount":{"currency":"EUR","amount":"123.50"},"creditor":{"name":"Merchant A","account":{"iban":"DE02100100109307118603"}},` +
	`"identifier":"pay-1"},{"type":"account_information","datatypes":["balance"],"privileges":["read"]}]`

// rarCase asks for details as the rar client (pushed, in a request object
// claim, or on the front channel), logs in and redeems the code. The
// outcome is the first failing step's; a token response that does not
// carry the details exactly as sent (compacted; none for an empty array)
// fails with the code "authorization_details_changed".
func rarCase(how, details string) func(context.Context, *target) (outcome, error) {
	return func(ctx context.Context, tg *target) (outcome, error) {
		const id = "rar"
		verifier := newVerifier()
		params := tg.authzParams(id, verifier)
		var authURL string
		switch how {
		case "par", "request object":
			form := params
			if how == "request object" {
				ro, err := tg.requestObject(id, params, func(_, c map[string]any) { c["authorization_details"] = json.RawMessage(details) })
				if err != nil {
					return outcome{}, err
				}
				form = url.Values{"client_id": {id}, "request": {ro}}
			} else {
				form.Set("authorization_details", details)
			}
			hdr := formHeader()
			if err := tg.authenticate(id, form, hdr); err != nil {
				return outcome{}, err
			}
			o, m, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), hdr)
			if err != nil || !o.OK {
				return o, err
			}
			uri, _ := m["request_uri"].(string)
			authURL = tg.authzURL(url.Values{"client_id": {id}, "request_uri": {uri}})
		case "front channel":
			params.Set("authorization_details", details)
			authURL = tg.authzURL(params)
		}
		p, o, err := tg.authorize(ctx, authURL)
		if err != nil || !o.OK {
			return o, err
		}
		hdr := formHeader()
		form := tg.codeForm(p.Get("code"), verifier)
		if err := tg.authenticate(id, form, hdr); err != nil {
			return outcome{}, err
		}
		o, body, err := tg.sendRaw(ctx, http.MethodPost, tg.token, form.Encode(), hdr)
		if err != nil || !o.OK {
			return o, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return outcome{}, err
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(details)); err != nil {
			return outcome{}, err
		}
		if want.String() == "[]" {
			want.Reset() // an empty array asks for nothing: nothing is echoed
		}
		if got := m["authorization_details"]; !bytes.Equal(got, want.Bytes()) {
			o.OK, o.Code, o.Desc = false, "authorization_details_changed", string(got)
		}
		return o, nil
	}
}

var agreementCases = []agreementCase{
	// Client authentication at the PAR endpoint (RFC 9126 §2, RFC 6749 §2.3.1, RFC 7523 §3).
	{name: "par basic", run: pushCase("basic", nil)},
	{name: "par basic special characters form-encoded", run: pushCase("basic-special", nil)},
	{name: "par basic special characters raw", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic-special", newVerifier())
		hdr := basicHeader(formHeader(), "basic-special", tg.secrets["basic-special"], true)
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), hdr)
		return o, err
	}},
	{name: "par basic wrong secret", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), basicHeader(formHeader(), "basic", "wrong", false))
		return o, err
	}},
	{name: "par basic header not base64", run: func(ctx context.Context, tg *target) (outcome, error) {
		hdr := formHeader()
		hdr.Set("Authorization", "Basic !!not-base64!!")
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, tg.authzParams("basic", newVerifier()).Encode(), hdr)
		return o, err
	}},
	{name: "par basic without client_id in body", run: pushCase("basic", del("client_id"))},
	{name: "par basic with another client_id in body", run: pushCase("basic", set("client_id", "post"))},
	{name: "par post", run: pushCase("post", nil)},
	{name: "par post without client_id", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("post", newVerifier())
		form.Del("client_id")
		form.Set("client_secret", tg.secrets["post"])
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), formHeader())
		return o, err
	}},
	{name: "par basic and post at once", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		form.Set("client_secret", tg.secrets["basic"])
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), basicHeader(formHeader(), "basic", tg.secrets["basic"], false))
		return o, err
	}},
	{name: "par post for a basic client", known: "client_secret_post for a client_secret_basic client", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		form.Set("client_secret", tg.secrets["basic"])
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), formHeader())
		return o, err
	}},
	{name: "par no client authentication", run: func(ctx context.Context, tg *target) (outcome, error) {
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, tg.authzParams("basic", newVerifier()).Encode(), formHeader())
		return o, err
	}},
	{name: "par client_secret_jwt", run: pushCase("secret-jwt", nil)},
	{name: "par private_key_jwt", run: pushCase("pkjwt-es256", nil)},
	{name: "par assertion aud token endpoint", run: func(ctx context.Context, tg *target) (outcome, error) {
		return pushCase("pkjwt-es256", nil, claim("aud", tg.token))(ctx, tg)
	}},
	{name: "par assertion aud PAR endpoint", run: func(ctx context.Context, tg *target) (outcome, error) {
		return pushCase("pkjwt-es256", nil, claim("aud", tg.par))(ctx, tg)
	}},
	{name: "par assertion wrong aud", run: pushCase("pkjwt-es256", nil, claim("aud", "https://elsewhere.example"))},
	{name: "par assertion aud as array", run: pushCase("pkjwt-es256", nil, issuerAud(func(a string) any { return []string{a} }))},
	{name: "par assertion aud array with a stranger", run: pushCase("pkjwt-es256", nil, issuerAud(func(a string) any { return []string{a, "https://elsewhere.example"} }))},
	{name: "par assertion expired", run: pushCase("pkjwt-es256", nil, func(_, c map[string]any) { c["exp"] = past(); c["iat"] = past() - 60 })},
	{name: "par assertion without exp", run: pushCase("pkjwt-es256", nil, noClaim("exp"))},
	{name: "par assertion without jti", run: pushCase("pkjwt-es256", nil, noClaim("jti"))},
	{name: "par assertion wrong typ", known: "client assertion typ", run: pushCase("pkjwt-es256", nil, header("typ", "dpop+jwt"))},
	{name: "par assertion sub not the client", run: pushCase("pkjwt-es256", nil, claim("sub", "someone"))},
	{name: "par assertion iss not the client", run: pushCase("pkjwt-es256", nil, claim("iss", "someone"))},
	{name: "par assertion without client_id in body", run: pushCase("pkjwt-es256", del("client_id"))},
	{name: "par assertion replayed jti", run: func(ctx context.Context, tg *target) (outcome, error) {
		jti := randomSecret()
		if o, _, err := tg.push(ctx, "pkjwt-es256", nil, claim("jti", jti)); err != nil || !o.OK {
			return outcome{}, fmt.Errorf("first use: %v %s %v", o, o.Desc, err)
		}
		o, _, err := tg.push(ctx, "pkjwt-es256", nil, claim("jti", jti))
		return o, err
	}},
	{name: "par client_secret_jwt signed with another secret", run: func(ctx context.Context, tg *target) (outcome, error) {
		other := *tg
		other.secrets = map[string]string{"secret-jwt": "not-the-secret-not-the-secret-00"}
		a, err := other.assertion("secret-jwt")
		if err != nil {
			return outcome{}, err
		}
		form := tg.authzParams("secret-jwt", newVerifier())
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), formHeader())
		return o, err
	}},

	// Authorization request parameters at the PAR endpoint (RFC 9126 §2.1, RFC 6749 §4.1.1, RFC 7636).
	{name: "par request_uri in body", run: pushCase("basic", set("request_uri", "urn:ietf:params:oauth:request_uri:abc"))},
	{name: "par missing response_type", run: pushCase("basic", del("response_type"))},
	{name: "par response_type token", run: pushCase("basic", set("response_type", "token"))},
	{name: "par unregistered redirect_uri", run: pushCase("basic", set("redirect_uri", "https://attacker.example/cb"))},
	{name: "par missing redirect_uri", known: "omitted redirect_uri", run: pushCase("basic", del("redirect_uri"))},
	{name: "par missing PKCE", run: pushCase("basic", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") })},
	{name: "par plain PKCE", run: pushCase("basic", func(v url.Values) { v.Set("code_challenge", newVerifier()); v.Set("code_challenge_method", "plain") })},
	{name: "par code_challenge_method missing", run: pushCase("basic", del("code_challenge_method"))},
	{name: "par code_challenge too short", run: pushCase("basic", set("code_challenge", "abc"))},
	{name: "par code_challenge too long", run: pushCase("basic", set("code_challenge", strings.Repeat("a", 129)))},
	{name: "par scope without openid", known: "scope without openid", run: pushCase("basic", set("scope", "email"))},
	{name: "par scope without openid and nonce", known: "scope without openid", run: pushCase("basic", func(v url.Values) { v.Set("scope", "email"); v.Del("nonce") })},
	{name: "par unknown scope", run: pushCase("basic", set("scope", "openid unknown-scope"))},
	{name: "par unsupported response_mode", known: "unsupported response_mode", run: pushCase("basic", set("response_mode", "web_message"))},
	{name: "par duplicated parameter", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		body := form.Encode() + "&state=second"
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, body, basicHeader(formHeader(), "basic", tg.secrets["basic"], false))
		return o, err
	}},
	{name: "par missing Content-Type", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), basicHeader(http.Header{}, "basic", tg.secrets["basic"], false))
		return o, err
	}},
	{name: "par GET instead of POST", known: "wrong method at the PAR endpoint", run: func(ctx context.Context, tg *target) (outcome, error) {
		form := tg.authzParams("basic", newVerifier())
		o, _, err := tg.send(ctx, http.MethodGet, tg.par+"?"+form.Encode(), "", basicHeader(http.Header{}, "basic", tg.secrets["basic"], false))
		return o, err
	}},

	{name: "par max_age not a number", run: pushCase("basic", set("max_age", "soon"))},
	{name: "par prompt none", run: pushCase("basic", set("prompt", "none"))},
	{name: "par DPoP proof", run: parDPoP(false, func(tg *target, k *ecdsa.PrivateKey) (string, error) {
		return dpopProof(k, http.MethodPost, tg.par, nil)
	})},
	{name: "par DPoP proof with the token endpoint as htu", run: parDPoP(false, func(tg *target, k *ecdsa.PrivateKey) (string, error) {
		return dpopProof(k, http.MethodPost, tg.token, nil)
	})},
	{name: "par DPoP proof key differs from dpop_jkt", run: parDPoP(true, func(tg *target, _ *ecdsa.PrivateKey) (string, error) {
		return dpopProof(newECKey(), http.MethodPost, tg.par, nil)
	})},

	// Request objects pushed to the PAR endpoint (RFC 9126 §3, RFC 9101).
	{name: "jar signed", run: jarPush()},
	{name: "jar plain parameters for a JAR-only client", run: pushCase("jar-es256", nil)},
	{name: "jar unsigned alg none", run: jarPush(func(h, _ map[string]any) { clear(h); h["alg"] = "none"; h["typ"] = "oauth-authz-req+jwt" })},
	{name: "jar wrong iss", run: jarPush(claim("iss", "someone-else"))},
	{name: "jar without iss", run: jarPush(noClaim("iss"))},
	{name: "jar wrong aud", run: jarPush(claim("aud", "https://elsewhere.example"))},
	{name: "jar expired", run: jarPush(func(_, c map[string]any) { c["exp"] = past(); c["iat"] = past() - 60; c["nbf"] = past() - 60 })},
	{name: "jar without exp", known: "request object lifetime and replay", run: jarPush(noClaim("exp"))},
	{name: "jar client_id mismatch", run: jarPush(claim("client_id", "basic"))},
	{name: "jar without client_id claim", run: jarPush(noClaim("client_id"))},
	{name: "jar request_uri inside", run: jarPush(claim("request_uri", "urn:ietf:params:oauth:request_uri:abc"))},
	{name: "jar nbf in the future", run: jarPush(claim("nbf", time.Now().Add(time.Hour).Unix()))},
	{name: "jar lifetime over an hour", known: "request object lifetime and replay", run: jarPush(func(_, c map[string]any) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() })},
	{name: "jar replayed jti", known: "request object lifetime and replay", run: func(ctx context.Context, tg *target) (outcome, error) {
		jti := randomSecret()
		if o, err := jarPush(claim("jti", jti))(ctx, tg); err != nil || !o.OK {
			return outcome{}, fmt.Errorf("first use: %v %s %v", o, o.Desc, err)
		}
		return jarPush(claim("jti", jti))(ctx, tg)
	}},
	{name: "jar HS256 with the client secret", run: func(ctx context.Context, tg *target) (outcome, error) {
		const id = "jar-hs256"
		ro, err := tg.requestObject(id, tg.authzParams(id, newVerifier()))
		if err != nil {
			return outcome{}, err
		}
		form := url.Values{"client_id": {id}, "request": {ro}}
		o, _, err := tg.send(ctx, http.MethodPost, tg.par, form.Encode(), basicHeader(formHeader(), id, tg.secrets[id], false))
		return o, err
	}},
	{name: "jar wrong typ", run: jarPush(header("typ", "JWT"))},

	// The authorization endpoint with a request_uri (RFC 9126 §4).
	{name: "authorize request_uri", run: authorizeCase(1, func(_ *target, uri string) url.Values {
		return url.Values{"client_id": {"basic"}, "request_uri": {uri}}
	})},
	{name: "authorize reused request_uri", known: "reused or unknown request_uri", run: authorizeCase(2, func(_ *target, uri string) url.Values {
		return url.Values{"client_id": {"basic"}, "request_uri": {uri}}
	})},
	{name: "authorize unknown request_uri", known: "reused or unknown request_uri", run: authorizeCase(1, func(_ *target, _ string) url.Values {
		return url.Values{"client_id": {"basic"}, "request_uri": {"urn:ietf:params:oauth:request_uri:unknown"}}
	})},
	{name: "authorize client_id mismatch", known: "request_uri used by another client", run: authorizeCase(1, func(_ *target, uri string) url.Values {
		return url.Values{"client_id": {"post"}, "request_uri": {uri}}
	})},
	{name: "authorize unknown client_id", run: authorizeCase(1, func(_ *target, uri string) url.Values {
		return url.Values{"client_id": {"nobody"}, "request_uri": {uri}}
	})},
	{name: "authorize without client_id", run: authorizeCase(1, func(_ *target, uri string) url.Values {
		return url.Values{"request_uri": {uri}}
	})},
	{name: "authorize extra params next to request_uri", run: authorizeCase(1, func(tg *target, uri string) url.Values {
		return url.Values{"client_id": {"basic"}, "request_uri": {uri}, "scope": {"openid profile"}, "state": {"injected"}, "prompt": {"none"}}
	})},

	// The token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).
	{name: "token code", run: tokenCase("basic", nil)},
	{name: "token code reuse", run: func(ctx context.Context, tg *target) (outcome, error) {
		code, verifier, err := tg.code(ctx, "basic", nil)
		if err != nil {
			return outcome{}, err
		}
		if o, err := tg.redeem(ctx, "basic", tg.codeForm(code, verifier), nil); err != nil || !o.OK {
			return outcome{}, fmt.Errorf("first use: %v %s %v", o, o.Desc, err)
		}
		return tg.redeem(ctx, "basic", tg.codeForm(code, verifier), nil)
	}},
	{name: "token wrong verifier", run: tokenCase("basic", func(_ *target, f url.Values) { f.Set("code_verifier", newVerifier()) })},
	{name: "token missing verifier", run: tokenCase("basic", func(_ *target, f url.Values) { f.Del("code_verifier") })},
	{name: "token wrong redirect_uri", run: tokenCase("basic", func(tg *target, f url.Values) { f.Set("redirect_uri", tg.redirectURI+"/other") })},
	{name: "token missing redirect_uri", known: "omitted redirect_uri", run: tokenCase("basic", func(_ *target, f url.Values) { f.Del("redirect_uri") })},
	{name: "token unknown code", run: tokenCase("basic", func(_ *target, f url.Values) { f.Set("code", "unknown-code") })},
	{name: "token code of another client", run: func(ctx context.Context, tg *target) (outcome, error) {
		code, verifier, err := tg.code(ctx, "basic", nil)
		if err != nil {
			return outcome{}, err
		}
		return tg.redeem(ctx, "post", tg.codeForm(code, verifier), nil)
	}},
	{name: "token without grant_type", run: tokenCase("basic", func(_ *target, f url.Values) { f.Del("grant_type") })},
	{name: "token wrong client secret", run: func(ctx context.Context, tg *target) (outcome, error) {
		code, verifier, err := tg.code(ctx, "basic", nil)
		if err != nil {
			return outcome{}, err
		}
		o, _, err := tg.send(ctx, http.MethodPost, tg.token, tg.codeForm(code, verifier).Encode(), basicHeader(formHeader(), "basic", "wrong", false))
		return o, err
	}},
	{name: "token unsupported grant_type", run: tokenCase("basic", func(_ *target, f url.Values) { f.Set("grant_type", "password") })},

	// DPoP at the token endpoint (RFC 9449 §4.3, §5, §10).
	{name: "dpop valid proof", run: dpopCase(false, false, validProof(nil))},
	{name: "dpop bound client without proof", run: dpopCase(false, false, func(*target, *ecdsa.PrivateKey) (string, error) { return "", nil })},
	{name: "dpop wrong htu", run: dpopCase(false, false, func(tg *target, k *ecdsa.PrivateKey) (string, error) {
		return dpopProof(k, http.MethodPost, tg.par, nil)
	})},
	{name: "dpop wrong htm", run: dpopCase(false, false, func(tg *target, k *ecdsa.PrivateKey) (string, error) {
		return dpopProof(k, http.MethodGet, tg.token, nil)
	})},
	{name: "dpop wrong typ", run: dpopCase(false, false, validProof(header("typ", "JWT")))},
	{name: "dpop old iat", run: dpopCase(false, false, validProof(claim("iat", time.Now().Add(-10*time.Minute).Unix())))},
	{name: "dpop without jti", run: dpopCase(false, false, validProof(noClaim("jti")))},
	{name: "dpop replayed proof", known: "replayed DPoP proof", run: dpopCase(false, true, validProof(nil))},
	{name: "dpop dpop_jkt matching", run: dpopCase(true, false, validProof(nil))},
	{name: "dpop dpop_jkt of another key", run: dpopCase(true, false, func(tg *target, _ *ecdsa.PrivateKey) (string, error) {
		return dpopProof(newECKey(), http.MethodPost, tg.token, nil)
	})},

	// JWT-secured authorization responses (JARM §2.3): the response JWT is
	// checked as a client must (target.callback) before it counts.
	{name: "jarm jwt", run: jarmCase("jarm", "jwt", nil)},
	{name: "jarm query.jwt", run: jarmCase("jarm", "query.jwt", nil)},
	{name: "jarm form_post.jwt", run: jarmCase("jarm", "form_post.jwt", nil)},
	{name: "jarm jwt for a client without JARM metadata", run: jarmCase("basic", "jwt", nil)},
	{name: "jarm encrypted query.jwt", run: jarmCase("jarm-enc", "query.jwt", nil)},
	{name: "jarm encrypted form_post.jwt", run: jarmCase("jarm-enc", "form_post.jwt", nil)},
	{name: "jarm error login_required", run: jarmCase("jarm", "jwt", set("prompt", "none"))},
	{name: "jarm encrypted error login_required", run: jarmCase("jarm-enc", "form_post.jwt", set("prompt", "none"))},
	{name: "jarm error on the front channel", run: func(ctx context.Context, tg *target) (outcome, error) {
		q := tg.authzParams("jarm", newVerifier())
		q.Set("response_mode", "jwt")
		q.Set("code_challenge_method", "plain")
		_, o, err := tg.authorize(ctx, tg.authzURL(q))
		return o, err
	}},
	{name: "jarm fragment.jwt", known: "fragment.jwt", run: pushCase("jarm", set("response_mode", "fragment.jwt"))},

	// Rich Authorization Requests (RFC 9396): accepted, checked and echoed.
	{name: "rar pushed", run: rarCase("par", rarDetails)},
	{name: "rar in a request object", run: rarCase("request object", rarDetails)},
	{name: "rar on the front channel", run: rarCase("front channel", rarDetails)},
	{name: "rar empty array", run: rarCase("par", `[]`)},
	{name: "rar large integer", known: "large integers in authorization_details", run: rarCase("par", `[{"type":"payment_initiation","sequence":12345678901234567890}]`)},
	{name: "rar unknown type", run: pushCase("rar", set("authorization_details", `[{"type":"credit_card"}]`))},
	{name: "rar not an array", run: pushCase("rar", set("authorization_details", `{"type":"payment_initiation"}`))},
	{name: "rar not JSON", run: pushCase("rar", set("authorization_details", `payment_initiation`))},
	{name: "rar member not an object", run: pushCase("rar", set("authorization_details", `["payment_initiation"]`))},
	{name: "rar without type", run: pushCase("rar", set("authorization_details", `[{"actions":["initiate"]}]`))},
	{name: "rar empty type", run: pushCase("rar", set("authorization_details", `[{"type":""}]`))},
	{name: "rar actions not strings", run: pushCase("rar", set("authorization_details", `[{"type":"payment_initiation","actions":[1]}]`))},
	{name: "rar locations not an array", run: pushCase("rar", set("authorization_details", `[{"type":"payment_initiation","locations":"https://bank.example"}]`))},
	{name: "rar identifier not a string", run: pushCase("rar", set("authorization_details", `[{"type":"payment_initiation","identifier":7}]`))},
	{name: "rar client without types", run: pushCase("basic", set("authorization_details", `[{"type":"payment_initiation"}]`))},
	{name: "rar unknown type on the front channel", run: func(ctx context.Context, tg *target) (outcome, error) {
		q := tg.authzParams("rar", newVerifier())
		q.Set("authorization_details", `[{"type":"credit_card"}]`)
		_, o, err := tg.authorize(ctx, tg.authzURL(q))
		return o, err
	}},
}
