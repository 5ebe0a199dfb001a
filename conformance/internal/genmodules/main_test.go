package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A miniature suite source tree with each plan shape the generator reads.
var miniSuite = map[string]string{
	"net/openid/conformance/variant/ResponseMode.java": `package net.openid.conformance.variant;
public enum ResponseMode { DEFAULT, FORM_POST }`,
	"net/openid/conformance/openid/client/AbstractBase.java": `package net.openid.conformance.openid.client;
import net.openid.conformance.variant.ResponseMode;
@VariantNotApplicable(parameter = ResponseMode.class, values = { "nope" })
public abstract class AbstractBase extends AbstractTestModule {}`,
	"net/openid/conformance/openid/client/ModA.java": `package net.openid.conformance.openid.client;
@PublishTestModule(testName = "mod-a", summary = "a // not a comment")
public class ModA extends AbstractBase {}`,
	"net/openid/conformance/openid/client/ModB.java": `package net.openid.conformance.openid.client;
import net.openid.conformance.variant.ResponseMode;
/* @VariantNotApplicable(parameter = ResponseMode.class, values = "default") is commented out */
@PublishTestModule(testName = "mod-b")
@VariantNotApplicable(parameter = ResponseMode.class, values = "form_post")
public class ModB extends AbstractBase {}`,
	"net/openid/conformance/openid/client/sub/ModC.java": `package net.openid.conformance.openid.client.sub;
@PublishTestModule(testName = "mod-c")
public abstract class ModC extends Missing {}`,
	"net/openid/conformance/openid/client/ListPlan.java": `package net.openid.conformance.openid.client;
import net.openid.conformance.openid.client.sub.ModC;
@PublishTestPlan(testPlanName = "list-plan", testModules = {
	ModA.class, // first
	ModC.class
})
public class ListPlan implements TestPlan {}`,
	"net/openid/conformance/openid/client/VariantPlan.java": `package net.openid.conformance.openid.client;
@PublishTestPlan(testPlanName = "variant-plan")
public class VariantPlan implements TestPlan {
	public static final List<Class<? extends TestModule>> testModules = List.of(ModA.class, ModB.class);
	@Override
	public List<ModuleListEntry> testModulesWithVariants() {
		final List<Variant> v = List.of(new Variant(ResponseMode.class, "default"));
		return List.of(new ModuleListEntry(testModules, v));
	}
}`,
	"net/openid/conformance/openid/client/CopyPlan.java": `package net.openid.conformance.openid.client;
@PublishTestPlan(testPlanName = "copy-plan")
public class CopyPlan implements TestPlan {
	@Override
	public List<ModuleListEntry> testModulesWithVariants() {
		ArrayList<Class<? extends TestModule>> modules = new ArrayList<>(VariantPlan.testModules);
		modules.remove(ModA.class);
		return List.of(new TestPlan.ModuleListEntry(modules, List.of(new TestPlan.Variant(ResponseMode.class, "default"))));
	}
}`,
	"net/openid/conformance/openid/client/FormPostPlan.java": `package net.openid.conformance.openid.client;
@PublishTestPlan(testPlanName = "form-post-plan")
public class FormPostPlan extends AbstractFormPostTestPlan {
	@Override
	public List<ModuleListEntry> testModulesWithVariants() {
		return changeResponseTypeToFormPost(new VariantPlan().testModulesWithVariants());
	}
}`,
}

func writeMiniSuite(t *testing.T) *sourceTree {
	t.Helper()
	root := t.TempDir()
	for rel, src := range miniSuite {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := newSourceTree(root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestPlanShapes(t *testing.T) {
	t.Parallel()
	tr := writeMiniSuite(t)
	tests := []struct {
		file, name string
		want       string // modules and fixed variants, as entryString prints them
	}{
		{"ListPlan.java", "list-plan", "[ModA ModC] {}"},
		{"VariantPlan.java", "variant-plan", "[ModA ModB] {ResponseMode=default}"},
		{"CopyPlan.java", "copy-plan", "[ModB] {ResponseMode=default}"},
		{"FormPostPlan.java", "form-post-plan", "[ModA ModB] {ResponseMode=form_post}"},
	}
	for _, tt := range tests {
		p, err := readPlan(tr, "net/openid/conformance/openid/client/"+tt.file)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if p.name != tt.name || len(p.entries) != 1 || entryString(p.entries[0]) != tt.want {
			t.Errorf("%s: got %s %v, want %s [%s]", tt.file, p.name, p.entries, tt.name, tt.want)
		}
	}
}

func entryString(e moduleEntry) string {
	var vs []string
	for _, v := range e.fixed {
		vs = append(vs, v.param+"="+v.value)
	}
	return "[" + strings.Join(e.modules, " ") + "] {" + strings.Join(vs, " ") + "}"
}

// TestModuleRules checks that annotations are read from the class and its
// superclasses, that commented-out ones are not, and that a module is kept
// or dropped per selection as the suite does.
func TestModuleRules(t *testing.T) {
	t.Parallel()
	tr := writeMiniSuite(t)
	plan, err := tr.file("net/openid/conformance/openid/client/VariantPlan.java")
	if err != nil {
		t.Fatal(err)
	}
	b, err := readModule(tr, plan, "ModB")
	if err != nil {
		t.Fatal(err)
	}
	if b.name != "mod-b" || len(b.notApp) != 2 {
		t.Fatalf("ModB: name %q, rules %v; want mod-b with its own rule and AbstractBase's", b.name, b.notApp)
	}
	for mode, want := range map[string]bool{"default": true, "form_post": false, "nope": false} {
		got, err := b.applies(selection{"ResponseMode": mode})
		if err != nil || got != want {
			t.Errorf("ModB applies with ResponseMode=%s: %v, %v; want %v", mode, got, err, want)
		}
	}
	if _, err := b.applies(selection{}); err == nil {
		t.Error("a selection without the parameter a rule names must be an error")
	}
	if _, err := readModule(tr, plan, "NoSuchModule"); err == nil {
		t.Error("an unknown module class must be an error")
	}
}

func TestStripComments(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a // c\nb", "a \nb"},
		{"a /* c */ b", "a   b"},
		{`s = "// not" + '"'; // c`, `s = "// not" + '"'; `},
		{"t = \"\"\"\n/* kept */\n\"\"\"; /* c */", "t = \"\"\"\n/* kept */\n\"\"\";  "},
		{`"esc \" // still string"`, `"esc \" // still string"`},
		{"x /* unterminated", "x "},
	}
	for _, tt := range tests {
		if got := stripComments(tt.in); got != tt.want {
			t.Errorf("stripComments(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzStripComments: no panic, and text without comment or quote characters
// comes back unchanged.
func FuzzStripComments(f *testing.F) {
	for _, s := range []string{"a // b", "/* x */", `"\"`, `'`, `"""`, "\"\"\"a", "x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := stripComments(s)
		if !strings.ContainsAny(s, "/\"'") && out != s {
			t.Fatalf("stripComments(%q) = %q, want it unchanged", s, out)
		}
	})
}
