package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/partest"
)

// levelRecorder is a slog.Handler that keeps the level and message of
// every record.
type levelRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

// level returns the level of the first record whose message mentions "iss".
func (h *levelRecorder) issLevel() (slog.Level, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if r.Message == "client: callback: error response without iss (as the MitID broker answers)" ||
			r.Message == "client: callback: error response without iss although the provider advertises RFC 9207" {
			return r.Level, true
		}
	}
	return 0, false
}

// TestErrorResponseWithoutIss: the MitID broker redirects a user's cancel
// (and login_required) with state and session_state but without iss,
// although it advertises RFC 9207 (broker-recorded.md). Once state matches,
// the provider's *AuthorizationError is reachable in every profile; outside
// ProfileBroker it is joined with ErrIssuerMismatch and logged at Warn. A
// wrong iss, a success without iss and an error for another state stay
// refused. No case sends a token request.
func TestErrorResponseWithoutIss(t *testing.T) {
	t.Parallel()
	key := testRSAKey()
	profiles := []struct {
		profile client.Profile
		srv     func(t *testing.T) *partest.Server
		cfg     func() client.Config
	}{
		{client.ProfileDefault, func(t *testing.T) *partest.Server { return secretServer(t) },
			func() client.Config { return client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)} }},
		{client.ProfileBroker, func(t *testing.T) *partest.Server { return secretServer(t) },
			func() client.Config {
				return client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret), Profile: client.ProfileBroker}
			}},
		{client.ProfileFAPI2, func(t *testing.T) *partest.Server {
			srv := partest.NewServer(partest.Config{IssuerPath: "/op", IDTokenAlg: jose.PS256, Clients: []partest.Client{{ID: "app",
				AuthMethod: partest.AuthPrivateKeyJWT, RedirectURIs: []string{cb}, DPoPBound: true,
				JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}}}}})
			t.Cleanup(srv.Close)
			return srv
		}, func() client.Config {
			ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			proofer, _ := dpop.NewProofer(ec, nil)
			return client.Config{ClientID: "app", Auth: client.PrivateKeyJWT(key, "k"), DPoP: proofer, Profile: client.ProfileFAPI2}
		}},
	}
	type want struct {
		authErr     string // the AuthorizationError code reachable with errors.As, or ""
		issMismatch bool
	}
	cases := []struct {
		name   string
		params func(flow *client.Flow, iss string) url.Values
		want   func(p client.Profile) want
	}{
		{"cancel as recorded: no iss, state, session_state", func(f *client.Flow, _ string) url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {"mitid_user_aborted"},
				"state": {f.State}, "session_state": {"Yj3Vd1nY-2Q.6F4A1C1E0B2D3F4A5B6C7D8E9F0A1B2C"}}
		}, func(p client.Profile) want {
			return want{authErr: "access_denied", issMismatch: p != client.ProfileBroker}
		}},
		{"login_required without iss", func(f *client.Flow, _ string) url.Values {
			return url.Values{"error": {"login_required"}, "state": {f.State}, "session_state": {"x.y"}}
		}, func(p client.Profile) want {
			return want{authErr: "login_required", issMismatch: p != client.ProfileBroker}
		}},
		{"error with a wrong iss", func(f *client.Flow, _ string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {f.State}, "iss": {"https://evil.example"}}
		}, func(client.Profile) want { return want{issMismatch: true} }},
		{"success without iss", func(f *client.Flow, _ string) url.Values {
			return url.Values{"code": {"c0de"}, "state": {f.State}, "session_state": {"x.y"}}
		}, func(client.Profile) want { return want{issMismatch: true} }},
		{"error without iss for another state", func(*client.Flow, string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {"someone-else"}}
		}, func(client.Profile) want { return want{issMismatch: true} }},
		{"error without iss and without state", func(*client.Flow, string) url.Values {
			return url.Values{"error": {"access_denied"}}
		}, func(client.Profile) want { return want{issMismatch: true} }},
		{"error with the right iss", func(f *client.Flow, iss string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {f.State}, "iss": {iss}}
		}, func(client.Profile) want { return want{authErr: "access_denied"} }},
	}
	for _, p := range profiles {
		t.Run(p.profile.String(), func(t *testing.T) {
			t.Parallel()
			srv := p.srv(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					rec := &levelRecorder{}
					cfg := p.cfg()
					cfg.Issuer, cfg.RedirectURL, cfg.HTTPClient = srv.Issuer(), cb, srv.Client()
					cfg.Logger = slog.New(rec)
					c, err := client.New(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					flow, err := c.Push(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					tokenBefore := srv.Requests(partest.EndpointToken)
					tok, err := c.Exchange(context.Background(), flow, tc.params(flow, srv.Issuer()))
					w := tc.want(p.profile)
					if tok != nil || err == nil {
						t.Fatalf("Exchange = %v, %v; want an error", tok, err)
					}
					var ae *client.AuthorizationError
					gotAE := ""
					if errors.As(err, &ae) {
						gotAE = ae.Code
					}
					if gotAE != w.authErr || errors.Is(err, client.ErrIssuerMismatch) != w.issMismatch {
						t.Errorf("Exchange error %q: AuthorizationError %q, ErrIssuerMismatch %v; want %q, %v",
							err, gotAE, errors.Is(err, client.ErrIssuerMismatch), w.authErr, w.issMismatch)
					}
					if n := srv.Requests(partest.EndpointToken) - tokenBefore; n != 0 {
						t.Errorf("token requests = %d, want 0", n)
					}
					lvl, logged := rec.issLevel()
					wantLogged := w.authErr != "" && w.issMismatch || w.authErr != "" && p.profile == client.ProfileBroker && tc.params(flow, "")["iss"] == nil
					if logged != wantLogged {
						t.Errorf("iss log line written = %v, want %v", logged, wantLogged)
					} else if logged {
						wantLvl := slog.LevelWarn
						if p.profile == client.ProfileBroker {
							wantLvl = slog.LevelDebug
						}
						if lvl != wantLvl {
							t.Errorf("iss log level = %v, want %v", lvl, wantLvl)
						}
					}
				})
			}
		})
	}
}
