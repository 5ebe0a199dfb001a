// Package seal is the SDK's one authenticated encryption of stored flows:
// the login package's cookie store and the Redis store (its own module,
// which may import this package because its path lies inside this
// module's tree, as gopls does with golang.org/x/tools/internal).
//
// A sealed value is version (1 byte) | nonce (12 random bytes) | AES-256-GCM
// ciphertext and tag (NIST SP 800-38D). The additional data binds a value
// to its place (a flow's state, a Redis key's id), so it does not open
// anywhere else. Several keys may be given: Seal uses the first, Open tries
// each, so keys can be rotated.
//
//	s, err := seal.New(key)               // 32-byte keys
//	v := s.Seal(nil, plain, []byte(id))   // version | nonce | ciphertext
//	plain, err := s.Open(v, []byte(id))
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// version starts every sealed value.
const version = 0x01

const (
	nonceSize = 12
	tagSize   = 16
)

// Overhead is how many bytes Seal adds to a value.
const Overhead = 1 + nonceSize + tagSize

// ErrOpen is returned by Open for a value that is not sealed, too short,
// tampered with, or sealed with another key or additional data.
var ErrOpen = errors.New("sealed value does not open")

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	aeads []cipher.AEAD
}

// New returns a Sealer for keys (at least one, each KeySize bytes); the
// first seals.
func New(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	s := &Sealer{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes, want %d (AES-256)", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k) // copies the key
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Keys returns how many keys the Sealer holds (for a store's redacted
// String).
func (s *Sealer) Keys() int { return len(s.aeads) }

// String describes the Sealer by its number of keys, never the keys.
func (s *Sealer) String() string {
	if s == nil {
		return "seal.Sealer(<nil>)"
	}
	return fmt.Sprintf("seal.Sealer(%d keys redacted)", len(s.aeads))
}

// GoString (the %#v verb) is String.
func (s *Sealer) GoString() string { return s.String() }

// LogValue logs the Sealer without its keys.
func (s *Sealer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Seal appends the sealed plain, bound to ad, to dst and returns it.
func (s *Sealer) Seal(dst, plain, ad []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, 1+nonceSize, Overhead+len(plain))...)
	dst[n] = version
	rand.Read(dst[n+1 : n+1+nonceSize]) // never fails (Go ≥ 1.24)
	return s.aeads[0].Seal(dst, dst[n+1:n+1+nonceSize], plain, ad)
}

// IsSealed reports whether value starts like a sealed value.
func IsSealed(value []byte) bool { return len(value) > 0 && value[0] == version }

// Open returns the plain value of a value sealed with one of the keys and
// ad, or ErrOpen.
func (s *Sealer) Open(value, ad []byte) ([]byte, error) {
	if len(value) < Overhead || value[0] != version {
		return nil, ErrOpen
	}
	nonce, sealed := value[1:1+nonceSize], value[1+nonceSize:]
	for _, a := range s.aeads {
		if plain, err := a.Open(nil, nonce, sealed, ad); err == nil {
			return plain, nil
		}
	}
	return nil, ErrOpen
}
