package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-par/par/discovery"
)

// Severities of a finding.
const (
	sevError = "error"   // PAR cannot work as the SDK does it
	sevWarn  = "warning" // works, but weaker than RFC 9700 / FAPI 2.0 want
	sevOK    = "ok"
)

// finding is one thing discover flags.
type finding struct {
	Severity string `json:"severity"`
	Field    string `json:"field"`
	Message  string `json:"message"`
}

func (c *cli) discover(ctx context.Context, args []string) int {
	fs, jsonOut := c.flagSet("discover", "[--json] [--timeout 30s] ISSUER",
		"Fetches ISSUER/.well-known/openid-configuration (or the RFC 8414 location), validates it, and lists what a\n"+
			"PAR client needs that is missing or weak. Exits 1 when the provider has no PAR endpoint.")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	caFile := fs.String("ca-file", c.getenv("PAR_CA_FILE"), caFileUsage)
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(c.stderr, "par discover: give exactly one ISSUER, e.g. par discover https://pp.netseidbroker.dk/op")
		return exitUsage
	}
	issuer := fs.Arg(0)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	hc, err := httpClient(*caFile, *timeout)
	if err != nil {
		fmt.Fprintln(c.stderr, "par discover:", err)
		return exitUsage
	}
	md, err := discovery.Fetch(ctx, hc, issuer)
	if err != nil {
		return c.fail(*jsonOut, "discover", err, discoverHint(err, issuer))
	}
	fs2 := findings(md)
	code := exitOK
	for _, f := range fs2 {
		if f.Severity == sevError {
			code = exitProtocol
		}
	}
	if *jsonOut {
		var raw json.RawMessage = md.Raw()
		c.writeJSON(map[string]any{"issuer": md.Issuer, "findings": fs2, "metadata": raw})
		return code
	}
	w := c.stdout
	fmt.Fprintf(w, "%-23s %s\n", "issuer", md.Issuer)
	for _, e := range []struct{ name, v string }{
		{"authorization", md.AuthorizationEndpoint},
		{"par", md.PushedAuthorizationRequestEndpoint},
		{"token", md.TokenEndpoint},
		{"userinfo", md.UserinfoEndpoint},
		{"jwks", md.JWKSURI},
		{"end_session", md.EndSessionEndpoint},
		{"ciba", md.BackchannelAuthenticationEndpoint},
	} {
		if e.v != "" {
			fmt.Fprintf(w, "%-23s %s\n", e.name, e.v)
		}
	}
	for _, e := range []struct {
		name string
		v    []string
	}{
		{"auth methods", md.TokenEndpointAuthMethodsSupported},
		{"code_challenge_methods", md.CodeChallengeMethodsSupported},
		{"id_token algs", md.IDTokenSigningAlgValuesSupported},
		{"dpop algs", md.DPoPSigningAlgValuesSupported},
		{"request object algs", md.RequestObjectSigningAlgValuesSupported},
		{"scopes", md.ScopesSupported},
	} {
		if len(e.v) > 0 {
			fmt.Fprintf(w, "%-23s %s\n", e.name, strings.Join(e.v, " "))
		}
	}
	fmt.Fprintln(w, "\nPAR / FAPI 2.0 check:")
	for _, f := range fs2 {
		mark := map[string]string{sevError: "✗", sevWarn: "!", sevOK: "✓"}[f.Severity]
		fmt.Fprintf(w, "  %s %-10s %s\n", mark, f.Severity, f.Message)
	}
	return code
}

func discoverHint(err error, issuer string) string {
	switch exitCode(err) {
	case exitNetwork:
		return "check the issuer URL and your network; the provider did not answer"
	}
	if strings.Contains(err.Error(), "issuer mismatch") {
		return "pass the issuer exactly as the metadata's issuer member spells it (trailing slash and path included)"
	}
	if u, perr := url.Parse(issuer); perr == nil && u.Scheme == "http" {
		return "issuers must be https (http only on loopback)"
	}
	return ""
}

// fapiSigningAlgs are the JWS algorithms FAPI 2.0 Security Profile §5.4
// allows.
var fapiSigningAlgs = []string{"PS256", "ES256", "EdDSA"}

// findings checks md against what a PAR client needs (RFC 9126, RFC 9207,
// RFC 7636, RFC 9449) and what FAPI 2.0 Security Profile §5.3 asks.
func findings(md *discovery.Metadata) []finding {
	var out []finding
	add := func(sev, field, format string, args ...any) {
		out = append(out, finding{sev, field, fmt.Sprintf(format, args...)})
	}
	if md.PushedAuthorizationRequestEndpoint == "" {
		add(sevError, "pushed_authorization_request_endpoint", "no PAR endpoint: the provider does not support pushed authorization requests (RFC 9126 §5)")
	} else {
		add(sevOK, "pushed_authorization_request_endpoint", "PAR endpoint present (RFC 9126 §5)")
	}
	if !md.RequirePushedAuthorizationRequests {
		add(sevWarn, "require_pushed_authorization_requests", "PAR is not required: front-channel requests are accepted too (FAPI 2.0 §5.3.2.2 requires PAR only)")
	}
	if !md.AuthorizationResponseISSParameterSupported {
		add(sevWarn, "authorization_response_iss_parameter_supported", "no iss parameter in callbacks (RFC 9207): no mix-up defence; FAPI 2.0 requires it")
	} else {
		add(sevOK, "authorization_response_iss_parameter_supported", "iss returned in callbacks (RFC 9207)")
	}
	switch {
	case len(md.CodeChallengeMethodsSupported) == 0:
		add(sevWarn, "code_challenge_methods_supported", "PKCE support not advertised; the client sends S256 anyway (RFC 7636, RFC 8414 §2)")
	case !slices.Contains(md.CodeChallengeMethodsSupported, "S256"):
		add(sevError, "code_challenge_methods_supported", "no S256 PKCE method (RFC 7636 §4.2): the client only uses S256")
	default:
		add(sevOK, "code_challenge_methods_supported", "PKCE S256 supported")
	}
	if slices.Contains(md.CodeChallengeMethodsSupported, "plain") {
		add(sevWarn, "code_challenge_methods_supported", "plain PKCE is offered: it protects nothing against a leaked request (RFC 9700 §2.1.1); FAPI 2.0 requires S256 only")
	}
	if len(md.DPoPSigningAlgValuesSupported) == 0 {
		if md.TLSClientCertificateBoundAccessTokens {
			add(sevOK, "tls_client_certificate_bound_access_tokens", "mTLS-bound tokens (RFC 8705); no DPoP")
		} else {
			add(sevWarn, "dpop_signing_alg_values_supported", "no DPoP algorithms and no mTLS-bound tokens: tokens are bearer tokens (FAPI 2.0 §5.3.2.1 needs sender-constrained tokens, RFC 9449)")
		}
	} else {
		add(sevOK, "dpop_signing_alg_values_supported", "DPoP with %s (RFC 9449)", strings.Join(md.DPoPSigningAlgValuesSupported, " "))
	}
	if len(md.TokenEndpointAuthMethodsSupported) > 0 && !slices.Contains(md.TokenEndpointAuthMethodsSupported, "private_key_jwt") &&
		!slices.Contains(md.TokenEndpointAuthMethodsSupported, "tls_client_auth") && !slices.Contains(md.TokenEndpointAuthMethodsSupported, "self_signed_tls_client_auth") {
		add(sevWarn, "token_endpoint_auth_methods_supported", "neither private_key_jwt nor tls_client_auth: FAPI 2.0 §5.3.2.1 needs one of them")
	}
	if algs := md.IDTokenSigningAlgValuesSupported; len(algs) > 0 && !slices.ContainsFunc(algs, func(a string) bool { return slices.Contains(fapiSigningAlgs, a) }) {
		add(sevWarn, "id_token_signing_alg_values_supported", "ID tokens only with %s: FAPI 2.0 §5.4 allows PS256, ES256, EdDSA", strings.Join(algs, " "))
	}
	if slices.Contains(md.IDTokenSigningAlgValuesSupported, "none") {
		add(sevWarn, "id_token_signing_alg_values_supported", "unsigned (alg none) ID tokens offered; the client refuses them")
	}
	var plain []string
	for _, e := range []struct{ name, v string }{
		{"issuer", md.Issuer}, {"authorization_endpoint", md.AuthorizationEndpoint},
		{"pushed_authorization_request_endpoint", md.PushedAuthorizationRequestEndpoint},
		{"token_endpoint", md.TokenEndpoint}, {"userinfo_endpoint", md.UserinfoEndpoint}, {"jwks_uri", md.JWKSURI},
		{"end_session_endpoint", md.EndSessionEndpoint},
	} {
		if strings.HasPrefix(e.v, "http://") {
			plain = append(plain, e.name)
		}
	}
	if len(plain) > 0 {
		add(sevWarn, strings.Join(plain, " "), "plain http (%s): accepted on loopback only, never in production (RFC 9700 §2.6)", strings.Join(plain, ", "))
	}
	if md.EndSessionEndpoint == "" {
		add(sevWarn, "end_session_endpoint", "no end_session_endpoint: logout cannot end the provider's session (RP-Initiated Logout 1.0)")
	}
	return out
}
