package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

// A web app with sessions: the login's callback makes the session, /me
// reads it, and a provider's back-channel logout ends it.
func ExampleManager() {
	var app http.Handler
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	defer web.Close()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s",
		RedirectURIs: []string{web.URL + "/auth/callback"}, BackchannelLogoutURI: web.URL + "/auth/backchannel"}}})
	defer srv.Close()

	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: web.URL + "/auth/callback", HTTPClient: srv.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := session.New(session.Config{
		Client: c,
		Cookie: session.CookieConfig{InsecureCookie: true}, // plain http in this example only
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", m.Login().Mux("/auth"))
	mux.HandleFunc("POST /auth/backchannel", m.BackChannelLogout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(w, r)
		if errors.Is(err, session.ErrNoSession) {
			fmt.Fprint(w, "logged out")
			return
		}
		fmt.Fprintf(w, "logged in as %s", s.Subject)
	})
	app = mux

	// The browser: start, the provider's headless login, the callback.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, web.URL+"/auth/login", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := browser.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	params, _ := srv.Login(resp.Header.Get("Location"))
	if resp, err = browser.Get(web.URL + "/auth/callback?" + params.Encode()); err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	me := func() {
		resp, err := browser.Get(web.URL + "/me")
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		var b [64]byte
		n, _ := resp.Body.Read(b[:])
		fmt.Println(string(b[:n]))
	}
	me()

	// The user logs out at the provider: its logout token ends the session.
	if err := srv.EndSession(context.Background(), srv.Sessions("app")[0]); err != nil {
		fmt.Println(err)
	}
	me()
	// Output:
	// logged in as alice
	// logged out
}
