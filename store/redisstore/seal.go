package redisstore

import (
	"errors"
	"fmt"

	"github.com/go-par/par/internal/seal"
)

// sealedVersion starts every sealed value (internal/seal's version byte).
// Clear values are JSON objects and start with '{'.
const sealedVersion = 0x01

// sealer seals flows with the core module's one sealer (package
// internal/seal: version byte 0x01, 12-byte random nonce, AES-256-GCM
// ciphertext and tag, NIST SP 800-38D), as the cookie store does. The
// additional data is the key's id, so a value moved to another key does
// not open.
type sealer struct{ s *seal.Sealer }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("redisstore: Options.Key is %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	s, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Options.Key: %w", err)
	}
	return &sealer{s: s}, nil
}

func (s *sealer) seal(plain []byte, id string) []byte { return s.s.Seal(nil, plain, []byte(id)) }

func (s *sealer) open(value []byte, id string) ([]byte, error) {
	if !isSealed(value) {
		return nil, errors.New("stored flow is not encrypted; a store with Options.Key refuses clear values")
	}
	if len(value) < seal.Overhead {
		return nil, errors.New("stored flow is too short to be sealed")
	}
	plain, err := s.s.Open(value, []byte(id))
	if err != nil {
		return nil, errors.New("stored flow does not open with Options.Key (another key, or tampered)")
	}
	return plain, nil
}

func isSealed(value []byte) bool { return seal.IsSealed(value) }
