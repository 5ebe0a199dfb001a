// Package oauthparams holds the SDK's one list of OAuth parameters that
// callers may not set, and its one reader of golang.org/x/oauth2 options.
//
//	v := oauthparams.Values(opts) // url.Values of the options
//	if oauthparams.Owned("code_challenge") { … } // set by the SDK
package oauthparams

import (
	"net/url"

	"golang.org/x/oauth2"
)

// owned are the parameters the SDK sets itself: the PAR outcome and
// request object (RFC 9126 §2.1, RFC 9101 §5), PKCE (RFC 7636), the
// response type, the grant type and client authentication (RFC 6749 §2.3,
// RFC 7523 §2.2).
var owned = map[string]bool{
	"request_uri": true, "request": true, "response_type": true, "grant_type": true,
	"code_challenge": true, "code_challenge_method": true, "code_verifier": true,
	"client_secret": true, "client_assertion": true, "client_assertion_type": true,
}

// Owned reports whether name is a parameter the SDK sets itself, which a
// caller's option may not set.
func Owned(name string) bool { return owned[name] }

// ClientAuth reports whether name carries client authentication (RFC 6749
// §2.3.1, RFC 7523 §2.2): never an authorization request parameter.
func ClientAuth(name string) bool {
	return name == "client_secret" || name == "client_assertion" || name == "client_assertion_type"
}

// credentials are the parameters that carry a credential or a grant:
// client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2), the PKCE verifier
// (RFC 7636 §4.5), an authorization code, a token, an assertion or a
// password grant (RFC 6749 §4.1.3, §4.3.2, §6; RFC 7523 §2.1; RFC 8693
// §2.1), a device code (RFC 8628 §3.4) and a CIBA request id (CIBA Core
// §10.1).
var credentials = map[string]bool{
	"client_secret": true, "client_assertion": true, "code_verifier": true,
	"code": true, "access_token": true, "refresh_token": true, "password": true,
	"assertion": true, "subject_token": true, "actor_token": true,
	"device_code": true, "auth_req_id": true,
}

// Credential reports whether name carries a credential or a grant, whose
// value must never travel in a URL (a front-channel authorization request).
func Credential(name string) bool { return credentials[name] }

// Values returns the parameters that opts set. x/oauth2's option interface
// is sealed; AuthCodeURL is the public way to apply options, so they are
// read back from it. The probe's own response_type=code is left out, and
// client_id only appears when an option set it. No options give nil.
func Values(opts []oauth2.AuthCodeOption) url.Values {
	if len(opts) == 0 {
		return nil
	}
	probe := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "x:"}}
	v, _ := url.ParseQuery(probe.AuthCodeURL("", opts...)[len("x:?"):])
	if v.Get("response_type") == "code" && len(v["response_type"]) == 1 {
		v.Del("response_type")
	}
	if v.Get("client_id") == "" {
		v.Del("client_id")
	}
	return v
}
