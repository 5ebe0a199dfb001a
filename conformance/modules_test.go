package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// moduleSpec reproduces one suite module with partest: the provider's
// behaviour, anything the module asks of the relying party, and checks
// beyond the outcome.
type moduleSpec struct {
	// provider sets partest up (faults, keys, client registration) before
	// it starts.
	provider func(e *env, pc *partest.Config)
	// client adjusts the go-par configuration.
	client func(*client.Config)
	// options are the per-login authorization request parameters.
	options []client.Option
	// refresh: after the login, refresh (Client.Refresh) and call userinfo
	// again; refreshFault is installed at the token endpoint first.
	refresh      bool
	refreshFault *partest.Fault
	// run replaces the standard run (drive).
	run func(context.Context, *env) *observation
	// callback changes the authorization response parameters the
	// relying party's redirect URI receives (after partest's login).
	callback func(url.Values)
	// wantErr checks the error of a stopped run (default: by outcome).
	wantErr func(error) error
	// check makes extra assertions on the run; it returns what is wrong.
	check func(e *env, o *observation) error
}

// fault installs f at endpoint.
func fault(endpoint string, f partest.Fault) func(*env, *partest.Config) {
	return func(_ *env, pc *partest.Config) { setFault(pc, endpoint, f) }
}

func setFault(pc *partest.Config, endpoint string, f partest.Fault) {
	if pc.Faults == nil {
		pc.Faults = map[string]partest.Fault{}
	}
	pc.Faults[endpoint] = f
}

// all combines provider setups.
func all(fs ...func(*env, *partest.Config)) func(*env, *partest.Config) {
	return func(e *env, pc *partest.Config) {
		for _, f := range fs {
			f(e, pc)
		}
	}
}

// idToken changes the claims of the ID token from the token endpoint.
func idToken(edit func(e *env, claims map[string]any)) func(*env, *partest.Config) {
	return func(e *env, pc *partest.Config) {
		setFault(pc, partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { edit(e, c) }})
	}
}

func appendTo(claim, suffix string) func(*env, map[string]any) {
	return func(_ *env, c map[string]any) { c[claim] = fmt.Sprint(c[claim]) + suffix }
}

func without(claim string) func(*env, map[string]any) {
	return func(_ *env, c map[string]any) { delete(c, claim) }
}

// advertise makes discovery list only algs as id_token_signing_alg_values_supported.
func advertise(algs ...string) func(*env, *partest.Config) {
	return fault(partest.EndpointDiscovery, partest.Fault{Response: func(md map[string]any) {
		md["id_token_signing_alg_values_supported"] = algs
	}})
}

// invertCase is the suite's SetTokenResponseTokenTypeToInvertedCase.
func invertCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// checkNoKeyID checks that the ID token had no kid.
func checkNoKeyID(_ *env, o *observation) error {
	h, err := jwtHeader(o.tokens.RawIDToken)
	if err != nil {
		return err
	}
	if h["kid"] != nil {
		return fmt.Errorf("ID token header %v has a kid; the module is about tokens without", h)
	}
	return nil
}

// checkBinding checks that the access token is sender-constrained (cnf,
// RFC 9449 §6.1, RFC 8705 §3.1) and that the resource refuses it without
// the key or certificate: as a Bearer token without the DPoP proof, or
// over a connection without the client certificate.
func checkBinding(e *env, o *observation) error {
	claims, err := jwtClaims(o.tokens.Token.AccessToken)
	if err != nil {
		return fmt.Errorf("access token: %w", err)
	}
	cnf, _ := claims["cnf"].(map[string]any)
	plain := e.srv.Client() // no certificate
	if e.v.mtls {
		if cnf["x5t#S256"] != creds().thumbprint {
			return fmt.Errorf("access token cnf = %v, want x5t#S256 of the client certificate", cnf)
		}
	} else if cnf["jkt"] != e.proofer.Thumbprint() {
		return fmt.Errorf("access token cnf = %v, want jkt of the DPoP key", cnf)
	}
	req, err := http.NewRequest(http.MethodGet, e.srv.Metadata()["userinfo_endpoint"].(string), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.tokens.Token.AccessToken)
	resp, err := plain.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("the resource answered %d to the bound token without its key, want 401", resp.StatusCode)
	}
	return nil
}

// checkTokenEndpointAuth checks the scheme of every token request.
func checkTokenEndpointAuth(scheme string) func(*env, *observation) error {
	return func(e *env, _ *observation) error {
		reqs := e.rec.requests("/token")
		if len(reqs) == 0 {
			return fmt.Errorf("no token request recorded")
		}
		for _, x := range reqs {
			if x.auth != scheme {
				return fmt.Errorf("token request with Authorization scheme %q, want %s", x.auth, scheme)
			}
		}
		return nil
	}
}

// unsignedJWT is an alg none JWT of claims, as the suite puts into
// aggregated claims.
func unsignedJWT(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(claims)) + "."
}

// modules are the specs of the modules that run, by module name.
var modules = map[string]*moduleSpec{
	// OpenID Connect Core: Basic, Config, Form Post, Refresh Token, Dynamic
	// and the comprehensive plan.
	"oidcc-client-test":               {check: checkTokenEndpointAuth("Basic")},
	"oidcc-client-test-invalid-iss":   {provider: idToken(appendTo("iss", "1"))},
	"oidcc-client-test-missing-sub":   {provider: idToken(without("sub"))},
	"oidcc-client-test-invalid-aud":   {provider: idToken(appendTo("aud", "1"))},
	"oidcc-client-test-missing-aud":   {provider: idToken(without("aud"))},
	"oidcc-client-test-missing-iat":   {provider: idToken(without("iat"))},
	"oidcc-client-test-nonce-invalid": {provider: idToken(appendTo("nonce", "1")), wantErr: isAbout(client.ErrInvalidIDToken, "nonce")},
	"oidcc-client-test-kid-absent-single-jwks": {
		provider: all(fault(partest.EndpointToken, partest.Fault{NoKeyID: true}),
			fault(partest.EndpointUserinfo, partest.Fault{NoKeyID: true}),
			fault(partest.EndpointJWKS, partest.Fault{JWKSWithoutKeyIDs: true, JWKSKeysPerType: 1})),
		check: checkNoKeyID,
	},
	"oidcc-client-test-kid-absent-multiple-jwks": {
		provider: all(fault(partest.EndpointToken, partest.Fault{NoKeyID: true}),
			fault(partest.EndpointUserinfo, partest.Fault{NoKeyID: true}),
			fault(partest.EndpointJWKS, partest.Fault{JWKSWithoutKeyIDs: true, JWKSKeysPerType: 3})),
		check: checkNoKeyID,
	},
	"oidcc-client-test-idtoken-sig-rs256": {
		provider: advertise("RS256"),
		check: func(_ *env, o *observation) error {
			if h, err := jwtHeader(o.tokens.RawIDToken); err != nil || h["alg"] != "RS256" {
				return fmt.Errorf("ID token header %v (%v), want RS256", h, err)
			}
			return nil
		},
	},
	"oidcc-client-test-idtoken-sig-none": {
		provider: all(advertise("none"), fault(partest.EndpointToken, partest.Fault{IDTokenAlg: "none"})),
	},
	"oidcc-client-test-invalid-sig-rs256": {
		provider: all(advertise("RS256"), fault(partest.EndpointToken, partest.Fault{CorruptIDTokenSignature: true})),
	},
	"oidcc-client-test-invalid-sig-es256": {
		provider: func(e *env, pc *partest.Config) {
			pc.IDTokenAlg = jose.ES256 // discovery then lists ES256 only
			setFault(pc, partest.EndpointToken, partest.Fault{CorruptIDTokenSignature: true})
		},
	},
	"oidcc-client-test-invalid-sig-hs256": {
		provider: all(advertise("HS256"), fault(partest.EndpointToken, partest.Fault{IDTokenAlg: jose.HS256, CorruptIDTokenSignature: true})),
	},
	"oidcc-client-test-userinfo-invalid-sub": {
		provider: fault(partest.EndpointUserinfo, partest.Fault{Userinfo: func(c map[string]any) {
			c["sub"] = fmt.Sprint(c["sub"]) + "invalid"
		}}),
	},
	"oidcc-client-test-scope-userinfo-claims": {
		client: func(c *client.Config) { c.Scopes = []string{"openid", "profile", "email"} },
		check: func(_ *env, o *observation) error {
			scope, _ := o.tokens.Token.Extra("scope").(string)
			if !slices.Contains(strings.Fields(scope), "profile") || !slices.Contains(strings.Fields(scope), "email") {
				return fmt.Errorf("granted scope %q, want profile and email requested", scope)
			}
			var claims struct{ Email string }
			if err := o.userinfo.Claims(&claims); err != nil || claims.Email == "" {
				return fmt.Errorf("userinfo without the email claim (%v)", err)
			}
			return nil
		},
	},
	"oidcc-client-test-client-secret-basic": {check: checkTokenEndpointAuth("Basic")},
	"oidcc-client-test-discovery-openid-config": {
		check: func(e *env, _ *observation) error {
			if n := e.srv.Requests(partest.EndpointDiscovery); n < 1 {
				return fmt.Errorf("no discovery request")
			}
			return nil
		},
	},
	"oidcc-client-test-discovery-jwks-uri-keys": {
		// partest's jwks_uri is not at a conventional path
		// (/.well-known/openid-configuration/jwks, as at the MitID
		// broker): only a client reading jwks_uri finds it.
		check: func(e *env, _ *observation) error {
			if n := len(e.rec.requests("/.well-known/openid-configuration/jwks")); n < 1 {
				return fmt.Errorf("no request to the advertised jwks_uri")
			}
			return nil
		},
	},
	"oidcc-client-test-discovery-issuer-mismatch": {
		provider: fault(partest.EndpointDiscovery, partest.Fault{Response: func(md map[string]any) {
			md["issuer"] = fmt.Sprint(md["issuer"]) + "1"
		}}),
	},
	"oidcc-client-test-signing-key-rotation": {
		run: twoLogins(func(e *env) {
			if err := e.srv.RotateKeys(); err != nil {
				e.t.Fatal(err)
			}
		}),
		check: twoJWKSFetches,
	},
	"oidcc-client-test-signing-key-rotation-just-before-signing": {
		run: twoLogins(func(e *env) {
			e.srv.SetFault(partest.EndpointToken, partest.Fault{RotateKeys: true, Times: 1})
		}),
		check: twoJWKSFetches,
	},
	"oidcc-client-test-userinfo-signed": {
		provider: func(_ *env, pc *partest.Config) { pc.Clients[0].SignedUserinfo = true },
		check: func(e *env, _ *observation) error {
			for _, x := range e.rec.requests("/userinfo") {
				if !strings.HasPrefix(x.contentType, "application/jwt") {
					return fmt.Errorf("userinfo answered %q, want a signed JWT", x.contentType)
				}
			}
			return nil
		},
	},
	"oidcc-client-test-refresh-token": {
		provider: func(_ *env, pc *partest.Config) { pc.RefreshTokens = true },
		refresh:  true,
		check: func(e *env, o *observation) error {
			if o.tokens.IDToken == nil || o.tokens.RawIDToken == "" {
				return fmt.Errorf("the refresh response's ID token was not kept")
			}
			if n := len(e.rec.requests("/userinfo")); n != 2 {
				return fmt.Errorf("%d userinfo calls, want one before and one after the refresh", n)
			}
			return nil
		},
	},
	"oidcc-client-test-refresh-token-invalid-issuer": {
		provider:     func(_ *env, pc *partest.Config) { pc.RefreshTokens = true },
		refresh:      true,
		refreshFault: &partest.Fault{IDToken: func(c map[string]any) { c["iss"] = fmt.Sprint(c["iss"]) + "1" }},
	},
	"oidcc-client-test-refresh-token-invalid-sub": {
		provider:     func(_ *env, pc *partest.Config) { pc.RefreshTokens = true },
		refresh:      true,
		refreshFault: &partest.Fault{IDToken: func(c map[string]any) { c["sub"] = fmt.Sprint(c["sub"]) + "1" }},
	},
	"oidcc-client-test-userinfo-bearer-header": {
		check: func(e *env, _ *observation) error {
			reqs := e.rec.requests("/userinfo")
			for _, x := range reqs {
				if x.auth != "Bearer" || x.query || x.body {
					return fmt.Errorf("userinfo request %+v, want the token in the Authorization header only", x)
				}
			}
			if len(reqs) == 0 {
				return fmt.Errorf("no userinfo request")
			}
			return nil
		},
	},
	"oidcc-client-test-form-post-error": {
		options: []client.Option{client.WithPrompt("none"), client.WithMaxAge(0)},
		wantErr: authorizationError("login_required"),
		check: func(e *env, o *observation) error {
			if o.flow.MaxAge != "0" {
				return fmt.Errorf("flow max_age %q, want 0 pushed", o.flow.MaxAge)
			}
			return nil
		},
	},
	"oidcc-client-test-aggregated-claims": {
		provider: fault(partest.EndpointUserinfo, partest.Fault{Userinfo: func(c map[string]any) {
			c["_claim_names"] = map[string]any{"address": "src1", "phone_number": "src1"}
			c["_claim_sources"] = map[string]any{"src1": map[string]any{"JWT": unsignedJWT(
				`{"address":{"street_address":"1234 Hollywood Blvd.","locality":"Los Angeles"},"phone_number":"+1 (310) 123-4567"}`)}}
		}}),
		check: func(_ *env, o *observation) error {
			var claims struct {
				Names map[string]string `json:"_claim_names"`
			}
			if err := o.userinfo.Claims(&claims); err != nil || claims.Names["address"] != "src1" {
				return fmt.Errorf("userinfo claims lost _claim_names (%v)", err)
			}
			return nil
		},
	},
	"oidcc-client-test-mtls-endpoint-aliases": {
		provider: func(_ *env, pc *partest.Config) { pc.MTLSEndpointAliases = true },
		check: func(e *env, _ *observation) error {
			paths := []string{"/mtls/connect/token"}
			if e.v.transport == "par" {
				paths = append(paths, "/mtls/connect/par")
			}
			for _, p := range paths {
				if len(e.rec.requests(p)) == 0 {
					return fmt.Errorf("no request to the alias %s", p)
				}
			}
			return nil
		},
	},

	// FAPI 2.0 Security Profile Final (and Message Signing Final with
	// signed request objects).
	"fapi2-security-profile-final-client-test-happy-path":                {check: checkBinding},
	"fapi2-security-profile-final-client-test-discovery-issuer-mismatch": {provider: fault(partest.EndpointDiscovery, partest.Fault{Response: func(md map[string]any) { md["issuer"] = fmt.Sprint(md["issuer"]) + "1" }})},
	"fapi2-security-profile-final-client-test-invalid-iss":               {provider: idToken(appendTo("iss", "1"))},
	"fapi2-security-profile-final-client-test-invalid-aud":               {provider: idToken(appendTo("aud", "1"))},
	"fapi2-security-profile-final-client-test-invalid-secondary-aud": {provider: idToken(func(_ *env, c map[string]any) {
		c["aud"] = []string{fmt.Sprint(c["aud"]), fmt.Sprint(c["aud"]) + "1"}
	})},
	"fapi2-security-profile-final-client-test-invalid-null-alg":      {provider: fault(partest.EndpointToken, partest.Fault{IDTokenAlg: "none"})},
	"fapi2-security-profile-final-client-test-invalid-alternate-alg": {provider: fault(partest.EndpointToken, partest.Fault{IDTokenAlg: jose.RS256})},
	"fapi2-security-profile-final-client-test-invalid-expired-exp": {provider: idToken(func(e *env, c map[string]any) {
		c["exp"] = e.clk.now().Add(-6 * time.Minute).Unix()
	})},
	"fapi2-security-profile-final-client-test-invalid-missing-exp": {provider: idToken(without("exp"))},
	"fapi2-security-profile-final-client-test-invalid-missing-aud": {provider: idToken(without("aud"))},
	"fapi2-security-profile-final-client-test-invalid-missing-iss": {provider: idToken(without("iss"))},
	"fapi2-security-profile-final-client-test-valid-aud-as-array": {provider: idToken(func(_ *env, c map[string]any) {
		c["aud"] = []string{fmt.Sprint(c["aud"])}
	})},
	"fapi2-security-profile-final-client-test-invalid-nonce":         {provider: idToken(appendTo("nonce", "1")), wantErr: isAbout(client.ErrInvalidIDToken, "nonce")},
	"fapi2-security-profile-final-client-test-invalid-missing-nonce": {provider: idToken(without("nonce")), wantErr: isAbout(client.ErrInvalidIDToken, "nonce")},
	"fapi2-security-profile-final-client-test-invalid-authorization-response-iss": {
		provider: fault(partest.EndpointAuthorize, partest.Fault{AuthorizationResponse: func(v url.Values) {
			v["iss"] = []string{v["iss"][0] + "1"}
		}}),
		wantErr: is(client.ErrIssuerMismatch),
	},
	"fapi2-security-profile-final-client-test-remove-authorization-response-iss": {
		provider: fault(partest.EndpointAuthorize, partest.Fault{OmitIss: true}),
		wantErr:  is(client.ErrIssuerMismatch),
	},
	"fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails": {
		provider: fault(partest.EndpointAuthorize, partest.Fault{AuthorizationResponse: func(v url.Values) {
			v["state"] = []string{v["state"][0] + "1"}
		}}),
		wantErr: is(client.ErrStateMismatch),
	},
	"fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails": {
		provider: fault(partest.EndpointAuthorize, partest.Fault{AuthorizationResponse: func(v url.Values) {
			delete(v, "state")
		}}),
		wantErr: is(client.ErrStateMismatch),
	},
	"fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in": {
		provider: fault(partest.EndpointToken, partest.Fault{Response: func(b map[string]any) { delete(b, "expires_in") }}),
		check: func(e *env, o *observation) error {
			if !o.tokens.Token.Expiry.IsZero() {
				return fmt.Errorf("expiry %v from a response without expires_in", o.tokens.Token.Expiry)
			}
			return nil
		},
	},
	"fapi2-security-profile-final-client-test-token-type-case-insensitivity": {
		provider: fault(partest.EndpointToken, partest.Fault{Response: func(b map[string]any) {
			b["token_type"] = invertCase(fmt.Sprint(b["token_type"]))
		}}),
	},
	"fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity": {
		provider: fault(partest.EndpointUserinfo, partest.Fault{ChallengeScheme: "dPoP"}),
		check: func(e *env, _ *observation) error {
			reqs := e.rec.requests("/userinfo")
			if len(reqs) != 2 || reqs[0].status != http.StatusUnauthorized || reqs[1].status != http.StatusOK {
				return fmt.Errorf("userinfo requests %+v, want the dPoP nonce challenge answered by one retry", reqs)
			}
			return nil
		},
	},
	"fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce": {
		provider: func(_ *env, pc *partest.Config) { pc.DPoPNonce = false },
		check:    checkBinding,
	},

	// FAPI 2.0 Message Signing Final, JARM variant: forged JWT-secured
	// authorization responses (JARM §2.4).
	"fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails": {
		provider: jarm(func(_ *env, c map[string]any) { delete(c, "iss") }),
		wantErr:  all2(is(client.ErrInvalidResponseJWT), is(client.ErrIssuerMismatch)),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails": {
		provider: jarm(appendTo("iss", "1")),
		wantErr:  all2(is(client.ErrInvalidResponseJWT), is(client.ErrIssuerMismatch)),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails": {
		provider: jarm(without("aud")),
		wantErr:  isAbout(client.ErrInvalidResponseJWT, "aud"),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails": {
		provider: jarm(appendTo("aud", "1")),
		wantErr:  isAbout(client.ErrInvalidResponseJWT, "aud"),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails": {
		provider: jarm(without("exp")),
		wantErr:  isAbout(client.ErrInvalidResponseJWT, "exp"),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails": {
		provider: jarm(func(e *env, c map[string]any) { c["exp"] = e.clk.now().Add(-6 * time.Minute).Unix() }),
		wantErr:  isAbout(client.ErrInvalidResponseJWT, "expired"),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails": {
		callback: func(v url.Values) { v.Set("response", corruptSignature(v.Get("response"))) },
		wantErr:  is(client.ErrInvalidResponseJWT),
	},
	"fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none": {
		provider: fault(partest.EndpointAuthorize, partest.Fault{JARMAlg: "none"}),
		wantErr:  isAbout(client.ErrInvalidResponseJWT, "none"),
	},
}

// jarm changes the claims of the JWT-secured authorization response.
func jarm(edit func(e *env, claims map[string]any)) func(*env, *partest.Config) {
	return func(e *env, pc *partest.Config) {
		setFault(pc, partest.EndpointAuthorize, partest.Fault{JARMClaims: func(c map[string]any) { edit(e, c) }})
	}
}

// corruptSignature flips the bits of a compact JWS's signature bytes (XOR
// 0x5A on every byte), as the suite does for its invalid-signature
// modules.
func corruptSignature(jws string) string {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return jws
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jws
	}
	for i := range sig {
		sig[i] ^= 0x5A
	}
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// all2 expects both checks to hold.
func all2(a, b func(error) error) func(error) error {
	return func(err error) error {
		if e := a(err); e != nil {
			return e
		}
		return b(err)
	}
}

// twoJWKSFetches checks that the second login refetched the rotated keys.
func twoJWKSFetches(e *env, _ *observation) error {
	if n := e.srv.Requests(partest.EndpointJWKS); n != 2 {
		return fmt.Errorf("%d JWKS fetches, want 2 (one per key generation)", n)
	}
	return nil
}
