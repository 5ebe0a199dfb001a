package pkce

import (
	"errors"
	"strings"
	"testing"
)

// rfc7636Verifier and rfc7636Challenge are the example of RFC 7636
// Appendix B.
const (
	rfc7636Verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfc7636Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestChallengeRFC7636AppendixB(t *testing.T) {
	t.Parallel()
	if got := Challenge(rfc7636Verifier); got != rfc7636Challenge {
		t.Errorf("Challenge(%q) = %q, want %q", rfc7636Verifier, got, rfc7636Challenge)
	}
	if err := ValidateVerifier(rfc7636Verifier); err != nil {
		t.Errorf("ValidateVerifier(RFC 7636 Appendix B verifier) = %v, want nil", err)
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 100 {
		v := NewVerifier()
		if err := ValidateVerifier(v); err != nil {
			t.Fatalf("ValidateVerifier(NewVerifier()) = %v, want nil", err)
		}
		if len(v) != 43 {
			t.Errorf("len(NewVerifier()) = %d, want 43", len(v))
		}
		if seen[v] {
			t.Fatalf("NewVerifier() repeated a verifier")
		}
		seen[v] = true
		if c := Challenge(v); len(c) != 43 || strings.ContainsAny(c, "+/=") {
			t.Errorf("Challenge(v) = %q, want 43 base64url characters without padding", c)
		}
	}
}

func TestValidateVerifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    string
		ok   bool
	}{
		{"min length", strings.Repeat("a", 43), true},
		{"max length", strings.Repeat("Z", 128), true},
		{"all allowed characters", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", true},
		{"empty", "", false},
		{"too short", strings.Repeat("a", 42), false},
		{"too long", strings.Repeat("a", 129), false},
		{"space", strings.Repeat("a", 42) + " ", false},
		{"plus", strings.Repeat("a", 42) + "+", false},
		{"slash", "/" + strings.Repeat("a", 42), false},
		{"equals padding", strings.Repeat("a", 43) + "=", false},
		{"percent", strings.Repeat("a", 20) + "%41" + strings.Repeat("a", 20), false},
		{"non-ASCII", strings.Repeat("a", 42) + "é", false},
		{"NUL", strings.Repeat("a", 42) + "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateVerifier(tt.v)
			if tt.ok {
				if err != nil {
					t.Errorf("ValidateVerifier(%q) = %v, want nil", tt.v, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidVerifier) {
				t.Fatalf("ValidateVerifier(%q) = %v, want ErrInvalidVerifier", tt.v, err)
			}
			if tt.v != "" && strings.Contains(err.Error(), tt.v) {
				t.Errorf("ValidateVerifier error %q contains the verifier", err)
			}
		})
	}
}

func validVerifierReference(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	for _, r := range v {
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

func FuzzValidateVerifier(f *testing.F) {
	f.Add(rfc7636Verifier)
	f.Add(strings.Repeat("a", 42))
	f.Add(strings.Repeat("~", 128))
	f.Add(strings.Repeat("a", 42) + "é")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		err := ValidateVerifier(v)
		want := validVerifierReference(v)
		if (err == nil) != want {
			t.Fatalf("ValidateVerifier(%q) = %v, want valid=%v", v, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidVerifier) {
				t.Fatalf("ValidateVerifier(%q) = %v, want an ErrInvalidVerifier", v, err)
			}
			if len(v) >= 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("ValidateVerifier error %q leaks the verifier", err)
			}
		}
	})
}
