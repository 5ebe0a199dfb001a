package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
)

// loginResult is what login prints after a verified login.
type loginResult struct {
	Subject    string         `json:"sub"`
	Issuer     string         `json:"iss"`
	Claims     map[string]any `json:"id_token_claims"`
	UserInfo   map[string]any `json:"userinfo,omitempty"`
	UserInfoEr string         `json:"userinfo_error,omitempty"`
	TokenType  string         `json:"token_type"`
	Expiry     *time.Time     `json:"access_token_expiry,omitempty"`
	Scope      string         `json:"scope,omitempty"`
	Refresh    bool           `json:"refresh_token_issued"`
	Verified   []string       `json:"verified"`
	// Details are the authorization_details granted (RFC 9396 §7).
	Details []client.AuthorizationDetail `json:"authorization_details,omitempty"`
}

type callbackResult struct {
	res *loginResult
	err error
}

func (c *cli) login(ctx context.Context, args []string) int {
	fs, jsonOut := c.flagSet("login", "[flags]",
		"Runs a whole login: listens on the loopback redirect URI, pushes the request, prints the authorization URL\n"+
			"(--open starts a browser), counts down until the request_uri expires, receives the callback, exchanges\n"+
			"the code and prints the verified ID token claims and UserInfo. Tokens are never printed.\n\n"+
			"The redirect URI must be http on a loopback address, registered at the provider. Port 0 picks a free\n"+
			"port, for providers that accept any loopback port (RFC 8252 §7.3).")
	f := c.addClientFlags(fs, "http://127.0.0.1:8400/callback")
	open := fs.Bool("open", false, "open the URL with xdg-open")
	wait := fs.Duration("wait", 15*time.Minute, "how long to wait for the callback")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "par login: unexpected argument %q (flags only; see par login --help)\n", fs.Arg(0))
		return exitUsage
	}
	opts, _, err := f.options(c.getenv)
	if err != nil {
		return c.fail(*jsonOut, "login", err, "")
	}
	ru, err := loopbackRedirect(f.redirectURI)
	if err != nil {
		return c.fail(*jsonOut, "login", err, "register a redirect URI such as http://127.0.0.1:8400/callback for the client and pass it with --redirect-uri")
	}
	ln, err := net.Listen("tcp", ru.Host)
	if err != nil {
		return c.fail(*jsonOut, "login", &usageError{fmt.Sprintf("cannot listen on %s: %v", ru.Host, err)},
			"another program uses this port: stop it or register and use another redirect URI port")
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ru.Host = net.JoinHostPort(ru.Hostname(), port)
	redirect := ru.String()
	if c.listening != nil {
		c.listening(ln.Addr().String())
	}

	cl, err := f.newClient(ctx, c.getenv, redirect)
	if err != nil {
		return c.fail(*jsonOut, "login", err, clientHint(err))
	}
	pctx, cancel := context.WithTimeout(ctx, f.timeout)
	flow, err := cl.Push(pctx, opts...)
	cancel()
	if err != nil {
		return c.fail(*jsonOut, "login", err, pushHint(err))
	}
	authURL, err := cl.AuthorizationURL(flow)
	if err != nil {
		return c.fail(*jsonOut, "login", err, "")
	}
	urlOut := c.stdout
	if *jsonOut {
		urlOut = c.stderr
	}
	fmt.Fprintf(urlOut, "Open this URL in a browser to log in:\n\n  %s\n\n", authURL)
	fmt.Fprintf(c.stderr, "Waiting for the callback at %s\n", redirect)
	if *open {
		if err := c.open(authURL); err != nil {
			fmt.Fprintf(c.stderr, "could not start a browser (%v): open the URL yourself\n", err)
		}
	}

	results := make(chan callbackResult, 1)
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc(ru.Path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			// HEAD is safe (RFC 9110 §9.2.1): a link checker's or a
			// prefetcher's HEAD must not redeem the code or end the wait.
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		params, err := client.ParseResponse(r)
		if err != nil {
			http.Error(w, "not an authorization response", http.StatusBadRequest)
			return
		}
		// A JWT-secured response (JARM) holds its state inside the JWT;
		// one that does not verify ends the login with the reason.
		inner, verr := cl.ResponseParams(r.Context(), params)
		if verr == nil && subtle.ConstantTimeCompare([]byte(inner.Get("state")), []byte(flow.State)) != 1 {
			// Not this login's response (another tab, a stale or forged
			// callback): refuse it without ending the wait.
			fmt.Fprintf(c.stderr, "\r  ignored a callback whose state is not this login's%20s\n", "")
			http.Error(w, "this callback is not for the pending login", http.StatusBadRequest)
			return
		}
		handled := false
		once.Do(func() {
			handled = true
			res, err := (*loginResult)(nil), verr
			if err == nil {
				res, err = c.finish(r.Context(), cl, flow, params, f.timeout)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
			}
			// The page shows only a message of ours: provider-written text
			// (error_description, error_uri, odd error codes) would be shown on
			// this origin as if par said it. The detail goes to stderr.
			heading, msg := pageMessage(err)
			_ = donePage.Execute(w, map[string]any{"Heading": heading, "Message": msg})
			results <- callbackResult{res, err}
		})
		if !handled {
			http.Error(w, "this login is already complete", http.StatusGone)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	deadline := time.NewTimer(*wait)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	expired := false
	countdown := func() {
		left := time.Until(flow.ExpiresAt).Round(time.Second)
		if left > 0 {
			fmt.Fprintf(c.stderr, "\r  request_uri expires in %-10s", left)
		} else if !expired {
			expired = true
			fmt.Fprintf(c.stderr, "\r  request_uri expired: run par login again, unless the browser already reached the provider\n")
		}
	}
	countdown()
	for {
		select {
		case <-tick.C:
			countdown()
			continue
		case r := <-results:
			fmt.Fprint(c.stderr, "\r"+strings.Repeat(" ", 40)+"\r")
			if r.err != nil {
				return c.fail(*jsonOut, "login", r.err, callbackHint(r.err))
			}
			c.printLogin(*jsonOut, r.res)
			return exitOK
		case <-deadline.C:
			fmt.Fprintln(c.stderr)
			return c.fail(*jsonOut, "login", errors.New("no callback arrived in time"),
				"finish the login in the browser within --wait, and check that the provider redirects to "+redirect)
		case <-ctx.Done():
			fmt.Fprintln(c.stderr)
			return c.fail(*jsonOut, "login", ctx.Err(), "")
		}
	}
}

var donePage = template.Must(template.New("done").Parse(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>par login</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto}</style></head><body>
<h1>{{.Heading}}</h1><p>{{.Message}}</p>
<p>You can close this tab and return to the terminal.</p></body></html>`))

// rfc6749Codes are the error codes registered by RFC 6749 for the
// authorization endpoint (§4.1.2.1) and the token endpoint (§5.2): the
// only provider-supplied text the callback page repeats.
var rfc6749Codes = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "access_denied": true,
	"unsupported_response_type": true, "invalid_scope": true, "server_error": true,
	"temporarily_unavailable": true, "invalid_client": true, "invalid_grant": true,
	"unsupported_grant_type": true,
}

// pageMessage is what the local callback page says about the outcome: a
// heading and a fixed sentence chosen by par, never the provider's
// description or URI. A login the provider ended with an error code gets
// the sentence of the code's group in the MitID broker's catalogue
// (mitid.OutcomeOf; a cancel is a cancel, a code outside the catalogue a
// generic denial). A provider error shows its code only when RFC 6749
// registers it.
func pageMessage(err error) (heading, msg string) {
	const details = " The terminal shows the details."
	if err == nil {
		return "Login complete", "The login is verified; the terminal shows the claims."
	}
	var ae *client.AuthorizationError
	var re *client.ResponseError
	code, refused := "", false
	switch {
	case errors.As(err, &ae):
		code, refused = ae.Code, true
	case errors.As(err, &re) && re.Code != "":
		code, refused = re.Code, true
	}
	registered := ""
	if rfc6749Codes[code] {
		registered = " (error code " + code + ")"
	}
	switch o := mitid.OutcomeOf(err); o {
	case mitid.OutcomeNone:
	case mitid.OutcomeCancelled:
		return "Login cancelled", o.Message() + details
	case mitid.OutcomeNavigation:
		return "Login interrupted", o.Message() + details
	case mitid.OutcomeIdentity:
		return "Login not completed", o.Message() + details
	case mitid.OutcomeUnknown:
		return "Login denied", strings.TrimSuffix(o.Message(), ".") + registered + "." + details
	default:
		return "Login failed", o.Message() + details
	}
	if refused {
		return "Login failed", "The provider refused the login" + registered + "." + details
	}
	return "Login failed", "The login could not be completed. The terminal shows why."
}

// loopbackRedirect checks that a redirect URI is one par login can listen
// on: http, a loopback host, an explicit port.
func loopbackRedirect(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, usageErrorf("--redirect-uri %q is not a URL", s)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if u.Scheme != "http" || (host != "localhost" && (ip == nil || !ip.IsLoopback())) || u.Port() == "" {
		return nil, usageErrorf("--redirect-uri %q: par login listens on the redirect URI itself, so it must be http://127.0.0.1:PORT/path (or [::1], localhost)", s)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// finish exchanges the code and fetches UserInfo.
func (c *cli) finish(ctx context.Context, cl *client.Client, flow *client.Flow, params url.Values, timeout time.Duration) (*loginResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tok, err := cl.Exchange(ctx, flow, params)
	if err != nil {
		return nil, err
	}
	res := &loginResult{Subject: tok.IDToken.Subject, Issuer: tok.IDToken.Issuer, TokenType: tok.Token.Type(),
		Refresh:  tok.Token.RefreshToken != "",
		Verified: []string{"state", "iss (RFC 9207)", "code exchange with PKCE", "ID token signature, iss, aud, exp", "nonce"},
		Details:  tok.AuthorizationDetails}
	if params.Has("response") {
		jarm := "response JWT signature, iss, aud, exp (JARM)"
		if strings.Count(params.Get("response"), ".") == 4 {
			jarm = "response JWT decrypted; " + jarm
		}
		res.Verified = append([]string{jarm}, res.Verified...)
	}
	if !tok.Token.Expiry.IsZero() {
		e := tok.Token.Expiry.UTC()
		res.Expiry = &e
	}
	if s, ok := tok.Token.Extra("scope").(string); ok {
		res.Scope = s
	}
	if err := tok.IDToken.Claims(&res.Claims); err != nil {
		return nil, err
	}
	if cl.Metadata().UserinfoEndpoint != "" {
		ui, err := cl.UserInfo(ctx, tok)
		if err != nil {
			res.UserInfoEr = err.Error()
		} else if err := ui.Claims(&res.UserInfo); err != nil {
			res.UserInfoEr = err.Error()
		}
	}
	return res, nil
}

func (c *cli) printLogin(jsonOut bool, r *loginResult) {
	if jsonOut {
		c.writeJSON(r)
		return
	}
	w := c.stdout
	fmt.Fprintf(w, "Logged in: sub %s at %s\n", r.Subject, r.Issuer)
	fmt.Fprintf(w, "Verified: %s\n\nID token claims:\n", strings.Join(r.Verified, ", "))
	writeIndented(w, r.Claims)
	if r.UserInfo != nil {
		fmt.Fprintln(w, "\nUserInfo (sub matches the ID token):")
		writeIndented(w, r.UserInfo)
	} else if r.UserInfoEr != "" {
		fmt.Fprintf(w, "\nUserInfo failed: %s\n", r.UserInfoEr)
	}
	fmt.Fprintf(w, "\nAccess token: %s (not shown)", r.TokenType)
	if r.Expiry != nil {
		fmt.Fprintf(w, ", expires %s", r.Expiry.Format(time.RFC3339))
	}
	if r.Scope != "" {
		fmt.Fprintf(w, ", scope %q", r.Scope)
	}
	fmt.Fprintf(w, "; refresh token issued: %v\n", r.Refresh)
	if len(r.Details) > 0 {
		fmt.Fprintln(w, "\nauthorization_details granted (RFC 9396):")
		for _, d := range r.Details {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}

// callbackHint suggests a fix for a failed callback or exchange.
func callbackHint(err error) string {
	switch mitid.OutcomeOf(err) {
	case mitid.OutcomeCancelled:
		return "the user cancelled the login at the provider: run par login again to retry"
	case mitid.OutcomeNavigation:
		return "the browser lost track of the login (back button, reload, blocked or time-skewed cookies): run par login again and finish it in one tab"
	case mitid.OutcomeBadRequest:
		return "the provider refused the request's parameters: check the --param values (idp_values, idp_params, hints)"
	case mitid.OutcomeIdentity:
		return "the login gave no identity the request allows (CPR match, no MitID Erhverv identity, missing consent)"
	case mitid.OutcomeTechnical:
		return "the provider or MitID had a technical problem: try again later"
	}
	var ae *client.AuthorizationError
	switch {
	case errors.As(err, &ae):
		return "the provider ended the login with an error (the user cancelled, or the request was refused)"
	case errors.Is(err, client.ErrInvalidResponseJWT):
		return "the JWT-secured response did not verify: check --response-mode, the provider's keys and clock, and --response-key for encrypted responses"
	case errors.Is(err, client.ErrIssuerMismatch):
		return "the callback's iss is not the issuer: a mix-up, or the wrong --issuer"
	case errors.Is(err, client.ErrStateMismatch):
		return "the callback belongs to another login: start again"
	case errors.Is(err, client.ErrInvalidIDToken):
		return "the ID token did not verify: check the provider's keys and clock"
	}
	return pushHint(err)
}
