package session_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

// TestRefreshOnce: many concurrent requests of one session that all find
// the access token expiring make exactly one refresh at the provider, all
// succeed, and the rotated refresh token is kept (the next refresh works;
// partest revokes the grant when a used refresh token comes back).
func TestRefreshOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		dpop, inCookie bool
	}{{"bearer", false, false}, {"dpop per session", true, false}, {"cookie sessions", false, true}, {"cookie sessions with dpop", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dpop := tt.dpop
			e := newEnv(t, envOptions{
				partest: func(c *partest.Config) { c.Clients[0].DPoPBound = dpop; c.DPoPNonce = dpop },
				session: func(c *session.Config) { c.DPoP = dpop; c.CookieSessions = tt.inCookie },
			})
			b := e.browser()
			b.login()
			if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK || !strings.HasPrefix(r.body, "data for alice") {
				t.Fatalf("/api = %d %q", r.status, r.body)
			}
			for round := 1; round <= 2; round++ {
				tokens := e.srv.Requests(partest.EndpointToken)
				e.clock.Advance(10 * time.Minute) // every access token has expired
				var wg sync.WaitGroup
				fails := make(chan string, 50)
				for range 50 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK {
							fails <- r.body
						}
					}()
				}
				wg.Wait()
				close(fails)
				for f := range fails {
					t.Errorf("round %d: a request failed: %s", round, f)
				}
				if n := e.srv.Requests(partest.EndpointToken) - tokens; n != 1 {
					t.Errorf("round %d: token requests = %d, want exactly 1 refresh", round, n)
				}
			}
		})
	}
}

// TestRefreshRefusedEndsSession: a refresh the provider refuses ends the
// session cleanly: the request fails with ErrEnded, and the next finds no
// session.
func TestRefreshRefusedEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, Status: http.StatusBadRequest,
		Body: `{"error":"invalid_grant","error_description":"refresh token revoked"}`})
	e.clock.Advance(10 * time.Minute)
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusBadGateway || !strings.Contains(r.body, session.ErrEnded.Error()) {
		t.Errorf("/api with a refused refresh = %d %q, want the session ended", r.status, r.body)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me after the refused refresh = %d, want 401", st)
	}
	if n := e.store.Len(); n != 0 {
		t.Errorf("sessions stored = %d, want 0", n)
	}

	// A provider that is down does not end the session.
	b.login()
	e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, Status: http.StatusServiceUnavailable, Body: "down"})
	e.clock.Advance(10 * time.Minute)
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusBadGateway {
		t.Errorf("/api with the provider down = %d %q", r.status, r.body)
	}
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK {
		t.Errorf("/api once the provider is back = %d %q", r.status, r.body)
	}
}

// TestRefreshIDTokenOfAnotherLogin: a refreshed ID token that fails OIDC
// Core §12.2 ends the session.
func TestRefreshIDTokenOfAnotherLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, IDToken: func(c map[string]any) { c["sub"] = "mallory" }})
	e.clock.Advance(10 * time.Minute)
	if r := b.do(http.MethodGet, "/api", nil, nil); !strings.Contains(r.body, "sub differs") || !strings.Contains(r.body, "session ended") {
		t.Errorf("/api after a refresh with another sub = %d %q", r.status, r.body)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me = %d, want 401", st)
	}
}

// TestRetryAfterInvalidToken: a 401 invalid_token from the resource server
// (a revoked token) gets one refresh and one retry.
func TestRetryAfterInvalidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK {
		t.Fatal(r.body)
	}
	// The resource server revokes the next refreshed token, once.
	var tok string
	e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, Response: func(body map[string]any) {
		tok, _ = body["access_token"].(string)
	}})
	e.clock.Advance(10 * time.Minute)
	b.do(http.MethodGet, "/api", nil, nil) // refresh: tok is the new access token
	e.rs.revoked.Store(tok, true)
	tokens, calls := e.srv.Requests(partest.EndpointToken), e.rs.calls.Load()
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK {
		t.Errorf("/api with a revoked token = %d %q, want 200 after one refresh", r.status, r.body)
	}
	if n := e.srv.Requests(partest.EndpointToken) - tokens; n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if n := e.rs.calls.Load() - calls; n != 2 {
		t.Errorf("resource calls = %d, want 2 (one 401, one retry)", n)
	}
}

// TestNoRefreshToken: an expired access token without a refresh token
// ends the session.
func TestNoRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{partest: func(c *partest.Config) { c.RefreshTokens = false }})
	b := e.browser()
	b.login()
	e.clock.Advance(10 * time.Minute)
	if r := b.do(http.MethodGet, "/api", nil, nil); !strings.Contains(r.body, "no refresh token") {
		t.Errorf("/api = %d %q, want the session ended (no refresh token)", r.status, r.body)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/me = %d, want 401", st)
	}
}
