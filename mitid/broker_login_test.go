package mitid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
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
// against partest: a path-bearing issuer (/op), Basic auth with a secret
// holding + / =, an HS256 request object keyed with the raw client secret,
// idp_values and idp_params for MitID at Substantial, and the broker's
// string-typed claims decoded into mitid.Claims with the level check passing
// and failing.
func TestBrokerLogin(t *testing.T) {
	t.Parallel()
	users := []partest.User{
		{Subject: "7c9484f5-44bf-4e29-a683-84548951d3b8", Claims: map[string]any{
			"idp": "mitid", "identity_type": "private", "neb_sid": "2E4C1B7F0A6D45A8B5C3E9F1D2A4B6C8",
			"loa": "https://data.gov.dk/concept/core/nsis/Substantial", "amr": []string{"code_app"},
			"mitid.uuid": "eee4b272-6a33-40da-ab0b-5ce2abd42e78", "mitid.age": "88", "mitid.has_cpr": "true", "mitid.psd2": "false",
		}},
		{Subject: "0d1f5b9e-2c3a-4d5e-8f70-1a2b3c4d5e6f", Claims: map[string]any{
			"idp": "mitid", "identity_type": "private", "loa": "https://data.gov.dk/concept/core/nsis/loa/Low",
			"mitid.age": "17", "mitid.has_cpr": "false",
		}},
	}
	const cb = "https://rp.example/signin-oidc"
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", Users: users, RequestURILifetime: 600 * time.Second,
		Clients: []partest.Client{{ID: "0a775a87-878c-4b83-abe3-ee29c720c3e7", Secret: brokerSecret,
			RedirectURIs: []string{cb}, RequireSignedRequestObject: true}}})
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
	idp, _ := mitid.IDPValues(mitid.MitID)
	lang, _ := mitid.Language(mitid.Danish)
	params, err := mitid.Params{MitID: &mitid.MitIDParams{LoA: mitid.Substantial, ReferenceText: "Log på hos Test RP"}}.Options()
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		user    string
		wantErr bool
	}{{users[0].Subject, false}, {users[1].Subject, true}} {
		flow, err := c.Push(ctx, append(params, idp, lang)...)
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
		err = claims.RequireLevel(mitid.Substantial)
		var le *mitid.LevelError
		switch {
		case !tt.wantErr && err != nil:
			t.Errorf("RequireLevel(Substantial) for %s = %v", tt.user, err)
		case tt.wantErr && !errors.As(err, &le):
			t.Errorf("RequireLevel(Substantial) for a Low login = %v, want *LevelError", err)
		}
		if !tt.wantErr && (claims.MitID.Age != 88 || !bool(claims.MitID.HasCPR)) {
			t.Errorf("string-typed claims not decoded: age %v has_cpr %v", claims.MitID.Age, claims.MitID.HasCPR)
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

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
