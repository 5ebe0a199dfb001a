package mitid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/ocsp"

	"github.com/go-par/par/client"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// The transaction-text test vector of the public recording: the base64
// text as sent, and transaction_text_sha256, the standard base64 SHA-256
// of the decoded text (not of the base64 string).
const (
	recordedText       = "StubID transaction text one"
	recordedTextBase64 = "U3R1YklEIHRyYW5zYWN0aW9uIHRleHQgb25l"
	recordedTextSHA256 = "KJjd1jCP2c+GnkLNl8cAEquyjsxVf6FI6EtoVddhHR8="
)

// signingLogin is a MitID login against partest's broker mode that asks
// the user to sign text; it returns the client, the tokens, the Params
// pushed and the PAR forms sent.
func signingLogin(t *testing.T, srv *partest.Server, text []byte, scope string) (*client.Client, *client.Tokens, mitid.Params, []url.Values, error) {
	t.Helper()
	var mu sync.Mutex
	var pushed []url.Values
	base := srv.Client().Transport
	hc := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/par") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			f, _ := url.ParseQuery(string(b))
			mu.Lock()
			pushed = append(pushed, f)
			mu.Unlock()
		}
		return base.RoundTrip(r)
	})}
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{
		Issuer: srv.Issuer(), ClientID: signingClient, Auth: client.ClientSecretBasic(brokerSecret),
		RedirectURL: "https://rp.example/signin-oidc", Scopes: []string{"openid", "mitid"},
		Profile: client.ProfileBroker, HTTPClient: hc,
		RequestObject: &jar.Config{Secret: []byte(brokerSecret)},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := mitid.Params{TransactionText: text}
	opts, err := p.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, mitid.IDPValues(mitid.MitID), client.WithParam("scope", scope))
	flow, err := c.Push(ctx, opts...)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	params, err := srv.LoginAs(u, partest.BrokerUsers()[0].Subject)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(ctx, flow, params)
	mu.Lock()
	defer mu.Unlock()
	return c, tok, p, pushed, err
}

const signingClient = "0a775a87-878c-4b83-abe3-ee29c720c3e7"

func signingServer(t *testing.T) *partest.Server {
	t.Helper()
	srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: signingClient, Secret: brokerSecret,
		RedirectURIs: []string{"https://rp.example/signin-oidc"}, RequireSignedRequestObject: true}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSigningLoginEndToEnd is a MitID signing login against partest's
// broker mode: the text travels as idp_params.mitid.transaction_text in an
// HS256 request object with the transaction_token scope; the token
// response carries a transaction_token signed with the broker's separate
// transaction key (found by kid) and its OCSP response; VerifySigningToken
// gives typed claims with transaction_text_sha256 checked against the
// text, and refuses the token as evidence of any other text.
func TestSigningLoginEndToEnd(t *testing.T) {
	t.Parallel()
	srv := signingServer(t)
	c, tok, asked, pushed, err := signingLogin(t, srv, []byte(recordedText), "openid mitid transaction_token")
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}

	// The request object carried the text as recorded.
	if len(pushed) != 1 || len(pushed[0]) != 2 || pushed[0].Get("request") == "" {
		t.Fatalf("PAR forms = %v, want only request and client_id", pushed)
	}
	jws, err := jose.ParseSignedCompact(pushed[0].Get("request"), []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify([]byte(brokerSecret))
	if err != nil {
		t.Fatalf("request object not HS256 with the client secret: %v", err)
	}
	var ro struct {
		Scope     string `json:"scope"`
		Prompt    string `json:"prompt"`
		IDPParams string `json:"idp_params"`
		Exp       int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &ro); err != nil {
		t.Fatal(err)
	}
	if ro.IDPParams != `{"mitid":{"transaction_text":"`+recordedTextBase64+`","transaction_text_type":"text"}}` ||
		ro.Scope != "openid mitid transaction_token" || ro.Prompt != "login" || ro.Exp == 0 {
		t.Errorf("request object = %+v", ro)
	}

	ctx := context.Background()
	st, err := mitid.VerifySigningToken(ctx, c, tok, asked)
	if err != nil {
		t.Fatalf("VerifySigningToken: %v", err)
	}
	user := partest.BrokerUsers()[0]
	if string(st.Text) != recordedText || st.TextType != "text" || st.TextSHA256 != recordedTextSHA256 {
		t.Errorf("text = %q (%q), sha256 %q; want the recorded vector", st.Text, st.TextType, st.TextSHA256)
	}
	if want := []string{"mitid.login", "mitid.transaction_signing"}; !slices.Equal(st.Claims.TransactionActions, want) {
		t.Errorf("TransactionActions = %q, want %q", st.Claims.TransactionActions, want)
	}
	if st.Claims.Subject != tok.IDToken.Subject || st.Claims.MitID.IdentityName != "Karen Test Hansen" || st.Claims.MitID.Age != 88 ||
		st.Claims.AuthTime.IsZero() || !slices.Equal(st.Claims.AMR, []string{"code_app"}) || st.Claims.IDP != mitid.MitID {
		t.Errorf("claims = %+v", st.Claims)
	}
	if st.ClientIP == "" || st.RequestedScope != "openid mitid transaction_token" || st.Raw == "" {
		t.Errorf("ClientIP %q, RequestedScope %q", st.ClientIP, st.RequestedScope)
	}
	for _, k := range []string{"transaction_text", "mitid.transaction_text_sha256", "transaction_client_ip", "requested_scope"} {
		if _, ok := st.Claims.Extra[k]; ok {
			t.Errorf("Extra holds %s, which has a field", k)
		}
	}
	if _, ok := st.Claims.Extra["nonce"]; !ok {
		t.Error("Extra lacks nonce")
	}
	// Signed with the transaction key, not the ID-token key: its own JWKS
	// entry, whose certificate is the broker's transaction certificate.
	if st.KeyID == "" || st.KeyID == idTokenKID(t, tok.RawIDToken) {
		t.Errorf("KeyID = %q, want the transaction key's own kid", st.KeyID)
	}
	if cn := jwksCertCN(t, srv, st.KeyID); cn != "NEB Transact PP" {
		t.Errorf("certificate of kid %s: CN %q", st.KeyID, cn)
	}

	// The OCSP response: good, produced now, about the transaction
	// certificate, chaining to partest's CA and to no other.
	resp, err := st.OCSPResponse(srv.TransactionCA())
	if err != nil {
		t.Fatalf("OCSPResponse: %v", err)
	}
	if resp.Status != ocsp.Good || time.Since(resp.ProducedAt) > time.Hour {
		t.Errorf("OCSP status %d produced %v", resp.Status, resp.ProducedAt)
	}
	if cert := jwksCert(t, srv, st.KeyID); resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Error("OCSP response is not about the transaction certificate")
	}
	if _, err := st.OCSPResponse(otherCA(t)); err == nil {
		t.Error("OCSPResponse accepted a response that does not chain to the given CA")
	}

	// The same token is not evidence of another text, type or of no text.
	for name, p := range map[string]mitid.Params{
		"other text":  {TransactionText: []byte("StubID transaction text two")},
		"other type":  {TransactionText: []byte(recordedText), TransactionTextType: "html"},
		"no text":     {},
		"text + NUL":  {TransactionText: []byte(recordedText + "\x00")},
		"text prefix": {TransactionText: []byte(recordedText[:10])},
	} {
		if st, err := mitid.VerifySigningToken(ctx, c, tok, p); st != nil || !errors.Is(err, mitid.ErrTextMismatch) {
			t.Errorf("%s: VerifySigningToken = %v, %v; want ErrTextMismatch", name, st, err)
		}
	}

	// Identity merges the ID token, the userinfo_token and UserInfo.
	id, err := mitid.Identity(ctx, c, tok)
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	if id.Subject != tok.IDToken.Subject || id.DisplayName() != "Karen Test Hansen" || id.MitID.Age != 88 || !id.MitID.HasCPR ||
		id.LoA != mitid.Substantial.URI() || id.SessionID == "" || id.MitID.UUID != user.Claims["mitid.uuid"] {
		t.Errorf("Identity = %+v", id)
	}
}

// TestSigningTokenMissing: a login without the transaction_token scope
// has no signing token; the broker (partest) refuses a transaction text
// outside a signed request object.
func TestSigningTokenMissing(t *testing.T) {
	t.Parallel()
	srv := signingServer(t)
	c, tok, asked, _, err := signingLogin(t, srv, []byte(recordedText), "openid mitid")
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if st, err := mitid.VerifySigningToken(context.Background(), c, tok, asked); st != nil || !errors.Is(err, mitid.ErrNoSigningToken) {
		t.Errorf("VerifySigningToken = %v, %v; want ErrNoSigningToken", st, err)
	}
	if _, err := mitid.VerifySigningToken(context.Background(), c, tok, mitid.Params{TransactionTextType: "text"}); !errors.As(err, new(*mitid.ParamError)) {
		t.Errorf("a type without a text: %v, want *ParamError", err)
	}
}

// TestSigningLoginWithoutText: with the transaction_token scope and no
// text, the token vouches for the login only (transaction_actions
// "mitid.login"), which VerifySigningToken with no text accepts.
func TestSigningLoginWithoutText(t *testing.T) {
	t.Parallel()
	srv := signingServer(t)
	c, tok, asked, _, err := signingLogin(t, srv, nil, "openid mitid transaction_token")
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	st, err := mitid.VerifySigningToken(context.Background(), c, tok, asked)
	if err != nil {
		t.Fatalf("VerifySigningToken: %v", err)
	}
	if st.Text != nil || st.TextSHA256 != "" || !slices.Equal(st.Claims.TransactionActions, []string{"mitid.login"}) {
		t.Errorf("login-only token = text %q sha %q actions %q", st.Text, st.TextSHA256, st.Claims.TransactionActions)
	}
	if _, err := mitid.VerifySigningToken(context.Background(), c, tok, mitid.Params{TransactionText: []byte(recordedText)}); !errors.Is(err, mitid.ErrTextMismatch) {
		t.Errorf("login-only token as evidence of a text: %v, want ErrTextMismatch", err)
	}
}

func jwksCert(t *testing.T, srv *partest.Server, kid string) *x509.Certificate {
	t.Helper()
	resp, err := srv.Client().Get(srv.Issuer() + "/.well-known/openid-configuration/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string   `json:"kid"`
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid && len(k.X5c) > 0 {
			der, _ := base64.StdEncoding.DecodeString(k.X5c[0])
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			return cert
		}
	}
	t.Fatalf("no JWKS entry with kid %s", kid)
	return nil
}

func jwksCertCN(t *testing.T, srv *partest.Server, kid string) string {
	return jwksCert(t, srv, kid).Subject.CommonName
}

// otherCA is a self-signed CA certificate that issued nothing.
func otherCA(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
