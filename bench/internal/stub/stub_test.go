package stub

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/discovery"
)

func TestStub(t *testing.T) {
	t.Parallel()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	md, err := discovery.Fetch(t.Context(), nil, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	if md.PushedAuthorizationRequestEndpoint != s.URL+"/par" || s.DiscoveryFetches() != 1 {
		t.Errorf("metadata %+v, %d fetches", md, s.DiscoveryFetches())
	}
	good := url.Values{"client_id": {"app"}, "code_challenge_method": {"S256"}}
	for _, tc := range []struct {
		name   string
		method string
		form   url.Values
		auth   string
		status int
	}{
		{"basic", http.MethodPost, good, "Basic eDp5", http.StatusCreated},
		{"assertion", http.MethodPost, url.Values{"client_id": {"app"}, "client_assertion": {"j"}, "request": {"r"}}, "", http.StatusCreated},
		{"no auth", http.MethodPost, good, "", http.StatusBadRequest},
		{"no client_id", http.MethodPost, url.Values{"code_challenge_method": {"S256"}}, "Basic eDp5", http.StatusBadRequest},
		{"no pkce", http.MethodPost, url.Values{"client_id": {"app"}}, "Basic eDp5", http.StatusBadRequest},
		{"get", http.MethodGet, good, "Basic eDp5", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+"/par", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if tc.status == http.StatusCreated && string(body) != string(parBody) {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}
	if s.Pushes() != 2 || s.Rejected() != 4 {
		t.Errorf("pushes %d rejected %d, want 2 and 4", s.Pushes(), s.Rejected())
	}
}

// TestTLS: over TLS the stub speaks HTTP/2, or HTTP/1.1 only when asked,
// to a client that trusts its certificate.
func TestTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		http1 bool
		proto int
	}{{false, 2}, {true, 1}} {
		s, err := StartWith(Options{TLS: true, HTTP1: tc.http1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !strings.HasPrefix(s.URL, "https://127.0.0.1:") || s.CertPool() == nil {
			t.Fatalf("URL %s", s.URL)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool()}
		defer tr.CloseIdleConnections()
		md, err := discovery.Fetch(t.Context(), &http.Client{Transport: tr}, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Transport: tr}).Get(md.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != tc.proto {
			t.Errorf("http1=%t: HTTP/%d, want HTTP/%d", tc.http1, resp.ProtoMajor, tc.proto)
		}
		if _, err := http.Get(s.URL + "/jwks"); err == nil {
			t.Error("a client without the stub's certificate connected")
		}
	}
}

// TestLogin runs a whole login against the stub by hand: push, authorize,
// token with PKCE; the ID token verifies with the published key and
// carries the pushed nonce. A wrong verifier is refused.
func TestLogin(t *testing.T) {
	t.Parallel()
	s, err := StartWith(Options{Login: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	push := url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/cb"}, "state": {"st"},
		"nonce": {"no"}, "code_challenge": {b64(sum[:])}, "code_challenge_method": {"S256"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/par", strings.NewReader(push.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	json.NewDecoder(resp.Body).Decode(&par)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || par.ExpiresIn != ExpiresIn {
		t.Fatalf("push: HTTP %d %+v", resp.StatusCode, par)
	}
	resp, err = noRedirect.Get(s.URL + "/authorize?" + url.Values{"client_id": {"app"}, "request_uri": {par.RequestURI}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Host != "app.example" ||
		loc.Query().Get("state") != "st" || loc.Query().Get("iss") != s.URL {
		t.Fatalf("authorize: HTTP %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	redeem := func(verifier string) (*http.Response, error) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
			"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "secret")
		return http.DefaultClient.Do(req)
	}
	if resp, err := redeem("wrong-verifier-wrong-verifier-wrong-verifier"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a wrong verifier: %v %v", resp, err)
	}
	resp, err = redeem(verifier)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	jresp, err := http.Get(s.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	json.NewDecoder(jresp.Body).Decode(&set)
	jresp.Body.Close()
	jws, err := jose.ParseSignedCompact(tok.IDToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("id token %v, %d keys", err, len(set.Keys))
	}
	payload, err := jws.Verify(&set.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	if claims["nonce"] != "no" || claims["sub"] != Subject || claims["aud"] != "app" || claims["iss"] != s.URL {
		t.Errorf("claims %v", claims)
	}
	if s.Logins() != 1 || s.Rejected() != 1 {
		t.Errorf("logins %d, rejected %d", s.Logins(), s.Rejected())
	}
}
