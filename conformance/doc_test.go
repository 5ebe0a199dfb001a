package conformance

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated table of ../CONFORMANCE.md")

const (
	docPath  = "../CONFORMANCE.md"
	docBegin = "<!-- begin table: generated from conformance/modules.tsv and conformance/outcomes.tsv by go test ./conformance -run TestConformanceDoc -update -->"
	docEnd   = "<!-- end table -->"
)

// TestConformanceDoc checks that CONFORMANCE.md shows the table that
// modules.tsv and outcomes.tsv hold (-update rewrites it).
func TestConformanceDoc(t *testing.T) {
	t.Parallel()
	tb := loadTable(t)
	want := docTable(tb)
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", docPath, docBegin, docEnd)
	}
	got := doc[i+len(docBegin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(doc[:i+len(docBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date: run go test ./conformance -run TestConformanceDoc -update", docPath)
}

// docTable renders one table row per plan and module.
func docTable(tb *table) string {
	var b strings.Builder
	var m, na, policy int
	type key struct{ plan, module string }
	var order []key
	byModule := map[key][]row{}
	for _, r := range tb.rows {
		m++
		switch st, _ := tb.status(r); st {
		case statusNA:
			na++
		case statusPolicy:
			policy++
		}
		k := key{r.plan, r.module}
		if byModule[k] == nil {
			order = append(order, k)
		}
		byModule[k] = append(byModule[k], r)
	}
	fmt.Fprintf(&b, "\n\n%d rows (module × variant) from %d plans at suite commit `%s`: %d to run, %d of them refused by policy; %d N/A.\n\n",
		m, countPlans(tb), tb.commit, m-na, policy, na)
	b.WriteString("| plan | module | what the provider does | go-par | tests (`TestConformance/modules/<plan>/<module>/…`) and N/A variants |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, k := range order {
		o := tb.outcomes[k.module]
		var cells []string
		for _, r := range byModule[k] {
			st, why := tb.status(r)
			if st == statusNA && o.status != statusNA {
				cells = append(cells, fmt.Sprintf("%s: N/A (%s)", r.variant, short(why)))
			} else if st != statusNA {
				cells = append(cells, "`"+r.variant+"`")
			}
		}
		gopar := o.gopar
		switch o.status {
		case statusNA:
			gopar = "N/A: " + o.note
			if len(cells) == 0 {
				cells = append(cells, "—")
			}
		case statusPolicy:
			gopar += " — refused by policy: " + o.note
		default:
			if o.note != "" {
				gopar += " (" + o.note + ")"
			}
		}
		if len(o.suite) > 1 && o.status != statusNA {
			gopar += "; the suite accepts " + strings.Join(o.suite, " or ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", k.plan, k.module, esc(o.provider), esc(gopar), strings.Join(cells, "<br>"))
	}
	b.WriteString("\n")
	return b.String()
}

func countPlans(tb *table) int {
	seen := map[string]bool{}
	for _, r := range tb.rows {
		seen[r.plan] = true
	}
	return len(seen)
}

// short names a variant-level N/A reason.
func short(why string) string {
	switch {
	case strings.HasPrefix(why, "JARM"):
		return "JARM, issue 18"
	}
	return why
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
