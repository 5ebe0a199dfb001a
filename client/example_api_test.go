package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/partest"
)

// exampleLogin runs a whole login against srv and returns the client and its
// tokens; the Examples below start from there.
func exampleLogin(srv *partest.Server) (*client.Client, *client.Tokens) {
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx)
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		log.Fatal(err)
	}
	params, err := srv.Login(u)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		log.Fatal(err)
	}
	return c, tokens
}

func exampleServer() *partest.Server {
	return partest.NewServer(partest.Config{RefreshTokens: true, Clients: []partest.Client{{ID: "app", Secret: "s",
		RedirectURIs: []string{"https://app.example/callback"}, PostLogoutRedirectURIs: []string{"https://app.example/"}}}})
}

// New runs discovery against the issuer and checks the configuration; the
// Client it returns is immutable and safe for concurrent use.
func ExampleNew() {
	srv := partest.NewServer(partest.Config{IssuerPath: "/op", RequirePAR: true})
	defer srv.Close()

	c, err := client.New(context.Background(), client.Config{
		Issuer:      srv.Issuer(),
		ClientID:    "app",
		Auth:        client.ClientSecretBasic("s3cr+t/="),
		RedirectURL: "https://app.example/callback",
		Scopes:      []string{"mitid"}, // openid is added
		HTTPClient:  srv.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	md := c.Metadata()
	fmt.Println("issuer ends in /op:", strings.HasSuffix(md.Issuer, "/op"))
	fmt.Println("PAR required:", md.RequirePushedAuthorizationRequests)
	fmt.Println("PAR endpoint known:", md.PushedAuthorizationRequestEndpoint != "")

	// A missing field is named in the error.
	_, err = client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	fmt.Println(err != nil && strings.Contains(err.Error(), "Auth"))
	// Output:
	// issuer ends in /op: true
	// PAR required: true
	// PAR endpoint known: true
	// true
}

// Push sends every authorization parameter over the back channel (RFC 9126
// §2.1); typed options and any oauth2.AuthCodeOption add to them. Here a
// stand-in PAR endpoint prints what it receives.
func ExampleClient_Push() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		for _, k := range []string{"scope", "prompt", "acr_values", "max_age", "ui_locales", "login_hint", "idp_values"} {
			fmt.Printf("%s=%s\n", k, r.PostForm.Get(k))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":600}`)
	}))
	defer srv.Close()
	iss := srv.URL + "/op"
	md := &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks"}
	c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: "app",
		Auth: client.ClientSecretPost("s"), RedirectURL: "https://app.example/callback"})
	if err != nil {
		log.Fatal(err)
	}

	flow, err := c.Push(context.Background(),
		client.WithParam("scope", "mitid ssn"),
		client.WithPrompt("login"),
		client.WithParam("acr_values", "https://data.gov.dk/concept/core/nsis/substantial"),
		client.WithMaxAge(5*time.Minute),
		client.WithParam("ui_locales", "da en"),
		client.WithParam("login_hint", "alice"),
		oauth2.SetAuthURLParam("idp_values", "mitid"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("request_uri:", flow.RequestURI)
	// Output:
	// scope=openid mitid ssn
	// prompt=login
	// acr_values=https://data.gov.dk/concept/core/nsis/substantial
	// max_age=300
	// ui_locales=da en
	// login_hint=alice
	// idp_values=mitid
	// request_uri: urn:ietf:params:oauth:request_uri:abc
}

// AuthorizationURL carries client_id and request_uri only (RFC 9126 §4).
func ExampleClient_AuthorizationURL() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := c.Push(ctx, client.WithParam("state", "caller-chosen-state-value"))
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.AuthorizationURL(flow)
	if err != nil {
		log.Fatal(err)
	}
	q, _ := url.Parse(u)
	fmt.Println(slices.Sorted(func(yield func(string) bool) {
		for k := range q.Query() {
			if !yield(k) {
				return
			}
		}
	}))
	fmt.Println("state kept in flow:", flow.State)

	// A request_uri past its expires_in is never sent: push again.
	flow.ExpiresAt = time.Now().Add(-time.Second)
	_, err = c.AuthorizationURL(flow)
	fmt.Println(errors.Is(err, client.ErrRequestURIExpired))
	// Output:
	// [client_id request_uri]
	// state kept in flow: caller-chosen-state-value
	// true
}

// ParseResponse reads the callback parameters from a query (response_mode
// query) or a POST form (form_post).
func ExampleParseResponse() {
	r := httptest.NewRequest(http.MethodGet, "/callback?code=c1&state=s1&iss=https%3A%2F%2Fop.example", nil)
	params, err := client.ParseResponse(r)
	fmt.Println(params.Get("state"), params.Get("iss"), err)

	r = httptest.NewRequest(http.MethodPost, "/callback", strings.NewReader("code=c2&state=s2"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	params, err = client.ParseResponse(r)
	fmt.Println(params.Get("state"), err)

	// A parameter given twice is refused (RFC 6749 §3.1).
	r = httptest.NewRequest(http.MethodGet, "/callback?code=a&state=s&state=t", nil)
	_, err = client.ParseResponse(r)
	fmt.Println(errors.Is(err, client.ErrInvalidResponse))
	// Output:
	// s1 https://op.example <nil>
	// s2 <nil>
	// true
}

// Refresh exchanges the refresh token (RFC 6749 §6) and checks a new ID
// token against the login's (OIDC Core §12.2); TokenSource does it when the
// access token has expired.
func ExampleClient_Refresh() {
	srv := exampleServer()
	defer srv.Close()
	c, tokens := exampleLogin(srv)

	fresh, err := c.Refresh(context.Background(), tokens)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new access token:", fresh.Token.AccessToken != tokens.Token.AccessToken)

	expired := *fresh.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	tok, err := c.TokenSource(&client.Tokens{Token: &expired, IDToken: fresh.IDToken}).Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refreshed by TokenSource:", tok.Valid() && tok.AccessToken != expired.AccessToken)
	// Output:
	// new access token: true
	// refreshed by TokenSource: true
}

// UserInfo checks the response's sub against the ID token (OIDC Core
// §5.3.2); Claims decodes the rest.
func ExampleClient_UserInfo() {
	srv := exampleServer()
	defer srv.Close()
	c, tokens := exampleLogin(srv)

	ui, err := c.UserInfo(context.Background(), tokens)
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := ui.Claims(&claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ui.Subject, claims.Sub)
	// Output:
	// alice alice
}

// ResourceClient calls resource servers with the access token: Bearer here,
// DPoP proofs when the Client has a DPoP key.
func ExampleClient_ResourceClient() {
	srv := exampleServer()
	defer srv.Close()
	c, tokens := exampleLogin(srv)

	resp, err := c.ResourceClient(tokens).Get(c.Metadata().UserinfoEndpoint)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK
}

// LogoutURL builds the RP-initiated logout redirect with the id_token_hint
// the MitID broker requires.
func ExampleClient_LogoutURL() {
	srv := exampleServer()
	defer srv.Close()
	c, tokens := exampleLogin(srv)

	u, err := c.LogoutURL(tokens.RawIDToken, "https://app.example/", "bye")
	if err != nil {
		log.Fatal(err)
	}
	lu, _ := url.Parse(u)
	q := lu.Query()
	fmt.Println(q.Get("client_id"), q.Get("post_logout_redirect_uri"), q.Get("state"), q.Get("id_token_hint") == tokens.RawIDToken)
	// Output:
	// app https://app.example/ bye true
}

// A back-channel error keeps the provider's code, status and Retry-After;
// Temporary tells whether to try again later.
func ExampleResponseError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"down for maintenance"}`)
	}))
	defer srv.Close()
	iss := srv.URL + "/op"
	md := &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks"}
	c, err := client.New(context.Background(), client.Config{Metadata: md, ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: "https://app.example/callback"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Push(context.Background())
	var re *client.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Endpoint, re.StatusCode, re.Code, re.RetryAfter, re.Temporary())
	}
	fmt.Println(err)
	// Output:
	// par 503 temporarily_unavailable 30s true
	// client: par: temporarily_unavailable: down for maintenance (HTTP 503), retry after 30s
}
