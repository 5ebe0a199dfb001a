package login_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// StatusCode maps a failed login step to the status of the error page.
func ExampleStatusCode() {
	for _, err := range []error{
		&login.Error{Op: login.OpCallback, Err: login.ErrFlowNotFound},                             // replayed or expired callback
		&login.Error{Op: login.OpCallback, Err: &client.AuthorizationError{Code: "access_denied"}}, // user cancelled
		&login.Error{Op: login.OpStart, Err: &client.ResponseError{Endpoint: "par", StatusCode: 400, Code: "invalid_request"}},
		&login.Error{Op: login.OpStart, Err: &client.ResponseError{Endpoint: "par", StatusCode: 503}},
		&login.Error{Op: login.OpStart, Err: context.DeadlineExceeded},
		&login.Error{Op: login.OpStart, Err: login.ErrMethodNotAllowed},
		errors.New("something else"),
	} {
		fmt.Println(login.StatusCode(err))
	}
	// Output:
	// 400
	// 403
	// 502
	// 503
	// 504
	// 405
	// 500
}

// DefaultOnError writes a plain page with the provider's error code at most:
// never its description, a token or a secret.
func ExampleDefaultOnError() {
	err := &login.Error{Op: login.OpCallback, Err: &client.AuthorizationError{
		Code: "access_denied", Description: "mitid_user_aborted for user 0101-secret"}}
	w := httptest.NewRecorder()
	login.DefaultOnError(w, httptest.NewRequest(http.MethodGet, "/callback", nil), err)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	fmt.Print(w.Body.String())
	// Output:
	// 403 no-store
	// login was cancelled or denied (access_denied)
}

// A MemoryStore hands each flow out once (Take is single-use) and drops it
// after its expiry.
func ExampleNewMemoryStore() {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := login.NewMemoryStore(login.MemoryOptions{Now: func() time.Time { return now }})
	ctx := context.Background()

	flow := &client.Flow{State: "st-1", RequestURI: "urn:ietf:params:oauth:request_uri:abc"}
	if err := s.Save(ctx, nil, nil, flow, now.Add(10*time.Minute)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending:", s.Len())

	got, err := s.Take(ctx, nil, nil, "st-1")
	fmt.Println(got.RequestURI, err)
	_, err = s.Take(ctx, nil, nil, "st-1")
	fmt.Println(errors.Is(err, login.ErrFlowNotFound))

	s.Save(ctx, nil, nil, &client.Flow{State: "st-2"}, now.Add(time.Minute))
	now = now.Add(2 * time.Minute)
	_, err = s.Take(ctx, nil, nil, "st-2")
	fmt.Println("expired:", errors.Is(err, login.ErrFlowNotFound))
	// Output:
	// pending: 1
	// urn:ietf:params:oauth:request_uri:abc <nil>
	// true
	// expired: true
}

// The Handler's Start, Callback and Logout are plain handler methods, to
// mount on the app's own routes. Logout ends the app session (OnLogout) and
// sends the browser to the provider's end_session_endpoint with the
// id_token_hint (OIDC RP-Initiated Logout 1.0 §2).
func ExampleHandler_Logout() {
	mux := http.NewServeMux()
	web := httptest.NewTLSServer(mux)
	defer web.Close()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s",
		RedirectURIs: []string{web.URL + "/auth/return"}, PostLogoutRedirectURIs: []string{web.URL + "/bye"}}}})
	defer srv.Close()
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: web.URL + "/auth/return", HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	var session string // the app's session store, reduced to one raw ID token
	h, err := login.New(login.Config{
		Client: c,
		OnLogin: func(w http.ResponseWriter, r *http.Request, t *client.Tokens) {
			session = t.RawIDToken
			fmt.Fprint(w, "welcome ", t.IDToken.Subject)
		},
		OnLogout: func(w http.ResponseWriter, r *http.Request) (string, error) {
			hint := session
			session = ""
			return hint, nil
		},
		PostLogoutRedirectURL: web.URL + "/bye",
		CallbackPath:          "/auth/return",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("POST /auth/begin", h.Start)
	mux.HandleFunc("GET /auth/return", h.Callback)
	mux.HandleFunc("POST /auth/end", h.Logout)

	browser := web.Client()
	browser.Jar, _ = cookiejar.New(nil)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Post(web.URL+"/auth/begin", "application/x-www-form-urlencoded", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	params, err := srv.Login(resp.Header.Get("Location"))
	if err != nil {
		log.Fatal(err)
	}
	resp, err = browser.Get(web.URL + "/auth/return?" + params.Encode())
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))

	want, _ := h.LogoutURL(session) // what Logout will redirect to
	resp, err = browser.Post(web.URL+"/auth/end", "application/x-www-form-urlencoded", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println(resp.StatusCode, resp.Header.Get("Location") == want, session == "")
	fmt.Println(loc.Query().Get("post_logout_redirect_uri") == web.URL+"/bye", loc.Query().Get("id_token_hint") != "")
	// Output:
	// welcome alice
	// 303 true true
	// true true
}
