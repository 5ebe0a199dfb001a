package partest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// rarDetails is an RFC 9396 authorization_details value with what a JSON
// round trip through float64 or a map would lose: an integer beyond 2^53,
// a decimal with trailing zeros, nested objects and arrays, and members in
// an order that is not sorted.
const rarDetails = `[{"type":"payment_initiation","locations":["https://bank.example/payments"],"actions":["initiate"],` +
	`"instructedAmount":{"currency":"EUR","amount":"123.50"},"sequence":12345678901234567890,"rate":1.10,` +
	`"creditor":{"name":"Merchant A","account":{"iban":"DE02100100109307118603","bic":null}},"identifier":"pay-1"},` +
	`{"type":"account_information","datatypes":["balance"],"privileges":["read"],"nested":[[1,[2,{"z":0,"a":1}]]]}]`

// rarClient may ask for the two types of rarDetails.
func rarClient() Client {
	c := basicClient()
	c.AuthorizationDetailsTypes = []string{"payment_initiation", "account_information"}
	return c
}

// tokenDetails reads the token response's authorization_details member as
// raw JSON.
func tokenDetails(t *testing.T, r response) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatal(err)
	}
	return m["authorization_details"]
}

// compact is s without insignificant white space.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestAuthorizationDetails: authorization_details pushed as a form
// parameter, inside a request object (a JSON array claim, RFC 9396 §3) or
// sent on the front channel comes back in the token response (§7), the
// JWT access token (§9.1) and refresh responses exactly as sent: same
// digits, same member order, nothing dropped.
func TestAuthorizationDetails(t *testing.T) {
	t.Parallel()
	spaced := strings.ReplaceAll(rarDetails, ",", ", ") // white space is not significant
	want := compact(t, rarDetails)
	tests := []struct {
		name string
		code func(t *testing.T, srv *Server, f flow) string
	}{
		{"PAR form", func(t *testing.T, srv *Server, f flow) string {
			form := f.parParams("app")
			form.Set("authorization_details", spaced)
			params, err := srv.Login(authURL(srv, "app", push(t, srv, form, basic("app", "s3cret"))))
			if err != nil {
				t.Fatal(err)
			}
			return params.Get("code")
		}},
		{"request object claim", func(t *testing.T, srv *Server, f flow) string {
			claims := map[string]any{"iss": "app", "aud": srv.Issuer(), "exp": time.Now().Add(time.Minute).Unix(),
				"authorization_details": json.RawMessage(rarDetails)}
			for k, v := range f.parParams("app") {
				claims[k] = v[0]
			}
			ro := hsJWT(t, "s3cret", jose.HS256, map[string]any{"typ": "oauth-authz-req+jwt"}, claims)
			if !strings.Contains(string(mustDecodeSegment(t, ro, 1)), `"sequence":12345678901234567890`) {
				t.Fatal("the request object does not carry the large integer as digits")
			}
			params, err := srv.Login(authURL(srv, "app", push(t, srv, url.Values{"client_id": {"app"}, "request": {ro}}, basic("app", "s3cret"))))
			if err != nil {
				t.Fatal(err)
			}
			return params.Get("code")
		}},
		{"front channel", func(t *testing.T, srv *Server, f flow) string {
			q := f.parParams("app")
			q.Set("authorization_details", rarDetails)
			params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			return params.Get("code")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Config{Clients: []Client{rarClient()}, RefreshTokens: true})
			f := newFlow()
			code := tt.code(t, srv, f)
			if code == "" {
				t.Fatal("no code")
			}
			r := postTo(t, srv, pathToken, tokenForm(code, f), basic("app", "s3cret"))
			if r.status != http.StatusOK {
				t.Fatalf("token = %d %s", r.status, r.raw)
			}
			if got := string(tokenDetails(t, r)); got != want {
				t.Errorf("token response authorization_details =\n%s\nwant\n%s", got, want)
			}
			var at map[string]json.RawMessage
			if err := json.Unmarshal(mustDecodeSegment(t, r.str("access_token"), 1), &at); err != nil {
				t.Fatal(err)
			}
			if got := string(at["authorization_details"]); got != want {
				t.Errorf("access token authorization_details = %s", got)
			}
			rr := postTo(t, srv, pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}, basic("app", "s3cret"))
			if got := string(tokenDetails(t, rr)); rr.status != http.StatusOK || got != want {
				t.Errorf("refresh = %d, authorization_details %s", rr.status, got)
			}
		})
	}
}

func mustDecodeSegment(t *testing.T, jwt string, i int) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) <= i {
		t.Fatalf("%q has no segment %d", jwt, i)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuthorizationDetailsRefused: malformed details and types the client
// may not use are refused with invalid_authorization_details (RFC 9396
// §5), at the PAR endpoint (400) and on the front channel (a redirect to
// the client); an empty array asks for nothing.
func TestAuthorizationDetailsRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{rarClient(), {ID: "plain", Secret: "s3cret", RedirectURIs: []string{testCallback}}}})
	tests := []struct {
		name, client, details string
	}{
		{"empty string", "app", ""},
		{"not JSON", "app", "payment_initiation"},
		{"an object", "app", `{"type":"payment_initiation"}`},
		{"null", "app", `null`},
		{"array of strings", "app", `["payment_initiation"]`},
		{"array with null", "app", `[null]`},
		{"no type", "app", `[{"actions":["read"]}]`},
		{"type a number", "app", `[{"type":7}]`},
		{"type empty", "app", `[{"type":""}]`},
		{"type unknown", "app", `[{"type":"credit_card"}]`},
		{"second item bad", "app", `[{"type":"payment_initiation"},{"type":"credit_card"}]`},
		{"client without types", "plain", `[{"type":"payment_initiation"}]`},
		{"locations not an array", "app", `[{"type":"payment_initiation","locations":"https://bank.example"}]`},
		{"actions with a number", "app", `[{"type":"payment_initiation","actions":["read",1]}]`},
		{"datatypes with an empty string", "app", `[{"type":"account_information","datatypes":[""]}]`},
		{"privileges null", "app", `[{"type":"account_information","privileges":null}]`},
		{"identifier a number", "app", `[{"type":"payment_initiation","identifier":1}]`},
		{"trailing garbage", "app", `[{"type":"payment_initiation"}] x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFlow()
			form := f.parParams(tt.client)
			form.Set("authorization_details", tt.details)
			r := postTo(t, srv, pathPAR, form, basic(tt.client, "s3cret"))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_authorization_details" {
				t.Errorf("PAR = %d %s, want 400 invalid_authorization_details", r.status, r.raw)
			}
			params, err := srv.Login(srv.endpointURL(pathAuthorize) + "?" + form.Encode())
			if err != nil || params.Get("error") != "invalid_authorization_details" || params.Get("state") != f.state {
				t.Errorf("front channel = %v %v, want invalid_authorization_details with state", params, err)
			}
		})
	}

	t.Run("empty array", func(t *testing.T) {
		t.Parallel()
		f := newFlow()
		form := f.parParams("app")
		form.Set("authorization_details", "[]")
		params, err := srv.Login(authURL(srv, "app", push(t, srv, form, basic("app", "s3cret"))))
		if err != nil {
			t.Fatal(err)
		}
		r := postTo(t, srv, pathToken, tokenForm(params.Get("code"), f), basic("app", "s3cret"))
		if r.status != http.StatusOK || r.body["authorization_details"] != nil {
			t.Errorf("token = %d %s, want no authorization_details", r.status, r.raw)
		}
	})
}

// TestAuthorizationDetailsDiscovery: the clients' types are advertised
// (RFC 9396 §10.1), sorted, once each; a server whose clients have none
// does not advertise RAR.
func TestAuthorizationDetailsDiscovery(t *testing.T) {
	t.Parallel()
	other := Client{ID: "other", Secret: "x", RedirectURIs: []string{testCallback}, AuthorizationDetailsTypes: []string{"account_information", "openid_credential"}}
	srv := newServer(t, Config{Clients: []Client{rarClient(), other}})
	got := get(t, srv, srv.Issuer()+pathDiscovery, nil).body["authorization_details_types_supported"]
	want := []any{"account_information", "openid_credential", "payment_initiation"}
	if list, _ := got.([]any); !slices.Equal(list, want) {
		t.Errorf("authorization_details_types_supported = %v, want %v", got, want)
	}
	if _, has := newServer(t, Config{Clients: []Client{basicClient()}}).Metadata()["authorization_details_types_supported"]; has {
		t.Error("advertised without any client types")
	}
}

// FuzzParseAuthorizationDetails: the parser never panics; what it accepts
// is a JSON array of objects with allowed types, returned compacted and
// otherwise unchanged, and accepted again as it is.
func FuzzParseAuthorizationDetails(f *testing.F) {
	f.Add(rarDetails)
	f.Add(`[]`)
	f.Add(`[{"type":"payment_initiation","x":1e400}]`)
	f.Add(`[{"type":"account_information","actions":["a"],"identifier":"\u0000"}]`)
	f.Add(`[{"type":"payment_initiation"}`)
	f.Add("[{\"type\":\"payment_initiation\",\"s\":\"\xff\"}]")
	f.Add(` [ { "type" : "payment_initiation" } ] `)
	allowed := []string{"payment_initiation", "account_information"}
	f.Fuzz(func(t *testing.T, raw string) {
		got, e := parseAuthorizationDetails(raw, allowed)
		if e != nil {
			if e.code != "invalid_authorization_details" || got != nil {
				t.Fatalf("error %v with %q", e, got)
			}
			return
		}
		if got == nil {
			var items []json.RawMessage
			if err := json.Unmarshal([]byte(raw), &items); err != nil || len(items) != 0 {
				t.Fatalf("%q accepted as empty", raw)
			}
			return
		}
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(raw)); err != nil || !bytes.Equal(b.Bytes(), got) {
			t.Fatalf("parse(%q) = %s, want the compacted input", raw, got)
		}
		var items []map[string]any
		dec := json.NewDecoder(bytes.NewReader(got))
		dec.UseNumber() // 1e400 is valid JSON, beyond float64
		if err := dec.Decode(&items); err != nil || len(items) == 0 {
			t.Fatalf("accepted %s is not an array of objects: %v", got, err)
		}
		for _, it := range items {
			if typ, _ := it["type"].(string); !slices.Contains(allowed, typ) {
				t.Fatalf("accepted type %v", it["type"])
			}
		}
		if again, e := parseAuthorizationDetails(string(got), allowed); e != nil || !bytes.Equal(again, got) {
			t.Fatalf("the accepted value is refused the second time: %v", e)
		}
	})
}
