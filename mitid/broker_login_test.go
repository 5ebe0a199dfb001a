package mitid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// brokerSecret looks like the broker's test secrets: base64 with + / =.
const brokerSecret = "rE4+Zp1/a8Vq2nXk9Lw0sT3yUi7oP6mB+c5dF/gH2jK="

// TestBrokerLogin is issue 7's end-to-end check of the MitID broker setup
// against partest's broker layout (partest.BrokerConfig): the path-bearing
// issuer /op with endpoints below /connect, the broker's JWKS as recorded
// (certificate keys with upper-case hex SHA-1 kids, no alg, an encryption
// key), Basic auth with a secret holding + / =, an HS256 request object keyed
// with the raw client secret, idp_values and idp_params for MitID at
// Substantial, and the broker's string-typed claims (from the ID token and,
// where the broker puts the mitid.* claims, UserInfo) decoded into
// mitid.Claims with the level check passing and failing.
func TestBrokerLogin(t *testing.T) {
	t.Parallel()
	users := partest.BrokerUsers()[:2] // Substantial, then Low
	const cb = "https://rp.example/signin-oidc"
	srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: "0a775a87-878c-4b83-abe3-ee29c720c3e7",
		Secret: brokerSecret, RedirectURIs: []string{cb}, RequireSignedRequestObject: true}))
	t.Cleanup(srv.Close)

	// Capture what goes to the PAR endpoint.
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
		Issuer: srv.Issuer(), ClientID: "0a775a87-878c-4b83-abe3-ee29c720c3e7",
		Auth: client.ClientSecretBasic(brokerSecret), RedirectURL: cb, Scopes: []string{"openid", "mitid"},
		Profile: client.ProfileBroker, HTTPClient: hc,
		RequestObject: &jar.Config{Secret: []byte(brokerSecret)},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkBrokerLayout(t, srv, c)
	params, err := mitid.Params{LoA: mitid.Substantial, ReferenceText: "Log på hos Test RP"}.Options()
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		user    string
		wantErr bool
	}{{users[0].Subject, false}, {users[1].Subject, true}} {
		flow, err := c.Push(ctx, append(params, mitid.IDPValues(mitid.MitID), mitid.Language(mitid.Danish))...)
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		if !strings.HasPrefix(flow.RequestURI, "urn:ietf:params:oauth:request_uri:") || time.Until(flow.ExpiresAt) < 590*time.Second {
			t.Errorf("request_uri = %q expiring %v, want the broker's 600 s", flow.RequestURI, flow.ExpiresAt)
		}
		u, err := c.AuthorizationURL(flow)
		if err != nil {
			t.Fatal(err)
		}
		cbParams, err := srv.LoginAs(u, tt.user)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.Exchange(ctx, flow, cbParams)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		var claims mitid.Claims
		if err := tok.IDToken.Claims(&claims); err != nil {
			t.Fatalf("Claims: %v", err)
		}
		if claims.Subject != tt.user || claims.IDP != mitid.MitID {
			t.Errorf("claims = %+v", claims)
		}
		if kid := idTokenKID(t, tok.RawIDToken); !upperHexKID.MatchString(kid) {
			t.Errorf("ID token kid = %q, want the broker's upper-case hex SHA-1 thumbprint", kid)
		}
		ui, err := c.UserInfo(ctx, tok)
		if err != nil || ui.Subject != tt.user {
			t.Fatalf("UserInfo = %+v, %v; want the ID token's subject", ui, err)
		}
		// As recorded from the broker, the mitid.* claims come from
		// UserInfo, not from the ID token.
		var uiClaims mitid.Claims
		if err := ui.Claims(&uiClaims); err != nil {
			t.Fatalf("UserInfo claims: %v", err)
		}
		err = claims.RequireLevel(mitid.Substantial)
		var le *mitid.LevelError
		switch {
		case !tt.wantErr && err != nil:
			t.Errorf("RequireLevel(Substantial) for %s = %v", tt.user, err)
		case tt.wantErr && !errors.As(err, &le):
			t.Errorf("RequireLevel(Substantial) for a Low login = %v, want *LevelError", err)
		}
		if !tt.wantErr && (uiClaims.MitID.Age != 88 || !uiClaims.MitID.HasCPR) {
			t.Errorf("string-typed claims not decoded: age %v has_cpr %v", uiClaims.MitID.Age, uiClaims.MitID.HasCPR)
		}
	}

	// The PAR body carried only request + client_id (+ Basic auth in the
	// header), and the request object holds the MitID parameters, HS256
	// with the raw secret.
	mu.Lock()
	defer mu.Unlock()
	if len(pushed) != 2 {
		t.Fatalf("%d pushes captured", len(pushed))
	}
	f := pushed[0]
	if len(f) != 2 || f.Get("client_id") == "" || f.Get("request") == "" {
		t.Errorf("PAR form = %v, want only request and client_id", f)
	}
	jws, err := jose.ParseSignedCompact(f.Get("request"), []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify([]byte(brokerSecret))
	if err != nil {
		t.Fatalf("request object not HS256 with the raw client secret: %v", err)
	}
	var ro map[string]any
	json.Unmarshal(payload, &ro)
	if ro["idp_values"] != "mitid" || ro["language"] != "da" || ro["aud"] != srv.Issuer() || ro["iss"] != f.Get("client_id") {
		t.Errorf("request object claims = %v", ro)
	}
	var ip struct {
		MitID struct {
			LoA string `json:"loa_value"`
		} `json:"mitid"`
	}
	s, _ := ro["idp_params"].(string)
	if err := json.Unmarshal([]byte(s), &ip); err != nil || ip.MitID.LoA != "substantial" {
		t.Errorf("idp_params = %q (%v), want loa_value substantial (idps/mitid.md)", s, err)
	}
}

var upperHexKID = regexp.MustCompile(`^[0-9A-F]{40}$`)

// checkBrokerLayout checks what the client discovered and what the JWKS
// holds against the broker's layout (brokers-and-profiles.md §1.1, §8).
func checkBrokerLayout(t *testing.T, srv *partest.Server, c *client.Client) {
	t.Helper()
	md := c.Metadata()
	iss := srv.Issuer()
	if !strings.HasSuffix(iss, "/op") || md.Issuer != iss {
		t.Errorf("issuer = %q (discovered %q), want the /op path", iss, md.Issuer)
	}
	for name, got := range map[string]string{
		"/connect/authorize": md.AuthorizationEndpoint, "/connect/par": md.PushedAuthorizationRequestEndpoint,
		"/connect/token": md.TokenEndpoint, "/connect/userinfo": md.UserinfoEndpoint,
		"/connect/endsession": md.EndSessionEndpoint, "/connect/ciba": md.BackchannelAuthenticationEndpoint,
		"/.well-known/openid-configuration/jwks": md.JWKSURI,
	} {
		if got != iss+name {
			t.Errorf("endpoint %s = %q", name, got)
		}
	}
	resp, err := srv.Client().Get(md.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string   `json:"kid"`
			Use string   `json:"use"`
			Alg string   `json:"alg"`
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var enc bool
	for _, k := range set.Keys {
		// As recorded, no key of the broker's JWKS has an alg.
		if !upperHexKID.MatchString(k.Kid) || len(k.X5c) == 0 || k.Alg != "" {
			t.Errorf("JWKS key %q (%s): want an upper-case hex kid, x5c and no alg", k.Kid, k.Use)
		}
		enc = enc || k.Use == "enc"
	}
	if !enc {
		t.Error("JWKS lacks the broker's encryption key")
	}
}

func idTokenKID(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	return jws.Signatures[0].Header.KeyID
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
