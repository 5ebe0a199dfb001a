package partest

import (
	"maps"
	"slices"
	"time"
)

// BrokerConfig returns a Config shaped like the Signaturgruppen MitID
// broker (brokers-and-profiles.md §1, §7, §8): issuer path /op, endpoints
// below /connect, the JWKS at /.well-known/openid-configuration/jwks with
// certificate-bearing keys, upper-case hex kids and the XML-Enc encryption
// key (BrokerJWKS), the broker's discovery document (BrokerLayout), a
// request_uri lifetime of 600 s, 3 h access tokens, CIBA with the
// CIBA→PAR bridge (auth_req_id lifetime 300 s, interval 3 s) and
// [BrokerUsers]. Change any field before passing it to [NewServer].
func BrokerConfig(clients ...Client) Config {
	return Config{
		Clients:             slices.Clone(clients),
		Users:               BrokerUsers(),
		IssuerPath:          "/op",
		RequestURILifetime:  600 * time.Second,
		AccessTokenLifetime: 3 * time.Hour,
		IDTokenLifetime:     5 * time.Minute,
		BrokerJWKS:          true,
		BrokerLayout:        true,
		CIBA:                true,
		CIBALifetime:        300 * time.Second,
		CIBAInterval:        3 * time.Second,
	}
}

// BrokerUsers returns test identities with the MitID broker's claims
// (issued-claims-tokens.md, idps/mitid.md): pairwise UUID subjects, neb_sid
// instead of sid, idp, identity_type, loa/ial/aal as NSIS URIs without
// /loa/, amr, and mitid.* values that are strings even when they hold a
// number or a boolean ("88", "true"). The first is a private MitID user at
// Substantial, the second a minor at Low, the third a MitID Erhverv
// (professional) user.
func BrokerUsers() []User {
	const nsis = "https://data.gov.dk/concept/core/nsis/"
	return []User{
		{Subject: "7c9484f5-44bf-4e29-a683-84548951d3b8", Claims: map[string]any{
			"idp": "mitid", "idp_environment": "pp", "identity_type": "private",
			"neb_sid": "2E4C1B7F0A6D45A8B5C3E9F1D2A4B6C8", "session_expiry": "1715098253",
			"loa": nsis + "Substantial", "ial": nsis + "Substantial", "aal": nsis + "Substantial",
			"amr":        []string{"code_app"},
			"mitid.uuid": "eee4b272-6a33-40da-ab0b-5ce2abd42e78", "mitid.identity_name": "Karen Test Hansen",
			"mitid.date_of_birth": "1936-01-27", "mitid.age": "88", "mitid.has_cpr": "true", "mitid.psd2": "false",
			"mitid.transaction_id": "4d3c2b1a-0f9e-4d8c-b7a6-958473625140",
		}},
		{Subject: "0d1f5b9e-2c3a-4d5e-8f70-1a2b3c4d5e6f", Claims: map[string]any{
			"idp": "mitid", "idp_environment": "pp", "identity_type": "private",
			"neb_sid": "9A8B7C6D5E4F40312A2B3C4D5E6F7081",
			"loa":     nsis + "Low", "ial": nsis + "Low", "aal": nsis + "Low",
			"amr":        []string{"password"},
			"mitid.uuid": "1b6e3c9a-8d7f-4e21-9c3b-5a4d6e7f8091", "mitid.identity_name": "Emil Test Jensen",
			"mitid.date_of_birth": "2009-05-14", "mitid.age": "17", "mitid.has_cpr": "false", "mitid.psd2": "false",
		}},
		{Subject: "3f2e1d0c-9b8a-4765-8432-10fedcba9876", Claims: map[string]any{
			"idp": "mitid_erhverv", "idp_environment": "pp", "identity_type": "professional",
			"neb_sid":      "5F4E3D2C1B0A49887766554433221100",
			"loa":          nsis + "Substantial",
			"amr":          []string{"mitid:code_app"},
			"nemlogin.cvr": "12345678", "nemlogin.name": "Lene Test Nielsen",
			"nemlogin.persistent_professional_id": "urn:uuid:8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968",
		}},
	}
}

// brokerScopes and brokerClaims are the MitID broker's published lists
// (brokers-and-profiles.md §8.1).
var (
	brokerScopes = []string{
		"openid", "mitid", "ssn", "nemid.pid", "ssn.details_name", "ssn.details_address",
		"nemlogin", "privileges", "transaction_token", "userinfo_token", "minimal", "offline_access",
	}
	brokerClaims = []string{
		"sub", "idp", "idp_environment", "identity_type", "neb_sid", "transaction_id", "session_expiry",
		"loa", "ial", "aal", "amr", "mitid.uuid", "mitid.date_of_birth", "mitid.age", "mitid.identity_name",
		"mitid.transaction_id", "mitid.has_cpr", "mitid.psd2", "dk.cpr", "nemid.pid", "nemid.pid_status",
		"nemlogin.cvr", "nemlogin.persistent_professional_id", "nemlogin.name",
	}
)

// extendMetadata adds the CIBA (CIBA Core §4), RFC 8705 and broker-layout
// members to a discovery document.
func (s *Server) extendMetadata(md map[string]any) {
	if s.Config.TLS {
		md["tls_client_certificate_bound_access_tokens"] = true
	}
	if s.Config.CIBA {
		md["backchannel_authentication_endpoint"] = s.endpointURL(pathCIBA)
		md["backchannel_token_delivery_modes_supported"] = []string{"poll"}
		md["backchannel_user_code_parameter_supported"] = false
		md["grant_types_supported"] = []string{"authorization_code", "refresh_token", GrantTypeCIBA}
	}
	if !s.Config.BrokerLayout {
		return
	}
	claims := map[string]bool{}
	for _, c := range brokerClaims {
		claims[c] = true
	}
	for _, c := range md["claims_supported"].([]string) {
		claims[c] = true
	}
	md["claims_supported"] = slices.Sorted(maps.Keys(claims))
	md["scopes_supported"] = slices.Clone(brokerScopes)
	md["subject_types_supported"] = []string{"pairwise"}
	md["prompt_values_supported"] = []string{"none", "login"}
	md["ui_locales_supported"] = []string{"da", "en", "kl"}
	md["token_endpoint_auth_methods_supported"] = []string{
		AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT,
	}
	if s.Config.TLS {
		md["token_endpoint_auth_methods_supported"] = append(md["token_endpoint_auth_methods_supported"].([]string), AuthTLSClientAuth)
	}
}
