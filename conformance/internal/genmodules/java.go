package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The suite's plans and modules are Java classes. This file reads the few
// shapes they use: a plan's module lists and fixed variants, and a module's
// testName and @VariantNotApplicable(When) annotations. Anything else is an
// error, so that a change in the suite's source shows up instead of a
// silently shorter list.

// stripComments removes // and /* */ comments from Java source, keeping
// string literals, character literals and text blocks intact.
func stripComments(src string) string {
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); {
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			b.WriteByte(' ')
			i += 2 + end + 2
		case strings.HasPrefix(src[i:], `"""`):
			end := strings.Index(src[i+3:], `"""`)
			if end < 0 {
				b.WriteString(src[i:])
				return b.String()
			}
			b.WriteString(src[i : i+3+end+3])
			i += 3 + end + 3
		case src[i] == '"' || src[i] == '\'':
			q := src[i]
			j := i + 1
			for j < len(src) && src[j] != q && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			b.WriteString(src[i:j])
			i = j
		default:
			b.WriteByte(src[i])
			i++
		}
	}
	return b.String()
}

// javaFile is one parsed source file.
type javaFile struct {
	path    string // relative to the source root
	pkg     string // package name
	src     string // comments stripped
	imports map[string]string
}

// sourceTree is the suite's src/main/java.
type sourceTree struct {
	root  string
	files map[string]*javaFile // by relative path
}

func newSourceTree(root string) (*sourceTree, error) {
	if fi, err := os.Stat(filepath.Join(root, "net/openid/conformance")); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s does not hold net/openid/conformance: %v", root, err)
	}
	return &sourceTree{root: root, files: map[string]*javaFile{}}, nil
}

var (
	rePackage = regexp.MustCompile(`(?m)^package\s+([\w.]+)\s*;`)
	reImport  = regexp.MustCompile(`(?m)^import\s+([\w.]+)\.(\w+)\s*;`)
)

// file reads and parses the file at rel (a path below the source root).
func (t *sourceTree) file(rel string) (*javaFile, error) {
	if f := t.files[rel]; f != nil {
		return f, nil
	}
	raw, err := os.ReadFile(filepath.Join(t.root, rel))
	if err != nil {
		return nil, err
	}
	src := stripComments(string(raw))
	m := rePackage.FindStringSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("%s: no package clause", rel)
	}
	f := &javaFile{path: rel, pkg: m[1], src: src, imports: map[string]string{}}
	for _, im := range reImport.FindAllStringSubmatch(src, -1) {
		f.imports[im[2]] = im[1]
	}
	t.files[rel] = f
	return f, nil
}

// resolve finds the file of the class named simple as seen from f: an
// explicit import, else the same package. ok is false for classes outside
// the tree (java.*, Spring, ...).
func (t *sourceTree) resolve(f *javaFile, simple string) (*javaFile, bool, error) {
	pkg := f.pkg
	if p, ok := f.imports[simple]; ok {
		pkg = p
	}
	rel := filepath.Join(strings.ReplaceAll(pkg, ".", "/"), simple+".java")
	if _, err := os.Stat(filepath.Join(t.root, rel)); err != nil {
		return nil, false, nil
	}
	g, err := t.file(rel)
	return g, err == nil, err
}

// balanced returns the text between the opening bracket at s[open] and its
// match, and the index after the match.
func balanced(s string, open int) (string, int, error) {
	pairs := map[byte]byte{'(': ')', '{': '}', '[': ']'}
	closeCh, ok := pairs[s[open]]
	if !ok {
		return "", 0, fmt.Errorf("no bracket at offset %d", open)
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return "", 0, errors.New("unterminated string")
			}
			i += j + 1
		case c == s[open]:
			depth++
		case c == closeCh:
			depth--
			if depth == 0 {
				return s[open+1 : i], i + 1, nil
			}
		}
	}
	return "", 0, errors.New("unbalanced brackets")
}

// splitTop splits s at commas outside brackets and strings.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '(' || c == '{' || c == '[' || c == '<':
			depth++
		case c == ')' || c == '}' || c == ']' || c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

var reClassLit = regexp.MustCompile(`^(\w+)\.class$`)

// classList reads the items of a list of class literals, such as the
// inside of List.of(A.class, B.class) or {A.class, B.class}.
func classList(inside string) ([]string, error) {
	var out []string
	for _, item := range splitTop(inside) {
		m := reClassLit.FindStringSubmatch(item)
		if m == nil {
			return nil, fmt.Errorf("list item %q is not a class literal", item)
		}
		out = append(out, m[1])
	}
	return out, nil
}

// variant is a suite variant value: a variant parameter class (such as
// ResponseType) and one of its values.
type variant struct{ param, value string }

var reVariant = regexp.MustCompile(`^new\s+(?:TestPlan\.)?Variant\(\s*(\w+)\.class\s*,\s*"([^"]*)"\s*\)$`)

// variantList reads the inside of List.of(new Variant(X.class, "v"), ...).
func variantList(inside string) ([]variant, error) {
	var out []variant
	for _, item := range splitTop(inside) {
		m := reVariant.FindStringSubmatch(item)
		if m == nil {
			return nil, fmt.Errorf("variant item %q is not new Variant(X.class, \"v\")", item)
		}
		out = append(out, variant{m[1], m[2]})
	}
	return out, nil
}

// stringValues reads an annotation value: "v" or {"a", "b"}.
func stringValues(expr string) ([]string, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "{") && strings.HasSuffix(expr, "}") {
		expr = expr[1 : len(expr)-1]
	}
	var out []string
	for _, item := range splitTop(expr) {
		if len(item) < 2 || item[0] != '"' || item[len(item)-1] != '"' {
			return nil, fmt.Errorf("annotation value %q is not a string literal", item)
		}
		out = append(out, item[1:len(item)-1])
	}
	return out, nil
}

// annotationArgs parses name = value pairs of an annotation's arguments.
func annotationArgs(inside string) (map[string]string, error) {
	args := map[string]string{}
	for _, kv := range splitTop(inside) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("annotation argument %q is not name = value", kv)
		}
		args[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return args, nil
}

// annotations returns the argument text of every @name(...) in src.
func annotations(src, name string) ([]string, error) {
	re := regexp.MustCompile(`@` + name + `\s*\(`)
	var out []string
	for _, loc := range re.FindAllStringIndex(src, -1) {
		inside, _, err := balanced(src, loc[1]-1)
		if err != nil {
			return nil, fmt.Errorf("@%s: %w", name, err)
		}
		out = append(out, inside)
	}
	return out, nil
}
