package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"
)

// TestCallbackPageShowsNoProviderText: the local callback page is served on
// par's own origin, so text the provider wrote (error_description,
// error_uri, an unregistered error code) would read as if par said it:
// phishing text ("call this number"). The page shows a fixed message, with
// the error code only when RFC 6749 registers it; the detail goes to stderr.
func TestCallbackPageShowsNoProviderText(t *testing.T) {
	t.Parallel()
	const phish = "Your account is locked. Call +45 12 34 56 78 or visit evil.example to unlock it"
	tests := []struct {
		name     string
		callback func(p url.Values) url.Values
		fault    *partest.Fault
		heading  string
		want     string   // on the page
		hidden   []string // never on the page
		stderr   string   // the detail, on stderr
	}{
		{
			name: "registered code with description and uri",
			callback: func(p url.Values) url.Values {
				return url.Values{"error": {"access_denied"}, "error_description": {phish}, "error_uri": {"https://evil.example/unlock"},
					"state": {p.Get("state")}, "iss": {p.Get("iss")}}
			},
			heading: "Login denied",
			want:    "The login was denied or did not complete (error code access_denied).",
			hidden:  []string{phish, "evil.example", "+45"},
			stderr:  phish,
		},
		{
			name: "unregistered code",
			callback: func(p url.Values) url.Values {
				return url.Values{"error": {phish}, "state": {p.Get("state")}, "iss": {p.Get("iss")}}
			},
			heading: "Login denied",
			want:    "The login was denied or did not complete.",
			hidden:  []string{phish, "evil.example", "+45", "error code"},
			stderr:  "Call +45",
		},
		{
			name:   "token endpoint error with description",
			fault:  &partest.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant","error_description":"` + phish + `"}`},
			want:   "The provider refused the login (error code invalid_grant).",
			hidden: []string{phish, "evil.example", "+45"},
			stderr: phish,
		},
		{
			name:   "token endpoint error with an unregistered code",
			fault:  &partest.Fault{Status: http.StatusBadRequest, Body: `{"error":"visit_evil.example_now"}`},
			want:   "The provider refused the login.",
			hidden: []string{"evil.example", "error code"},
			stderr: "visit_evil.example_now",
		},
		{
			name:   "not a provider error",
			fault:  &partest.Fault{IDTokenAlg: "none"},
			want:   "The login could not be completed.",
			hidden: []string{"none", "id token"},
			stderr: "id token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newProvider(t, nil)
			if tt.fault != nil {
				srv.SetFault(partest.EndpointToken, *tt.fault)
			}
			c, out, errOut := newCLI(map[string]string{"PAR_CLIENT_SECRET": testSecret})
			addr := make(chan string, 1)
			c.listening = func(a string) { addr <- a }
			done := make(chan int, 1)
			go func() {
				done <- c.run(context.Background(), []string{"login", "--issuer", srv.Issuer(), "--client-id", testClientID,
					"--redirect-uri", "http://127.0.0.1:0/cb", "--wait", "20s"})
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
			params, err := srv.Login(authURL)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if tt.callback != nil {
				params = tt.callback(params)
			}
			resp, err := http.Get("http://" + listen + "/cb?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(b)
			heading := tt.heading
			if heading == "" {
				heading = "Login failed"
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "<h1>"+heading+"</h1>") {
				t.Errorf("callback page = %d, want 400 and %s:\n%s", resp.StatusCode, heading, page)
			}
			if !strings.Contains(page, tt.want) {
				t.Errorf("callback page lacks %q:\n%s", tt.want, page)
			}
			for _, h := range tt.hidden {
				if strings.Contains(page, h) {
					t.Errorf("callback page shows provider text %q:\n%s", h, page)
				}
			}
			if code := <-done; code != exitProtocol {
				t.Errorf("exit code %d, want %d", code, exitProtocol)
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr lacks the detail %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}
