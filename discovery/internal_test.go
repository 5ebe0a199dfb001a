package discovery

import (
	"errors"
	"reflect"
	"testing"
)

func TestWellKnownURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer, rfc8414 string
	}{
		{"https://pp.netseidbroker.dk/op", "https://pp.netseidbroker.dk/.well-known/oauth-authorization-server/op"},
		{"https://pp.netseidbroker.dk/op/", "https://pp.netseidbroker.dk/.well-known/oauth-authorization-server/op"},
		{"https://as.example", "https://as.example/.well-known/oauth-authorization-server"},
		{"https://as.example/", "https://as.example/.well-known/oauth-authorization-server"},
		{"https://as.example:8443/t/a%2Fb", "https://as.example:8443/.well-known/oauth-authorization-server/t/a%2Fb"},
		{"http://127.0.0.1:9000/realms/x", "http://127.0.0.1:9000/.well-known/oauth-authorization-server/realms/x"},
	}
	for _, tt := range tests {
		u, err := checkIssuer(tt.issuer)
		if err != nil {
			t.Fatalf("checkIssuer(%q) = %v", tt.issuer, err)
		}
		if got := rfc8414URL(u); got != tt.rfc8414 {
			t.Errorf("rfc8414URL(%q) = %q, want %q", tt.issuer, got, tt.rfc8414)
		}
	}
}

func TestKnownMembersCoverFields(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for _, k := range knownMembers {
		if seen[k.name] {
			t.Errorf("member %q has two fields", k.name)
		}
		seen[k.name] = true
	}
	for _, e := range endpointMembers {
		if !seen[e.name] {
			t.Errorf("endpoint %q has no Metadata field", e.name)
		}
	}
	typ := reflect.TypeFor[Metadata]()
	exported := 0
	for i := range typ.NumField() {
		if typ.Field(i).IsExported() {
			exported++
		}
	}
	if len(knownMembers) != exported {
		t.Errorf("knownMembers has %d entries, want one for each of the %d exported fields", len(knownMembers), exported)
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	err := &ParseError{URL: "https://as.example/.well-known/openid-configuration", Member: "token_endpoint", Err: ErrMissingMember}
	want := `discovery: metadata from https://as.example/.well-known/openid-configuration: member "token_endpoint": required member missing`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, ErrMissingMember) {
		t.Error("errors.Is(ParseError, ErrMissingMember) = false")
	}
}
