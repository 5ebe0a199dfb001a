package conformance

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// result is what one row's run showed.
type result struct {
	ran      bool
	expected bool // go-par's outcome is the table's, and one the suite accepts
}

// TestConformance runs every row of modules.tsv that applies to go-par and
// prints the summary line CI shows:
//
//	conformance: N of M modules as the suite expects (K N/A)
//
// N counts the rows whose outcome is the one outcomes.tsv names for go-par
// and that the suite accepts (a refusal on principle counts only where the
// suite itself accepts the refusal, as it does for unsigned ID tokens); M
// counts every row, K the rows that do not apply (N = M - K when all pass).
func TestConformance(t *testing.T) {
	t.Parallel()
	tb := loadTable(t)
	var mu sync.Mutex
	results := map[row]*result{}
	t.Run("modules", func(t *testing.T) {
		for _, r := range tb.rows {
			st, _ := tb.status(r)
			if st == statusNA {
				continue
			}
			o := tb.outcomes[r.module]
			t.Run(r.name(), func(t *testing.T) {
				t.Parallel()
				res := &result{ran: true}
				mu.Lock()
				results[r] = res
				mu.Unlock()
				if runRow(t, r, o) {
					mu.Lock()
					res.expected = slices.Contains(o.suite, o.gopar)
					mu.Unlock()
				}
			})
		}
	})
	mu.Lock()
	defer mu.Unlock()
	var m, n, na, policy, policyAccepted, notRun int
	var failed []string
	for _, r := range tb.rows {
		m++
		st, _ := tb.status(r)
		switch res := results[r]; {
		case st == statusNA:
			na++
		case res == nil:
			notRun++
		case res.expected:
			n++
		default:
			failed = append(failed, r.name())
		}
		if st == statusPolicy {
			policy++
			if res := results[r]; res != nil && res.expected {
				policyAccepted++
			}
		}
	}
	line := fmt.Sprintf("conformance: %d of %d modules as the suite expects (%d N/A)", n, m, na)
	if notRun > 0 {
		line += fmt.Sprintf("; %d not run (-run filter)", notRun)
	}
	fmt.Println(line)
	fmt.Printf("conformance: %d refused by policy, %d of them as the suite accepts\n", policy, policyAccepted)
	for _, f := range failed {
		fmt.Printf("conformance: not as the suite expects: %s\n", f)
	}
}

// runRow runs one row and reports whether go-par's outcome was the
// expected one, with its typed error and no call after the faulty response.
func runRow(t *testing.T, r row, o *outcome) bool {
	spec := modules[r.module]
	if spec == nil {
		t.Errorf("module %s has no spec in modules_test.go", r.module)
		return false
	}
	v, err := parseVariant(r.variant)
	if err != nil {
		t.Error(err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t, v, spec)
	run := drive
	if spec.run != nil {
		run = spec.run
	}
	obs := run(ctx, e)
	ok := true
	if obs.outcome != o.gopar {
		t.Errorf("outcome %q (error: %v), want %q", obs.outcome, obs.err, o.gopar)
		return false
	}
	if obs.outcome != complete {
		if err := e.checkErr(obs); err != nil {
			t.Errorf("%s: %v", obs.outcome, err)
			ok = false
		}
		if err := checkNoCallAfter(obs, v.jarm); err != nil {
			t.Errorf("%s: %v", obs.outcome, err)
			ok = false
		}
	}
	if err := e.checkTransport(obs); err != nil {
		t.Errorf("transport: %v", err)
		ok = false
	}
	if spec.check != nil {
		if err := spec.check(e, obs); err != nil {
			t.Errorf("check: %v", err)
			ok = false
		}
	}
	return ok
}
