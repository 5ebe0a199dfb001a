package mitid_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/mitid"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "mitid", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, name string) mitid.Claims {
	t.Helper()
	var c mitid.Claims
	if err := json.Unmarshal(readFixture(t, name), &c); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", name, err)
	}
	return c
}

func TestClaimsIDToken(t *testing.T) {
	t.Parallel()
	c := decode(t, "id_token_claims_documented.json") // the documented token carries mitid.*
	want := mitid.Claims{
		Issuer:       "https://pp.netseidbroker.dk/op",
		Subject:      "7c9484f5-44bf-4e29-a683-84548951d3b8",
		AuthTime:     time.Unix(1715087453, 0),
		IDP:          mitid.MitID,
		IdentityType: "private",
		SessionID:    "2E4C1B7F0A6D45A8B5C3E9F1D2A4B6C8",
		LoA:          "https://data.gov.dk/concept/core/nsis/Substantial",
		AMR:          []string{"code_app"},
		Extra: map[string]json.RawMessage{
			"nbf":     json.RawMessage(`1715087453`),
			"iat":     json.RawMessage(`1715087453`),
			"exp":     json.RawMessage(`1715087753`),
			"aud":     json.RawMessage(`"62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9"`),
			"at_hash": json.RawMessage(`"ioMN8ZVwkuk9s7q6MlsSFA"`),
			"nonce":   json.RawMessage(`"n-0S6_WzA2Mj"`),
		},
	}
	want.MitID.UUID = "eee4b272-6a33-40da-ab0b-5ce2abd42e78"
	want.MitID.Age = 88      // "88"
	want.MitID.HasCPR = true // "true"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("decoded ID token claims:\n got %+v\nwant %+v", c, want)
	}
	if err := c.RequireLevel(mitid.Substantial); err != nil {
		t.Errorf("RequireLevel(Substantial) = %v", err)
	}
	if !c.AuthTime.Equal(time.Date(2024, 5, 7, 13, 10, 53, 0, time.UTC)) {
		t.Errorf("AuthTime = %v", c.AuthTime)
	}
}

func TestClaimsUserInfo(t *testing.T) {
	t.Parallel()
	c := decode(t, "userinfo.json")
	checks := []struct {
		name      string
		got, want any
	}{
		{"IDPEnvironment", c.IDPEnvironment, "pp"},
		{"TransactionID", c.TransactionID, "0ee59512-2b1c-4f3e-9d5a-7c6b8e9901ad"},
		{"SessionExpiry (string)", c.SessionExpiry, time.Unix(1715105453, 0)},
		{"IAL", c.IAL, "https://data.gov.dk/concept/core/nsis/Substantial"},
		{"AAL", c.AAL, "https://data.gov.dk/concept/core/nsis/High"},
		{"AMR (string)", c.AMR, []string{"code_app"}},
		{"MitID.DateOfBirth", c.MitID.DateOfBirth, "1936-02-09"},
		{"MitID.Age", c.MitID.Age, 88},
		{"MitID.IdentityName", c.MitID.IdentityName, "Saga Poulsen"},
		{"MitID.TransactionID", c.MitID.TransactionID, "b09eab99-85e0-41e4-beed-99e85520194d"},
		{"MitID.IAL", c.MitID.IAL, "SUBSTANTIAL"},
		{"MitID.HasCPR", c.MitID.HasCPR, true},
		{"MitID.PSD2", c.MitID.PSD2, false},
		{"CPR", c.CPR, "0902361234"},
		{"NemIDPID", c.NemIDPID, "9208-2002-2-123456789012"},
		{"NemIDPIDStat", c.NemIDPIDStat, "success"},
		{"Extra", c.Extra, map[string]json.RawMessage{"ssn.details.status": json.RawMessage(`"success"`)}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if err := c.RequireLevel(mitid.High); err == nil {
		t.Error("RequireLevel(High) with loa Substantial (aal High) = nil, want error")
	}
}

func TestClaimsErhverv(t *testing.T) {
	t.Parallel()
	c := decode(t, "userinfo_erhverv.json")
	var want mitid.Claims
	n := &want.NemLogin
	n.CVR, n.OrgName, n.Name = "12345678", "Testfirma ApS", "Jens Hansen"
	n.GivenName, n.FamilyName, n.Email = "Jens", "Hansen", "jens@testfirma.example"
	n.DateOfBirth = "1980-05-17"
	n.PersistentProfessionalID = "urn:uuid:8a1d0b4c-3e2f-4a5b-9c6d-7e8f9a0b1c2d"
	n.CPRUUID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
	n.SENumber, n.PNumber = "12345678", "1012345678"
	if c.NemLogin != want.NemLogin {
		t.Errorf("NemLogin =\n %+v\nwant\n %+v", c.NemLogin, want.NemLogin)
	}
	if c.IDP != mitid.MitIDErhverv || c.IdentityType != "professional" {
		t.Errorf("IDP, IdentityType = %q, %q", c.IDP, c.IdentityType)
	}
	if c.SessionExpiry.Unix() != 1715105453 || !slices.Contains(c.AMR, "mitid:code_app") {
		t.Errorf("SessionExpiry, AMR = %v, %v", c.SessionExpiry, c.AMR)
	}
	if _, ok := c.Extra["loip"]; !ok || len(c.Extra) != 1 {
		t.Errorf("Extra = %v, want only loip", c.Extra)
	}
	if c.MitID != want.MitID {
		t.Errorf("MitID = %+v, want zero", c.MitID)
	}
}

func TestClaimsTransactionToken(t *testing.T) {
	t.Parallel()
	c := decode(t, "transaction_token_claims.json")
	if c.AuthTime.Unix() != 1663143384 {
		t.Errorf("AuthTime (string) = %v", c.AuthTime)
	}
	if c.MitID.Age != 17 || !reflect.DeepEqual(c.AMR, []string{"code_app"}) {
		t.Errorf("MitID.Age, AMR = %d, %v", c.MitID.Age, c.AMR)
	}
	if want := []string{"mitid.login", "mitid.transaction_signing"}; !reflect.DeepEqual(c.TransactionActions, want) {
		t.Errorf("TransactionActions = %q, want %q", c.TransactionActions, want)
	}
	if _, ok := c.Extra["transaction_actions"]; ok {
		t.Error("transaction_actions is also in Extra")
	}
	if got := c.DisplayName(); got != "Edvard Nielsen" {
		t.Errorf("DisplayName = %q, want mitid.identity_name", got)
	}
}

// TestDisplayName: the name sits in mitid.identity_name for MitID and in
// the nemlogin.* name claims for MitID Erhverv; the login's idp decides
// which comes first; OIDC's name is the last resort; the ID token of the
// recorded broker has none.
func TestDisplayName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want string
	}{
		{"mitid", `{"idp":"mitid","mitid.identity_name":"Karen Test Hansen"}`, "Karen Test Hansen"},
		{"erhverv name", `{"idp":"mitid_erhverv","nemlogin.name":"Lene Test Nielsen","nemlogin.given_name":"L","nemlogin.family_name":"N"}`, "Lene Test Nielsen"},
		{"erhverv given and family", `{"idp":"mitid_erhverv","nemlogin.given_name":"Jens","nemlogin.family_name":"Hansen"}`, "Jens Hansen"},
		{"erhverv given only", `{"idp":"mitid_erhverv","nemlogin.given_name":"Jens"}`, "Jens"},
		{"erhverv first when idp is erhverv", `{"idp":"mitid_erhverv","mitid.identity_name":"Private Name","nemlogin.name":"Work Name"}`, "Work Name"},
		{"mitid first when idp is mitid", `{"idp":"mitid","mitid.identity_name":"Private Name","nemlogin.name":"Work Name"}`, "Private Name"},
		{"no idp, erhverv claims only", `{"nemlogin.name":"Work Name"}`, "Work Name"},
		{"erhverv idp with only mitid claims", `{"idp":"mitid_erhverv","mitid.identity_name":"Private Name"}`, "Private Name"},
		{"oidc name", `{"sub":"alice","name":"Alice Example"}`, "Alice Example"},
		{"oidc name not a string", `{"name":{"first":"A"}}`, ""},
		{"blank names skipped", `{"idp":"mitid","mitid.identity_name":"  ","name":"Alice"}`, "Alice"},
		{"trimmed", `{"mitid.identity_name":" Karen "}`, "Karen"},
		{"none", `{"idp":"mitid","sub":"x"}`, ""},
	}
	for _, tt := range tests {
		var c mitid.Claims
		if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := c.DisplayName(); got != tt.want {
			t.Errorf("%s: DisplayName = %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, f := range []string{"userinfo.json", "userinfo_erhverv.json"} {
		if c := decode(t, f); c.DisplayName() == "" {
			t.Errorf("%s: DisplayName is empty", f)
		}
	}
	if c := decode(t, "id_token_claims.json"); c.DisplayName() != "" {
		t.Errorf("the recorded ID token has a name: %q", c.DisplayName())
	}
}

// TestClaimsFromVerifiedIDToken decodes claims the way an application does:
// from a go-oidc IDToken after signature verification.
func TestClaimsFromVerifiedIDToken(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(readFixture(t, "id_token_claims_documented.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	verifier := oidc.NewVerifier("https://pp.netseidbroker.dk/op",
		&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}},
		&oidc.Config{
			ClientID:             "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9",
			SupportedSigningAlgs: []string{"ES256"},
			Now:                  func() time.Time { return time.Unix(1715087500, 0) },
		})
	idToken, err := verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var c mitid.Claims
	if err := idToken.Claims(&c); err != nil {
		t.Fatalf("IDToken.Claims: %v", err)
	}
	if c.Subject != idToken.Subject || c.MitID.Age != 88 || !c.MitID.HasCPR || c.SessionID == "" {
		t.Errorf("claims from IDToken = %+v", c)
	}
}

func TestClaimsWrongTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json  string
		claim string
		leak  string
	}{
		{`{"mitid.age":"eighty"}`, "mitid.age", "eighty"},
		{`{"mitid.age":"88.5"}`, "mitid.age", "88.5"},
		{`{"mitid.age":"0x58"}`, "mitid.age", "0x58"},
		{`{"mitid.age":" 88"}`, "mitid.age", ""},
		{`{"mitid.age":true}`, "mitid.age", ""},
		{`{"mitid.age":1e300}`, "mitid.age", ""},
		{`{"mitid.has_cpr":"yes"}`, "mitid.has_cpr", "yes"},
		{`{"mitid.psd2":1}`, "mitid.psd2", ""},
		{`{"session_expiry":"soon"}`, "session_expiry", "soon"},
		{`{"auth_time":"NaN"}`, "auth_time", ""},
		{`{"auth_time":253402300800}`, "auth_time", "253402300800"},
		{`{"session_expiry":-62135596801}`, "session_expiry", "62135596801"},
		{`{"sub":5}`, "sub", ""},
		{`{"dk.cpr":1234567890}`, "dk.cpr", "1234567890"},
		{`{"amr":[1,2]}`, "amr", ""},
		{`{"amr":{"a":"b"}}`, "amr", ""},
		{`{"transaction_actions":7}`, "transaction_actions", ""},
		{`{"transaction_actions":["mitid.login",{"x":"secret-9"}]}`, "transaction_actions", "secret-9"},
	}
	for _, tt := range tests {
		var c mitid.Claims
		err := json.Unmarshal([]byte(tt.json), &c)
		var ce *mitid.ClaimError
		if !errors.As(err, &ce) || ce.Claim != tt.claim {
			t.Errorf("Unmarshal(%s) = %v, want *ClaimError for %s", tt.json, err, tt.claim)
			continue
		}
		if !strings.HasPrefix(err.Error(), "mitid: claim "+tt.claim+": ") {
			t.Errorf("err = %q", err)
		}
		if tt.leak != "" && strings.Contains(err.Error(), tt.leak) {
			t.Errorf("err = %q leaks the value %q", err, tt.leak)
		}
	}
	for _, bad := range []string{`null`, `[]`, `"x"`, `{`, ``} {
		var c mitid.Claims
		err := c.UnmarshalJSON([]byte(bad))
		if err == nil || !strings.HasPrefix(err.Error(), "mitid: claims: ") {
			t.Errorf("UnmarshalJSON(%q) = %v, want mitid: claims: error", bad, err)
		}
	}
}

// TestFlexibleValues checks the fields the broker writes in more than one
// JSON form: numbers and booleans as strings, NumericDates (RFC 7519 §2) as
// strings or with fractions, amr as a string or an array.
func TestFlexibleValues(t *testing.T) {
	t.Parallel()
	claims := func(t *testing.T, claim, value string) mitid.Claims {
		t.Helper()
		var c mitid.Claims
		if err := json.Unmarshal([]byte(`{"`+claim+`":`+value+`}`), &c); err != nil {
			t.Fatalf("%s: %s: %v", claim, value, err)
		}
		return c
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{`true`, true}, {`false`, false}, {`"true"`, true}, {`"false"`, false},
		{`"True"`, true}, {`"FALSE"`, false},
	} {
		if got := claims(t, "mitid.has_cpr", tt.in).MitID.HasCPR; got != tt.want {
			t.Errorf("mitid.has_cpr %s = %v, want %v", tt.in, got, tt.want)
		}
		if got := claims(t, "mitid.psd2", tt.in).MitID.PSD2; got != tt.want {
			t.Errorf("mitid.psd2 %s = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want int
	}{
		{`88`, 88}, {`"88"`, 88}, {`88.0`, 88}, {`"-3"`, -3}, {`0`, 0},
		{`9223372036854775807`, 9223372036854775807},
	} {
		if got := claims(t, "mitid.age", tt.in).MitID.Age; got != tt.want {
			t.Errorf("mitid.age %s = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{`1663143384`, time.Unix(1663143384, 0)},
		{`"1663143384"`, time.Unix(1663143384, 0)},
		{`1663143384.75`, time.Unix(1663143384, 0)},
		{`0`, time.Time{}},
		{`253402300799`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	} {
		for _, claim := range []string{"auth_time", "session_expiry"} {
			c := claims(t, claim, tt.in)
			got := c.AuthTime
			if claim == "session_expiry" {
				got = c.SessionExpiry
			}
			if !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
				t.Errorf("%s %s = %v, want %v", claim, tt.in, got, tt.want)
			}
		}
	}
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`"code_app"`, []string{"code_app"}},
		{`"openid mitid"`, []string{"openid mitid"}},
		{`["password","code_app"]`, []string{"password", "code_app"}},
		{`[]`, []string{}},
	} {
		if got := claims(t, "amr", tt.in).AMR; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("amr %s = %#v, want %#v", tt.in, got, tt.want)
		}
		if got := claims(t, "transaction_actions", tt.in).TransactionActions; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("transaction_actions %s = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	// null leaves every flexible value unchanged.
	var c mitid.Claims
	if err := json.Unmarshal([]byte(`{"mitid.age":null,"mitid.has_cpr":null,"amr":null,"transaction_actions":null,"auth_time":null,"sub":null}`), &c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, mitid.Claims{}) {
		t.Errorf("claims from nulls = %+v, want zero", c)
	}
}

func TestClaimsMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"id_token_claims.json", "id_token_claims_documented.json", "userinfo.json", "userinfo_erhverv.json", "transaction_token_claims.json"} {
		c := decode(t, name)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", name, err)
		}
		var back mitid.Claims
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: Unmarshal(Marshal): %v", name, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s: round trip changed the claims:\n got %+v\nwant %+v", name, back, c)
		}
		if !bytes.Contains(b, []byte(`"mitid.age":88`)) && c.MitID.Age == 88 {
			t.Errorf("%s: Marshal wrote age as %s, want a number", name, b)
		}
		if !c.AuthTime.IsZero() && !bytes.Contains(b, fmt.Appendf(nil, `"auth_time":%d`, c.AuthTime.Unix())) {
			t.Errorf("%s: Marshal wrote auth_time as %s, want a NumericDate", name, b)
		}
	}
}

func FuzzClaims(f *testing.F) {
	for _, name := range []string{"id_token_claims.json", "id_token_claims_documented.json", "userinfo.json", "userinfo_erhverv.json", "transaction_token_claims.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"mitid.age":"1e3","amr":"x","auth_time":"-1.5"}`))
	f.Add([]byte(`{"mitid.has_cpr":"TRUE","session_expiry":1.7e9}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c mitid.Claims
		if err := json.Unmarshal(data, &c); err != nil {
			if !strings.HasPrefix(err.Error(), "mitid: ") && !isJSONSyntax(err) {
				t.Fatalf("error without mitid: prefix: %v", err)
			}
			return
		}
		b1, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal of decoded claims: %v", err)
		}
		var c2 mitid.Claims
		if err := json.Unmarshal(b1, &c2); err != nil {
			t.Fatalf("Unmarshal(Marshal(c)) = %v for %s", err, b1)
		}
		b2, err := json.Marshal(c2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
		}
		_ = c.RequireLevel(mitid.Low)
	})
}

// isJSONSyntax reports whether err comes from encoding/json's own syntax
// check, which runs before any UnmarshalJSON method.
func isJSONSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}
