package backchannel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/internal/backchannel"
)

// tokenInputs are token responses (status 200) as providers send them,
// well-formed and not.
var tokenInputs = []struct {
	name, contentType, body string
}{
	{"json", "application/json", `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_in":3600,"id_token":"x.y.z","scope":"openid"}`},
	{"json expires_in string", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":"3600"}`},
	{"json expires_in fraction string", "application/json", `{"access_token":"at","expires_in":"3600.5"}`},
	{"json expires_in fraction", "application/json", `{"access_token":"at","expires_in":3600.5}`},
	{"json expires_in exponent", "application/json", `{"access_token":"at","expires_in":1e3}`},
	{"json expires_in null", "application/json", `{"access_token":"at","expires_in":null}`},
	{"json expires_in huge", "application/json", `{"access_token":"at","expires_in":99999999999}`},
	{"json expires_in negative", "application/json", `{"access_token":"at","expires_in":-10}`},
	{"json expires_in zero", "application/json", `{"access_token":"at","expires_in":0}`},
	{"json expires_in not a number", "application/json", `{"access_token":"at","expires_in":"soon"}`},
	{"json expires_in bool", "application/json", `{"access_token":"at","expires_in":true}`},
	{"json no access_token", "application/json", `{"token_type":"Bearer"}`},
	{"json access_token number", "application/json", `{"access_token":5}`},
	{"json error with 200", "application/json", `{"error":"invalid_grant","error_description":"used"}`},
	{"json error not a string", "application/json", `{"access_token":"at","error":7}`},
	{"json nested extras", "application/json", `{"access_token":"at","authorization_details":[{"type":"x"}],"n":1.5}`},
	{"json no content type", "", `{"access_token":"at","token_type":"DPoP"}`},
	{"json array", "application/json", `[]`},
	{"json null", "application/json", `null`},
	{"json truncated", "application/json", `{"access_token":"at"`},
	{"html", "text/html", `<html>hi</html>`},
	{"form", "application/x-www-form-urlencoded", `access_token=at&token_type=bearer&refresh_token=rt&expires_in=60&id_token=x.y.z&n=7&f=1.5`},
	{"form text/plain", "text/plain; charset=utf-8", `access_token=at&expires_in=60`},
	{"form expires_in bad", "application/x-www-form-urlencoded", `access_token=at&expires_in=soon`},
	{"form error", "application/x-www-form-urlencoded", `error=invalid_grant`},
	{"form no access_token", "application/x-www-form-urlencoded", `token_type=bearer`},
	{"form bad escape", "application/x-www-form-urlencoded", `access_token=%zz`},
}

// viaOAuth2 parses a token response with golang.org/x/oauth2: an Exchange
// whose HTTP client answers with status 200, contentType and body.
func viaOAuth2(hc *http.Client, tokenURL string) (*oauth2.Token, error) {
	cfg := oauth2.Config{ClientID: "app", Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	return cfg.Exchange(context.WithValue(context.Background(), oauth2.HTTPClient, hc), "code")
}

// TestParseTokenParity feeds the same token responses to x/oauth2's parser
// (through Exchange against an httptest server) and to ParseToken, and
// checks that they accept the same ones and read the same values:
// expires_in as a number or numeric string, form-encoded bodies, extras.
func TestParseTokenParity(t *testing.T) {
	t.Parallel()
	for _, in := range tokenInputs {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if in.contentType != "" {
					w.Header().Set("Content-Type", in.contentType)
				} else {
					w.Header()["Content-Type"] = nil // no sniffing
				}
				io.WriteString(w, in.body)
			}))
			defer srv.Close()
			now := time.Now()
			want, werr := viaOAuth2(srv.Client(), srv.URL)
			h := http.Header{}
			if in.contentType != "" {
				h.Set("Content-Type", in.contentType)
			}
			got, gerr := backchannel.ParseToken(h, []byte(in.body), now)
			compareTokens(t, in.body, got, gerr, want, werr)
		})
	}
}

func compareTokens(t *testing.T, body string, got *oauth2.Token, gerr error, want *oauth2.Token, werr error) {
	t.Helper()
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: ParseToken error %v, x/oauth2 error %v", body, gerr, werr)
	}
	var re *oauth2.RetrieveError
	if errors.As(werr, &re) != errors.Is(gerr, backchannel.ErrErrorBody) {
		t.Errorf("%q: ParseToken %v, x/oauth2 %v: disagree on an error response", body, gerr, werr)
	}
	if gerr != nil {
		return
	}
	if got.AccessToken != want.AccessToken || got.TokenType != want.TokenType || got.RefreshToken != want.RefreshToken ||
		got.ExpiresIn != want.ExpiresIn || got.Type() != want.Type() {
		t.Errorf("%q: got %+v, x/oauth2 %+v", body, got, want)
	}
	if got.Expiry.IsZero() != want.Expiry.IsZero() || got.Expiry.Sub(want.Expiry).Abs() > 5*time.Second {
		t.Errorf("%q: expiry %v, x/oauth2 %v", body, got.Expiry, want.Expiry)
	}
	for _, k := range []string{"id_token", "scope", "expires_in", "n", "f", "authorization_details", "missing"} {
		if g, w := got.Extra(k), want.Extra(k); !reflect.DeepEqual(g, w) {
			t.Errorf("%q: Extra(%q) = %#v, x/oauth2 %#v", body, k, g, w)
		}
	}
}

// cannedTransport answers every request with status 200 and its body.
type cannedTransport struct{ contentType, body string }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	if c.contentType != "" {
		h.Set("Content-Type", c.contentType)
	}
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(c.body))), Request: r}, nil
}

// FuzzParseToken checks that ParseToken never panics, returns a token with
// an access token or an error, and agrees with x/oauth2 on every input.
func FuzzParseToken(f *testing.F) {
	for _, in := range tokenInputs {
		f.Add(in.contentType, []byte(in.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		got, gerr := backchannel.ParseToken(h, body, time.Now())
		if gerr == nil && (got == nil || got.AccessToken == "") {
			t.Fatalf("ParseToken(%q) = %v without error", body, got)
		}
		want, werr := viaOAuth2(&http.Client{Transport: cannedTransport{contentType, string(body)}}, "https://as.example/token")
		compareTokens(t, string(body), got, gerr, want, werr)
	})
}

var jsonUnmarshal = json.Unmarshal

// TestParseTokenMemberCase: member names in another case, and duplicates,
// are read as x/oauth2 reads them (its struct decoding ignores case; the
// last member wins).
func TestParseTokenMemberCase(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"ACCESS_TOKEN":"at","Token_Type":"Bearer"}`,
		`{"access_token":"a","ACCESS_TOKEN":"b","token_type":"bearer"}`,
		`{"ACCESS_TOKEN":"b","access_token":"a"}`,
		`{"access_token":"a","access_token":"b"}`,
		`{"access_token":"at","ERROR":"invalid_grant"}`,
		`{"access_token":"at","Error":null}`,
		`{"access_token":"at","access_token":null}`,
		`{"access_token":"at","expires_in":"0360"}`,
		`{"access_token":"at","expires_in":"-0"}`,
		`{"access_token":"at","expires_in":"36\u0030"}`,
		`{"access_token":"at","expires_in":9223372036854775808}`,
		`{"access_token":"at","Expires_In":"7"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		want, werr := viaOAuth2(srv.Client(), srv.URL)
		srv.Close()
		got, gerr := backchannel.ParseToken(http.Header{"Content-Type": {"application/json"}}, []byte(body), time.Now())
		compareTokens(t, body, got, gerr, want, werr)
	}
}

// TestParseTokenAllocs: the checking decode allocates nothing beyond the
// map that Extra needs.
func TestParseTokenAllocs(t *testing.T) {
	body := []byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","token_type":"Bearer","expires_in":3600,"id_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","scope":"openid","refresh_token":"rt"}`)
	h := http.Header{"Content-Type": {"application/json"}}
	if n := testing.AllocsPerRun(100, func() { backchannel.ParseToken(h, body, time.Now()) }); n > 39 {
		t.Errorf("%v allocations, want at most 39 (44 with a typed decode of the values)", n)
	}
}
