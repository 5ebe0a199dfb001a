package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

// TestLoginBrokerOutcomes: par login against partest's broker mode, whose
// error responses come without iss, as the MitID broker was recorded
// answering. A login the broker ends with a code of its catalogue shows
// the message of the code's group on the callback page — a cancel as a
// cancel, a code outside the catalogue as a generic denial — never the
// provider's text, and the terminal's hint says what happened, never a
// mix-up, in the broker profile and in the default one (where the error is
// also joined with ErrIssuerMismatch). No token request is made. The code
// before showed "The provider refused the login" and, in the default
// profile, hinted at an ordinary provider error.
func TestLoginBrokerOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, profile    string
		code, desc       string
		heading, message string
		hint             string
	}{
		{"cancel", "broker", "access_denied", "mitid_user_aborted", "Login cancelled", "You cancelled the login.", "the user cancelled the login"},
		{"cancel, default profile", "default", "access_denied", "mitid_user_aborted", "Login cancelled", "You cancelled the login.", "the user cancelled the login"},
		{"navigation", "broker", "access_denied", "mitid_anti_forgery_validation_error", "Login interrupted", "Your browser lost track of the login", "the browser lost track of the login"},
		{"bad request", "broker", "access_denied", "mitid_uuid_hint_malformed", "Login failed", "this service sent an invalid request", "the provider refused the request's parameters"},
		{"identity", "broker", "access_denied", "mitid_erhverv.no_identities", "Login not completed", "did not give an identity", "the login gave no identity the request allows"},
		{"technical", "default", "access_denied", "mitid_internal_error", "Login failed", "had a technical problem", "the provider or MitID had a technical problem"},
		{"login_required", "broker", "login_required", "no_ctx", "Login interrupted", "Your browser lost track of the login", "the browser lost track of the login"},
		{"outside the catalogue", "broker", "access_denied", "call_4512345678_now", "Login denied", "The login was denied or did not complete (error code access_denied).", "the provider ended the login with an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := partest.BrokerConfig(partest.Client{ID: testClientID, Secret: testSecret,
				RedirectURIs: []string{"http://127.0.0.1:8400/cb"}, AllowUnregisteredRedirectURIsViaPAR: true})
			srv := partest.NewServer(cfg)
			t.Cleanup(srv.Close)
			c, out, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
			addr := make(chan string, 1)
			c.listening = func(a string) { addr <- a }
			done := make(chan int, 1)
			go func() {
				done <- c.run(context.Background(), []string{"login", "--issuer", srv.Issuer(), "--client-id", testClientID,
					"--redirect-uri", "http://127.0.0.1:0/cb", "--profile", tt.profile, "--wait", "20s"})
			}()
			listen := <-addr
			var authURL string
			for i := 0; i < 500 && authURL == ""; i++ {
				if m := regexp.MustCompile(`(?m)^  (http://\S+)$`).FindStringSubmatch(out.String()); m != nil {
					authURL = m[1]
				} else {
					time.Sleep(10 * time.Millisecond)
				}
			}
			if authURL == "" {
				t.Fatalf("no URL printed; stderr %s", errOut)
			}
			srv.FailNextLogin(tt.code, tt.desc)
			params, err := srv.Login(authURL)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if params.Has("iss") || params.Get("error_description") != tt.desc {
				t.Fatalf("callback parameters %v, want the broker's error without iss", params)
			}
			resp, err := http.Get("http://" + listen + "/cb?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(b)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "<h1>"+tt.heading+"</h1>") || !strings.Contains(page, tt.message) {
				t.Errorf("callback page = %d, want 400, %q and %q:\n%s", resp.StatusCode, tt.heading, tt.message, page)
			}
			for _, bad := range []string{tt.desc, "issuer", "4512345678"} {
				if strings.Contains(page, bad) {
					t.Errorf("callback page shows %q:\n%s", bad, page)
				}
			}
			if code := <-done; code != exitProtocol {
				t.Errorf("exit code %d, want %d", code, exitProtocol)
			}
			if !strings.Contains(errOut.String(), "hint: "+tt.hint) || strings.Contains(errOut.String(), "mix-up") {
				t.Errorf("stderr lacks the hint %q (or speaks of a mix-up):\n%s", tt.hint, errOut)
			}
			if !strings.Contains(errOut.String(), tt.desc) {
				t.Errorf("stderr lacks the detail %q:\n%s", tt.desc, errOut)
			}
			if n := srv.Requests(partest.EndpointToken); n != 0 {
				t.Errorf("%d token requests after the provider ended the login", n)
			}
		})
	}
}
