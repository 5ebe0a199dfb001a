package dpopwire_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-par/par/internal/dpopwire"
)

func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Bearer, DPoP algs="ES256 PS256"`,
		`Basic dXNlcjpwYXNz==, Negotiate`,
		`DPoP error="unterminated`,
		`"junk, more", =x, DPoP error="x"`,
		`,,, \t`,
		`DPoP a=b c, error=, x="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cs := dpopwire.ParseWWWAuthenticate(v)
		for _, c := range cs {
			if !isTokenString(c.Scheme) {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			if c.Token68 != "" && c.Params != nil {
				t.Fatalf("challenge %#v has token68 and params", c)
			}
			for k := range c.Params {
				if !isTokenString(k) || k != strings.ToLower(k) {
					t.Fatalf("param name %q is not a lower-case token", k)
				}
			}
		}
		// What was parsed, written canonically, parses to the same.
		again := dpopwire.ParseWWWAuthenticate(formatChallenges(cs))
		if len(again) != len(cs) {
			t.Fatalf("round trip: %d challenges, want %d", len(again), len(cs))
		}
		for i := range cs {
			if again[i].Scheme != cs[i].Scheme || again[i].Token68 != cs[i].Token68 || !maps.Equal(again[i].Params, cs[i].Params) {
				t.Fatalf("round trip: %#v, want %#v", again[i], cs[i])
			}
		}
	})
}

func formatChallenges(cs []dpopwire.Challenge) string {
	var parts []string
	for _, c := range cs {
		s := c.Scheme
		if c.Token68 != "" {
			s += " " + c.Token68
		}
		for i, k := range slices.Sorted(maps.Keys(c.Params)) {
			sep := ", "
			if i == 0 {
				sep = " "
			}
			v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(c.Params[k])
			s += sep + k + `="` + v + `"`
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzParseNonce(f *testing.F) {
	for _, s := range []string{"eyJ7S_zG.eyJH0-Z.HX4w-7v", "", " a ", `a"b`, `a\b`, "é", "!~", "<&>"} {
		f.Add(s, "")
		f.Add(s, s)
	}
	f.Add("a", "b")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		h := http.Header{}
		h.Add("DPoP-Nonce", v1)
		if v2 != "" {
			h.Add("DPoP-Nonce", v2)
		}
		n, ok := dpopwire.ParseNonce(h)
		if !ok {
			if n != "" {
				t.Fatalf("ParseNonce = %q, false; want empty", n)
			}
			return
		}
		if n == "" || !strings.Contains(v1, n) {
			t.Fatalf("ParseNonce(%q, %q) = %q", v1, v2, n)
		}
		for _, c := range []byte(n) {
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				t.Fatalf("nonce %q has byte %#x outside NQCHAR", n, c)
			}
		}
		// A valid nonce is a JSON string body as it is (the proof relies on it).
		var back string
		if err := json.Unmarshal([]byte(`"`+n+`"`), &back); err != nil || back != n {
			t.Fatalf("nonce %q is not a literal JSON string: %v", n, err)
		}
	})
}

func FuzzHTU(f *testing.F) {
	for _, s := range []string{
		"https://Server.Example.com:443/token?x#y",
		"http://[fe80::1%25en0]:8080/a/../b",
		"https://rs.example/%7e%2f%c3%a9/./x/..",
		"https://u:p@rs.example:/",
		"HTTP://RS.example:80",
		"https:opaque",
		"https://rs.example/a b/é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_ = dpopwire.Origin(in)
		got, err := dpopwire.HTU(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "https://") && !strings.HasPrefix(got, "http://") {
			t.Fatalf("HTU(%q) = %q: not http(s)", in, got)
		}
		if strings.ContainsAny(got, "?#") {
			t.Fatalf("HTU(%q) = %q keeps query or fragment", in, got)
		}
		again, err := dpopwire.HTU(got)
		if err != nil || again != got {
			t.Fatalf("HTU(HTU(%q)) = %q, %v; want %q", in, again, err, got)
		}
		if dpopwire.Origin(got) == "" {
			t.Fatalf("Origin(%q) is empty", got)
		}
	})
}
