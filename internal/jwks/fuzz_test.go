package jwks

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds every file of the shared seed corpus directory
// testdata/fuzz/<name> at the repository root (plain files, one input each).
func addSeeds(f *testing.F, name string) {
	f.Helper()
	dir := filepath.Join("..", "..", "testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) == ".md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseJWKS checks that parseJWKS (RFC 7517 §5) never panics, fails only
// with ErrInvalid, and returns only valid public signing keys.
func FuzzParseJWKS(f *testing.F) {
	addSeeds(f, "FuzzParseJWKS")
	for _, name := range []string{"broker-jwks.json", "broker-jwks-documented.json"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			if keys != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseJWKS() = %v, %v", keys, err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("parseJWKS() = no keys and no error")
		}
		for _, k := range keys {
			if !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
				t.Fatalf("parseJWKS() kept key %+v", k)
			}
		}
	})
}
