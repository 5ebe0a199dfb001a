package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/jar"
)

// echoProvider is a provider that puts everything it received into its
// error responses: the form values and the Authorization and DPoP headers,
// in error_description, error_uri, the error code, a WWW-Authenticate
// header, an HTML page or \u-escaped JSON, as chosen by the mode.
type echoProvider struct {
	srv  *httptest.Server
	md   *discovery.Metadata
	mu   sync.Mutex
	mode string
	seen []string // every secret-bearing value received
}

func newEchoProvider(t *testing.T) *echoProvider {
	t.Helper()
	p := &echoProvider{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	iss := p.srv.URL + "/op"
	p.md = &discovery.Metadata{Issuer: iss, AuthorizationEndpoint: iss + "/authorize", TokenEndpoint: iss + "/token",
		PushedAuthorizationRequestEndpoint: iss + "/par", JWKSURI: iss + "/jwks", UserinfoEndpoint: iss + "/userinfo"}
	return p
}

func (p *echoProvider) setMode(m string) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

func (p *echoProvider) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	var all []string
	p.mu.Lock()
	mode := p.mode
	for k, vs := range r.PostForm {
		for _, v := range vs {
			all = append(all, k+"="+v)
			if k != "grant_type" && k != "client_id" && k != "scope" && k != "response_type" && k != "redirect_uri" &&
				k != "code_challenge_method" && k != "code_challenge" && k != "client_assertion_type" {
				p.seen = append(p.seen, v)
			}
		}
	}
	for _, h := range []string{"Authorization", "DPoP"} {
		if v := r.Header.Get(h); v != "" {
			all = append(all, h+": "+v)
			_, cred, _ := strings.Cut(v, " ")
			p.seen = append(p.seen, v, cred)
		}
	}
	p.mu.Unlock()
	sort.Strings(all)
	echo := strings.Join(all, " ")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="`+echo+`"`)
	switch mode {
	case "html":
		w.Header().Set("Content-Type", "text/html; echo="+url.QueryEscape(echo))
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<html><body><p>You sent %s</p></body></html>", strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(echo))
	case "escaped":
		// Every character \u-escaped: the echo survives only in the
		// decoded description.
		var b strings.Builder
		for _, c := range echo {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"%s"}`, b.String())
	case "code":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":%q,"error_uri":%q}`, echo, "https://op.example/err?"+url.Values{"got": all}.Encode())
	case "token_type": // a 200 whose token_type echoes the request
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"AT-0123456789","token_type":%q,"expires_in":60}`, echo)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q,"error_uri":%q}`, echo,
			"https://op.example/err?"+url.Values{"got": all}.Encode())
	}
}

// TestProviderEchoRedacted: a provider that echoes the request — client
// secret, assertion, DPoP proof, request object, code, verifier, state,
// nonce, tokens — in its errors gets none of them into the error string,
// the ResponseError's members or a log line.
func TestProviderEchoRedacted(t *testing.T) {
	t.Parallel()
	secret := "ECHO-SECRET+/=<&>\"-" + rand.Text()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	proofer, err := dpop.NewProofer(dk, nil)
	if err != nil {
		t.Fatal(err)
	}
	jarSecret := "JAR-SECRET-0123456789abcdefghijklmnop-" + rand.Text()
	hsSecret := secret + "-0123456789012345678901234567"
	auths := []struct {
		name  string
		cfg   func(*client.Config)
		known []string // the secrets the client holds for its life
	}{
		{"client_secret_basic", func(c *client.Config) { c.Auth = client.ClientSecretBasic(secret) }, []string{secret}},
		{"client_secret_post", func(c *client.Config) { c.Auth = client.ClientSecretPost(secret) }, []string{secret}},
		{"client_secret_jwt", func(c *client.Config) { c.Auth = client.ClientSecretJWT(hsSecret) }, []string{hsSecret}},
		{"private_key_jwt+dpop", func(c *client.Config) { c.Auth = client.PrivateKeyJWT(k, "k1"); c.DPoP = proofer }, nil},
		{"request object", func(c *client.Config) {
			c.Auth = client.ClientSecretBasic(secret)
			c.RequestObject = &jar.Config{Secret: []byte(jarSecret)}
		}, []string{secret, jarSecret}},
	}
	for _, a := range auths {
		for _, mode := range []string{"json", "html", "escaped", "code"} {
			t.Run(a.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				p := newEchoProvider(t)
				p.setMode(mode)
				var logs bytes.Buffer
				var logMu sync.Mutex
				cfg := client.Config{Metadata: p.md, ClientID: "app", RedirectURL: "https://app.example/cb", HTTPClient: p.srv.Client(),
					Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
				a.cfg(&cfg)
				c, err := client.New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				markers := []string{secret, url.QueryEscape(secret), jarSecret}

				// PAR: the provider echoes the push.
				_, err = c.Push(context.Background())
				checkEcho(t, "push", err, p, markers, &logs, &logMu)

				// Token: the provider echoes the code exchange.
				flow := &client.Flow{State: "STATE-" + rand.Text(), Nonce: "NONCE-" + rand.Text(), CodeVerifier: "VERIFIER-" + rand.Text() + rand.Text(),
					Issuer: p.md.Issuer, RedirectURL: cfg.RedirectURL, ExpiresAt: time.Now().Add(time.Minute)}
				code := "CODE-" + rand.Text()
				_, err = c.Exchange(context.Background(), flow, url.Values{"state": {flow.State}, "code": {code}})
				checkEcho(t, "exchange", err, p, append(markers, flow.CodeVerifier, code), &logs, &logMu)

				// Refresh: the provider echoes the refresh token.
				rt := "REFRESH-" + rand.Text()
				_, err = c.Refresh(context.Background(), &client.Tokens{Token: &oauth2.Token{RefreshToken: rt}})
				checkEcho(t, "refresh", err, p, append(markers, rt), &logs, &logMu)

				// UserInfo: the provider echoes the access token (and, with
				// DPoP, the proof).
				at, tt := "ACCESS-"+rand.Text(), "Bearer"
				if cfg.DPoP != nil {
					tt = "DPoP"
				}
				_, err = c.UserInfo(context.Background(), &client.Tokens{Token: &oauth2.Token{AccessToken: at, TokenType: tt},
					IDToken: &oidc.IDToken{Subject: "alice"}})
				checkEcho(t, "userinfo", err, p, append(markers, at), &logs, &logMu)

				// The authorization response (front channel) echoes the
				// client secret and the flow's secrets in its error.
				echo := strings.Join(append(a.known, flow.State, flow.Nonce, flow.CodeVerifier, code), " ")
				_, err = c.Exchange(context.Background(), flow, url.Values{"state": {flow.State}, "code": {code}, "error": {"access_denied " + echo},
					"error_description": {"you sent " + echo}, "error_uri": {"https://op.example/?e=" + url.QueryEscape(echo)}})
				var ae *client.AuthorizationError
				if !errors.As(err, &ae) {
					t.Fatalf("callback error = %v, want *AuthorizationError", err)
				}
				for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), ae.Code, ae.Description, ae.URI} {
					for _, m := range append(markers, flow.State, flow.Nonce, flow.CodeVerifier, code) {
						if strings.Contains(out, m) {
							t.Errorf("authorization error shows %q: %s", m, out)
						}
					}
				}
				if !strings.Contains(ae.Description, "[redacted]") {
					t.Errorf("authorization error description %q: no redaction", ae.Description)
				}
			})
		}
	}
}

// TestProviderEchoInTokenType: a token_type that echoes the request does
// not reach the ErrInvalidResponse message or the Debug log.
func TestProviderEchoInTokenType(t *testing.T) {
	t.Parallel()
	secret := "ECHO-SECRET+/=-" + rand.Text()
	p := newEchoProvider(t)
	p.setMode("token_type")
	var logs bytes.Buffer
	var mu sync.Mutex
	c, err := client.New(context.Background(), client.Config{Metadata: p.md, ClientID: "app", Auth: client.ClientSecretPost(secret),
		RedirectURL: "https://app.example/cb", HTTPClient: p.srv.Client(),
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	flow := &client.Flow{State: "STATE-" + rand.Text(), Nonce: "n", CodeVerifier: "VERIFIER-" + rand.Text(), Issuer: p.md.Issuer}
	code := "CODE-" + rand.Text()
	_, err = c.Exchange(context.Background(), flow, url.Values{"state": {flow.State}, "code": {code}})
	if !errors.Is(err, client.ErrInvalidResponse) || !strings.Contains(err.Error(), "token_type") {
		t.Fatalf("Exchange = %v, want ErrInvalidResponse for the token_type", err)
	}
	for _, out := range []string{err.Error(), logs.String()} {
		for _, m := range []string{secret, url.QueryEscape(secret), code, flow.CodeVerifier} {
			if strings.Contains(out, m) {
				t.Errorf("shows %q: %s", m, out)
			}
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// checkEcho asserts that err is a provider error that shows none of the
// markers or of what the provider received, in any member or in the log.
func checkEcho(t *testing.T, op string, err error, p *echoProvider, markers []string, logs *bytes.Buffer, mu *sync.Mutex) {
	t.Helper()
	var re *client.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error = %v, want *ResponseError", op, err)
	}
	p.mu.Lock()
	all := append(append([]string{}, markers...), p.seen...)
	p.mu.Unlock()
	for _, s := range append([]string{}, all...) {
		if len(s) >= 8 {
			all = append(all, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s)))
		}
	}
	mu.Lock()
	logText := logs.String()
	mu.Unlock()
	outs := map[string]string{"Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", re),
		"Code": re.Code, "Description": re.Description, "URI": re.URI, "Body": string(re.Body),
		"Header": fmt.Sprint(re.Header), "log": logText}
	if u := errors.Unwrap(re); u != nil {
		outs["cause"] = fmt.Sprintf("%+v", u)
	}
	for name, out := range outs {
		for _, m := range all {
			if len(m) >= 8 && strings.Contains(out, m) {
				t.Errorf("%s: %s shows a value the client sent (%.40q…): %s", op, name, m, out)
			}
		}
	}
	if !strings.Contains(string(re.Body), "redacted") && !strings.Contains(string(re.Body), "withheld") {
		t.Errorf("%s: body shows no redaction: %s", op, re.Body)
	}
}
