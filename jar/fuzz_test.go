package jar_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/jar"
)

// FuzzBuild checks that any parameter name and value either is refused with
// a *ParameterError or comes back from the signed payload exactly as
// encoding/json would have encoded it.
func FuzzBuild(f *testing.F) {
	f.Add("login_hint", "quote\" backslash\\ \x00\x1f \u2028 æøå")
	f.Add("idp_params", `{"mitid":{"enable_step_up":true}}`)
	f.Add("claims", `{"userinfo":null}`)
	f.Add("bad", "a\xffb\xc3")
	f.Add("request_uri", "urn:x")
	f.Add("", "")
	b, err := jar.New(jar.Config{ClientID: clientID, Audience: issuer, Secret: []byte(secret), JSONParams: []string{"idp_params"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		req, err := b.Build(url.Values{name: {value}})
		if err != nil {
			var pe *jar.ParameterError
			if !errors.As(err, &pe) || pe.Name != name {
				t.Fatalf("Build() error = %v", err)
			}
			return
		}
		jws, err := jose.ParseSignedCompact(req, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := jws.Verify([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatalf("payload %q is not JSON: %v", payload, err)
		}
		if name == "client_id" {
			return // equal to the configured one, else refused
		}
		// Invalid UTF-8 in the name is replaced as encoding/json would.
		var key string
		kb, _ := json.Marshal(name)
		_ = json.Unmarshal(kb, &key)
		var got, want any
		if err := json.Unmarshal(claims[key], &got); err != nil {
			t.Fatal(err)
		}
		if name == "idp_params" || name == "claims" || name == "authorization_details" {
			if err := json.Unmarshal([]byte(value), &want); err != nil {
				t.Fatalf("invalid JSON %q accepted", value)
			}
		} else {
			enc, _ := json.Marshal(value)
			_ = json.Unmarshal(enc, &want)
		}
		if gb, wb := mustMarshal(t, got), mustMarshal(t, want); gb != wb {
			t.Fatalf("claim %q = %s, want %s", name, gb, wb)
		}
	})
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
