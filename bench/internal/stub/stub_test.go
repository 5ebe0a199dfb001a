package stub

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
