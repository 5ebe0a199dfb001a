package backchannel

import (
	"encoding/json"
	"net/http"
	"net/url"
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
		f.Add([]byte(s), false)
	}
	f.Add([]byte("error=invalid_grant&error_description=x"), true)
	f.Fuzz(func(t *testing.T, body []byte, isForm bool) {
		h := http.Header{}
		if isForm {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		code, _, _ := ParseError(h, body)
		if code == "" {
			return
		}
		if isForm {
			if v, err := url.ParseQuery(string(body)); err != nil || v.Get("error") != code {
				t.Fatalf("code %q from form %q", code, body)
			}
		} else if !json.Valid(body) {
			t.Fatalf("code from invalid JSON %q", body)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "Wed, 21 Oct 2015 07:28:00 GMT", "", "-1", "1.5", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, v string) {
		if d := RetryAfter(v, now); d < 0 || d > 24*time.Hour {
			t.Fatalf("RetryAfter(%q) = %v", v, d)
		}
	})
}
