package dpopwire_test

import (
	"reflect"
	"testing"

	"github.com/go-par/par/internal/dpopwire"
)

func TestParseWWWAuthenticate(t *testing.T) {
	t.Parallel()
	type C = dpopwire.Challenge
	type P = map[string]string
	tests := []struct {
		name string
		in   string
		want []C
	}{
		{"rfc 9449 §9", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
			[]C{{Scheme: "DPoP", Params: P{"error": "use_dpop_nonce", "error_description": "Resource server requires nonce in DPoP proof"}}}},
		{"rfc 9449 §7.1 algs", `DPoP algs="ES256 PS256"`,
			[]C{{Scheme: "DPoP", Params: P{"algs": "ES256 PS256"}}}},
		{"rfc 7235 §4.1 example", `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
			[]C{{Scheme: "Newauth", Params: P{"realm": "apps", "type": "1", "title": `Login to "apps"`}}, {Scheme: "Basic", Params: P{"realm": "simple"}}}},
		{"bare schemes", `Bearer, DPoP algs="ES256"`,
			[]C{{Scheme: "Bearer"}, {Scheme: "DPoP", Params: P{"algs": "ES256"}}}},
		{"scheme only", `Negotiate`, []C{{Scheme: "Negotiate"}}},
		{"token68", `Basic dXNlcjpwYXNz==, Negotiate YII+/x`,
			[]C{{Scheme: "Basic", Token68: "dXNlcjpwYXNz=="}, {Scheme: "Negotiate", Token68: "YII+/x"}}},
		{"bws and case", "DPoP\t ERROR = \"use_dpop_nonce\" ,Algs=ES256",
			[]C{{Scheme: "DPoP", Params: P{"error": "use_dpop_nonce", "algs": "ES256"}}}},
		{"duplicate param keeps first", `DPoP error="a", error="b"`,
			[]C{{Scheme: "DPoP", Params: P{"error": "a"}}}},
		{"empty elements", `, ,Bearer realm="x",, ,DPoP,`,
			[]C{{Scheme: "Bearer", Params: P{"realm": "x"}}, {Scheme: "DPoP"}}},
		{"comma in quoted", `DPoP error_description="a, b=c", error="x"`,
			[]C{{Scheme: "DPoP", Params: P{"error_description": "a, b=c", "error": "x"}}}},
		{"empty quoted", `DPoP realm=""`, []C{{Scheme: "DPoP", Params: P{"realm": ""}}}},
		{"empty", ``, nil},
		{"only spaces and commas", " , \t,", nil},
		{"unterminated quote", `DPoP error="use_dpop_nonce`, []C{{Scheme: "DPoP"}}},
		{"bad param skipped", `DPoP a=b c, error="x"`, []C{{Scheme: "DPoP", Params: P{"error": "x"}}}},
		{"missing value", `DPoP algs=ES256, error=, x="y"`, []C{{Scheme: "DPoP", Params: P{"algs": "ES256", "x": "y"}}}},
		{"token68 wins over empty param", `DPoP error=, algs=ES256`, []C{{Scheme: "DPoP", Token68: "error="}, {Scheme: "algs"}}},
		{"garbage then challenge", `"junk, more", =x, DPoP error="x"`,
			[]C{{Scheme: "DPoP", Params: P{"error": "x"}}}},
		{"scheme glued to quote", `Bearer"x", DPoP`, []C{{Scheme: "Bearer"}, {Scheme: "DPoP"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := dpopwire.ParseWWWAuthenticate(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseWWWAuthenticate(%q) =\n %#v\nwant\n %#v", tt.in, got, tt.want)
			}
		})
	}
}
