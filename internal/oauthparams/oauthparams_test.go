package oauthparams_test

import (
	"net/url"
	"reflect"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/oauthparams"
)

func TestValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []oauth2.AuthCodeOption
		want url.Values
	}{
		{"none", nil, nil},
		{"one", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login")}, url.Values{"prompt": {"login"}}},
		{"escaping", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("idp_params", `{"a":"b c&d"}`)}, url.Values{"idp_params": {`{"a":"b c&d"}`}}},
		{"client_id kept when set", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_id", "x")}, url.Values{"client_id": {"x"}}},
		{"response_type kept when changed", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_type", "token")}, url.Values{"response_type": {"token"}}},
		{"pkce option", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("v")}, url.Values{
			"code_challenge": {oauth2.S256ChallengeFromVerifier("v")}, "code_challenge_method": {"S256"}}},
	}
	for _, tt := range tests {
		if got := oauthparams.Values(tt.opts); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Values = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestOwned(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"request_uri", "request", "response_type", "grant_type", "code_challenge",
		"code_challenge_method", "code_verifier", "client_secret", "client_assertion", "client_assertion_type"} {
		if !oauthparams.Owned(p) {
			t.Errorf("Owned(%q) = false", p)
		}
	}
	for _, p := range []string{"prompt", "scope", "state", "nonce", "client_id", "idp_values", "auth_req_id"} {
		if oauthparams.Owned(p) {
			t.Errorf("Owned(%q) = true", p)
		}
	}
	if !oauthparams.ClientAuth("client_assertion") || oauthparams.ClientAuth("client_id") {
		t.Error("ClientAuth")
	}
}

func TestCredential(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"client_secret", "client_assertion", "code_verifier", "code", "access_token",
		"refresh_token", "password", "assertion", "subject_token", "actor_token", "device_code", "auth_req_id"} {
		if !oauthparams.Credential(p) {
			t.Errorf("Credential(%q) = false", p)
		}
	}
	// Authorization request parameters, id_token_hint included (OIDC Core
	// §3.1.2.1 sends it in the front channel).
	for _, p := range []string{"state", "nonce", "scope", "prompt", "login_hint", "id_token_hint", "client_id",
		"redirect_uri", "code_challenge", "dpop_jkt", "idp_values", "client_assertion_type"} {
		if oauthparams.Credential(p) {
			t.Errorf("Credential(%q) = true", p)
		}
	}
}
