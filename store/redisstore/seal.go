package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// sealedVersion starts every sealed value. Clear values are JSON objects
// and start with '{'.
const sealedVersion = 0x01

// sealer seals flows with AES-256-GCM (NIST SP 800-38D): version byte,
// 12-byte random nonce, ciphertext and tag. The additional data is the
// key's id, so a value moved to another key does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("redisstore: Options.Key is %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key) // copies the key
	if err != nil {
		return nil, fmt.Errorf("redisstore: Options.Key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Options.Key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain []byte, id string) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealedVersion
	rand.Read(out[1:]) // never fails (Go ≥ 1.24)
	return s.aead.Seal(out, out[1:], plain, []byte(id))
}

func (s *sealer) open(value []byte, id string) ([]byte, error) {
	if !isSealed(value) {
		return nil, errors.New("stored flow is not encrypted; a store with Options.Key refuses clear values")
	}
	ns := s.aead.NonceSize()
	if len(value) < 1+ns+s.aead.Overhead() {
		return nil, errors.New("stored flow is too short to be sealed")
	}
	plain, err := s.aead.Open(nil, value[1:1+ns], value[1+ns:], []byte(id))
	if err != nil {
		return nil, errors.New("stored flow does not open with Options.Key (another key, or tampered)")
	}
	return plain, nil
}

func isSealed(value []byte) bool { return len(value) > 0 && value[0] == sealedVersion }
