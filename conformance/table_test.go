package conformance

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Outcomes of a module, as outcomes.tsv names them.
const (
	complete      = "complete"       // login, ID token verified, userinfo or resource call (and refresh in refresh modules)
	stopDiscovery = "stop-discovery" // no call after the discovery document
	stopCallback  = "stop-callback"  // no token request after the authorization response
	stopIDToken   = "stop-id-token"  // no userinfo or resource call after the token response
	stopUserinfo  = "stop-userinfo"  // the userinfo response is refused
	stopRefresh   = "stop-refresh"   // no userinfo call after the refresh response
)

var outcomeNames = []string{complete, stopDiscovery, stopCallback, stopIDToken, stopUserinfo, stopRefresh}

// Status of a module or row.
const (
	statusRun    = "run"
	statusNA     = "n/a"
	statusPolicy = "policy" // go-par refuses on principle
)

// row is one line of modules.tsv.
type row struct{ plan, module, variant string }

// name is the subtest name of the row.
func (r row) name() string { return r.plan + "/" + r.module + "/" + r.variant }

// outcome is one line of outcomes.tsv.
type outcome struct {
	module   string
	provider string   // what the provider does
	suite    []string // accepted outcomes, the asked-for one first
	gopar    string   // go-par's outcome, "" when not run
	status   string
	note     string
}

// modulesFile is modules.tsv, read.
type modulesFile struct {
	commit string
	rows   []row
}

var reCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

func readModules(path string) (*modulesFile, error) {
	lines, err := tsvLines(path)
	if err != nil {
		return nil, err
	}
	mf := &modulesFile{}
	var header bool
	seen := map[row]bool{}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l.text, "# suite\t"):
			f := strings.Split(l.text, "\t")
			if len(f) != 3 || f[1] != "openid-certification/conformance-suite" || !reCommit.MatchString(f[2]) {
				return nil, fmt.Errorf("%s:%d: suite line must be \"# suite\\topenid-certification/conformance-suite\\t<40-hex commit>\"", path, l.n)
			}
			mf.commit = f[2]
		case strings.HasPrefix(l.text, "#"):
		case !header:
			if l.text != "plan\tmodule\tvariant" {
				return nil, fmt.Errorf("%s:%d: header must be plan, module, variant", path, l.n)
			}
			header = true
		default:
			f := strings.Split(l.text, "\t")
			if len(f) != 3 || slices.Contains(f, "") {
				return nil, fmt.Errorf("%s:%d: want 3 non-empty fields, got %q", path, l.n, l.text)
			}
			r := row{f[0], f[1], f[2]}
			if seen[r] {
				return nil, fmt.Errorf("%s:%d: duplicate row", path, l.n)
			}
			if _, err := parseVariant(r.variant); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, l.n, err)
			}
			seen[r] = true
			mf.rows = append(mf.rows, r)
		}
	}
	if mf.commit == "" {
		return nil, fmt.Errorf("%s: no suite commit line", path)
	}
	if len(mf.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return mf, nil
}

func readOutcomes(path string) (map[string]*outcome, error) {
	lines, err := tsvLines(path)
	if err != nil {
		return nil, err
	}
	out := map[string]*outcome{}
	var header bool
	for _, l := range lines {
		if strings.HasPrefix(l.text, "#") {
			continue
		}
		f := strings.Split(l.text, "\t")
		if !header {
			if l.text != "module\tprovider\tsuite\tgopar\tstatus\tnote" {
				return nil, fmt.Errorf("%s:%d: header must be module, provider, suite, gopar, status, note", path, l.n)
			}
			header = true
			continue
		}
		if len(f) != 6 {
			return nil, fmt.Errorf("%s:%d: want 6 fields, got %d", path, l.n, len(f))
		}
		o := &outcome{module: f[0], provider: f[1], suite: strings.Split(f[2], "|"), gopar: f[3], status: f[4], note: f[5]}
		if o.gopar == "-" {
			o.gopar = ""
		}
		if err := o.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", path, l.n, o.module, err)
		}
		if out[o.module] != nil {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, l.n, o.module)
		}
		out[o.module] = o
	}
	return out, nil
}

// check enforces the table's rules: a run module's outcome is one the suite
// accepts; n/a and policy modules say why.
func (o *outcome) check() error {
	if o.module == "" || o.provider == "" {
		return fmt.Errorf("module and provider are required")
	}
	for _, s := range o.suite {
		if !slices.Contains(outcomeNames, s) {
			return fmt.Errorf("suite outcome %q is not one of %v", s, outcomeNames)
		}
	}
	switch o.status {
	case statusRun:
		if !slices.Contains(o.suite, o.gopar) {
			return fmt.Errorf("run, but go-par's outcome %q is not one the suite accepts (%v)", o.gopar, o.suite)
		}
	case statusNA:
		if o.gopar != "" || o.note == "" {
			return fmt.Errorf("n/a needs gopar \"-\" and a reason")
		}
	case statusPolicy:
		if !slices.Contains(outcomeNames, o.gopar) || o.gopar == o.suite[0] || o.note == "" {
			return fmt.Errorf("policy needs go-par's (refusing) outcome, other than the one the suite asks for, and a reason")
		}
	default:
		return fmt.Errorf("status %q is not run, n/a or policy", o.status)
	}
	return nil
}

type line struct {
	n    int
	text string
}

func tsvLines(path string) ([]line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if t := sc.Text(); strings.TrimSpace(t) != "" {
			out = append(out, line{n, t})
		}
	}
	return out, sc.Err()
}

// variantSpec is a modules.tsv variant label, parsed.
type variantSpec struct {
	family string // "oidc" or "fapi"; "" for "-" (no variant the suite runs go-par's way)
	// OpenID Connect plans.
	auth      string // client_secret_basic or tls_client_auth
	formPost  bool   // response_mode form_post
	dynamic   bool   // the plan asks for dynamic registration (registered statically here)
	transport string // par (pushed) or front (a provider without PAR, client.Config.InsecureFrontChannel)
	// FAPI 2.0 plans.
	mtls   bool // tls_client_auth and certificate-bound tokens; else private_key_jwt and DPoP
	signed bool // signed request objects (signed_non_repudiation)
	jarm   bool
}

// parseVariant reads the labels genmodules writes.
func parseVariant(v string) (variantSpec, error) {
	if v == "-" {
		return variantSpec{}, nil
	}
	parts := strings.Split(v, "+")
	bad := fmt.Errorf("unknown variant %q", v)
	switch parts[0] {
	case "client_secret_basic", "tls_client_auth":
		s := variantSpec{family: "oidc", auth: parts[0]}
		if len(parts) < 3 {
			return s, bad
		}
		switch parts[1] {
		case "form_post":
			s.formPost = true
		case "default":
		default:
			return s, bad
		}
		rest := parts[2:]
		if len(rest) == 3 && rest[0] == "dynamic_client" && rest[1] == "request_uri" {
			s.dynamic = true
			rest = rest[2:]
		}
		if len(rest) != 1 || (rest[0] != "par" && rest[0] != "front") {
			return s, bad
		}
		s.transport = rest[0]
		return s, nil
	case "private_key_jwt", "mtls":
		s := variantSpec{family: "fapi", mtls: parts[0] == "mtls"}
		if len(parts) < 2 || parts[1] != map[bool]string{true: "mtls", false: "dpop"}[s.mtls] {
			return s, bad
		}
		rest := parts[2:]
		if len(rest) > 0 && rest[0] == "signed_non_repudiation" {
			s.signed = true
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0] == "jarm" {
			s.jarm = true
			rest = rest[1:]
		}
		if len(rest) != 0 {
			return s, bad
		}
		return s, nil
	}
	return variantSpec{}, bad
}

// notApplicable returns why go-par cannot run a variant yet, or "".
func (s variantSpec) notApplicable() string {
	switch {
	case s.family == "":
		return "the suite runs this module only with variants go-par does not use"
	}
	return ""
}

// table is both files, read once.
type table struct {
	*modulesFile
	outcomes map[string]*outcome
}

func loadTable(t testing.TB) *table {
	t.Helper()
	mf, err := readModules("modules.tsv")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := readOutcomes("outcomes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	return &table{mf, oc}
}

// status returns the row's status and the reason for n/a and policy rows:
// the module's own, else the variant's.
func (tb *table) status(r row) (string, string) {
	o := tb.outcomes[r.module]
	if o.status == statusNA {
		return statusNA, o.note
	}
	v, _ := parseVariant(r.variant)
	if why := v.notApplicable(); why != "" {
		return statusNA, why
	}
	return o.status, o.note
}

// TestTable checks that modules.tsv and outcomes.tsv are well-formed and
// agree: every row has an outcome, every outcome is used.
func TestTable(t *testing.T) {
	t.Parallel()
	tb := loadTable(t)
	used := map[string]bool{}
	for _, r := range tb.rows {
		o := tb.outcomes[r.module]
		if o == nil {
			t.Errorf("modules.tsv row %s: module has no entry in outcomes.tsv", r.name())
			continue
		}
		used[r.module] = true
		v, _ := parseVariant(r.variant)
		if v.family == "" && o.status != statusNA {
			t.Errorf("row %s: variant \"-\" (not run by the suite with go-par's variants) must be n/a in outcomes.tsv", r.name())
		}
		if st, why := tb.status(r); st != statusRun && why == "" {
			t.Errorf("row %s: %s without a reason", r.name(), st)
		}
	}
	for m, o := range tb.outcomes {
		if !used[m] {
			t.Errorf("outcomes.tsv lists %s, which no modules.tsv row names", m)
		}
		if spec := modules[m]; (spec != nil) != (o.status != statusNA) {
			t.Errorf("%s: status %s, spec in modules_test.go: %v; every module that runs needs one, and only those", m, o.status, spec != nil)
		}
	}
}
