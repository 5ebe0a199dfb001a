package redact

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// secret has the characters that encodings change: + / = < > & " and a
// space.
const secret = `s3cr+t/with=<&>" x`

func values(s ...string) *Values {
	v := &Values{}
	v.Add(s...)
	return v
}

// clean reports whether out shows secret in any encoding the tests use.
func clean(out string) bool {
	for _, c := range []string{out, html.UnescapeString(out), strings.ReplaceAll(out, `\/`, "/")} {
		if strings.Contains(c, secret) {
			return false
		}
	}
	if u, err := url.QueryUnescape(out); err == nil && strings.Contains(u, secret) {
		return false
	}
	var s string
	if json.Unmarshal([]byte(`"`+out+`"`), &s) == nil && strings.Contains(s, secret) {
		return false
	}
	var doc any
	if json.Unmarshal([]byte(out), &doc) == nil {
		b, _ := json.Marshal(doc)
		var back any
		_ = json.Unmarshal(b, &back)
		if strings.Contains(stringsOf(back), secret) {
			return false
		}
	}
	return true
}

func stringsOf(doc any) string {
	switch x := doc.(type) {
	case string:
		return x + "\x00"
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(stringsOf(e))
		}
		return b.String()
	case map[string]any:
		var b strings.Builder
		for k, e := range x {
			b.WriteString(k + "\x00" + stringsOf(e))
		}
		return b.String()
	}
	return ""
}

func TestString(t *testing.T) {
	t.Parallel()
	jsonEsc, _ := json.Marshal(secret)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "invalid client secret " + secret + " given", "invalid client secret " + Mask + " given"},
		{"twice", secret + secret, Mask + Mask},
		{"form-encoded", "client_secret=" + url.QueryEscape(secret), "client_secret=" + Mask},
		{"path-escaped", "/x/" + url.PathEscape(secret), "/x/" + Mask},
		{"html-escaped", "<p>" + html.EscapeString(secret) + "</p>", "<p>" + Mask + "</p>"},
		{"json-escaped", "got " + string(jsonEsc[1:len(jsonEsc)-1]), "got " + Mask},
		{"base64", "got " + base64.StdEncoding.EncodeToString([]byte(secret)), "got " + Mask},
		{"unknown encoding, decodable", "got " + strings.ReplaceAll(url.QueryEscape(secret), "%2F", "%2f"), Mask},
		{"nothing to redact", "invalid_client: unknown client", "invalid_client: unknown client"},
		{"empty", "", ""},
	}
	v := values(secret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := v.Redact(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestShortAndEmptyValuesAreNotRedacted(t *testing.T) {
	t.Parallel()
	v := values("", "s", "short")
	if !v.Empty() {
		t.Fatalf("values shorter than %d bytes were kept: %q", MinLen, v.secrets)
	}
	if got := v.Redact("invalid_request: missing state"); got != "invalid_request: missing state" {
		t.Errorf("String = %q", got)
	}
	var zero *Values
	if got := zero.Redact("x " + secret); got != "x "+secret {
		t.Errorf("nil Values changed %q", got)
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	v := values(secret, "CODE-0123456789")
	tests := []struct {
		name string
		in   string
		want string // exact, or "" to check only that it is clean
	}{
		{"json description", `{"error":"invalid_grant","error_description":"bad code CODE-0123456789"}`,
			`{"error":"invalid_grant","error_description":"bad code [redacted]"}`},
		{"json with \\u escapes", `{"error":"invalid_client","error_description":"secret \u0073` + strings.TrimPrefix(mustJSON(secret), `"s`) + `}`, ""},
		{"json key", `{"` + strings.Trim(mustJSON(secret), `"`) + `":1}`, ""},
		{"html page", `<html><body>` + html.EscapeString(secret) + `</body></html>`, `<html><body>[redacted]</body></html>`},
		{"html page with entity", `<p>` + strings.ReplaceAll(secret, "+", "&#43;") + `</p>`, Withheld},
		{"text", "client_secret=" + url.QueryEscape(secret), "client_secret=[redacted]"},
		{"nothing", `{"error":"invalid_request"}`, `{"error":"invalid_request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := string(v.Bytes([]byte(tt.in)))
			if tt.want != "" && got != tt.want {
				t.Errorf("Bytes(%s) = %s, want %s", tt.in, got, tt.want)
			}
			if !clean(got) || strings.Contains(got, "CODE-0123456789") {
				t.Errorf("Bytes(%s) = %s still shows a value", tt.in, got)
			}
			if json.Valid([]byte(tt.in)) && !json.Valid([]byte(got)) {
				t.Errorf("Bytes(%s) = %s is no longer JSON", tt.in, got)
			}
		})
	}
	if v.Bytes(nil) != nil {
		t.Error("Bytes(nil) is not nil")
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestHeader(t *testing.T) {
	t.Parallel()
	v := values(secret)
	h := http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="` + secret + `"`}, "X-Ok": {"fine"}}
	got := v.Header(h)
	if got.Get("Www-Authenticate") != `Bearer error="invalid_token", error_description="[redacted]"` || got.Get("X-Ok") != "fine" {
		t.Errorf("Header = %v", got)
	}
	if !strings.Contains(h.Get("Www-Authenticate"), secret) {
		t.Error("Header changed its argument")
	}
}

func TestAddRequest(t *testing.T) {
	t.Parallel()
	v := &Values{}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("app:"+url.QueryEscape(secret)))
	v.AddRequest(url.Values{"code": {"CODE-0123456789"}, "code_verifier": {"VERIFIER-0123456789"}, "scope": {"openid profile"},
		"client_assertion": {"eyJhbGciOiJFUzI1NiJ9.e30.sig"}}, http.Header{"Authorization": {basic}, "Dpop": {"eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig"}})
	for _, want := range []string{"CODE-0123456789", "VERIFIER-0123456789", "eyJhbGciOiJFUzI1NiJ9.e30.sig", secret,
		url.QueryEscape(secret), basic[6:], "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig"} {
		if got := v.Redact("x " + want + " y"); got != "x "+Mask+" y" {
			t.Errorf("String(%q) = %q: not redacted", want, got)
		}
	}
	if got := v.Redact("invalid scope openid profile"); got != "invalid scope openid profile" {
		t.Errorf("a parameter that is not secret was redacted: %q", got)
	}
}

// FuzzBytes: whatever the body around it, a redacted body never shows the
// value, nor in its HTML-, URL- or JSON-decoded forms, and a JSON body
// stays JSON.
func FuzzBytes(f *testing.F) {
	f.Add(`{"error_description":"`, `"}`, 0)
	f.Add(`<p>`, `</p>`, 3)
	f.Add(`x=`, `&y=1`, 1)
	f.Add(`{"a":["`, `",1]}`, 2)
	f.Fuzz(func(t *testing.T, before, after string, enc int) {
		forms := encodings(secret)
		echo := forms[(enc%len(forms)+len(forms))%len(forms)]
		in := before + echo + after
		v := values(secret)
		out := string(v.Bytes([]byte(in)))
		if !clean(out) {
			t.Fatalf("Bytes(%q) = %q shows the value", in, out)
		}
		if json.Valid([]byte(in)) && !json.Valid([]byte(out)) {
			t.Fatalf("Bytes(%q) = %q is no longer JSON", in, out)
		}
	})
}
