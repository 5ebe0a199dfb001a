package discovery_test

// Regression tests for the findings of the security and correctness review.

import (
	"errors"
	"testing"

	"github.com/go-par/par/discovery"
)

// TestReviewNilMetadata: the methods of a nil *Metadata answer "absent"
// instead of panicking: exported methods must not panic on nil input.
func TestReviewNilMetadata(t *testing.T) {
	t.Parallel()
	var md *discovery.Metadata
	if got := md.Endpoint("token_endpoint", true); got != "" {
		t.Errorf("Endpoint = %q, want empty", got)
	}
	if got := md.Raw(); got != nil {
		t.Errorf("Raw = %q, want nil", got)
	}
	var v map[string]any
	if err := md.Claims(&v); !errors.Is(err, discovery.ErrMissingMember) {
		t.Errorf("Claims = %v, want ErrMissingMember", err)
	}
}
