package backchannel

import (
	"maps"
	"net/url"
	"testing"
)

// encodeMerged is the reference: url.Values.Encode of form with over's
// members set on a copy.
func encodeMerged(form, over url.Values) string {
	m := maps.Clone(form)
	if m == nil {
		m = url.Values{}
	}
	maps.Copy(m, over)
	return m.Encode()
}

var formCorpus = []struct{ form, over url.Values }{
	{nil, nil},
	{url.Values{}, url.Values{}},
	{url.Values{"client_id": {"0a775a87-878c-4b83-abe3-ee29c720c3e7"}, "redirect_uri": {"https://app.example/callback?a=b&c"},
		"scope": {"openid mitid"}, "state": {"ÆØÅ æøå"}, "code_challenge_method": {"S256"}}, nil},
	{url.Values{"client_id": {"a"}, "grant_type": {"authorization_code"}},
		url.Values{"client_id": {"b"}, "client_assertion": {"x.y.z"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}},
	{url.Values{"multi": {"1", "2", ""}, "empty": {}, "": {"v"}, "a b+c": {"%41~-._*'()!"}}, url.Values{"z": {"\x00\xff/?#[]@"}}},
	{nil, url.Values{"client_secret": {"rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr="}}},
}

// TestEncodeForm: the body is exactly url.Values.Encode of the merged map.
func TestEncodeForm(t *testing.T) {
	t.Parallel()
	for _, tc := range formCorpus {
		if got, want := encodeForm(tc.form, tc.over), encodeMerged(tc.form, tc.over); got != want {
			t.Errorf("encodeForm(%v, %v) =\n%q, want\n%q", tc.form, tc.over, got, want)
		}
	}
	many := url.Values{}
	for i := range 40 {
		many.Set(string(rune('A'+i)), "v")
	}
	if got, want := encodeForm(many, url.Values{"B": {"w"}}), encodeMerged(many, url.Values{"B": {"w"}}); got != want {
		t.Errorf("40 members: %q, want %q", got, want)
	}
}

func TestEncodeFormAllocs(t *testing.T) {
	form := formCorpus[2].form
	if n := testing.AllocsPerRun(100, func() { encodeForm(form, nil) }); n > 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}

func FuzzEncodeForm(f *testing.F) {
	f.Add("client_id", "a b", "client_id", "x+y", "state", "ø")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		form := url.Values{k1: {v1}, k3: {v3, v1}}
		over := url.Values{k2: {v2}}
		if got, want := encodeForm(form, over), encodeMerged(form, over); got != want {
			t.Errorf("encodeForm = %q, want %q", got, want)
		}
	})
}
