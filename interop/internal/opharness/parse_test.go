package opharness

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, issuer string
		ok           bool
	}{
		{"READY http://127.0.0.1:4000", "http://127.0.0.1:4000", true},
		{"READY http://127.0.0.1:4000\r", "http://127.0.0.1:4000", true},
		{"  READY http://127.0.0.1:1 ", "http://127.0.0.1:1", true},
		{"READY https://evil.example", "", false},
		{"READY http://127.0.0.1:1 extra", "", false},
		{"READY http://127.0.0.1:A", "", false},
		{"READY http://127.0.0.1:0", "", false},
		{"READY http://127.0.0.1:65536", "", false},
		{"READY http://127.0.0.1:080", "", false},
		{"READY http://127.0.0.1:80/path", "", false},
		{"oidc-provider WARNING: Unsupported runtime.", "", false},
		{"READY", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		issuer, ok := parseReady(tt.line)
		if issuer != tt.issuer || ok != tt.ok {
			t.Errorf("parseReady(%q) = %q, %v; want %q, %v", tt.line, issuer, ok, tt.issuer, tt.ok)
		}
	}
}

// page is what node-oidc-provider 9.x renders for response_mode=form_post.
const page = `<!DOCTYPE html>
<html>
<head><title>Submitting Callback</title>
  <script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() });</script>
</head>
<body>
  <form method="post" action="http://127.0.0.1:9/cb">
    <input type="hidden" name="code" value="abc-123"/>
<input type="hidden" name="state" value="a&amp;b&quot;c&#39;&lt;&gt;"/>
<input type="hidden" name="iss" value="http://127.0.0.1:4000"/>
    <noscript><button autofocus type="submit">Continue</button></noscript>
  </form>
</body>
</html>`

func TestParseFormPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, page string
		action     string
		params     url.Values
		wantErr    bool
	}{
		{"node-oidc-provider page", page, "http://127.0.0.1:9/cb", url.Values{
			"code": {"abc-123"}, "state": {`a&b"c'<>`}, "iss": {"http://127.0.0.1:4000"},
		}, false},
		{"single quotes, upper case", `<FORM METHOD='POST' ACTION='/cb'><INPUT TYPE='hidden' NAME='error' VALUE='access_denied'></FORM>`,
			"/cb", url.Values{"error": {"access_denied"}}, false},
		{"non-hidden inputs and inputs outside the form ignored",
			`<input type="hidden" name="x" value="1"><form method="post" action="/cb"><input type="text" name="y" value="2"><input type="hidden" name="z" value="3"></form>`,
			"/cb", url.Values{"z": {"3"}}, false},
		{"second form ignored", `<form method="post" action="/a"><input type="hidden" name="a" value="1"></form><form method="post" action="/b"><input type="hidden" name="b" value="2"></form>`,
			"/a", url.Values{"a": {"1"}}, false},
		{"repeated names kept", `<form method="post" action="/cb"><input type="hidden" name="a" value="1"><input type="hidden" name="a" value="2"></form>`,
			"/cb", url.Values{"a": {"1", "2"}}, false},
		{"no form", `<html><body>Sign-in</body></html>`, "", nil, true},
		{"get form", `<form method="get" action="/cb"></form>`, "", nil, true},
		{"no action", `<form method="post"></form>`, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			action, params, err := ParseFormPost([]byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if action != tt.action || !reflect.DeepEqual(params, tt.params) {
				t.Errorf("got %q %v, want %q %v", action, params, tt.action, tt.params)
			}
		})
	}
}

func TestParseErrorPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want ErrorPage
	}{
		{`{"error":"invalid_request_uri","error_description":"request_uri is invalid, expired, or was already used"}`,
			ErrorPage{400, "invalid_request_uri", "request_uri is invalid, expired, or was already used"}},
		{`<html>oops</html>`, ErrorPage{400, "", ""}},
		{`{"error":42}`, ErrorPage{400, "", ""}},
	}
	for _, tt := range tests {
		if got := ParseErrorPage(400, []byte(tt.body)); *got != tt.want {
			t.Errorf("ParseErrorPage(%q) = %+v, want %+v", tt.body, *got, tt.want)
		}
	}
}

func FuzzParseFormPost(f *testing.F) {
	f.Add([]byte(page))
	f.Add([]byte(`<form method='post' action='x'><input type=hidden name=a value=b></form>`))
	f.Add([]byte(`<form`))
	f.Fuzz(func(t *testing.T, b []byte) {
		action, params, err := ParseFormPost(b)
		if err != nil {
			if action != "" || params != nil {
				t.Fatalf("error %v with results %q %v", err, action, params)
			}
			return
		}
		if action == "" {
			t.Fatal("success without an action")
		}
		for k := range params {
			if k == "" {
				t.Fatal("empty parameter name")
			}
		}
	})
}

func FuzzParseReady(f *testing.F) {
	f.Add("READY http://127.0.0.1:4000")
	f.Add("READY http://127.0.0.1:4000 x")
	f.Fuzz(func(t *testing.T, line string) {
		issuer, ok := parseReady(line)
		if ok != (issuer != "") {
			t.Fatalf("parseReady(%q) = %q, %v", line, issuer, ok)
		}
		if ok {
			u, err := url.Parse(issuer)
			if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Path != "" || u.String() != issuer {
				t.Fatalf("parseReady(%q) accepted %q", line, issuer)
			}
		}
	})
}

func FuzzParseErrorPage(f *testing.F) {
	f.Add([]byte(`{"error":"invalid_request_uri","error_description":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p := ParseErrorPage(400, b); p == nil || p.StatusCode != 400 || p.Error() == "" {
			t.Fatalf("ParseErrorPage(%q) = %v", b, p)
		}
	})
}
