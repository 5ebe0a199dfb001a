package client

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/joseutil"
)

// Profile selects a provider profile: a set of defaults and, for FAPI 2.0,
// rules that New enforces.
type Profile int

const (
	// ProfileDefault follows the RFCs with permissive defaults: any
	// authentication method, any asymmetric ID token algorithm the provider
	// advertises.
	ProfileDefault Profile = iota
	// ProfileBroker fits the Signaturgruppen MitID broker: client secrets,
	// RS256 ID tokens (PS256 and ES256 accepted too, should it change),
	// HS256 request objects keyed with the client secret, expires_in of 600,
	// no DPoP. It is not FAPI 2.0 and says so in a Debug log line.
	ProfileBroker
	// ProfileFAPI2 enforces the FAPI 2.0 Security Profile (Final, §5.3.3
	// and §5.4) on the client side: PAR, PKCE S256, private_key_jwt or
	// tls_client_auth, DPoP- or mTLS-bound tokens, iss required (RFC 9207),
	// PS256/ES256/EdDSA only, RSA keys of at least 2048 bits, TLS 1.2 or
	// newer with certificate checks, and the issuer matched exactly. New
	// refuses a Config that breaks a rule and names the field in its error.
	ProfileFAPI2
)

// String returns the profile's name: "default", "broker" or "fapi2".
func (p Profile) String() string {
	switch p {
	case ProfileBroker:
		return "broker"
	case ProfileFAPI2:
		return "fapi2"
	}
	return "default"
}

// MessageSigning is what FAPI 2.0 Message Signing (Final) requires of a
// client on top of the Security Profile ([ProfileFAPI2]): signed
// authorization requests, signed authorization responses, or both.
// Ecosystems choose (the OpenID Foundation suite tests them as separate
// variants), so each is a flag of its own.
type MessageSigning int

const (
	// SignedRequests: every authorization request is a signed request
	// object pushed to the PAR endpoint (FAPI 2.0 Message Signing §5.3,
	// RFC 9101): Config.RequestObject must be set, with an asymmetric key
	// and PS256, ES256 or EdDSA.
	SignedRequests MessageSigning = 1 << iota
	// SignedResponses: every authorization response is JWT-secured (§5.4,
	// JARM): Config.ResponseMode must be jwt, query.jwt or form_post.jwt;
	// Push refuses another response_mode and Exchange a plain response.
	SignedResponses
)

// String returns the flags' names, e.g. "SignedRequests|SignedResponses".
func (m MessageSigning) String() string {
	var names []string
	if m&SignedRequests != 0 {
		names = append(names, "SignedRequests")
	}
	if m&SignedResponses != 0 {
		names = append(names, "SignedResponses")
	}
	if rest := m &^ (SignedRequests | SignedResponses); rest != 0 || len(names) == 0 {
		names = append(names, fmt.Sprintf("%d", int(rest)))
	}
	return strings.Join(names, "|")
}

// checkMessageSigning applies cfg.MessageSigning (FAPI 2.0 Message
// Signing §5.3, §5.4). The FAPI 2.0 rules that follow it hold the request
// object's key and algorithm, and the response JWT's algorithms (the ID
// token allow-list), to PS256, ES256 or EdDSA.
func checkMessageSigning(cfg *Config) error {
	ms := cfg.MessageSigning
	if ms == 0 {
		return nil
	}
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("client: config: %s: FAPI 2.0 Message Signing (%s): %s", field, ms, fmt.Sprintf(format, args...))
	}
	switch {
	case ms&^(SignedRequests|SignedResponses) != 0:
		return fail("MessageSigning", "unknown flags")
	case cfg.Profile != ProfileFAPI2:
		return fail("MessageSigning", "builds on the FAPI 2.0 Security Profile: set Profile to ProfileFAPI2")
	case ms&SignedRequests != 0 && cfg.RequestObject == nil:
		return fail("RequestObject", "signed request objects are required (§5.3): set RequestObject")
	case ms&SignedResponses != 0 && !isJWTMode(cfg.ResponseMode):
		return fail("ResponseMode", "JWT-secured responses are required (§5.4, JARM): use jwt, query.jwt or form_post.jwt, not %q", cfg.ResponseMode)
	}
	return nil
}

// fapiAlgs are the JWS algorithms FAPI 2.0 §5.4.1 allows.
var fapiAlgs = []jose.SignatureAlgorithm{jose.PS256, jose.ES256, jose.EdDSA}

// applyProfile adjusts defaults for the profile and checks its rules. It
// runs before anything is bound.
func applyProfile(ctx context.Context, cfg *Config, log *slog.Logger) error {
	if err := checkMessageSigning(cfg); err != nil {
		return err
	}
	switch cfg.Profile {
	case ProfileDefault:
		return nil
	case ProfileBroker:
		if len(cfg.IDTokenAlgorithms) == 0 {
			cfg.IDTokenAlgorithms = []string{"RS256", "PS256", "ES256"}
		}
		log.LogAttrs(ctx, slog.LevelDebug, "client: broker-compatible profile: this configuration is not FAPI 2.0 (client secrets, RS256, request_uri lifetime 600 s allowed)")
		return nil
	case ProfileFAPI2:
	default:
		return fmt.Errorf("client: config: Profile: unknown profile %d", cfg.Profile)
	}
	// The error names the Config field at fault, the profile and the rule.
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("client: config: %s: %s profile: %s", field, ProfileFAPI2, fmt.Sprintf(format, args...))
	}
	if cfg.InsecureFrontChannel {
		return fail("InsecureFrontChannel", "authorization requests must be pushed (PAR, §5.3.3.2)")
	}
	// Client authentication: private_key_jwt or mTLS only (§5.3.3.1-2).
	switch a := cfg.Auth.(type) {
	case *JWTAuth:
		if a.method != methodPrivateKeyJWT {
			return fail("Auth", "%s is not allowed; use private_key_jwt or tls_client_auth", a.method)
		}
		if a.signer == nil {
			return fail("Auth", "private_key_jwt needs a signer")
		}
		pub := a.signer.Public()
		if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
			return fail("Auth", "RSA key of %d bits; at least 2048 are required (§5.4.1)", k.N.BitLen())
		}
		b := *a
		if b.Algorithm == "" {
			alg, err := joseutil.DefaultAlgorithm(pub, true)
			if err != nil {
				return fail("Auth", "%v", err)
			}
			b.Algorithm = alg
		}
		if !slices.Contains(fapiAlgs, b.Algorithm) {
			return fail("Auth.Algorithm", "%s is not allowed; use PS256, ES256 or EdDSA (§5.4.1)", b.Algorithm)
		}
		if b.Type == "" {
			b.Type = "client-authentication+jwt" // RFC 10070 §4.1, R20
		}
		cfg.Auth = &b
	case plainAuth:
		if a.method != methodTLSClientAuth {
			return fail("Auth", "%s is not allowed; use private_key_jwt or tls_client_auth", a.method)
		}
	default:
		return fail("Auth", "%s is not allowed; use private_key_jwt or tls_client_auth", cfg.Auth.Method())
	}
	// Sender-constrained tokens (§5.3.3.1-1): DPoP, or mTLS with tls_client_auth.
	if cfg.DPoP == nil && cfg.Auth.Method() != methodTLSClientAuth {
		return fail("DPoP", "sender-constrained tokens are required: set DPoP, or use tls_client_auth for mTLS-bound tokens")
	}
	if cfg.DPoP != nil && !slices.Contains(fapiAlgs, cfg.DPoP.Algorithm()) {
		return fail("DPoP", "proof algorithm %s is not allowed; use PS256, ES256 or EdDSA", cfg.DPoP.Algorithm())
	}
	if ro := cfg.RequestObject; ro != nil {
		if len(ro.Secret) > 0 || ro.Signer == nil {
			return fail("RequestObject", "request objects must be signed with an asymmetric key, not the client secret")
		}
		if k, ok := ro.Signer.Public().(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
			return fail("RequestObject", "RSA key of %d bits; at least 2048 are required", k.N.BitLen())
		}
		c := *ro
		if c.Algorithm == "" {
			alg, err := joseutil.DefaultAlgorithm(ro.Signer.Public(), true)
			if err != nil {
				return fail("RequestObject", "%v", err)
			}
			c.Algorithm = alg
		}
		if !slices.Contains(fapiAlgs, c.Algorithm) {
			return fail("RequestObject.Algorithm", "%s is not allowed; use PS256, ES256 or EdDSA", c.Algorithm)
		}
		cfg.RequestObject = &c
	}
	if len(cfg.IDTokenAlgorithms) == 0 {
		cfg.IDTokenAlgorithms = []string{"PS256", "ES256", "EdDSA"}
	}
	for _, a := range cfg.IDTokenAlgorithms {
		if !slices.Contains(fapiAlgs, jose.SignatureAlgorithm(a)) {
			return fail("IDTokenAlgorithms", "%s is not allowed; use PS256, ES256 or EdDSA", a)
		}
	}
	cfg.RequireIssuerParameter = true // §5.3.3.2: check iss per RFC 9207
	if cfg.Issuer == "" {
		return fail("Issuer", "the issuer must be configured and matched exactly against the metadata (§5.3.3.1-11)")
	}
	if err := checkFAPITLS(cfg.HTTPClient); err != nil {
		return fail("HTTPClient", "%v", err)
	}
	return nil
}

// checkFAPITLS refuses HTTP clients that weaken TLS below FAPI 2.0 §5.2.1:
// TLS older than 1.2 or skipped certificate verification.
func checkFAPITLS(hc *http.Client) error {
	if hc == nil || hc.Transport == nil {
		return nil // net/http defaults: TLS ≥ 1.2, certificates verified
	}
	rt := hc.Transport
	if ot, ok := rt.(*oauth2.Transport); ok && ot.Base != nil {
		rt = ot.Base
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.TLSClientConfig == nil {
		return nil
	}
	if t.TLSClientConfig.InsecureSkipVerify {
		return errors.New("TLS certificate verification is disabled (InsecureSkipVerify)")
	}
	if v := t.TLSClientConfig.MinVersion; v != 0 && v < 0x0303 {
		return fmt.Errorf("TLS minimum version %#04x is below TLS 1.2", v)
	}
	return nil
}
