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

// StartForTest starts a provider for t and stops it in t.Cleanup. When node
// or the npm dependencies are missing the test fails, telling to run
// `npm ci --prefix interop`, unless GOPAR_SKIP_INTEROP=1, which skips it.
// Any other start failure fails the test.
func StartForTest(t testing.TB, opts Options) *Provider {
	t.Helper()
	if _, err := Check(opts.Dir, opts.Node); err != nil {
		if os.Getenv(SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", err, SkipEnv)
		}
		t.Fatalf("%v; or set %s=1 to skip the interop tests", err, SkipEnv)
	}
	if testing.Verbose() && os.Getenv("GOPAR_INTEROP_DEBUG") != "" && opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	p, err := Start(context.Background(), opts)
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv(SkipEnv) == "1" {
			t.Skipf("%v (%s=1)", err, SkipEnv)
		}
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
