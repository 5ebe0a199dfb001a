package opharness

import (
	"context"
	"errors"
	"os"
	"testing"
)

// SkipEnv names the environment variable that turns a missing node or
// node_modules from a test failure into a skip (GOPAR_SKIP_INTEROP=1).
const SkipEnv = "GOPAR_SKIP_INTEROP"

// StartForTest starts a provider for t and stops it in t.Cleanup. Start
// failures go through [SkipOrFail].
func StartForTest(t testing.TB, opts Options) *Provider {
	t.Helper()
	if testing.Verbose() && os.Getenv("GOPAR_INTEROP_DEBUG") != "" && opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	p, err := Start(context.Background(), opts)
	if err != nil {
		SkipOrFail(t, err)
	}
	t.Cleanup(p.Close)
	return p
}

// SkipOrFail ends t for a provider that could not start. When node or the
// npm dependencies are missing (ErrNotInstalled) the test fails, telling to
// run `npm ci --prefix interop`, unless GOPAR_SKIP_INTEROP=1, which skips
// it. Any other error fails the test.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv(SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", err, SkipEnv)
		}
		t.Fatalf("%v; or set %s=1 to skip the interop tests", err, SkipEnv)
	}
	t.Fatal(err)
}
