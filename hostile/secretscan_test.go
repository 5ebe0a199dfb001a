package hostile_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The secret-holding types of the module, found by scanning its source with
// go/ast (TestSecretTypesCovered). The rule:
//
//  1. A struct field holds a secret by NAME when the last word of its
//     CamelCase name is one of secretWords (CodeVerifier → Verifier,
//     RawIDToken → Token, TransferTokenExchangeCode → Code; KeyID and
//     TokenURL end in ID and URL and do not count) and its type can carry
//     the secret's text: string, []byte, [][]byte or []string, or a pointer
//     to one of them.
//  2. A field holds a secret by TYPE when its type, after stripping
//     pointers, slices, arrays and map values, is one of secretTypeNames:
//     private keys and signers, AEADs, OAuth tokens and token sources,
//     x/oauth2's Config (it holds the client secret), and the module's
//     interfaces whose implementations hold secrets (client.AuthMethod,
//     login.Store).
//  3. A field holds a secret TRANSITIVELY when its type, stripped the same
//     way, is a struct type of the module that holds a secret (rules 1–3,
//     to a fixed point; unexported types count as links in the chain).
//
// Fields in secretExempt are not counted, each for the reason given.
// Scanned: every package of the core module and store/redisstore, except
// the programs and test-only trees listed in scanSkip. Only exported types
// must be covered: an unexported type reaches users only inside an exported
// one, which is then flagged by rule 3.
//
// Not flagged on purpose: *http.Client (it may hold a TLS client key in its
// transport, but fmt prints a nested pointer as an address and encoding/json
// refuses its func fields) and the verifiers of ID tokens (go-oidc's
// IDTokenVerifier, internal/jwtverify's Verifier), which hold only public
// keys.
var (
	secretWords = []string{"secret", "secrets", "password", "passphrase", "key", "keys", "token", "tokens",
		"verifier", "nonce", "code", "assertion", "state", "credential", "credentials"}

	secretTypeNames = []string{
		"crypto.Signer", "crypto.PrivateKey", "crypto.Decrypter",
		"crypto/ecdsa.PrivateKey", "crypto/rsa.PrivateKey", "crypto/ed25519.PrivateKey", "crypto/ecdh.PrivateKey",
		"crypto/cipher.AEAD", "crypto/cipher.Block",
		"github.com/go-jose/go-jose/v4.Signer", "github.com/go-jose/go-jose/v4.JSONWebKey",
		"golang.org/x/oauth2.Token", "golang.org/x/oauth2.TokenSource", "golang.org/x/oauth2.Config",
		"client.AuthMethod", "login.Store",
	}

	secretExempt = map[string]string{
		"client.ResponseError.Code":      "the provider's OAuth error code (RFC 6749 §5.2), not a secret",
		"client.AuthorizationError.Code": "the provider's OAuth error code (RFC 6749 §4.1.2.1), not a secret",
		"client.AuthorizationError.State": "the state the provider sent back through the browser, already " +
			"compared with the flow's (which is used up by then): no longer a live secret",
		"jar.Encryption.Key": "the provider's public encryption key (RFC 9101 §6.1)",
		"jwks.KeySet.keys":   "the provider's public signing keys (parseJWKS keeps public keys only)",
	}

	// scanSkip are the trees that are not library code: programs, test-only
	// packages, and partest, the test authorization server, whose secrets
	// are test fixtures it must know to check clients (its doc: never for
	// production).
	scanSkip = []string{"cmd", "examples", "bench", "hostile", "interop", "partest", "testdata", "node_modules", "scripts", "docs"}
)

const modulePath = "github.com/go-par/par"

// scannedStruct is one struct type of the module.
type scannedStruct struct {
	name   string // pkg.Type
	fields []scannedField
}

type scannedField struct {
	name string
	typ  string // qualified, stripped: "crypto.Signer", "client.Flow", "string"
	text bool   // string, []byte, [][]byte, []string, or a pointer to one
}

// scanModule parses the non-test Go files under root (the module root)
// and returns its struct types by pkg.Type.
func scanModule(t *testing.T, root string) map[string]*scannedStruct {
	t.Helper()
	types := map[string]*scannedStruct{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (slices.Contains(scanSkip, filepath.Base(path)) || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		pkg := f.Name.Name
		imports := map[string]string{} // local name → import path
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := filepath.Base(p)
			if strings.HasPrefix(name, "v") && len(name) <= 3 { // .../v4
				name = filepath.Base(filepath.Dir(p))
				name = strings.TrimPrefix(name, "go-")
			}
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				s := &scannedStruct{name: pkg + "." + ts.Name.Name}
				for _, fl := range st.Fields.List {
					typ, text := qualify(fl.Type, pkg, imports)
					names := fl.Names
					if len(names) == 0 { // embedded: named after its type
						names = []*ast.Ident{{Name: typ[strings.LastIndex(typ, ".")+1:]}}
					}
					for _, n := range names {
						s.fields = append(s.fields, scannedField{name: n.Name, typ: typ, text: text})
					}
				}
				types[s.name] = s
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return types
}

// qualify names a field type after stripping pointers, slices, arrays and
// map values: "string", "crypto.Signer", "client.Flow" (module packages by
// their name, others by import path). text reports whether the type can
// hold a secret's text.
func qualify(e ast.Expr, pkg string, imports map[string]string) (typ string, text bool) {
	depth := 0
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
			continue
		case *ast.ArrayType:
			e = x.Elt
			depth++
			continue
		case *ast.MapType:
			e = x.Value
			depth += 10 // map[string]string is not text
			continue
		case *ast.Ident:
			switch x.Name {
			case "string":
				return "string", depth <= 1
			case "byte":
				return "byte", depth >= 1 && depth <= 2
			case "bool", "int", "int64", "uint", "uint64", "int32", "float64", "error", "any", "rune":
				return x.Name, false
			}
			return pkg + "." + x.Name, false
		case *ast.SelectorExpr:
			id, ok := x.X.(*ast.Ident)
			if !ok {
				return "?", false
			}
			p := imports[id.Name]
			if p == modulePath || strings.HasPrefix(p, modulePath+"/") {
				return filepath.Base(p) + "." + x.Sel.Name, false
			}
			return p + "." + x.Sel.Name, false
		}
		return "?", false
	}
}

// lastWord is the last CamelCase word of a field name, lower case:
// CodeVerifier → verifier, RawIDToken → token, KeyID → id. A word starts
// at an upper-case letter after a lower-case one or a digit, or at the last
// upper-case letter of a run that a lower-case letter follows (IDToken →
// ID, Token).
func lastWord(name string) string {
	r := []rune(name)
	start := 0
	for i := 1; i < len(r); i++ {
		if !unicode.IsUpper(r[i]) {
			continue
		}
		if !unicode.IsUpper(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1])) {
			start = i
		}
	}
	return strings.ToLower(string(r[start:]))
}

// secretFields applies the rule to a fixed point and returns, for each
// struct type that holds a secret, why (one reason per field).
func secretFields(types map[string]*scannedStruct) map[string][]string {
	holds := map[string][]string{}
	for changed := true; changed; {
		changed = false
		for name, s := range types {
			var why []string
			for _, f := range s.fields {
				if _, ok := secretExempt[name+"."+f.name]; ok {
					continue
				}
				switch {
				case f.text && slices.Contains(secretWords, lastWord(f.name)):
					why = append(why, f.name+" (name)")
				case slices.Contains(secretTypeNames, f.typ):
					why = append(why, f.name+" ("+f.typ+")")
				case len(holds[f.typ]) > 0 && f.typ != name:
					why = append(why, f.name+" (holds "+f.typ+")")
				}
			}
			if len(why) > 0 && len(holds[name]) != len(why) {
				holds[name] = why
				changed = true
			}
		}
	}
	return holds
}

// redisstoreCovered returns the type names that store/redisstore's own
// hygiene test covers: the "redisstore.X" string literals of its
// secrets_test.go (that module's tests cannot be imported from here).
func redisstoreCovered(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "store", "redisstore", "secrets_test.go"))
	if err != nil {
		t.Fatalf("store/redisstore has no secret hygiene test: %v", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`"(redisstore\.[A-Z]\w*)"`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// TestSecretTypesCovered fails when an exported type of the module holds a
// secret (by the rule above) but is in no secret-hygiene table: a new type
// with a secret must be added to secretTypes (or, in store/redisstore, to
// its secrets_test.go), where all four verbs and slog are checked.
func TestSecretTypesCovered(t *testing.T) {
	t.Parallel()
	root := ".."
	types := scanModule(t, root)
	if len(types) < 50 {
		t.Fatalf("scanned %d struct types: the scan missed the module", len(types))
	}
	holds := secretFields(types)

	covered := map[string]bool{}
	for _, st := range secretTypes(t, newMarkers()) {
		covered[st.name] = true
	}
	for _, n := range redisstoreCovered(t, root) {
		covered[n] = true
	}
	var flagged []string
	for name := range holds {
		if token.IsExported(name[strings.Index(name, ".")+1:]) {
			flagged = append(flagged, name)
		}
	}
	sort.Strings(flagged)
	for _, name := range flagged {
		if !covered[name] {
			t.Errorf("%s holds a secret (%s) but no secret-hygiene test covers it: add it to secretTypes in hostile/secrettypes_test.go "+
				"with values made of markers (or exempt the field in secretExempt, with the reason)", name, strings.Join(holds[name], ", "))
		}
	}
	for name := range covered {
		if types[name] == nil {
			t.Errorf("the hygiene tables name %s, which the scan does not find: renamed or removed?", name)
		}
	}
	for f := range secretExempt {
		typ := f[:strings.LastIndex(f, ".")]
		if s := types[typ]; s == nil || !slices.ContainsFunc(s.fields, func(x scannedField) bool { return typ+"."+x.name == f }) {
			t.Errorf("secretExempt names %s, which the scan does not find", f)
		}
	}
	// The rule must find what it was written for; a broken scan finds
	// nothing and would pass.
	for _, want := range []string{"client.Flow", "client.Tokens", "client.Config", "client.Client", "jar.Config",
		"login.CookieConfig", "login.MemoryStore", "redisstore.Options", "mitid.Params"} {
		if len(holds[want]) == 0 {
			t.Errorf("the scan does not flag %s", want)
		}
	}
	for _, not := range []string{"discovery.Metadata", "client.UserInfo", "mitid.Authentication", "jar.Encryption", "mitid.Claims"} {
		if len(holds[not]) > 0 {
			t.Errorf("the scan flags %s (%s), which holds no secret", not, strings.Join(holds[not], ", "))
		}
	}
	t.Logf("secret-holding exported types: %s", strings.Join(flagged, ", "))
}

func TestLastWord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"CodeVerifier": "verifier", "RawIDToken": "token", "KeyID": "id", "TokenURL": "url", "secret": "secret",
		"Secret": "secret", "codeVerifier": "verifier", "TransferTokenExchangeCode": "code", "Token68": "token68",
		"InsecureClearText": "text", "Keys": "keys", "DPoPJKT": "pjkt", "ID": "id", "aeads": "aeads", "PrivateKey": "key",
		"IDToken": "token", "AuthReqID": "id",
	} {
		if got := lastWord(in); got != want {
			t.Errorf("lastWord(%q) = %q, want %q", in, got, want)
		}
	}
}
