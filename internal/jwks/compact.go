package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strings"
	"unicode/utf8"

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
	alg, kid, ok := parseHeader(rawHeader)
	if !ok {
		return nil, false
	}
	known := false
	for _, a := range algs {
		known = known || string(a) == string(alg)
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
		if len(kid) > 0 && k.KeyID != string(kid) || k.Algorithm != "" && k.Algorithm != string(alg) {
			continue
		}
		if verifySignature(k.Key, string(alg), input, signature) {
			return payload, true
		}
	}
	return nil, false
}

// parseHeader reads a protected header of the shape verifyCompact takes:
// a JSON object whose members are "alg" (required), "kid", "typ" and
// "cty", each at most once, each a string without escapes or control
// characters, in valid UTF-8. On that subset of JSON, encoding/json and
// go-jose read the same alg and kid; anything else is not ok. alg and kid
// point into h; an empty kid is treated as none, as go-jose's path does.
func parseHeader(h []byte) (alg, kid []byte, ok bool) {
	if !utf8.Valid(h) {
		return nil, nil, false
	}
	i := 0
	ws := func() {
		for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == '\n' || h[i] == '\r') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(h) || h[i] != '"' {
			return nil, false
		}
		start := i + 1
		for i++; i < len(h); i++ {
			switch c := h[i]; {
			case c == '"':
				i++
				return h[start : i-1], true
			case c == '\\' || c < 0x20:
				return nil, false
			}
		}
		return nil, false
	}
	var seen [4]bool
	ws()
	if i >= len(h) || h[i] != '{' {
		return nil, nil, false
	}
	i++
	ws()
	for first := true; ; first = false {
		if i < len(h) && h[i] == '}' && first {
			break
		}
		name, ok := str()
		if !ok {
			return nil, nil, false
		}
		ws()
		if i >= len(h) || h[i] != ':' {
			return nil, nil, false
		}
		i++
		ws()
		value, ok := str()
		if !ok {
			return nil, nil, false
		}
		var n int
		switch string(name) {
		case "alg":
			n, alg = 0, value
		case "kid":
			n, kid = 1, value
		case "typ":
			n = 2
		case "cty":
			n = 3
		default:
			return nil, nil, false
		}
		if seen[n] {
			return nil, nil, false
		}
		seen[n] = true
		ws()
		if i < len(h) && h[i] == ',' {
			i++
			ws()
			continue
		}
		if i < len(h) && h[i] == '}' {
			break
		}
		return nil, nil, false
	}
	i++
	ws()
	if i != len(h) || !seen[0] {
		return nil, nil, false
	}
	return alg, kid, true
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
