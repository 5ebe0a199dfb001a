package client

import (
	"net/http"
	"testing"
	"time"
)

// TestParseRetryAfterCapped: a Retry-After date far in the future is
// capped at 24 h, as a number of seconds is, so a hostile provider cannot
// park a caller for years (RFC 9110 §10.2.3).
func TestParseRetryAfterCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		now.Add(100 * 365 * 24 * time.Hour).Format(http.TimeFormat): 24 * time.Hour,
		now.Add(25 * time.Hour).Format(http.TimeFormat):             24 * time.Hour,
		now.Add(23 * time.Hour).Format(http.TimeFormat):             23 * time.Hour,
		"Fri, 31 Dec 9999 23:59:59 GMT":                             24 * time.Hour,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
