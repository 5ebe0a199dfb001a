package jar_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/jar"
)

// The Signaturgruppen MitID broker: HS256 keyed with the client secret's
// raw UTF-8 bytes, idp_params kept as a JSON string (the default).
func Example_broker() {
	b, err := jar.New(jar.Config{
		ClientID: "0a775a87-878c-4b83-abe3-ee29c720c3e7",
		Audience: "https://pp.netseidbroker.dk/op",
		Secret:   []byte("rZ6+u/8Gq0b1YkT2mWq9xXj3sPz4LcVn5HdA7eFg+Q0="),
		Now:      func() time.Time { return time.Unix(1764000000, 0) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	request, err := b.Build(url.Values{
		"response_type": {"code"},
		"client_id":     {"0a775a87-878c-4b83-abe3-ee29c720c3e7"},
		"redirect_uri":  {"https://rp.example/callback"},
		"scope":         {"openid mitid"},
		"idp_params":    {`{"mitid":{"enable_step_up":true}}`},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The PAR body then carries only request, client_id and client auth.
	header, claims := decode(request)
	fmt.Println(header)
	fmt.Println(claims)
	// Output:
	// {"alg":"HS256"}
	// {"aud":"https://pp.netseidbroker.dk/op","client_id":"0a775a87-878c-4b83-abe3-ee29c720c3e7","exp":1764000300,"iat":1764000000,"idp_params":"{\"mitid\":{\"enable_step_up\":true}}","iss":"0a775a87-878c-4b83-abe3-ee29c720c3e7","jti":"…","nbf":1764000000,"redirect_uri":"https://rp.example/callback","response_type":"code","scope":"openid mitid"}
}

// A FAPI 2.0 client: PS256 or ES256 with the RFC 9101 typ, and idp_params
// embedded as a JSON object.
func ExampleNew() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, err := jar.New(jar.Config{
		ClientID:   "app",
		Audience:   "https://as.example",
		Signer:     key,
		KeyID:      "rp-1",
		Type:       jar.TypeRequestObject,
		Lifetime:   time.Minute,
		JSONParams: []string{"idp_params"},
		Now:        func() time.Time { return time.Unix(1764000000, 0) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	request, _ := b.Build(url.Values{
		"scope":      {"openid"},
		"resource":   {"https://api.example/a", "https://api.example/b"},
		"idp_params": {`{"mitid": {"loa_value": "https://data.gov.dk/concept/core/nsis/High"}}`},
	})
	header, claims := decode(request)
	fmt.Println(header)
	fmt.Println(claims)
	// Output:
	// {"alg":"ES256","kid":"rp-1","typ":"oauth-authz-req+jwt"}
	// {"aud":"https://as.example","client_id":"app","exp":1764000060,"iat":1764000000,"idp_params":{"mitid":{"loa_value":"https://data.gov.dk/concept/core/nsis/High"}},"iss":"app","jti":"…","nbf":1764000000,"resource":["https://api.example/a","https://api.example/b"],"scope":"openid"}
}

// Encrypting to the broker's request-encryption key, taken from its JWKS.
func ExampleEncryptionKey() {
	jwks, err := os.ReadFile("../testdata/keys/broker-jwks.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	key, alg, err := jar.EncryptionKey(jwks)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(alg, key.Use, len(key.KeyID))

	b, err := jar.New(jar.Config{
		ClientID:   "0a775a87-878c-4b83-abe3-ee29c720c3e7",
		Audience:   "https://pp.netseidbroker.dk/op",
		Secret:     []byte("rZ6+u/8Gq0b1YkT2mWq9xXj3sPz4LcVn5HdA7eFg+Q0="),
		Encryption: &jar.Encryption{Key: key, KeyAlgorithm: alg, ContentEncryption: jose.A128CBC_HS256},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	request, _ := b.Build(url.Values{"scope": {"openid mitid"}})
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(request, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(header, &h)
	fmt.Println(h["alg"], h["enc"], h["cty"], h["kid"] == key.KeyID)
	// Output:
	// RSA-OAEP-256 enc 40
	// RSA-OAEP-256 A128CBC-HS256 JWT true
}

// decode returns a compact JWS's header and claims as canonical JSON, with
// the random jti replaced by "…".
func decode(compact string) (string, string) {
	parts := strings.Split(compact, ".")
	out := make([]string, 2)
	for i := range out {
		raw, _ := base64.RawURLEncoding.DecodeString(parts[i])
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		_ = d.Decode(&m)
		if _, ok := m["jti"]; ok {
			m["jti"] = "…"
		}
		b, _ := json.Marshal(m)
		out[i] = string(b)
	}
	return out[0], out[1]
}
