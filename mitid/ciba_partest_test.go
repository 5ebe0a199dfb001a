package mitid_test

// The CIBA→PAR flow against partest's broker emulation (partest.BrokerConfig)
// instead of this package's own fake broker. partest runs in-process
// (Config.InProcess) inside a synctest bubble, so the broker's 3 s interval,
// slow_down back-off and 300 s expiry cost no real time.

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

const partestCallback = "https://rp.example/ciba-done"

// partestCIBA starts a broker-shaped partest server and returns it with a
// *client.Client and a mitid.CIBA client of it. Call it inside a bubble.
func partestCIBA(t *testing.T, initAuthJSON bool) (*partest.Server, *client.Client, *mitid.CIBA) {
	t.Helper()
	cfg := partest.BrokerConfig(partest.Client{ID: cibaClientID, Secret: cibaSecret, RedirectURIs: []string{partestCallback}})
	cfg.InProcess = true
	srv := partest.NewServer(cfg)
	t.Cleanup(srv.Close)
	c, err := client.New(context.Background(), client.Config{
		Issuer: srv.Issuer(), ClientID: cibaClientID, Auth: client.ClientSecretBasic(cibaSecret),
		RedirectURL: partestCallback, Scopes: []string{"openid", "mitid"}, Profile: client.ProfileBroker,
		HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	ciba, err := mitid.NewCIBA(mitid.CIBAConfig{Client: c, HTTPClient: srv.Client(), InitAuthJSON: initAuthJSON})
	if err != nil {
		t.Fatalf("NewCIBA: %v", err)
	}
	return srv, c, ciba
}

// startMitID starts a broker_oidc flow for MitID with prompt=login.
func startMitID(t *testing.T, ciba *mitid.CIBA, extra ...string) *mitid.AuthRequest {
	t.Helper()
	idps := mitid.IDPValues(mitid.MitID)
	prompt := "login"
	if len(extra) > 0 {
		prompt = extra[0]
	}
	r, err := ciba.Start(context.Background(), mitid.CIBARequest{
		Scopes: []string{"mitid"}, Options: []oauth2.AuthCodeOption{idps, client.WithPrompt(prompt)},
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r
}

type pollResult struct {
	tok *client.Tokens
	err error
	at  time.Time
}

// pollAsync polls in a goroutine of the bubble.
func pollAsync(ciba *mitid.CIBA, r *mitid.AuthRequest) <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		tok, err := ciba.Poll(context.Background(), r)
		ch <- pollResult{tok, err, time.Now()}
	}()
	return ch
}

// TestCIBAPartest runs Start → InitAuth → the user's browser login at the
// authentication_uri → Poll against partest: two authorization_pending
// answers, then verified tokens for the broker user, then invalid_grant.
func TestCIBAPartest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		json     bool
		redirect bool
	}{
		{"form with client authentication", false, false},
		{"JSON without authentication", true, false},
		{"redirectUri and state", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				srv, c, ciba := partestCIBA(t, tt.json)
				start := time.Now()
				r := startMitID(t, ciba)
				if r.Interval != 3*time.Second || !r.ExpiresAt.Equal(start.Add(300*time.Second)) {
					t.Errorf("AuthRequest = %v, want the broker's 3 s interval and 300 s expiry", r)
				}
				var p mitid.InitAuthParams
				if tt.redirect {
					p = mitid.InitAuthParams{RedirectURI: partestCallback, State: "st-42"}
				}
				a, err := ciba.InitAuth(ctx, r, p)
				if err != nil {
					t.Fatalf("InitAuth: %v", err)
				}
				if !a.ExpiresAt.Equal(start.Add(600 * time.Second)) {
					t.Errorf("request_uri expires %v, want 600 s", a.ExpiresAt.Sub(start))
				}
				done := pollAsync(ciba, r)
				time.Sleep(7 * time.Second) // polls at 3 s and 6 s are pending
				params, err := srv.Login(a.URI)
				if err != nil {
					t.Fatalf("Login(authentication_uri): %v", err)
				}
				if tt.redirect {
					if params.Get("state") != "st-42" || params.Get("iss") != srv.Issuer() || params.Has("code") {
						t.Errorf("redirect parameters = %v, want state and iss only", params)
					}
				} else if len(params) != 0 {
					t.Errorf("Login = %v, want the close-window page (no parameters)", params)
				}
				res := <-done
				if res.err != nil {
					t.Fatalf("Poll: %v", res.err)
				}
				if d := res.at.Sub(start); d != 9*time.Second {
					t.Errorf("tokens after %v, want 9 s (polls at 3, 6, 9 s)", d)
				}
				if n := srv.Requests(partest.EndpointToken); n != 3 {
					t.Errorf("%d token requests, want 3", n)
				}
				want := partest.BrokerUsers()[0]
				if res.tok.IDToken.Subject != want.Subject || res.tok.IDToken.Audience[0] != cibaClientID {
					t.Errorf("ID token sub %q aud %v", res.tok.IDToken.Subject, res.tok.IDToken.Audience)
				}
				var claims mitid.Claims
				if err := res.tok.IDToken.Claims(&claims); err != nil {
					t.Fatal(err)
				}
				if claims.IDP != mitid.MitID || claims.RequireLevel(mitid.Substantial) != nil {
					t.Errorf("claims = %+v", claims)
				}
				// As recorded from the broker, the mitid.* claims come from
				// UserInfo, not from the ID token.
				ui, err := c.UserInfo(ctx, res.tok)
				if err != nil {
					t.Fatalf("UserInfo: %v", err)
				}
				var uiClaims mitid.Claims
				if err := ui.Claims(&uiClaims); err != nil || uiClaims.MitID.Age != 88 {
					t.Errorf("UserInfo claims = %+v (%v), want mitid.age 88", uiClaims, err)
				}
				var raw struct {
					Type string `json:"idtoken_type"`
				}
				if err := res.tok.IDToken.Claims(&raw); err != nil || raw.Type != "ciba" {
					t.Errorf("idtoken_type = %q (%v), want ciba", raw.Type, err)
				}
				if _, err := ciba.Poll(ctx, r); !errors.Is(err, mitid.ErrInvalidGrant) {
					t.Errorf("second Poll = %v, want ErrInvalidGrant (results are returned once)", err)
				}
			})
		})
	}
}

// TestCIBAPartestSlowDown polls faster than the broker's interval (the
// AuthRequest's Interval overridden to 1 s): partest answers slow_down and
// adds 5 s to its interval, the client adds 5 s to its own, twice, and the
// tokens come at 18 s.
func TestCIBAPartestSlowDown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, _, ciba := partestCIBA(t, false)
		start := time.Now()
		r := startMitID(t, ciba)
		a, err := ciba.InitAuth(context.Background(), r, mitid.InitAuthParams{})
		if err != nil {
			t.Fatal(err)
		}
		r.Interval = time.Second
		done := pollAsync(ciba, r)
		// Polls: 1 s slow_down (server interval 8 s), 7 s slow_down (13 s);
		// the user finishes at 10 s; 18 s gets the tokens.
		time.Sleep(10 * time.Second)
		if _, err := srv.Login(a.URI); err != nil {
			t.Fatal(err)
		}
		res := <-done
		if res.err != nil {
			t.Fatalf("Poll: %v", res.err)
		}
		if d := res.at.Sub(start); d != 18*time.Second {
			t.Errorf("tokens after %v, want 18 s", d)
		}
		if n := srv.Requests(partest.EndpointToken); n != 3 {
			t.Errorf("%d token requests, want 3", n)
		}
	})
}

// TestCIBAPartestFailures covers expiry, denial (test hook and a failed
// browser login) and cancellation.
func TestCIBAPartestFailures(t *testing.T) {
	t.Parallel()
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, ciba := partestCIBA(t, false)
			start := time.Now()
			r := startMitID(t, ciba)
			_, err := ciba.Poll(context.Background(), r)
			var re *client.ResponseError
			if !errors.Is(err, mitid.ErrExpired) || !errors.As(err, &re) || re.Code != "expired_token" {
				t.Fatalf("Poll = %v, want ErrExpired from expired_token", err)
			}
			if d := time.Since(start); d != 300*time.Second {
				t.Errorf("gave up after %v, want 300 s", d)
			}
			if n := srv.Requests(partest.EndpointToken); n != 100 {
				t.Errorf("%d token requests, want 100 (every 3 s)", n)
			}
			if _, err := ciba.InitAuth(context.Background(), r, mitid.InitAuthParams{}); !errors.Is(err, mitid.ErrExpired) {
				t.Errorf("InitAuth after expiry = %v, want ErrExpired", err)
			}
		})
	})
	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, ciba := partestCIBA(t, false)
			r := startMitID(t, ciba)
			if err := srv.DenyCIBA(r.ID); err != nil {
				t.Fatal(err)
			}
			_, err := ciba.Poll(context.Background(), r)
			var re *client.ResponseError
			if !errors.Is(err, mitid.ErrAccessDenied) || !errors.As(err, &re) || re.Description != "mitid_user_aborted" {
				t.Fatalf("Poll = %v, want ErrAccessDenied with mitid_user_aborted", err)
			}
			if _, err := ciba.Poll(context.Background(), r); !errors.Is(err, mitid.ErrInvalidGrant) {
				t.Errorf("second Poll = %v, want ErrInvalidGrant", err)
			}
		})
	})
	t.Run("browser login fails", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, ciba := partestCIBA(t, false)
			r := startMitID(t, ciba, "none") // no broker session: login_required
			a, err := ciba.InitAuth(context.Background(), r, mitid.InitAuthParams{})
			if err != nil {
				t.Fatal(err)
			}
			var ae *partest.AuthorizeError
			if _, err := srv.Login(a.URI); !errors.As(err, &ae) || ae.Code != "login_required" {
				t.Fatalf("Login = %v, want the broker's error page (login_required)", err)
			}
			if _, err := ciba.Poll(context.Background(), r); !errors.Is(err, mitid.ErrAccessDenied) {
				t.Errorf("Poll = %v, want ErrAccessDenied", err)
			}
		})
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, ciba := partestCIBA(t, false)
			ctx := context.Background()
			r := startMitID(t, ciba)
			if _, err := ciba.InitAuth(ctx, r, mitid.InitAuthParams{}); err != nil {
				t.Fatal(err)
			}
			if err := ciba.Cancel(ctx, r); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			var re *client.ResponseError
			if err := ciba.Cancel(ctx, r); !errors.As(err, &re) || re.StatusCode != 404 {
				t.Errorf("second Cancel = %v, want 404", err)
			}
			if _, err := ciba.Poll(ctx, r); !errors.Is(err, mitid.ErrInvalidGrant) {
				t.Errorf("Poll after Cancel = %v, want ErrInvalidGrant", err)
			}
			if _, err := ciba.InitAuth(ctx, r, mitid.InitAuthParams{}); err == nil {
				t.Error("InitAuth after Cancel succeeded")
			}
			if n := srv.Requests(partest.EndpointCIBACancel); n != 2 {
				t.Errorf("%d cancel requests, want 2", n)
			}
		})
	})
}
