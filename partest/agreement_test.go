package partest

// Tests for the fixes found by interop's agreement test: each pins one
// answer partest now gives the way node-oidc-provider 9.13 gives it.

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestAuthorizeClientIDErrors: a missing client_id is a missing required
// parameter (invalid_request, RFC 6749 §4.1.2.1); an unknown one stays
// invalid_client. Both are shown on the error page.
func TestAuthorizeClientIDErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	tests := []struct {
		name, clientID, code string
	}{
		{"missing", "", "invalid_request"},
		{"unknown", "nobody", "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			uri := push(t, srv, newFlow().parParams("app"), basic("app", "s3cret"))
			q := url.Values{"request_uri": {uri}}
			if tt.clientID != "" {
				q.Set("client_id", tt.clientID)
			}
			_, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + q.Encode())
			var ae *AuthorizeError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.Code != tt.code {
				t.Fatalf("Login: %v, want an error page 400 %s", err, tt.code)
			}
		})
	}
}

// TestBasicHeaderMalformed: a Basic header that does not decode is a
// malformed request (RFC 6749 §5.2 invalid_request, 400), not a failed
// authentication.
func TestBasicHeaderMalformed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	for _, h := range []string{"Basic !!not-base64!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))} {
		r := postTo(t, srv, pathPAR, newFlow().parParams("app"), http.Header{"Authorization": {h}})
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("%q: PAR = %d %s, want 400 invalid_request", h, r.status, r.raw)
		}
	}
}

// TestAssertionNamesClientBySub: the assertion's sub names the client
// (RFC 7523 §3); a client_id parameter naming another client is
// invalid_request, while an iss other than sub stays invalid_client and a
// missing client_id is fine.
func TestAssertionNamesClientBySub(t *testing.T) {
	t.Parallel()
	ec := ecKey(0)
	pk := Client{ID: "pk", RedirectURIs: []string{testCallback}, JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ec, "ec1")}}}
	srv := newServer(t, Config{Clients: []Client{pk, basicClient()}})
	tests := []struct {
		name     string
		clientID string
		change   func(map[string]any)
		status   int
		code     string
	}{
		{"client_id omitted", "", nil, http.StatusCreated, ""},
		{"sub is another client", "pk", func(m map[string]any) { m["sub"] = "app"; m["iss"] = "app" }, http.StatusBadRequest, "invalid_request"},
		{"sub differs from client_id", "pk", func(m map[string]any) { m["sub"] = "other" }, http.StatusBadRequest, "invalid_request"},
		{"iss differs", "pk", func(m map[string]any) { m["iss"] = "other" }, http.StatusUnauthorized, "invalid_client"},
		{"no sub", "", func(m map[string]any) { delete(m, "sub") }, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := assertionClaims(srv, "pk")
			if tt.change != nil {
				tt.change(claims)
			}
			form := newFlow().parParams("pk")
			if tt.clientID == "" {
				form.Del("client_id")
			}
			a := sign(t, ec, jose.ES256, map[jose.HeaderKey]any{"kid": "ec1"}, claims)
			r := postTo(t, srv, pathPAR, withAssertion(form, a), nil)
			if tt.status == http.StatusCreated && form.Get("client_id") == "" {
				// RFC 9126 §2.1: a push still needs client_id as an
				// authorization request parameter.
				tt.status, tt.code = http.StatusBadRequest, "invalid_request"
			}
			if r.status != tt.status || r.str("error") != tt.code {
				t.Fatalf("PAR = %d %s, want %d %q", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
}

// TestAssertionAudienceArray: without StrictAssertionAudience an aud array
// needs one member naming the server (RFC 7523 §3 item 3); the others are
// other audiences (RFC 7519 §4.1.3). An array naming no value of this
// server still fails, and the strict mode still wants the issuer alone.
func TestAssertionAudienceArray(t *testing.T) {
	t.Parallel()
	ec := ecKey(0)
	pk := Client{ID: "pk", RedirectURIs: []string{testCallback}, JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ec, "ec1")}}}
	srv := newServer(t, Config{Clients: []Client{pk}})
	strict := newServer(t, Config{Clients: []Client{pk}, StrictAssertionAudience: true})
	tests := []struct {
		name   string
		srv    *Server
		aud    func(s *Server) any
		status int
	}{
		{"issuer and a stranger", srv, func(s *Server) any { return []string{"https://other.example", s.Issuer()} }, http.StatusCreated},
		{"par endpoint and a stranger", srv, func(s *Server) any { return []string{s.endpointURL(pathPAR), "https://other.example"} }, http.StatusCreated},
		{"strangers only", srv, func(*Server) any { return []string{"https://other.example", "https://another.example"} }, http.StatusUnauthorized},
		{"empty array", srv, func(*Server) any { return []string{} }, http.StatusUnauthorized},
		{"strict: issuer and a stranger", strict, func(s *Server) any { return []string{s.Issuer(), "https://other.example"} }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := assertionClaims(tt.srv, "pk")
			claims["aud"] = tt.aud(tt.srv)
			a := sign(t, ec, jose.ES256, map[jose.HeaderKey]any{"kid": "ec1"}, claims)
			r := postTo(t, tt.srv, pathPAR, withAssertion(newFlow().parParams("pk"), a), nil)
			if r.status != tt.status {
				t.Fatalf("PAR = %d %s, want %d", r.status, r.raw, tt.status)
			}
		})
	}
}

// TestPARRequestURINotSupported: a request_uri pushed to the PAR endpoint
// (RFC 9126 §2.1: it must not be) gets request_uri_not_supported (OIDC
// Core §3.1.2.6), as from node-oidc-provider.
func TestPARRequestURINotSupported(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	form := newFlow().parParams("app")
	form.Set("request_uri", requestURIPrefix+"abc")
	r := postTo(t, srv, pathPAR, form, basic("app", "s3cret"))
	if r.status != http.StatusBadRequest || r.str("error") != "request_uri_not_supported" {
		t.Fatalf("PAR = %d %s, want 400 request_uri_not_supported", r.status, r.raw)
	}
}

// TestDPoPMissingProofIsInvalidGrant: a DPoP-bound client (RFC 9449 §5.2)
// or a RequireDPoP server refuses a code redeemed without a proof with
// invalid_grant, as node-oidc-provider does; the code stays redeemable
// with a proof.
func TestDPoPMissingProofIsInvalidGrant(t *testing.T) {
	t.Parallel()
	bound := basicClient()
	bound.DPoPBound = true
	tests := []struct {
		name string
		cfg  Config
	}{
		{"DPoPBound client", Config{Clients: []Client{bound}}},
		{"RequireDPoP", Config{Clients: []Client{basicClient()}, RequireDPoP: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.cfg)
			f := newFlow()
			code := loginCode(t, srv, f)
			r := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret"))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
				t.Fatalf("token without proof = %d %s, want 400 invalid_grant", r.status, r.raw)
			}
			h := basic("app", "s3cret")
			h.Set("DPoP", dpopProof(t, ecKey(1), http.MethodPost, srv.endpointURL(pathToken), nil))
			if r := postTo(t, srv, pathToken, tokenForm(code, f), h); r.status != http.StatusOK || r.str("token_type") != "DPoP" {
				t.Fatalf("token with proof = %d %s, want 200 DPoP", r.status, r.raw)
			}
		})
	}
}
