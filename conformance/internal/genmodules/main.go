// Command genmodules writes conformance/modules.tsv: the relying-party
// test modules of the OpenID Foundation conformance suite that go-par runs,
// one row per module and variant, read from the suite's own plan files.
//
//	git clone https://github.com/openid-certification/conformance-suite /tmp/suite
//	go run ./conformance/internal/genmodules -suite /tmp/suite -o conformance/modules.tsv
//
// It is not run in CI (the suite's source is not there); the conformance
// tests check the file it wrote.
//
// # Which plans
//
// The plans in [plans]: the OpenID Connect Core RP plans for the code flow
// (Basic, Config, Form Post Basic, Refresh Token, Dynamic and the
// comprehensive oidcc-client-test-plan) and the FAPI 2.0 Security Profile
// Final and Message Signing Final client plans. Not taken, with the reason:
// the Implicit, Hybrid and their Form Post plans (response types other than
// code, which go-par does not send); the logout, session management and
// third-party-initiated login plans (not part of issue 15's scope); FAPI 1,
// FAPI-CIBA, FAPI 2.0 ID2, the Brazil, VCI and federation plans (other
// profiles or draft versions).
//
// # Which variants
//
// A suite plan fixes some variant parameters and leaves the rest to whoever
// runs it. For the rest, each plan here has selection groups ([group]): a
// module gets one row per group, under the first selection of the group
// for which the suite runs it (its @VariantNotApplicable and
// @VariantNotApplicableWhen annotations, its superclasses' included, as
// the suite's VariantService combines them). A module that no group runs
// gets a single row with variant "-", so that it is listed as not
// applicable rather than dropped. Values the plan fixes replace the
// selection's.
//
// OpenID Connect plans: response_type code; client_secret_basic (the Basic
// plan's own choice); static registration and plain requests unless the
// plan fixes otherwise; response_mode default unless the plan fixes
// form_post. The comprehensive plan, which fixes nothing, takes each module
// under the first of (client_secret_basic, default), (client_secret_basic,
// form_post), (tls_client_auth, default) that the suite runs it with.
// Every OpenID Connect module is listed twice, by how go-par sends the
// authorization request: "par" (pushed, RFC 9126) and "front" (all
// parameters in the front channel to a provider without PAR, as the
// suite's OpenID Connect plans expect; client.Config.InsecureFrontChannel).
// The Dynamic plan fixes dynamic_client and request_uri: go-par has no
// dynamic registration client, so the harness registers it statically; its
// request_uri is the PAR one, or in the front channel a request object
// sent by value.
//
// FAPI 2.0 Security Profile: plain_fapi, an OpenID Connect client, simple
// authorization requests, and two client setups: private_key_jwt with
// DPoP-bound tokens, and tls_client_auth with certificate-bound tokens
// (mtls + mtls). FAPI 2.0 Message Signing: the same with signed request
// objects (signed_non_repudiation), once with plain responses and once with
// JARM, for private_key_jwt + DPoP only (the sender-constraint axis is the
// Security Profile plan's).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// selection is one variant selection: the suite's variant parameter classes
// and values, plus "Transport" (par or front), which is go-par's own axis.
type selection map[string]string

// group is a list of alternative selections; a module takes the first one
// the suite runs it with.
type group []selection

// planSpec is a plan to read and the selection groups it runs with.
type planSpec struct {
	file   string // below src/main/java/net/openid/conformance
	groups []group
	label  func(selection) string
}

func oidc(auth, mode, transport string) selection {
	return selection{
		"ResponseType": "code", "ResponseMode": mode, "OIDCCClientAuthType": auth,
		"ClientRegistration": "static_client", "ClientRequestType": "plain_http_request",
		"Transport": transport,
	}
}

func fapi(auth, sender, method, mode string) selection {
	return selection{
		"FAPI2FinalOPProfile": "plain_fapi", "FAPIClientType": "oidc", "AuthorizationRequestType": "simple",
		"ClientAuthType": auth, "FAPI2SenderConstrainMethod": sender,
		"FAPI2AuthRequestMethod": method, "FAPIResponseMode": mode,
	}
}

// oidcGroups: one group per transport.
func oidcGroups(alts ...[2]string) []group {
	var gs []group
	for _, tr := range []string{"par", "front"} {
		var g group
		for _, a := range alts {
			g = append(g, oidc(a[0], a[1], tr))
		}
		gs = append(gs, g)
	}
	return gs
}

func oidcLabel(s selection) string {
	parts := []string{s["OIDCCClientAuthType"], s["ResponseMode"]}
	if v := s["ClientRegistration"]; v != "static_client" {
		parts = append(parts, v)
	}
	if v := s["ClientRequestType"]; v != "plain_http_request" {
		parts = append(parts, v)
	}
	if v := s["ResponseType"]; v != "code" {
		parts = append(parts, "response_type="+v)
	}
	return strings.Join(append(parts, s["Transport"]), "+")
}

func fapiLabel(s selection) string {
	parts := []string{s["ClientAuthType"], s["FAPI2SenderConstrainMethod"]}
	if v := s["FAPI2AuthRequestMethod"]; v != "unsigned" {
		parts = append(parts, v)
	}
	if v := s["FAPIResponseMode"]; v != "plain_response" {
		parts = append(parts, v)
	}
	return strings.Join(parts, "+")
}

var basicSel = [2]string{"client_secret_basic", "default"}

// plans are the plans read, in the order of modules.tsv.
var plans = []planSpec{
	{file: "openid/client/OIDCCClientBasicTestPlan.java", groups: oidcGroups(basicSel), label: oidcLabel},
	{file: "openid/client/OIDCCClientConfigTestPlan.java", groups: oidcGroups(basicSel), label: oidcLabel},
	{file: "fapi2spfinal/FAPI2SPFinalClientTestPlan.java", label: fapiLabel, groups: []group{
		{fapi("private_key_jwt", "dpop", "unsigned", "plain_response")},
		{fapi("mtls", "mtls", "unsigned", "plain_response")},
	}},
	{file: "openid/client/OIDCCClientFormPostBasicTestPlan.java", groups: oidcGroups(basicSel), label: oidcLabel},
	{file: "openid/client/OIDCCClientRefreshTokenProfileTestPlan.java", groups: oidcGroups(basicSel), label: oidcLabel},
	{file: "openid/client/OIDCCClientDynamicTestPlan.java", groups: oidcGroups(basicSel), label: oidcLabel},
	{file: "openid/client/OIDCCClientTestPlan.java", label: oidcLabel, groups: oidcGroups(
		basicSel, [2]string{"client_secret_basic", "form_post"}, [2]string{"tls_client_auth", "default"})},
	{file: "fapi2spfinal/FAPI2MessageSigningFinalClientTestPlan.java", label: fapiLabel, groups: []group{
		{fapi("private_key_jwt", "dpop", "signed_non_repudiation", "plain_response")},
		{fapi("private_key_jwt", "dpop", "signed_non_repudiation", "jarm")},
	}},
}

// row is one line of modules.tsv.
type row struct{ plan, module, variant string }

func main() {
	suite := flag.String("suite", "", "a checkout of the conformance suite (the directory holding src/)")
	commit := flag.String("commit", "", "the suite commit the checkout is at (default: git rev-parse HEAD in -suite)")
	out := flag.String("o", "conformance/modules.tsv", "the file to write")
	flag.Parse()
	if err := run(*suite, *commit, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genmodules:", err)
		os.Exit(1)
	}
}

var reCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

func run(suite, commit, out string) error {
	if suite == "" {
		return errors.New("-suite is required")
	}
	if commit == "" {
		b, err := exec.Command("git", "-C", suite, "rev-parse", "HEAD").Output()
		if err != nil {
			return fmt.Errorf("-commit not given and git rev-parse failed: %w", err)
		}
		commit = strings.TrimSpace(string(b))
	}
	if !reCommit.MatchString(commit) {
		return fmt.Errorf("commit %q is not a full git hash", commit)
	}
	t, err := newSourceTree(filepath.Join(suite, "src/main/java"))
	if err != nil {
		return err
	}
	rows, err := generate(t)
	if err != nil {
		return err
	}
	return write(out, commit, rows)
}

// generate reads every plan and makes the rows.
func generate(t *sourceTree) ([]row, error) {
	var rows []row
	seen := map[row]bool{}
	for _, ps := range plans {
		p, err := readPlan(t, filepath.Join("net/openid/conformance", ps.file))
		if err != nil {
			return nil, err
		}
		for _, e := range p.entries {
			for _, class := range e.modules {
				m, err := readModule(t, p.file, class)
				if err != nil {
					return nil, fmt.Errorf("plan %s: %w", p.name, err)
				}
				variants, err := moduleVariants(m, e.fixed, ps)
				if err != nil {
					return nil, fmt.Errorf("plan %s: %w", p.name, err)
				}
				if len(variants) == 0 {
					variants = []string{"-"}
				}
				for _, v := range variants {
					r := row{p.name, m.name, v}
					if seen[r] {
						return nil, fmt.Errorf("plan %s lists %s twice for %s", p.name, m.name, v)
					}
					seen[r] = true
					rows = append(rows, r)
				}
			}
		}
	}
	return rows, nil
}

// moduleVariants returns the labels of the selections m runs with: per
// group, the first selection (with the plan's fixed values applied) that the
// suite runs m with.
func moduleVariants(m *module, fixed []variant, ps planSpec) ([]string, error) {
	var labels []string
	for _, g := range ps.groups {
		for _, sel := range g {
			s := selection{}
			for k, v := range sel {
				s[k] = v
			}
			for _, f := range fixed {
				if _, ok := s[f.param]; !ok {
					return nil, fmt.Errorf("plan fixes %s, which the selections do not know", f.param)
				}
				s[f.param] = f.value
			}
			ok, err := m.applies(s)
			if err != nil {
				return nil, err
			}
			if ok {
				if l := ps.label(s); !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
				break
			}
		}
	}
	return labels, nil
}

func write(out, commit string, rows []row) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# suite\topenid-certification/conformance-suite\t%s\n", commit)
	fmt.Fprintf(w, "# generated by go run ./conformance/internal/genmodules -suite <checkout>; do not edit\n")
	fmt.Fprintf(w, "plan\tmodule\tvariant\n")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.plan, r.module, r.variant)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
