package login_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// Example runs a whole login against partest: a POST from the login form starts
// it, the provider authenticates the user, and the callback hands verified
// tokens to OnLogin.
func Example() {
	var app http.Handler
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	defer web.Close()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{
		{ID: "app", Secret: "s3cret", RedirectURIs: []string{web.URL + "/callback"}},
	}})
	defer srv.Close()

	c, err := client.New(context.Background(), client.Config{
		Issuer:      srv.Issuer(),
		ClientID:    "app",
		Auth:        client.ClientSecretBasic("s3cret"),
		RedirectURL: web.URL + "/callback",
		HTTPClient:  srv.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := login.New(login.Config{
		Client: c,
		OnLogin: func(w http.ResponseWriter, r *http.Request, t *client.Tokens) {
			// Start the app's session here; t.IDToken is verified.
			fmt.Fprintf(w, "welcome %s", t.IDToken.Subject)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	app = h // serves /login, /callback and /logout

	// The browser: a cookie jar, stopping at each redirect.
	browser := web.Client()
	browser.Jar, _ = cookiejar.New(nil)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := browser.Post(web.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("start:", resp.StatusCode)

	params, err := srv.Login(resp.Header.Get("Location")) // the user logs in at the provider
	if err != nil {
		log.Fatal(err)
	}
	resp, err = browser.Get(web.URL + "/callback?" + params.Encode())
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("callback:", resp.StatusCode, string(body))

	// The same callback again is refused: every flow is single-use.
	resp, err = browser.Get(web.URL + "/callback?" + params.Encode())
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("replay:", resp.StatusCode)
	// Output:
	// start: 303
	// callback: 200 welcome alice
	// replay: 400
}

// ExampleNewCookieStore keeps flows in encrypted cookies instead of server
// memory, e.g. for an app behind a load balancer.
func ExampleNewCookieStore() {
	key := make([]byte, 32) // in production: loaded from a secret store
	rand.Read(key)
	store, err := login.NewCookieStore(login.CookieConfig{Keys: [][]byte{key}})
	if err != nil {
		log.Fatal(err)
	}
	// login.New(login.Config{Client: c, Store: store, ...})

	flow := &client.Flow{State: "Q2XN7LBDVZ", Nonce: "n", CodeVerifier: "v", Issuer: "https://op.example"}
	w := httptest.NewRecorder()
	if err := store.Save(context.Background(), w, httptest.NewRequest("POST", "/login", nil), flow, time.Now().Add(10*time.Minute)); err != nil {
		log.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	fmt.Println(strings.HasPrefix(cookie.Name, "__Host-par-f-"), cookie.HttpOnly, cookie.Secure, cookie.MaxAge)

	callback := httptest.NewRequest("GET", "/callback", nil)
	callback.AddCookie(cookie)
	got, err := store.Take(context.Background(), httptest.NewRecorder(), callback, "Q2XN7LBDVZ")
	fmt.Println(got.Issuer, err)

	_, err = store.Take(context.Background(), httptest.NewRecorder(), callback, "another state")
	fmt.Println(errors.Is(err, login.ErrFlowNotFound))
	// Output:
	// true true true 600
	// https://op.example <nil>
	// true
}

// ExampleForwardedFor counts login starts by the address that the app's one
// reverse proxy saw: the last X-Forwarded-For entry. Entries further left
// are the client's own words and are not trusted.
func ExampleForwardedFor() {
	addr := login.ForwardedFor(1)
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "10.0.0.2:51000" // the proxy
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	fmt.Println(addr(r))

	// In login.Config:
	_ = login.Config{StartLimits: login.StartLimits{ClientAddress: login.ForwardedFor(1)}}
	// Output: 198.51.100.7
}
