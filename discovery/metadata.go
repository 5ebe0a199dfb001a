package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Metadata is an authorization server's metadata document: OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2 and the members that RFC 9126 §5 (PAR),
// RFC 9207 (iss), RFC 9449 §5.1 (DPoP), RFC 8705 §3.3 and §5 (mTLS),
// RFC 9101 §10.5 (JAR), JARM, CIBA, RFC 8628, RFC 9396 and the OpenID
// logout specifications register.
//
// A Metadata returned by [Parse], [Fetch] or a [Cache] may be shared between
// goroutines and must not be modified. Members not listed here stay
// available through [Metadata.Claims] and [Metadata.Raw].
//
// Absent lists are nil. Where a specification gives a default for an absent
// member it is noted; only RequestURIParameterSupported has its default
// filled in by [Parse].
type Metadata struct {
	// Issuer is the authorization server's issuer identifier (RFC 8414 §2).
	Issuer string `json:"issuer"`

	// Endpoints.

	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	UserinfoEndpoint      string `json:"userinfo_endpoint,omitempty"`
	JWKSURI               string `json:"jwks_uri,omitempty"`
	RegistrationEndpoint  string `json:"registration_endpoint,omitempty"`
	// EndSessionEndpoint is from OpenID Connect RP-Initiated Logout 1.0 §2.1.
	EndSessionEndpoint string `json:"end_session_endpoint,omitempty"`
	// CheckSessionIframe is from OpenID Connect Session Management 1.0 §3.3.
	CheckSessionIframe    string `json:"check_session_iframe,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	// DeviceAuthorizationEndpoint is from RFC 8628 §4.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// PushedAuthorizationRequestEndpoint is the PAR endpoint (RFC 9126 §5).
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	// BackchannelAuthenticationEndpoint is the CIBA endpoint (OpenID CIBA
	// Core 1.0 §4).
	BackchannelAuthenticationEndpoint string `json:"backchannel_authentication_endpoint,omitempty"`
	// MTLSEndpointAliases maps endpoint member names to the URLs a client
	// using mutual TLS must use instead (RFC 8705 §5). See [Metadata.Endpoint].
	MTLSEndpointAliases map[string]string `json:"mtls_endpoint_aliases,omitempty"`

	// Capabilities (RFC 8414 §2 and OpenID Connect Discovery 1.0 §3).

	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ResponseTypesSupported is REQUIRED by both specifications but not
	// enforced by [Parse]: a PAR client only needs "code".
	ResponseTypesSupported []string `json:"response_types_supported,omitempty"`
	// ResponseModesSupported defaults to ["query", "fragment"] when absent.
	ResponseModesSupported []string `json:"response_modes_supported,omitempty"`
	// GrantTypesSupported defaults to ["authorization_code", "implicit"]
	// when absent.
	GrantTypesSupported []string `json:"grant_types_supported,omitempty"`
	// CodeChallengeMethodsSupported lists PKCE methods (RFC 8414 §2); when
	// absent the server does not say whether it supports PKCE.
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported defaults to ["client_secret_basic"]
	// when absent.
	TokenEndpointAuthMethodsSupported                  []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported             []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	UILocalesSupported                                 []string `json:"ui_locales_supported,omitempty"`
	ServiceDocumentation                               string   `json:"service_documentation,omitempty"`
	OPPolicyURI                                        string   `json:"op_policy_uri,omitempty"`
	OPTOSURI                                           string   `json:"op_tos_uri,omitempty"`
	// SignedMetadata is RFC 8414 §2.1's JWT of metadata values. It is
	// passed through as it is: this package does NOT verify it.
	SignedMetadata string `json:"signed_metadata,omitempty"`

	// OpenID Connect (Discovery 1.0 §3).

	SubjectTypesSupported                     []string `json:"subject_types_supported,omitempty"`
	ACRValuesSupported                        []string `json:"acr_values_supported,omitempty"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported,omitempty"`
	IDTokenEncryptionAlgValuesSupported       []string `json:"id_token_encryption_alg_values_supported,omitempty"`
	IDTokenEncryptionEncValuesSupported       []string `json:"id_token_encryption_enc_values_supported,omitempty"`
	UserinfoSigningAlgValuesSupported         []string `json:"userinfo_signing_alg_values_supported,omitempty"`
	UserinfoEncryptionAlgValuesSupported      []string `json:"userinfo_encryption_alg_values_supported,omitempty"`
	UserinfoEncryptionEncValuesSupported      []string `json:"userinfo_encryption_enc_values_supported,omitempty"`
	DisplayValuesSupported                    []string `json:"display_values_supported,omitempty"`
	ClaimTypesSupported                       []string `json:"claim_types_supported,omitempty"`
	ClaimsSupported                           []string `json:"claims_supported,omitempty"`
	ClaimsLocalesSupported                    []string `json:"claims_locales_supported,omitempty"`
	ClaimsParameterSupported                  bool     `json:"claims_parameter_supported,omitempty"`
	PromptValuesSupported                     []string `json:"prompt_values_supported,omitempty"`
	FrontchannelLogoutSupported               bool     `json:"frontchannel_logout_supported,omitempty"`
	FrontchannelLogoutSessionSupported        bool     `json:"frontchannel_logout_session_supported,omitempty"`
	BackchannelLogoutSupported                bool     `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported         bool     `json:"backchannel_logout_session_supported,omitempty"`
	RequestObjectSigningAlgValuesSupported    []string `json:"request_object_signing_alg_values_supported,omitempty"`
	RequestObjectEncryptionAlgValuesSupported []string `json:"request_object_encryption_alg_values_supported,omitempty"`
	RequestObjectEncryptionEncValuesSupported []string `json:"request_object_encryption_enc_values_supported,omitempty"`
	RequestParameterSupported                 bool     `json:"request_parameter_supported,omitempty"`
	// RequestURIParameterSupported defaults to true when absent (OpenID
	// Connect Discovery 1.0 §3); [Parse] fills that default in.
	RequestURIParameterSupported  bool `json:"request_uri_parameter_supported"`
	RequireRequestURIRegistration bool `json:"require_request_uri_registration,omitempty"`
	// RequireSignedRequestObject is from RFC 9101 §10.5.
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`

	// RequirePushedAuthorizationRequests says the server accepts
	// authorization requests only through PAR (RFC 9126 §5).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// AuthorizationResponseISSParameterSupported says the server sends iss
	// in authorization responses (RFC 9207 §3).
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms the server
	// accepts for DPoP proofs (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// TLSClientCertificateBoundAccessTokens says the server issues
	// certificate-bound access tokens (RFC 8705 §3.3).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthorizationDetailsTypesSupported is from RFC 9396 §10.
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`

	// JWT Secured Authorization Response Mode (JARM) §4.

	AuthorizationSigningAlgValuesSupported    []string `json:"authorization_signing_alg_values_supported,omitempty"`
	AuthorizationEncryptionAlgValuesSupported []string `json:"authorization_encryption_alg_values_supported,omitempty"`
	AuthorizationEncryptionEncValuesSupported []string `json:"authorization_encryption_enc_values_supported,omitempty"`

	// OpenID CIBA Core 1.0 §4.

	BackchannelTokenDeliveryModesSupported                    []string `json:"backchannel_token_delivery_modes_supported,omitempty"`
	BackchannelAuthenticationRequestSigningAlgValuesSupported []string `json:"backchannel_authentication_request_signing_alg_values_supported,omitempty"`
	BackchannelUserCodeParameterSupported                     bool     `json:"backchannel_user_code_parameter_supported,omitempty"`

	raw []byte // the document as received; nil when not from Parse
}

// endpointMembers lists the members holding URLs the client calls or sends
// the browser to. Each is checked by [Parse] and can be named in
// [Metadata.Endpoint].
var endpointMembers = []struct {
	name string
	get  func(*Metadata) string
}{
	{"authorization_endpoint", func(m *Metadata) string { return m.AuthorizationEndpoint }},
	{"token_endpoint", func(m *Metadata) string { return m.TokenEndpoint }},
	{"userinfo_endpoint", func(m *Metadata) string { return m.UserinfoEndpoint }},
	{"jwks_uri", func(m *Metadata) string { return m.JWKSURI }},
	{"registration_endpoint", func(m *Metadata) string { return m.RegistrationEndpoint }},
	{"end_session_endpoint", func(m *Metadata) string { return m.EndSessionEndpoint }},
	{"check_session_iframe", func(m *Metadata) string { return m.CheckSessionIframe }},
	{"revocation_endpoint", func(m *Metadata) string { return m.RevocationEndpoint }},
	{"introspection_endpoint", func(m *Metadata) string { return m.IntrospectionEndpoint }},
	{"device_authorization_endpoint", func(m *Metadata) string { return m.DeviceAuthorizationEndpoint }},
	{"pushed_authorization_request_endpoint", func(m *Metadata) string { return m.PushedAuthorizationRequestEndpoint }},
	{"backchannel_authentication_endpoint", func(m *Metadata) string { return m.BackchannelAuthenticationEndpoint }},
}

// Endpoint returns the URL of the endpoint whose metadata member is name
// ("token_endpoint", "pushed_authorization_request_endpoint", "jwks_uri",
// ...). When mtls is true and [Metadata.MTLSEndpointAliases] has an entry for
// name, that alias is returned instead (RFC 8705 §5). Endpoint returns ""
// for an absent endpoint or a name it does not know.
func (m *Metadata) Endpoint(name string, mtls bool) string {
	if m == nil {
		return ""
	}
	if mtls {
		if u, ok := m.MTLSEndpointAliases[name]; ok && u != "" {
			return u
		}
	}
	for _, e := range endpointMembers {
		if e.name == name {
			return e.get(m)
		}
	}
	return ""
}

// Raw returns a copy of the metadata document exactly as received, or nil
// when m was not made by [Parse], [Fetch] or a [Cache].
func (m *Metadata) Raw() []byte {
	if m == nil {
		return nil
	}
	return bytes.Clone(m.raw)
}

// Claims unmarshals the metadata document into v, which gives access to
// members Metadata has no field for. For a Metadata built by hand it
// unmarshals the JSON encoding of m's fields.
func (m *Metadata) Claims(v any) error {
	if m == nil {
		return &ParseError{Err: fmt.Errorf("%w: nil metadata", ErrMissingMember)}
	}
	raw := m.raw
	if raw == nil {
		var err error
		if raw, err = json.Marshal(m); err != nil {
			return &ParseError{Err: err}
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &ParseError{Err: err}
	}
	return nil
}
