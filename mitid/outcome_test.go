package mitid_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// brokerCatalogue is the broker's error-code catalogue by group, as listed in
// broker-recorded.md ("Error codes the broker puts in error_description").
var brokerCatalogue = map[mitid.Outcome][]string{
	mitid.OutcomeCancelled: {"mitid_user_aborted", "mitid_core_client_error_user_abort", "mitid_erhverv_user_aborted",
		"private_to_business_user_aborted", "privilege_cvr_select_user_aborted", "user_aborted",
		"workflow_signing_aborted", "declined_user_consent"},
	mitid.OutcomeNavigation: {"user_navigation_error", "user_navigation_error_empty_state",
		"mitid_user_navigation_error_empty_state", "mitid_erhverv_unexpected_user_navigation",
		"mitid_anti_forgery_validation_error", "mitid_auth_code_already_used", "user_is_missing_cookies",
		"user_missing_timed_cookies", "idp_correlation_failure", "no_ctx", "mitid_no_ctx",
		"oidc_correlation_continue_failed", "mitid_browser_not_supported"},
	mitid.OutcomeBadRequest: {"invalid_idp_params", "invalid_idp_configuration_or_parameter", "no_ctx_idp_params",
		"mitid_uuid_hint_malformed", "invalid_consent_id", "invalid_tin", "mitid_simulation_error_parameter",
		"mitid_simulation_unknown_user"},
	mitid.OutcomeIdentity: {"mitid_cpr_match_failed", "mitid_identity_not_found", "mitid_erhverv.no_identities",
		"missing_user_in_session", "invalid_user_for_user_consent", "missing_user_consent"},
	mitid.OutcomeTechnical: {"internal_error", "idp_remote_error", "idp_no_ctx", "mitid_core_client_error",
		"mitid_internal_error", "mitid_timeout", "mitid_unexpected_error", "mitid_erhverv_api_error",
		"mitid_transaction_signing_failed", "transaction_signing_hash_mismatch",
		"transaction_signing_lokal_idp_correlation_error", "mitid_invalid_transfer_token_code",
		"mitid_transfer_token_exchange_code_already_used"},
}

// TestOutcomeCatalogue classifies every code of the broker's catalogue, as
// the callback's error_description under access_denied and login_required,
// as a CIBA denial (ErrAccessDenied with the broker's *client.ResponseError,
// CIBA Core §11), and joined with ErrIssuerMismatch (a cancel without iss
// outside ProfileBroker).
func TestOutcomeCatalogue(t *testing.T) {
	t.Parallel()
	n := 0
	for want, codes := range brokerCatalogue {
		for _, code := range codes {
			n++
			t.Run(code, func(t *testing.T) {
				t.Parallel()
				forms := map[string]error{
					"access_denied":  &client.AuthorizationError{Code: "access_denied", Description: code, State: "s"},
					"login_required": &client.AuthorizationError{Code: "login_required", Description: code},
					"ciba":           fmt.Errorf("%w: %w", mitid.ErrAccessDenied, &client.ResponseError{Endpoint: "token", StatusCode: 400, Code: "access_denied", Description: code}),
					"without iss":    errors.Join(&client.AuthorizationError{Code: "access_denied", Description: code}, client.ErrIssuerMismatch),
					"wrapped":        fmt.Errorf("login: exchange: %w", &client.AuthorizationError{Code: "access_denied", Description: code}),
				}
				for name, err := range forms {
					if got := mitid.OutcomeOf(err); got != want {
						t.Errorf("%s: OutcomeOf = %v, want %v", name, got, want)
					}
					if got := mitid.UserCancelled(err); got != (want == mitid.OutcomeCancelled) {
						t.Errorf("%s: UserCancelled = %v", name, got)
					}
				}
			})
		}
	}
	if n != 48 {
		t.Errorf("the catalogue table lists %d codes, want the 48 of broker-recorded.md", n)
	}
}

// TestOutcomeOutsideCatalogue: codes the catalogue does not list are a
// generic denial (or technical, for RFC 6749's server_error and
// temporarily_unavailable), and errors that are not a provider's end of the
// login are OutcomeNone.
func TestOutcomeOutsideCatalogue(t *testing.T) {
	t.Parallel()
	re := func(code, desc string) *client.ResponseError {
		return &client.ResponseError{Endpoint: "token", StatusCode: 400, Code: code, Description: desc}
	}
	tests := []struct {
		name string
		err  error
		want mitid.Outcome
	}{
		{"nil", nil, mitid.OutcomeNone},
		{"plain error", errors.New("dial tcp: connection refused"), mitid.OutcomeNone},
		{"issuer mismatch alone", client.ErrIssuerMismatch, mitid.OutcomeNone},
		{"state mismatch", client.ErrStateMismatch, mitid.OutcomeNone},
		{"PAR invalid_client", re("invalid_client", ""), mitid.OutcomeNone},
		{"token invalid_grant", re("invalid_grant", "mitid_user_aborted"), mitid.OutcomeNone},
		{"access_denied without description", &client.AuthorizationError{Code: "access_denied"}, mitid.OutcomeUnknown},
		{"unknown broker code", &client.AuthorizationError{Code: "access_denied", Description: "mitid_new_code_2027"}, mitid.OutcomeUnknown},
		{"a sentence", &client.AuthorizationError{Code: "access_denied", Description: "The user cancelled; call +45 12 34 56 78"}, mitid.OutcomeUnknown},
		{"case differs", &client.AuthorizationError{Code: "access_denied", Description: "MITID_USER_ABORTED"}, mitid.OutcomeUnknown},
		{"spaces around", &client.AuthorizationError{Code: "access_denied", Description: " mitid_user_aborted"}, mitid.OutcomeUnknown},
		{"login_required bare", &client.AuthorizationError{Code: "login_required"}, mitid.OutcomeUnknown},
		{"unregistered error code", &client.AuthorizationError{Code: "weird_error"}, mitid.OutcomeUnknown},
		{"server_error", &client.AuthorizationError{Code: "server_error"}, mitid.OutcomeTechnical},
		{"temporarily_unavailable", &client.AuthorizationError{Code: "temporarily_unavailable", Description: "try later"}, mitid.OutcomeTechnical},
		{"catalogue code wins over server_error", &client.AuthorizationError{Code: "server_error", Description: "mitid_user_aborted"}, mitid.OutcomeCancelled},
		{"ciba access_denied, no sub-code", fmt.Errorf("%w: %w", mitid.ErrAccessDenied, re("access_denied", "")), mitid.OutcomeUnknown},
		{"ciba access_denied, unknown sub-code", fmt.Errorf("%w: %w", mitid.ErrAccessDenied, re("access_denied", "something_new")), mitid.OutcomeUnknown},
		{"ErrAccessDenied alone", mitid.ErrAccessDenied, mitid.OutcomeUnknown},
		{"access_denied ResponseError alone", re("access_denied", "mitid_user_aborted"), mitid.OutcomeCancelled},
		{"ciba expired", fmt.Errorf("%w: %w", mitid.ErrExpired, re("expired_token", "")), mitid.OutcomeNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mitid.OutcomeOf(tt.err); got != tt.want {
				t.Errorf("OutcomeOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestOutcomeMessage: each outcome has its own fixed sentence and name;
// OutcomeNone has no sentence, so an app falls back to its own message.
func TestOutcomeMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o       mitid.Outcome
		name    string
		message string
	}{
		{mitid.OutcomeNone, "none", ""},
		{mitid.OutcomeCancelled, "cancelled", "You cancelled the login."},
		{mitid.OutcomeNavigation, "navigation", "Your browser lost track of the login (the back button, a reload or blocked cookies); please start again."},
		{mitid.OutcomeBadRequest, "bad_request", "The login could not start because this service sent an invalid request; please try again later."},
		{mitid.OutcomeIdentity, "identity", "The login did not give an identity this service can accept."},
		{mitid.OutcomeTechnical, "technical", "MitID or the login broker had a technical problem; please try again later."},
		{mitid.OutcomeUnknown, "unknown", "The login was denied or did not complete."},
		{mitid.Outcome(99), "none", ""},
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.name {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(tt.o), got, tt.name)
		}
		if got := tt.o.Message(); got != tt.message {
			t.Errorf("%v.Message() = %q, want %q", tt.o, got, tt.message)
		}
	}
}

// TestOutcomeBrokerCancel feeds the broker's recorded cancel (access_denied,
// mitid_user_aborted, state, session_state, no iss) through Exchange in both
// the broker and the default profile, from an httptest broker that answers
// as recorded and from partest's broker mode, and through a denied CIBA
// flow: OutcomeOf says cancelled each time, and no token request is made.
func TestOutcomeBrokerCancel(t *testing.T) {
	t.Parallel()
	for _, profile := range []client.Profile{client.ProfileBroker, client.ProfileDefault} {
		t.Run(fmt.Sprint("recorded/", profile), func(t *testing.T) {
			t.Parallel()
			c, flow, tokenCalls := recordedBroker(t, profile)
			// The literal recorded shape, with this flow's state.
			q, err := url.ParseQuery("error=access_denied&error_description=mitid_user_aborted&state=" + url.QueryEscape(flow.State) +
				"&session_state=3mfgTk0KSqZ2Jn3IfUjO8rJrVJ8m2d2nQd6LWc3pBPI.B1E0F7A0E3D2C1B0A9F8E7D6C5B4A392")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Exchange(context.Background(), flow, q)
			if !mitid.UserCancelled(err) || mitid.OutcomeOf(err) != mitid.OutcomeCancelled {
				t.Fatalf("Exchange = %v: OutcomeOf %v, want cancelled", err, mitid.OutcomeOf(err))
			}
			if got := errors.Is(err, client.ErrIssuerMismatch); got != (profile != client.ProfileBroker) {
				t.Errorf("errors.Is(ErrIssuerMismatch) = %v in profile %v", got, profile)
			}
			if *tokenCalls != 0 {
				t.Errorf("%d token requests after a cancel", *tokenCalls)
			}
		})
	}
	t.Run("partest FailNextLogin", func(t *testing.T) {
		t.Parallel()
		const cb = "https://rp.example/cb"
		srv := partest.NewServer(partest.BrokerConfig(partest.Client{ID: "rp", Secret: brokerSecret, RedirectURIs: []string{cb}}))
		t.Cleanup(srv.Close)
		c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "rp",
			Auth: client.ClientSecretBasic(brokerSecret), RedirectURL: cb, Scopes: []string{"openid", "mitid"},
			Profile: client.ProfileBroker, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		for code, want := range map[string]mitid.Outcome{"mitid_user_aborted": mitid.OutcomeCancelled,
			"user_is_missing_cookies": mitid.OutcomeNavigation, "mitid_timeout": mitid.OutcomeTechnical, "brand_new_code": mitid.OutcomeUnknown} {
			flow, err := c.Push(context.Background(), mitid.IDPValues(mitid.MitID))
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.AuthorizationURL(flow)
			if err != nil {
				t.Fatal(err)
			}
			srv.FailNextLogin("access_denied", code)
			params, err := srv.Login(u)
			if err != nil {
				t.Fatal(err)
			}
			if params.Has("iss") || params.Get("error_description") != code {
				t.Fatalf("partest callback = %v, want the broker's error without iss", params)
			}
			if _, err := c.Exchange(context.Background(), flow, params); mitid.OutcomeOf(err) != want {
				t.Errorf("%s: OutcomeOf(%v) = %v, want %v", code, err, mitid.OutcomeOf(err), want)
			}
		}
	})
	t.Run("partest CIBA denied", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, _, ciba := partestCIBA(t, false)
			r := startMitID(t, ciba)
			if err := srv.DenyCIBA(r.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := ciba.Poll(context.Background(), r); !mitid.UserCancelled(err) {
				t.Errorf("Poll = %v: OutcomeOf %v, want cancelled", err, mitid.OutcomeOf(err))
			}
		})
	})
}

// recordedBroker is an httptest broker that serves the recorded discovery
// members that matter here (iss advertised) and counts token requests; it
// returns a client of it and a pushed flow.
func recordedBroker(t *testing.T, profile client.Profile) (*client.Client, *client.Flow, *int) {
	t.Helper()
	var tokenCalls int
	mux := http.NewServeMux()
	var issuer string
	mux.HandleFunc("GET /op/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"issuer":"`+issuer+`","authorization_endpoint":"`+issuer+`/connect/authorize",`+
			`"token_endpoint":"`+issuer+`/connect/token","jwks_uri":"`+issuer+`/.well-known/openid-configuration/jwks",`+
			`"pushed_authorization_request_endpoint":"`+issuer+`/connect/par","authorization_response_iss_parameter_supported":true,`+
			`"response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],`+
			`"code_challenge_methods_supported":["plain","S256"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt"]}`)
	})
	mux.HandleFunc("POST /op/connect/par", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:`+strings.Repeat("AB12", 16)+`","expires_in":600}`)
	})
	mux.HandleFunc("/op/connect/token", func(w http.ResponseWriter, _ *http.Request) {
		tokenCalls++
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL + "/op"
	c, err := client.New(context.Background(), client.Config{Issuer: issuer, ClientID: "rp",
		Auth: client.ClientSecretBasic(brokerSecret), RedirectURL: "https://rp.example/cb", Scopes: []string{"openid"},
		Profile: profile, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c, flow, &tokenCalls
}
