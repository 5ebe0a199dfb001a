package backchannel

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseError(t *testing.T) {
	t.Parallel()
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	plain := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	tests := []struct {
		name               string
		h                  http.Header
		body               string
		code, desc, errURI string
	}{
		{"json", http.Header{}, `{"error":"invalid_client","error_description":"bad","error_uri":"https://e"}`, "invalid_client", "bad", "https://e"},
		{"json wrong types", http.Header{}, `{"error":1,"error_description":["x"]}`, "", "", ""},
		{"html", http.Header{"Content-Type": {"text/html"}}, `<html>`, "", "", ""},
		{"form", form, "error=invalid_grant&error_description=old+code", "invalid_grant", "old code", ""},
		{"text/plain form", plain, "error=slow_down", "slow_down", "", ""},
		{"bad form", form, "error=%zz", "", "", ""},
		// The MitID broker's UserInfo 401, as recorded: empty body, the
		// code only in WWW-Authenticate (RFC 6750 §3).
		{"recorded userinfo 401", http.Header{"Www-Authenticate": {`Bearer realm="IdentityServer", error="invalid_token"`}}, "", "invalid_token", "", ""},
		{"bare bearer", http.Header{"Www-Authenticate": {"Bearer"}}, "", "", "", ""},
		{"dpop nonce", http.Header{"Www-Authenticate": {`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`}}, "",
			"use_dpop_nonce", "Resource server requires nonce in DPoP proof", ""},
		// RFC 9470 §3 step-up challenge.
		{"step-up", http.Header{"Www-Authenticate": {`Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"`}}, "",
			"insufficient_user_authentication", "A different authentication level is required", ""},
		{"first challenge with an error", http.Header{"Www-Authenticate": {`Basic realm="x"`, `Bearer realm="r", error="insufficient_scope", error_uri="https://e/s", DPoP error="invalid_token"`}}, "",
			"insufficient_scope", "", "https://e/s"},
		{"body wins", http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, `{"error":"invalid_request"}`, "invalid_request", "", ""},
		{"header when body has no code", http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, `{"message":"no"}`, "invalid_token", "", ""},
	}
	for _, tt := range tests {
		code, desc, uri := ParseError(tt.h, []byte(tt.body))
		if code != tt.code || desc != tt.desc || uri != tt.errURI {
			t.Errorf("%s: ParseError = %q %q %q, want %q %q %q", tt.name, code, desc, uri, tt.code, tt.desc, tt.errURI)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"": 0, "0": 0, "-3": 0, "120": 2 * time.Minute, "abc": 0, "99999999": 24 * time.Hour, " 5 ": 5 * time.Second,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		// An HTTP date far in the future is capped at 24 h, as a number of
		// seconds is, so a hostile provider cannot park a caller for years
		// (RFC 9110 §10.2.3); the CIBA client once let it through.
		now.Add(100 * 365 * 24 * time.Hour).Format(http.TimeFormat): 24 * time.Hour,
		now.Add(25 * time.Hour).Format(http.TimeFormat):             24 * time.Hour,
		now.Add(23 * time.Hour).Format(http.TimeFormat):             23 * time.Hour,
		"Fri, 31 Dec 9999 23:59:59 GMT":                             24 * time.Hour,
	}
	for in, want := range tests {
		if got := RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{`{"error":"invalid_client"}`, `{"error":"x","error_description":"y","error_uri":"z"}`, `<html>`, `{"error":1}`} {
		f.Add([]byte(s), false, "")
	}
	f.Add([]byte("error=invalid_grant&error_description=x"), true, "")
	f.Add([]byte(""), false, `Bearer realm="IdentityServer", error="invalid_token"`)
	f.Add([]byte("{}"), false, `DPoP error="use_dpop_nonce", Bearer error=x`)
	f.Fuzz(func(t *testing.T, body []byte, isForm bool, www string) {
		h := http.Header{}
		if isForm {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if www != "" {
			h.Set("WWW-Authenticate", www)
		}
		code, _, _ := ParseError(h, body)
		if code == "" {
			return
		}
		// A code comes from the body, or else from the header.
		if bodyCode, _, _ := parseErrorBody(h, body); bodyCode != "" {
			if code != bodyCode {
				t.Fatalf("code %q, body says %q", code, bodyCode)
			}
		} else if !strings.Contains(strings.ReplaceAll(www, `\`, ""), code) {
			t.Fatalf("code %q neither in the body %q nor in the header %q", code, body, www)
		}
		if isForm {
			if v, err := url.ParseQuery(string(body)); err == nil && v.Get("error") != "" && v.Get("error") != code {
				t.Fatalf("code %q from form %q", code, body)
			}
		} else if json.Valid(body) {
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				if s, ok := m["error"].(string); ok && s != "" && s != code {
					t.Fatalf("code %q from JSON %q", code, body)
				}
			}
		}
	})
}
