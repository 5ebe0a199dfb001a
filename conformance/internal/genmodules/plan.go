package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// moduleEntry is one ModuleListEntry of a plan: module classes and the
// variant values the plan fixes for them.
type moduleEntry struct {
	modules []string // class names
	fixed   []variant
}

// plan is a parsed test plan.
type plan struct {
	name    string // testPlanName
	file    *javaFile
	entries []moduleEntry
}

var (
	rePlanName        = regexp.MustCompile(`testPlanName\s*=\s*"([^"]+)"`)
	reAnnotationList  = regexp.MustCompile(`\btestModules\s*=\s*\{`)
	reWithVariants    = regexp.MustCompile(`\btestModulesWithVariants\s*\(\s*\)\s*\{`)
	reFormPost        = regexp.MustCompile(`changeResponseTypeToFormPost\(\s*new\s+(\w+)\(\)\.testModulesWithVariants\(\)\s*\)`)
	reModuleListEntry = regexp.MustCompile(`new\s+(?:TestPlan\.)?ModuleListEntry\s*\(`)
)

// readPlan parses the plan in file rel.
func readPlan(t *sourceTree, rel string) (*plan, error) {
	f, err := t.file(rel)
	if err != nil {
		return nil, err
	}
	p := &plan{file: f}
	if m := rePlanName.FindStringSubmatch(f.src); m != nil {
		p.name = m[1]
	} else {
		return nil, fmt.Errorf("%s: no testPlanName", rel)
	}
	p.entries, err = planEntries(t, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return p, nil
}

// planEntries reads a plan's module lists, in one of the shapes the suite's
// RP plans use:
//
//   - @PublishTestPlan(testModules = {A.class, ...}): no fixed variants;
//   - testModulesWithVariants() returning new ModuleListEntry(modules,
//     variants) items, each argument inline (List.of(...)) or a local
//     variable, a static field of the plan, or a copy of another plan's
//     static list with .remove(X.class) calls;
//   - changeResponseTypeToFormPost(new OtherPlan().testModulesWithVariants()):
//     the other plan's entries with ResponseMode set to form_post
//     (AbstractFormPostTestPlan).
func planEntries(t *sourceTree, f *javaFile) ([]moduleEntry, error) {
	if loc := reWithVariants.FindStringIndex(f.src); loc != nil {
		body, _, err := balanced(f.src, loc[1]-1)
		if err != nil {
			return nil, err
		}
		if m := reFormPost.FindStringSubmatch(body); m != nil {
			other, ok, err := t.resolve(f, m[1])
			if err != nil || !ok {
				return nil, fmt.Errorf("form post plan: cannot find %s: %v", m[1], err)
			}
			entries, err := planEntries(t, other)
			if err != nil {
				return nil, err
			}
			return toFormPost(entries)
		}
		return entryList(t, f, body)
	}
	if loc := reAnnotationList.FindStringIndex(f.src); loc != nil {
		inside, _, err := balanced(f.src, loc[1]-1)
		if err != nil {
			return nil, err
		}
		mods, err := classList(inside)
		if err != nil {
			return nil, err
		}
		return []moduleEntry{{modules: mods}}, nil
	}
	return nil, fmt.Errorf("no module list found")
}

// toFormPost is AbstractFormPostTestPlan.changeResponseTypeToFormPost.
func toFormPost(entries []moduleEntry) ([]moduleEntry, error) {
	changed := false
	out := make([]moduleEntry, len(entries))
	for i, e := range entries {
		out[i] = moduleEntry{modules: e.modules}
		for _, v := range e.fixed {
			if v.param == "ResponseMode" {
				v.value = "form_post"
				changed = true
			}
			out[i].fixed = append(out[i].fixed, v)
		}
	}
	if !changed {
		return nil, fmt.Errorf("form post plan: no ResponseMode variant to change")
	}
	return out, nil
}

// entryList reads the ModuleListEntry items of a testModulesWithVariants body.
func entryList(t *sourceTree, f *javaFile, body string) ([]moduleEntry, error) {
	var out []moduleEntry
	for _, loc := range reModuleListEntry.FindAllStringIndex(body, -1) {
		inside, _, err := balanced(body, loc[1]-1)
		if err != nil {
			return nil, err
		}
		args := splitTop(inside)
		if len(args) != 2 {
			return nil, fmt.Errorf("ModuleListEntry with %d arguments", len(args))
		}
		mods, err := moduleArg(t, f, body, args[0])
		if err != nil {
			return nil, err
		}
		fixed, err := variantArg(body, args[1])
		if err != nil {
			return nil, err
		}
		out = append(out, moduleEntry{modules: mods, fixed: fixed})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("testModulesWithVariants has no ModuleListEntry")
	}
	return out, nil
}

var reListOf = regexp.MustCompile(`^List\.of\s*\(`)

// listOf returns the inside of a List.of(...) expression.
func listOf(expr string) (string, bool, error) {
	expr = strings.TrimSpace(expr)
	loc := reListOf.FindStringIndex(expr)
	if loc == nil {
		return "", false, nil
	}
	inside, end, err := balanced(expr, loc[1]-1)
	if err != nil {
		return "", false, err
	}
	if strings.TrimSpace(expr[end:]) != "" {
		return "", false, fmt.Errorf("unexpected text after List.of(...): %q", expr[end:])
	}
	return inside, true, nil
}

// assignment finds "name = <expr>;" in src and returns expr.
func assignment(src, name string) (string, bool) {
	re := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\s*=\s*`)
	loc := re.FindStringIndex(src)
	if loc == nil {
		return "", false
	}
	// The expression ends at the first ';' outside brackets.
	depth := 0
	for i := loc[1]; i < len(src); i++ {
		switch src[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ';':
			if depth == 0 {
				return strings.TrimSpace(src[loc[1]:i]), true
			}
		}
	}
	return "", false
}

var (
	reIdent     = regexp.MustCompile(`^\w+$`)
	reCopyOf    = regexp.MustCompile(`^new\s+ArrayList<>\(\s*(\w+)\.(\w+)\s*\)$`)
	reRemoveFmt = `\b%s\.remove\(\s*(\w+)\.class\s*\)\s*;`
)

// moduleArg resolves the first argument of a ModuleListEntry.
func moduleArg(t *sourceTree, f *javaFile, body, arg string) ([]string, error) {
	if inside, ok, err := listOf(arg); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return classList(inside)
	}
	if !reIdent.MatchString(arg) {
		return nil, fmt.Errorf("module list argument %q", arg)
	}
	expr, ok := assignment(body, arg)
	if !ok {
		// A static field of the plan class.
		if expr, ok = assignment(f.src, arg); !ok {
			return nil, fmt.Errorf("cannot find the value of %s", arg)
		}
	}
	if inside, ok, err := listOf(expr); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return classList(inside)
	}
	m := reCopyOf.FindStringSubmatch(expr)
	if m == nil {
		return nil, fmt.Errorf("%s = %q: unsupported expression", arg, expr)
	}
	other, ok, err := t.resolve(f, m[1])
	if err != nil || !ok {
		return nil, fmt.Errorf("cannot find %s: %v", m[1], err)
	}
	otherExpr, ok := assignment(other.src, m[2])
	if !ok {
		return nil, fmt.Errorf("cannot find %s.%s", m[1], m[2])
	}
	inside, ok, err := listOf(otherExpr)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s.%s is not a List.of(...): %v", m[1], m[2], err)
	}
	mods, err := classList(inside)
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(fmt.Sprintf(reRemoveFmt, regexp.QuoteMeta(arg)))
	for _, rm := range re.FindAllStringSubmatch(body, -1) {
		i := slices.Index(mods, rm[1])
		if i < 0 {
			return nil, fmt.Errorf("%s.remove(%s.class): not in the list", arg, rm[1])
		}
		mods = slices.Delete(mods, i, i+1)
	}
	return mods, nil
}

// variantArg resolves the second argument of a ModuleListEntry.
func variantArg(body, arg string) ([]variant, error) {
	if inside, ok, err := listOf(arg); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return variantList(inside)
	}
	if !reIdent.MatchString(arg) {
		return nil, fmt.Errorf("variant list argument %q", arg)
	}
	expr, ok := assignment(body, arg)
	if !ok {
		return nil, fmt.Errorf("cannot find the value of %s", arg)
	}
	inside, ok, err := listOf(expr)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s = %q is not a List.of(...): %v", arg, expr, err)
	}
	return variantList(inside)
}

// module is a parsed test module class.
type module struct {
	class    string
	name     string // testName
	notApp   []variantRule
	notWhens []whenRule
}

// variantRule is @VariantNotApplicable(parameter = P.class, values = {...}).
type variantRule struct {
	param  string
	values []string
}

// whenRule is @VariantNotApplicableWhen(parameter, values, whenParameter,
// hasValues): param's values ("*" for all) do not apply while whenParam has
// one of whenValues.
type whenRule struct {
	variantRule
	whenParam  string
	whenValues []string
}

var (
	reTestName = regexp.MustCompile(`testName\s*=\s*"([^"]+)"`)
	reExtends  = regexp.MustCompile(`\bclass\s+(\w+)(?:<[^>]*>)?\s+extends\s+(\w+)`)
	reParamArg = regexp.MustCompile(`^(\w+)\.class$`)
)

// readModule parses the module class named class, seen from plan file f,
// with the annotations of its superclasses (the suite's VariantService
// combines them the same way).
func readModule(t *sourceTree, f *javaFile, class string) (*module, error) {
	mf, ok, err := t.resolve(f, class)
	if err != nil || !ok {
		return nil, fmt.Errorf("module %s: cannot find its source: %v", class, err)
	}
	m := &module{class: class}
	if tn := reTestName.FindStringSubmatch(mf.src); tn != nil {
		m.name = tn[1]
	} else {
		return nil, fmt.Errorf("module %s: no testName", class)
	}
	for cur, name := mf, class; cur != nil; {
		if err := addRules(m, cur); err != nil {
			return nil, fmt.Errorf("module %s (%s): %w", class, name, err)
		}
		ext := reExtends.FindStringSubmatch(cur.src)
		if ext == nil || ext[1] != name {
			break
		}
		next, ok, err := t.resolve(cur, ext[2])
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		cur, name = next, ext[2]
	}
	return m, nil
}

func addRules(m *module, f *javaFile) error {
	nas, err := annotations(f.src, "VariantNotApplicable")
	if err != nil {
		return err
	}
	for _, inside := range nas {
		args, err := annotationArgs(inside)
		if err != nil {
			return err
		}
		r, err := rule(args["parameter"], args["values"])
		if err != nil {
			return err
		}
		m.notApp = append(m.notApp, r)
	}
	whens, err := annotations(f.src, "VariantNotApplicableWhen")
	if err != nil {
		return err
	}
	for _, inside := range whens {
		args, err := annotationArgs(inside)
		if err != nil {
			return err
		}
		r, err := rule(args["parameter"], args["values"])
		if err != nil {
			return err
		}
		w, err := rule(args["whenParameter"], args["hasValues"])
		if err != nil {
			return err
		}
		m.notWhens = append(m.notWhens, whenRule{r, w.param, w.values})
	}
	return nil
}

func rule(param, values string) (variantRule, error) {
	pm := reParamArg.FindStringSubmatch(strings.TrimSpace(param))
	if pm == nil {
		return variantRule{}, fmt.Errorf("parameter %q is not a class literal", param)
	}
	vs, err := stringValues(values)
	if err != nil {
		return variantRule{}, err
	}
	return variantRule{param: pm[1], values: vs}, nil
}

// applies reports whether the suite runs m under selection sel (variant
// parameter class → value). A parameter missing from sel is an error: the
// selection must name every parameter the module's rules look at.
func (m *module) applies(sel map[string]string) (bool, error) {
	get := func(p string) (string, error) {
		v, ok := sel[p]
		if !ok {
			return "", fmt.Errorf("module %s: the selection has no value for %s", m.name, p)
		}
		return v, nil
	}
	for _, r := range m.notApp {
		v, err := get(r.param)
		if err != nil {
			return false, err
		}
		if slices.Contains(r.values, v) {
			return false, nil
		}
	}
	for _, r := range m.notWhens {
		w, err := get(r.whenParam)
		if err != nil {
			return false, err
		}
		if !slices.Contains(r.whenValues, w) {
			continue
		}
		v, err := get(r.param)
		if err != nil {
			return false, err
		}
		if slices.Contains(r.values, "*") || slices.Contains(r.values, v) {
			return false, nil
		}
	}
	return true, nil
}
