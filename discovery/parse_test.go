package discovery_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-par/par/discovery"
)

const brokerIssuer = "https://pp.netseidbroker.dk/op"

// minimal returns a small valid OAuth (not OpenID) document for issuer
// with extra members spliced in (a JSON fragment without braces).
func minimal(issuer, extra string) []byte {
	doc := `{"issuer":"` + issuer + `","authorization_endpoint":"` + issuer + `/authorize","token_endpoint":"` + issuer + `/token"`
	if extra != "" {
		doc += "," + extra
	}
	return []byte(doc + "}")
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		issuer string
		check  func(t *testing.T, md *discovery.Metadata)
	}{
		{"broker-pp.json", brokerIssuer, func(t *testing.T, md *discovery.Metadata) {
			want := discovery.Metadata{
				Issuer:                             brokerIssuer,
				PushedAuthorizationRequestEndpoint: brokerIssuer + "/connect/par",
				AuthorizationEndpoint:              brokerIssuer + "/connect/authorize",
				TokenEndpoint:                      brokerIssuer + "/connect/token",
				JWKSURI:                            brokerIssuer + "/.well-known/openid-configuration/jwks",
				EndSessionEndpoint:                 brokerIssuer + "/connect/endsession",
				BackchannelAuthenticationEndpoint:  brokerIssuer + "/connect/ciba",
				CheckSessionIframe:                 "", // absent from the recorded document
			}
			for _, f := range []struct{ got, want string }{
				{md.Issuer, want.Issuer},
				{md.PushedAuthorizationRequestEndpoint, want.PushedAuthorizationRequestEndpoint},
				{md.AuthorizationEndpoint, want.AuthorizationEndpoint},
				{md.TokenEndpoint, want.TokenEndpoint},
				{md.JWKSURI, want.JWKSURI},
				{md.EndSessionEndpoint, want.EndSessionEndpoint},
				{md.BackchannelAuthenticationEndpoint, want.BackchannelAuthenticationEndpoint},
				{md.CheckSessionIframe, want.CheckSessionIframe},
			} {
				if f.got != f.want {
					t.Errorf("field = %q, want %q", f.got, f.want)
				}
			}
			if md.RequirePushedAuthorizationRequests {
				t.Error("RequirePushedAuthorizationRequests = true, want false")
			}
			if !md.AuthorizationResponseISSParameterSupported || !md.RequestParameterSupported || !md.BackchannelLogoutSupported {
				t.Error("iss, request parameter or back-channel logout support = false, want true")
			}
			if !md.RequestURIParameterSupported {
				t.Error("RequestURIParameterSupported = false, want the OIDC default true for an absent member")
			}
			if got, want := md.CodeChallengeMethodsSupported, []string{"plain", "S256"}; !reflect.DeepEqual(got, want) {
				t.Errorf("CodeChallengeMethodsSupported = %q, want %q", got, want)
			}
			if got, want := md.BackchannelTokenDeliveryModesSupported, []string{"poll"}; !reflect.DeepEqual(got, want) {
				t.Errorf("BackchannelTokenDeliveryModesSupported = %q, want %q", got, want)
			}
			// The recorded document has no scopes, claims or UI locales.
			if len(md.ScopesSupported) != 0 || len(md.ClaimsSupported) != 0 || len(md.UILocalesSupported) != 0 {
				t.Errorf("ScopesSupported = %q, ClaimsSupported = %q, UILocalesSupported = %q; want none", md.ScopesSupported, md.ClaimsSupported, md.UILocalesSupported)
			}
			if got, want := md.RequestObjectEncryptionAlgValuesSupported, []string{"RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512"}; !reflect.DeepEqual(got, want) {
				t.Errorf("RequestObjectEncryptionAlgValuesSupported = %q, want %q", got, want)
			}
		}},
		{"nemlogin-hypothetical.json", "https://nemlog-in-oidc.test.example", func(t *testing.T, md *discovery.Metadata) {
			if !md.RequirePushedAuthorizationRequests {
				t.Error("RequirePushedAuthorizationRequests = false, want true")
			}
			if got, want := md.DPoPSigningAlgValuesSupported, []string{"PS256", "ES256"}; !reflect.DeepEqual(got, want) {
				t.Errorf("DPoPSigningAlgValuesSupported = %q, want %q", got, want)
			}
			if got, want := md.AuthorizationSigningAlgValuesSupported, []string{"PS256"}; !reflect.DeepEqual(got, want) {
				t.Errorf("AuthorizationSigningAlgValuesSupported = %q, want %q", got, want)
			}
			if got, want := md.IDTokenEncryptionEncValuesSupported, []string{"A256GCM"}; !reflect.DeepEqual(got, want) {
				t.Errorf("IDTokenEncryptionEncValuesSupported = %q, want %q", got, want)
			}
			if len(md.ACRValuesSupported) != 3 || !strings.HasSuffix(md.ACRValuesSupported[2], "/loa/High") {
				t.Errorf("ACRValuesSupported = %q, want the three NSIS levels", md.ACRValuesSupported)
			}
		}},
		{"node-oidc-provider.json", "https://node-op.example/oidc", func(t *testing.T, md *discovery.Metadata) {
			if md.RequestURIParameterSupported {
				t.Error("RequestURIParameterSupported = true, want the document's false")
			}
			if !md.TLSClientCertificateBoundAccessTokens || !md.RequireRequestURIRegistration || !md.ClaimsParameterSupported {
				t.Error("mTLS-bound tokens, request_uri registration or claims parameter = false, want true")
			}
			if got, want := md.MTLSEndpointAliases["token_endpoint"], "https://mtls.node-op.example/oidc/token"; got != want {
				t.Errorf("MTLSEndpointAliases[token_endpoint] = %q, want %q", got, want)
			}
			if got, want := md.DeviceAuthorizationEndpoint, "https://node-op.example/oidc/device/auth"; got != want {
				t.Errorf("DeviceAuthorizationEndpoint = %q, want %q", got, want)
			}
			if got, want := md.AuthorizationDetailsTypesSupported, []string{"payment_initiation"}; !reflect.DeepEqual(got, want) {
				t.Errorf("AuthorizationDetailsTypesSupported = %q, want %q", got, want)
			}
			if got, want := md.RevocationEndpointAuthSigningAlgValuesSupported, []string{"HS256", "PS256", "ES256"}; !reflect.DeepEqual(got, want) {
				t.Errorf("RevocationEndpointAuthSigningAlgValuesSupported = %q, want %q", got, want)
			}
			if got, want := md.OPTOSURI, "https://node-op.example/tos"; got != want {
				t.Errorf("OPTOSURI = %q, want %q", got, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := fixture(t, tt.file, "")
			md, err := discovery.Parse(data, tt.issuer)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", tt.file, err)
			}
			if !bytes.Equal(md.Raw(), data) {
				t.Error("Raw() differs from the parsed document")
			}
			tt.check(t, md)
		})
	}
}

// TestParseAllMembers checks that every field of Metadata is filled from
// its member: a document listing every known member, each with a value
// distinct from the zero value, must leave no field at its zero value.
func TestParseAllMembers(t *testing.T) {
	t.Parallel()
	const iss = "https://as.example"
	doc := map[string]any{}
	typ := reflect.TypeFor[discovery.Metadata]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch f.Type.Kind() {
		case reflect.String:
			doc[name] = iss + "/" + name
		case reflect.Bool:
			doc[name] = true
		case reflect.Slice:
			doc[name] = []string{name}
		case reflect.Map:
			doc[name] = map[string]string{"token_endpoint": iss + "/mtls/token"}
		default:
			t.Fatalf("field %s has unexpected kind %s", f.Name, f.Type.Kind())
		}
	}
	doc["issuer"] = iss
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	md, err := discovery.Parse(data, iss)
	if err != nil {
		t.Fatalf("Parse(every member) = %v", err)
	}
	v := reflect.ValueOf(md).Elem()
	for i := range typ.NumField() {
		if typ.Field(i).IsExported() && v.Field(i).IsZero() {
			t.Errorf("Parse left %s at its zero value", typ.Field(i).Name)
		}
	}
	// Round trip: the JSON encoding of md parses back to the same fields.
	re, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	md2, err := discovery.Parse(re, iss)
	if err != nil {
		t.Fatalf("Parse(json.Marshal(md)) = %v", err)
	}
	if md2.Issuer != md.Issuer || !reflect.DeepEqual(md2.MTLSEndpointAliases, md.MTLSEndpointAliases) ||
		!reflect.DeepEqual(md2.ClaimsSupported, md.ClaimsSupported) || md2.RequestURIParameterSupported != md.RequestURIParameterSupported {
		t.Error("Parse(json.Marshal(md)) differs from md")
	}
}

func TestParseIssuerMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, configured, document string
	}{
		{"trailing slash in document", brokerIssuer, brokerIssuer + "/"},
		{"trailing slash configured", brokerIssuer + "/", brokerIssuer},
		{"host case", brokerIssuer, "https://PP.netseidbroker.dk/op"},
		{"path case", brokerIssuer, "https://pp.netseidbroker.dk/OP"},
		{"default port spelled out", brokerIssuer, "https://pp.netseidbroker.dk:443/op"},
		{"other host", brokerIssuer, "https://evil.example/op"},
		{"other path", brokerIssuer, "https://pp.netseidbroker.dk"},
		{"empty", brokerIssuer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := minimal(brokerIssuer, "")
			doc = bytes.Replace(doc, []byte(`"issuer":"`+brokerIssuer+`"`), []byte(`"issuer":"`+tt.document+`"`), 1)
			_, err := discovery.Parse(doc, tt.configured)
			var me *discovery.IssuerMismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Parse(issuer %q, configured %q) = %v, want *IssuerMismatchError", tt.document, tt.configured, err)
			}
			if me.Expected != tt.configured || me.Got != tt.document {
				t.Errorf("IssuerMismatchError = {%q, %q}, want {%q, %q}", me.Expected, me.Got, tt.configured, tt.document)
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		_, err := discovery.Parse([]byte(`{"authorization_endpoint":"https://a.example/a","token_endpoint":"https://a.example/t"}`), "https://a.example")
		var me *discovery.IssuerMismatchError
		if !errors.As(err, &me) || me.Got != "" {
			t.Errorf("Parse(no issuer) = %v, want *IssuerMismatchError with Got empty", err)
		}
	})
}

func TestParseInvalidIssuer(t *testing.T) {
	t.Parallel()
	for _, issuer := range []string{
		"",
		"http://pp.netseidbroker.dk/op",
		"pp.netseidbroker.dk/op",
		"/op",
		"https://pp.netseidbroker.dk/op?x=1",
		"https://pp.netseidbroker.dk/op?",
		"https://pp.netseidbroker.dk/op#",
		"https://pp.netseidbroker.dk/op#frag",
		"https://user:secret@pp.netseidbroker.dk/op",
		"ftp://pp.netseidbroker.dk/op",
		"https:opaque",
		"https://%zz",
	} {
		t.Run(issuer, func(t *testing.T) {
			t.Parallel()
			_, err := discovery.Parse(minimal(issuer, ""), issuer)
			if !errors.Is(err, discovery.ErrInvalidIssuer) {
				t.Errorf("Parse(issuer %q) = %v, want ErrInvalidIssuer", issuer, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the password of the issuer's user info", err)
			}
		})
	}
	for _, issuer := range []string{"http://127.0.0.1:8080/op", "http://localhost/op", "http://[::1]:9/op", "https://as.example", "https://as.example/"} {
		if _, err := discovery.Parse(minimal(strings.TrimSuffix(issuer, "/"), `"x":1`), issuer); errors.Is(err, discovery.ErrInvalidIssuer) {
			t.Errorf("Parse(issuer %q) = %v, want the issuer accepted", issuer, err)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", discovery.ErrMalformed},
		{"whitespace", " \n", discovery.ErrMalformed},
		{"html", "<!doctype html><title>Not here</title>", discovery.ErrMalformed},
		{"array", `[{"issuer":"https://as.example"}]`, discovery.ErrMalformed},
		{"string", `"https://as.example"`, discovery.ErrMalformed},
		{"null", `null`, discovery.ErrMalformed},
		{"number", `42`, discovery.ErrMalformed},
		{"truncated", `{"issuer":"https://as.example",`, discovery.ErrMalformed},
		{"unterminated string", `{"issuer":"https://as.example}`, discovery.ErrMalformed},
		{"trailing comma", `{"issuer":"https://as.example",}`, discovery.ErrMalformed},
		{"trailing object", string(minimal("https://as.example", "")) + `{}`, discovery.ErrMalformed},
		{"trailing garbage", string(minimal("https://as.example", "")) + `x`, discovery.ErrMalformed},
		{"single quotes", `{'issuer':'https://as.example'}`, discovery.ErrMalformed},
		{"duplicate issuer", string(minimal("https://as.example", `"issuer":"https://evil.example"`)), discovery.ErrDuplicateMember},
		{"duplicate unknown", string(minimal("https://as.example", `"x":1,"x":2`)), discovery.ErrDuplicateMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			md, err := discovery.Parse([]byte(tt.data), "https://as.example")
			var pe *discovery.ParseError
			if md != nil || !errors.Is(err, tt.want) || !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, %v; want a *ParseError wrapping %v", tt.data, md, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "discovery: ") || strings.Count(err.Error(), "discovery:") != 1 {
				t.Errorf("error %q: want exactly one discovery: prefix", err)
			}
		})
	}
	t.Run("syntax error reachable", func(t *testing.T) {
		t.Parallel()
		_, err := discovery.Parse([]byte(`{"issuer":}`), "https://as.example")
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(bad syntax) = %v, want a *json.SyntaxError in the chain", err)
		}
	})
}

func TestParseWrongType(t *testing.T) {
	t.Parallel()
	const iss = "https://as.example"
	tests := []struct {
		member, value string
	}{
		{"issuer", `42`},
		{"token_endpoint", `["https://as.example/token"]`},
		{"jwks_uri", `{"url":"https://as.example/jwks"}`},
		{"scopes_supported", `"openid mitid"`},
		{"scopes_supported", `["openid", 1]`},
		{"require_pushed_authorization_requests", `"true"`},
		{"authorization_response_iss_parameter_supported", `1`},
		{"request_uri_parameter_supported", `"false"`},
		{"code_challenge_methods_supported", `{"S256":true}`},
		{"mtls_endpoint_aliases", `["https://mtls.as.example/token"]`},
		{"mtls_endpoint_aliases", `{"token_endpoint":5}`},
		{"dpop_signing_alg_values_supported", `"ES256"`},
	}
	for _, tt := range tests {
		t.Run(tt.member+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			doc := []byte(`{"` + tt.member + `":` + tt.value + `,` + string(minimal(iss, ""))[1:])
			if tt.member == "issuer" || tt.member == "token_endpoint" {
				// Replace the member instead of duplicating it.
				doc = []byte(strings.Replace(string(minimal(iss, "")), `"`+tt.member+`":"`, `"`+tt.member+`":`+tt.value+`,"was_`+tt.member+`":"`, 1))
			}
			_, err := discovery.Parse(doc, iss)
			var pe *discovery.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, discovery.ErrWrongType) {
				t.Fatalf("Parse(%s) = %v, want *ParseError wrapping ErrWrongType", doc, err)
			}
			if pe.Member != tt.member {
				t.Errorf("ParseError.Member = %q, want %q", pe.Member, tt.member)
			}
			if !strings.Contains(err.Error(), ", want ") {
				t.Errorf("error %q does not say which type is wanted", err)
			}
		})
	}
}

func TestParseExactMemberNames(t *testing.T) {
	t.Parallel()
	// encoding/json matches struct fields case-insensitively; Parse must
	// not, or "ISSUER" or "Token_Endpoint" could override the real member.
	const iss = "https://as.example"
	doc := minimal(iss, `"ISSUER":"https://evil.example","Token_Endpoint":"https://evil.example/token","Require_Pushed_Authorization_Requests":true`)
	md, err := discovery.Parse(doc, iss)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if md.Issuer != iss || md.TokenEndpoint != iss+"/token" || md.RequirePushedAuthorizationRequests {
		t.Errorf("Parse took case-variant members: issuer %q, token %q, require PAR %v", md.Issuer, md.TokenEndpoint, md.RequirePushedAuthorizationRequests)
	}
}

func TestParseRequired(t *testing.T) {
	t.Parallel()
	const iss = "https://as.example"
	tests := []struct {
		name   string
		doc    string
		member string // "" when the document is valid
	}{
		{"no token_endpoint", `{"issuer":"` + iss + `","authorization_endpoint":"` + iss + `/a"}`, "token_endpoint"},
		{"no authorization_endpoint", `{"issuer":"` + iss + `","token_endpoint":"` + iss + `/t"}`, "authorization_endpoint"},
		{"empty token_endpoint", `{"issuer":"` + iss + `","authorization_endpoint":"` + iss + `/a","token_endpoint":""}`, "token_endpoint"},
		{"null token_endpoint", `{"issuer":"` + iss + `","authorization_endpoint":"` + iss + `/a","token_endpoint":null}`, "token_endpoint"},
		{"OAuth server without jwks_uri", string(minimal(iss, "")), ""},
		{"openid scope without jwks_uri", string(minimal(iss, `"scopes_supported":["openid"]`)), "jwks_uri"},
		{"ID token algs without jwks_uri", string(minimal(iss, `"id_token_signing_alg_values_supported":["RS256"]`)), "jwks_uri"},
		{"subject types without jwks_uri", string(minimal(iss, `"subject_types_supported":["public"]`)), "jwks_uri"},
		{"userinfo without jwks_uri", string(minimal(iss, `"userinfo_endpoint":"`+iss+`/me"`)), "jwks_uri"},
		{"OpenID Provider with jwks_uri", string(minimal(iss, `"scopes_supported":["openid"],"jwks_uri":"`+iss+`/jwks"`)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := discovery.Parse([]byte(tt.doc), iss)
			if tt.member == "" {
				if err != nil {
					t.Errorf("Parse = %v, want nil", err)
				}
				return
			}
			var pe *discovery.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, discovery.ErrMissingMember) || pe.Member != tt.member {
				t.Errorf("Parse = %v, want *ParseError{Member: %q} wrapping ErrMissingMember", err, tt.member)
			}
		})
	}
}

func TestParseEndpoints(t *testing.T) {
	t.Parallel()
	const iss = "https://as.example"
	tests := []struct {
		name   string
		extra  string
		member string // "" when valid
	}{
		{"http PAR endpoint", `"pushed_authorization_request_endpoint":"http://as.example/par"`, "pushed_authorization_request_endpoint"},
		{"relative userinfo", `"userinfo_endpoint":"/me","jwks_uri":"https://as.example/jwks"`, "userinfo_endpoint"},
		{"jwks_uri with fragment", `"jwks_uri":"https://as.example/jwks#k"`, "jwks_uri"},
		{"javascript end session", `"end_session_endpoint":"javascript:alert(1)"`, "end_session_endpoint"},
		{"not a URL", `"revocation_endpoint":"https://as.example/%zz"`, "revocation_endpoint"},
		{"http mTLS alias", `"mtls_endpoint_aliases":{"token_endpoint":"https://mtls.as.example/t","pushed_authorization_request_endpoint":"http://mtls.as.example/par"}`, "mtls_endpoint_aliases.pushed_authorization_request_endpoint"},
		{"http loopback PAR endpoint", `"pushed_authorization_request_endpoint":"http://127.0.0.1:9000/par"`, ""},
		{"query in endpoint", `"pushed_authorization_request_endpoint":"https://as.example/par?tenant=a"`, ""},
		{"http documentation page", `"service_documentation":"http://as.example/docs"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := discovery.Parse(minimal(iss, tt.extra), iss)
			if tt.member == "" {
				if err != nil {
					t.Errorf("Parse = %v, want nil", err)
				}
				return
			}
			var pe *discovery.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, discovery.ErrInvalidEndpoint) || pe.Member != tt.member {
				t.Errorf("Parse = %v, want *ParseError{Member: %q} wrapping ErrInvalidEndpoint", err, tt.member)
			}
		})
	}
}

func TestUnknownMembers(t *testing.T) {
	t.Parallel()
	data := fixture(t, "node-oidc-provider.json", "")
	data = bytes.Replace(data, []byte(`"issuer"`), []byte(`"x_null":null,"x_num":-1.5e3,"x_arr":[{"a":[]}],"x_str":"s","issuer"`), 1)
	md, err := discovery.Parse(data, "https://node-op.example/oidc")
	if err != nil {
		t.Fatalf("Parse(document with unknown members) = %v", err)
	}
	var extra struct {
		Flags struct {
			RAR    bool  `json:"rich_authorization_requests"`
			Limits []any `json:"limits"`
		} `json:"x_vendor_feature_flags"`
		Num    float64 `json:"x_num"`
		Str    string  `json:"x_str"`
		Issuer string  `json:"issuer"`
	}
	if err := md.Claims(&extra); err != nil {
		t.Fatalf("Claims = %v", err)
	}
	if !extra.Flags.RAR || len(extra.Flags.Limits) != 3 || extra.Num != -1500 || extra.Str != "s" || extra.Issuer != md.Issuer {
		t.Errorf("Claims = %+v, want the unknown members", extra)
	}
	var all map[string]any
	if err := md.Claims(&all); err != nil {
		t.Fatal(err)
	}
	if _, ok := all["x_null"]; !ok {
		t.Error("Claims(map) lacks x_null")
	}
	if !bytes.Equal(md.Raw(), data) {
		t.Error("Raw() differs from the document")
	}
	raw := md.Raw()
	raw[0] = 'X'
	if md.Raw()[0] != '{' {
		t.Error("Raw() returns the Metadata's own buffer, want a copy")
	}
	var wrong struct {
		Issuer int `json:"issuer"`
	}
	if err := md.Claims(&wrong); err == nil {
		t.Error("Claims(wrong type) = nil, want an error")
	}
}

func TestClaimsWithoutDocument(t *testing.T) {
	t.Parallel()
	md := &discovery.Metadata{Issuer: "https://as.example", PushedAuthorizationRequestEndpoint: "https://as.example/par"}
	var v struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	if err := md.Claims(&v); err != nil || v.PAR != md.PushedAuthorizationRequestEndpoint {
		t.Errorf("Claims on a hand-built Metadata = %v, %q; want nil, %q", err, v.PAR, md.PushedAuthorizationRequestEndpoint)
	}
	if md.Raw() != nil {
		t.Errorf("Raw() on a hand-built Metadata = %q, want nil", md.Raw())
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	md, err := discovery.Parse(fixture(t, "node-oidc-provider.json", ""), "https://node-op.example/oidc")
	if err != nil {
		t.Fatal(err)
	}
	broker, err := discovery.Parse(fixture(t, "broker-pp.json", ""), brokerIssuer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		md   *discovery.Metadata
		name string
		mtls bool
		want string
	}{
		{md, "token_endpoint", false, "https://node-op.example/oidc/token"},
		{md, "token_endpoint", true, "https://mtls.node-op.example/oidc/token"},
		{md, "pushed_authorization_request_endpoint", false, "https://node-op.example/oidc/request"},
		{md, "pushed_authorization_request_endpoint", true, "https://mtls.node-op.example/oidc/request"},
		{md, "authorization_endpoint", true, "https://node-op.example/oidc/auth"}, // no alias: the browser-facing one
		{md, "jwks_uri", true, "https://node-op.example/oidc/jwks"},
		{md, "device_authorization_endpoint", false, "https://node-op.example/oidc/device/auth"},
		{md, "registration_endpoint", false, "https://node-op.example/oidc/reg"},
		{md, "introspection_endpoint", true, "https://mtls.node-op.example/oidc/token/introspection"},
		{md, "issuer", false, ""},
		{md, "op_tos_uri", false, ""},
		{md, "no_such_endpoint", true, ""},
		{broker, "token_endpoint", true, brokerIssuer + "/connect/token"}, // no aliases at all
		{broker, "backchannel_authentication_endpoint", false, brokerIssuer + "/connect/ciba"},
		{broker, "end_session_endpoint", false, brokerIssuer + "/connect/endsession"},
		{broker, "check_session_iframe", false, ""}, // the recorded document has neither
		{broker, "revocation_endpoint", false, ""},
		{broker, "userinfo_endpoint", false, brokerIssuer + "/connect/userinfo"},
		{broker, "device_authorization_endpoint", false, ""},
	}
	for _, tt := range tests {
		if got := tt.md.Endpoint(tt.name, tt.mtls); got != tt.want {
			t.Errorf("%s: Endpoint(%q, %v) = %q, want %q", tt.md.Issuer, tt.name, tt.mtls, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []struct{ file, issuer string }{
		{"broker-pp.json", brokerIssuer},
		{"nemlogin-hypothetical.json", "https://nemlog-in-oidc.test.example"},
		{"node-oidc-provider.json", "https://node-op.example/oidc"},
	} {
		f.Add(fixture(f, s.file, ""), s.issuer)
	}
	f.Add(minimal("https://as.example", `"mtls_endpoint_aliases":{"token_endpoint":"https://m.as.example/t"}`), "https://as.example")
	f.Add([]byte(`{"issuer":"http://127.0.0.1/","token_endpoint":1}`), "http://127.0.0.1/")
	f.Add([]byte(`{"issuer":"x","issuer":"x"}`), "https://as.example")
	f.Add([]byte(`[]`), "https://as.example")
	f.Add([]byte(`{} {}`), "https://as.example")
	f.Fuzz(func(t *testing.T, data []byte, issuer string) {
		md, err := discovery.Parse(data, issuer)
		if err != nil {
			var pe *discovery.ParseError
			var me *discovery.IssuerMismatchError
			if md != nil || !(errors.As(err, &pe) || errors.As(err, &me) || errors.Is(err, discovery.ErrInvalidIssuer)) {
				t.Fatalf("Parse = %v, %v; want nil and a typed error", md, err)
			}
			if !strings.HasPrefix(err.Error(), "discovery: ") {
				t.Fatalf("error %q lacks the discovery: prefix", err)
			}
			return
		}
		if md.Issuer != issuer {
			t.Fatalf("Parse accepted issuer %q for configured %q", md.Issuer, issuer)
		}
		if md.AuthorizationEndpoint == "" || md.TokenEndpoint == "" {
			t.Fatal("Parse accepted a document without authorization or token endpoint")
		}
		if !bytes.Equal(md.Raw(), data) {
			t.Fatal("Raw() differs from the input")
		}
		for _, name := range []string{"authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint", "jwks_uri"} {
			for _, mtls := range []bool{false, true} {
				if u := md.Endpoint(name, mtls); u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					t.Fatalf("Parse accepted %s = %q", name, u)
				}
			}
		}
		// Re-encoding and parsing again must succeed and agree.
		re, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		md2, err := discovery.Parse(re, issuer)
		if err != nil {
			t.Fatalf("Parse(json.Marshal(Parse(data))) = %v", err)
		}
		if md2.TokenEndpoint != md.TokenEndpoint || md2.RequestURIParameterSupported != md.RequestURIParameterSupported {
			t.Fatal("re-parsed metadata differs")
		}
	})
}
