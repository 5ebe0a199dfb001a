package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// b64 decodes base64url without padding, canonical only: a segment that
// decodes is then exactly what go-jose re-encodes when it computes the
// signing input, so a signature that verifies here verifies there.
var b64 = base64.RawURLEncoding.Strict()

// verifyCompact verifies a compact JWS (RFC 7515 §7.1) with keys, without
// go-jose's parse, for the shape providers sign: a protected header of
// "alg", "kid", "typ" and "cty" strings only. It reports ok only when the
// signature verifies, under an algorithm of algs, with a key that
// verifyWith would try (same kid, a matching "alg" if the key has one);
// then go-jose's path accepts the token too, with the same payload. For
// anything else (another shape, crit or an embedded key, non-canonical
// base64, no such key, a bad signature) ok is false, and the caller takes
// go-jose's path, which gives the answer and its error as before.
func verifyCompact(jwt string, keys []jose.JSONWebKey, algs []jose.SignatureAlgorithm) (payload []byte, ok bool) {
	hdr, rest, ok1 := strings.Cut(jwt, ".")
	body, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 || len(keys) == 0 {
		return nil, false
	}
	rawHeader, err := b64.DecodeString(hdr)
	if err != nil {
		return nil, false
	}
	var h map[string]json.RawMessage
	if json.Unmarshal(rawHeader, &h) != nil {
		return nil, false
	}
	var alg, kid string
	for name, v := range h {
		s, isString := jsonString(v)
		if !isString {
			return nil, false
		}
		switch name {
		case "alg":
			alg = s
		case "kid":
			kid = s
		case "typ", "cty":
		default:
			return nil, false
		}
	}
	known := false
	for _, a := range algs {
		known = known || string(a) == alg
	}
	if !known {
		return nil, false
	}
	if payload, err = b64.DecodeString(body); err != nil {
		return nil, false
	}
	signature, err := b64.DecodeString(sig)
	if err != nil {
		return nil, false
	}
	input := []byte(jwt[:len(hdr)+1+len(body)])
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid || k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if verifySignature(k.Key, alg, input, signature) {
			return payload, true
		}
	}
	return nil, false
}

// jsonString returns the value of a JSON string without escapes; escaped
// strings and other values report false (go-jose's path reads those).
func jsonString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || strings.IndexByte(string(v), '\\') >= 0 {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}

// verifySignature checks sig over input as go-jose does for alg (RFC 7518
// §3.3–3.5, RFC 8037 §3.1): PKCS #1 v1.5 or PSS (salt length auto) for
// RSA, r‖s of the curve's size for ECDSA on the matching curve, Ed25519.
func verifySignature(key any, alg string, input, sig []byte) bool {
	var h crypto.Hash
	var curve elliptic.Curve
	size := 0 // of r and of s, for ECDSA
	switch jose.SignatureAlgorithm(alg) {
	case jose.EdDSA:
		pub, ok := key.(ed25519.PublicKey)
		return ok && ed25519.Verify(pub, input, sig)
	case jose.RS256, jose.PS256:
		h = crypto.SHA256
	case jose.RS384, jose.PS384:
		h = crypto.SHA384
	case jose.RS512, jose.PS512:
		h = crypto.SHA512
	case jose.ES256:
		h, curve, size = crypto.SHA256, elliptic.P256(), 32
	case jose.ES384:
		h, curve, size = crypto.SHA384, elliptic.P384(), 48
	case jose.ES512:
		h, curve, size = crypto.SHA512, elliptic.P521(), 66
	default:
		return false
	}
	hasher := h.New()
	hasher.Write(input)
	digest := hasher.Sum(nil)
	if curve != nil {
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != curve || len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return false
	}
	if alg[0] == 'R' {
		return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
	}
	return rsa.VerifyPSS(pub, h, digest, sig, nil) == nil
}
