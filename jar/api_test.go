package jar_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/jar"
)

// TestParameterErrorUnwrap checks that Build's *ParameterError names the
// parameter and unwraps to the sentinel reason (RFC 9101 §4, RFC 9126 §3).
func TestParameterErrorUnwrap(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jar.New(jar.Config{ClientID: "app", Audience: "https://op.example", Signer: key,
		JSONParams: []string{"claims"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tests := []struct {
		name   string
		params url.Values
		param  string
		want   error
	}{
		{"request_uri inside", url.Values{"request_uri": {"urn:x"}}, "request_uri", jar.ErrForbiddenParameter},
		{"nested request", url.Values{"request": {"eyJ.x.y"}}, "request", jar.ErrForbiddenParameter},
		{"other client_id", url.Values{"client_id": {"evil"}}, "client_id", jar.ErrClientIDMismatch},
		{"two client_ids", url.Values{"client_id": {"app", "app"}}, "client_id", jar.ErrClientIDMismatch},
		{"claims not JSON", url.Values{"claims": {"{not json"}}, "claims", jar.ErrInvalidJSON},
		{"claims twice", url.Values{"claims": {"{}", "{}"}}, "claims", jar.ErrInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.Build(tt.params)
			var pe *jar.ParameterError
			if !errors.As(err, &pe) {
				t.Fatalf("Build = %v, want *ParameterError", err)
			}
			if pe.Name != tt.param || pe.Unwrap() != tt.want || !errors.Is(err, tt.want) {
				t.Errorf("ParameterError{Name: %q, Unwrap: %v}, want %q wrapping %v", pe.Name, pe.Unwrap(), tt.param, tt.want)
			}
			for _, v := range tt.params[tt.param] {
				if len(v) > 3 && strings.Contains(err.Error(), v) {
					t.Errorf("error %q shows the value %q", err, v)
				}
			}
		})
	}
}

// TestConfigErrorUnwrap checks that New's *ConfigError names the field
// and unwraps to the underlying reason.
func TestConfigErrorUnwrap(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   jar.Config
		field string
	}{
		{"signer and secret", jar.Config{ClientID: "app", Audience: "https://op.example", Signer: ec,
			Secret: []byte("0123456789abcdef0123456789abcdef")}, "Secret"},
		{"algorithm for another key", jar.Config{ClientID: "app", Audience: "https://op.example", Signer: ec,
			Algorithm: jose.RS256}, "Algorithm"},
		{"ed25519 with ES256", jar.Config{ClientID: "app", Audience: "https://op.example", Signer: ed,
			Algorithm: jose.ES256}, "Algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := jar.New(tt.cfg)
			var ce *jar.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New = %v, want *ConfigError", err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q", ce.Field, tt.field)
			}
			if ce.Unwrap() == nil || ce.Unwrap() != ce.Err || errors.Unwrap(err) != ce.Err {
				t.Errorf("Unwrap = %v, want the reason %v", ce.Unwrap(), ce.Err)
			}
			if want := "jar: config: " + tt.field + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err, want)
			}
		})
	}
}
