package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/go-par/par/internal/seal"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old, err := seal.New(k2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(k1, k2) // k1 seals; k2 still opens
	if err != nil {
		t.Fatal(err)
	}
	v := s.Seal([]byte("prefix"), []byte("flow"), []byte("state-1"))
	if !bytes.HasPrefix(v, []byte("prefix")) || len(v) != len("prefix")+len("flow")+seal.Overhead || !seal.IsSealed(v[6:]) {
		t.Fatalf("Seal = %x", v)
	}
	if p, err := s.Open(v[6:], []byte("state-1")); err != nil || string(p) != "flow" {
		t.Errorf("Open = %q, %v", p, err)
	}
	if p, err := s.Open(old.Seal(nil, []byte("rotated"), nil), nil); err != nil || string(p) != "rotated" {
		t.Errorf("Open with the second key = %q, %v", p, err)
	}
	if a, b := s.Seal(nil, []byte("x"), nil), s.Seal(nil, []byte("x"), nil); bytes.Equal(a, b) {
		t.Error("two seals of one value are equal: the nonce repeats")
	}
	bad := [][]byte{nil, []byte("{}"), v[6:12], append([]byte{2}, v[7:]...)}
	tampered := bytes.Clone(v[6:])
	tampered[len(tampered)-1] ^= 1
	bad = append(bad, tampered)
	for _, b := range bad {
		if _, err := s.Open(b, []byte("state-1")); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Open(%x) = %v, want ErrOpen", b, err)
		}
	}
	if _, err := s.Open(v[6:], []byte("state-2")); !errors.Is(err, seal.ErrOpen) {
		t.Error("a value opened with other additional data")
	}
	if _, err := old.Open(s.Seal(nil, []byte("x"), nil), nil); !errors.Is(err, seal.ErrOpen) {
		t.Error("a value opened with a key that did not seal it")
	}
	for _, keys := range [][][]byte{nil, {make([]byte, 16)}, {k1, make([]byte, 31)}} {
		if _, err := seal.New(keys...); err == nil {
			t.Errorf("New(%d keys) accepted bad keys", len(keys))
		}
	}
}

// TestSealerKeys: Keys counts the keys, and a formatted Sealer shows that
// count only.
func TestSealerKeys(t *testing.T) {
	t.Parallel()
	s, err := seal.New(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if s.Keys() != 2 {
		t.Errorf("Keys = %d, want 2", s.Keys())
	}
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		if got := fmt.Sprintf(verb, s); got != "seal.Sealer(2 keys redacted)" {
			t.Errorf("%s: %q", verb, got)
		}
	}
}
