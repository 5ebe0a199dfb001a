package mitid_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/mitid"
)

// TestClaimErrorUnwrap checks that a claim of the wrong JSON type gives a
// *ClaimError naming the claim, unwrapping to the reason, and never showing
// the value.
func TestClaimErrorUnwrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		json  string
		claim string
		value string
	}{
		{"cpr as number", `{"dk.cpr":2405741234}`, "dk.cpr", "2405741234"},
		{"loa as object", `{"loa":{"v":"substantial-9f3a"}}`, "loa", "substantial-9f3a"},
		{"age as string word", `{"mitid.age":"fortytwo"}`, "mitid.age", "fortytwo"},
		{"has_cpr as object", `{"mitid.has_cpr":{"x":"secretish-77"}}`, "mitid.has_cpr", "secretish-77"},
		{"amr as number", `{"amr":918273}`, "amr", "918273"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c mitid.Claims
			err := json.Unmarshal([]byte(tt.json), &c)
			var ce *mitid.ClaimError
			if !errors.As(err, &ce) {
				t.Fatalf("Unmarshal(%s) = %v, want *ClaimError", tt.json, err)
			}
			if ce.Claim != tt.claim {
				t.Errorf("Claim = %q, want %q", ce.Claim, tt.claim)
			}
			if ce.Unwrap() == nil || ce.Unwrap() != ce.Err || !errors.Is(err, ce.Err) {
				t.Errorf("Unwrap = %v, want the reason %v", ce.Unwrap(), ce.Err)
			}
			if !strings.HasPrefix(err.Error(), "mitid: claim "+tt.claim+": ") || strings.Contains(err.Error(), tt.value) {
				t.Errorf("Error() = %q: want the claim named and %q absent", err, tt.value)
			}
		})
	}
}

// TestAuthRequestLogValue checks that an AuthRequest (CIBA Core §7.3) logs
// its expiry and interval but never its auth_req_id.
func TestAuthRequestLogValue(t *testing.T) {
	t.Parallel()
	r := &mitid.AuthRequest{ID: "auth-req-id-7c1e0d", ExpiresAt: time.Date(2026, 11, 24, 12, 5, 0, 0, time.UTC),
		Interval: 5 * time.Second}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("started", "req", r, "value", *r)
	var rec struct {
		Req   string `json:"req"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %s: %v", buf.Bytes(), err)
	}
	if want := "ciba auth request (expires 2026-11-24T12:05:00Z, interval 5s, id redacted)"; rec.Req != want || rec.Value != want {
		t.Errorf("LogValue = %q and %q, want %q", rec.Req, rec.Value, want)
	}
	if got := fmt.Sprint((*mitid.AuthRequest)(nil)); got != "<nil>" {
		t.Errorf("nil prints as %q", got)
	}
	for _, out := range []string{buf.String(), fmt.Sprintf("%v %+v %#v %s %#v", r, *r, *r, *r, r)} {
		if strings.Contains(out, r.ID) {
			t.Errorf("%s shows the auth_req_id", out)
		}
	}
}
