package session_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/session"
)

func TestParseStepUpChallenge(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		fields []string
		ok     bool
		acr    []string
		maxAge time.Duration
	}{
		{"RFC 9470 §3 example", []string{`Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"`}, true, []string{"myACR"}, -1},
		{"max_age", []string{`Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"`}, true, nil, 5 * time.Second},
		{"DPoP scheme, several acr values", []string{`DPoP algs="ES256", error="insufficient_user_authentication", acr_values="urn:a urn:b"`}, true, []string{"urn:a", "urn:b"}, -1},
		{"second field", []string{`Basic realm="x"`, `Bearer error="insufficient_user_authentication", max_age=0`}, true, nil, 0},
		{"invalid_token", []string{`Bearer error="invalid_token"`}, false, nil, -1},
		{"bad max_age dropped", []string{`Bearer error="insufficient_user_authentication", max_age="-3"`}, true, nil, -1},
		{"none", nil, false, nil, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, f := range tt.fields {
				h.Add("WWW-Authenticate", f)
			}
			ch, ok := session.ParseStepUpChallenge(http.StatusUnauthorized, h)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if !slices.Equal(ch.ACRValues, tt.acr) || ch.MaxAge != tt.maxAge || ch.StatusCode != http.StatusUnauthorized {
				t.Errorf("challenge = %+v, want acr %v max_age %v", ch, tt.acr, tt.maxAge)
			}
			if !strings.HasPrefix(ch.Error(), "session: ") {
				t.Errorf("Error() = %q", ch.Error())
			}
		})
	}
}

func FuzzParseStepUpChallenge(f *testing.F) {
	f.Add(`Bearer error="insufficient_user_authentication", acr_values="a b", max_age="5"`)
	f.Add(`DPoP error=insufficient_user_authentication, max_age=99999999999999`)
	f.Add(`,,, ="`)
	f.Fuzz(func(t *testing.T, field string) {
		ch, ok := session.ParseStepUpChallenge(http.StatusForbidden, http.Header{"Www-Authenticate": {field}})
		if !ok {
			return
		}
		if len(ch.ACRValues) > 16 || ch.MaxAge < -1 || ch.MaxAge > (1<<31)*time.Second {
			t.Fatalf("challenge out of bounds: %+v", ch)
		}
		for _, v := range ch.ACRValues {
			if v == "" || len(v) > 512 || strings.ContainsAny(v, " \t") {
				t.Fatalf("acr value %q", v)
			}
		}
	})
}
