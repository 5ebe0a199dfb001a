package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

type compactKeys struct {
	rsa              *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
	set              []jose.JSONWebKey // public keys: rs, ps (alg-bound), es256, es384, es512, ed, and a second RSA key
	otherRSA         *rsa.PrivateKey
}

var testCompactKeys = sync.OnceValue(func() compactKeys {
	var k compactKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	gen := func(c elliptic.Curve) *ecdsa.PrivateKey {
		p, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return p
	}
	k.p256, k.p384, k.p521 = gen(elliptic.P256()), gen(elliptic.P384()), gen(elliptic.P521())
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	k.set = []jose.JSONWebKey{
		{Key: &k.rsa.PublicKey, KeyID: "rs", Use: "sig"},
		{Key: &k.rsa.PublicKey, KeyID: "ps", Algorithm: "PS256", Use: "sig"},
		{Key: &k.p256.PublicKey, KeyID: "es256", Use: "sig"},
		{Key: &k.p384.PublicKey, KeyID: "es384", Algorithm: "ES384"},
		{Key: &k.p521.PublicKey, KeyID: "es512"},
		{Key: k.ed.Public(), KeyID: "ed"},
		{Key: &k.otherRSA.PublicKey, KeyID: "other"},
	}
	return k
})

// sign makes a compact JWS of payload with key under alg and the header
// members given.
func sign(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, kid string, extra map[jose.HeaderKey]any, payload string) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: extra}
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// viaJose is the go-jose path of VerifySignature, without refetching.
func viaJose(jwt string, keys []jose.JSONWebKey) (payload []byte, found bool, err error) {
	jws, err := jose.ParseSignedCompact(jwt, signatureAlgorithms)
	if err != nil {
		return nil, false, err
	}
	return verifyWith(jws, keys, jws.Signatures[0].Header.KeyID)
}

// checkAgrees: whatever verifyCompact accepts, go-jose's path accepts
// with the same payload.
func checkAgrees(t *testing.T, jwt string, keys []jose.JSONWebKey) (fast bool) {
	t.Helper()
	p, ok := verifyCompact(jwt, keys, signatureAlgorithms)
	if !ok {
		return false
	}
	jp, found, err := viaJose(jwt, keys)
	if !found || err != nil || !bytes.Equal(p, jp) {
		t.Errorf("verifyCompact accepted %.60q… with payload %q; go-jose: found=%t, %v, %q", jwt, p, found, err, jp)
	}
	return true
}

// TestVerifyCompactAccepts: tokens of the usual shape take the fast path
// for every algorithm, with go-jose's payload.
func TestVerifyCompactAccepts(t *testing.T) {
	t.Parallel()
	k := testCompactKeys()
	const payload = `{"iss":"https://op.example","sub":"alice","aud":"app","exp":2000000000}`
	typ := map[jose.HeaderKey]any{"typ": "JWT"}
	for _, tc := range []struct {
		name string
		jwt  string
	}{
		{"RS256", sign(t, k.rsa, jose.RS256, "rs", typ, payload)},
		{"RS384", sign(t, k.rsa, jose.RS384, "rs", nil, payload)},
		{"RS512", sign(t, k.rsa, jose.RS512, "rs", nil, payload)},
		{"PS256 on an alg-bound key", sign(t, k.rsa, jose.PS256, "ps", nil, payload)},
		{"PS384", sign(t, k.rsa, jose.PS384, "rs", nil, payload)},
		{"ES256", sign(t, k.p256, jose.ES256, "es256", map[jose.HeaderKey]any{"typ": "at+jwt", "cty": "JWT"}, payload)},
		{"ES384", sign(t, k.p384, jose.ES384, "es384", nil, payload)},
		{"ES512", sign(t, k.p521, jose.ES512, "es512", nil, payload)},
		{"EdDSA", sign(t, k.ed, jose.EdDSA, "ed", nil, payload)},
		{"no kid: every key of the set is tried", sign(t, k.otherRSA, jose.RS256, "", nil, payload)},
	} {
		if !checkAgrees(t, tc.jwt, k.set) {
			t.Errorf("%s: not verified by verifyCompact", tc.name)
		}
	}
}

// TestVerifyCompactFallsBack: every other shape, and every failure, is
// left to go-jose's path; where go-jose accepts it, VerifySignature still
// does.
func TestVerifyCompactFallsBack(t *testing.T) {
	t.Parallel()
	k := testCompactKeys()
	const payload = `{"sub":"alice"}`
	good := sign(t, k.rsa, jose.RS256, "rs", nil, payload)
	seg := strings.Split(good, ".")
	hdr := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	rsSig := func(h string) string {
		// A valid RS256 signature over h.payload, so only the header's shape differs.
		in := h + "." + seg[1]
		d := crypto.SHA256.New()
		d.Write([]byte(in))
		s, err := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, d.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(s)
	}
	nonCanonical := func(s string) string {
		// The last character's unused low bits set: the same bytes to a
		// lenient decoder, refused by a strict one.
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[last|1])
	}
	if len(seg[0])%4 == 0 {
		t.Fatal("the header segment has no unused bits to set")
	}
	for _, tc := range []struct {
		name       string
		jwt        string
		joseAccept bool // go-jose's path verifies it (VerifySignature must too)
	}{
		{"crit", sign(t, k.rsa, jose.RS256, "rs", map[jose.HeaderKey]any{"crit": []string{"b64"}, "b64": true}, payload), true},
		{"embedded jwk", sign(t, k.p256, jose.ES256, "es256", map[jose.HeaderKey]any{"jwk": map[string]string{"kty": "oct", "k": "AA"}}, payload), false},
		{"nonce member", sign(t, k.rsa, jose.RS256, "rs", map[jose.HeaderKey]any{"nonce": "n"}, payload), true},
		{"kid not a string", rsSig(hdr(`{"alg":"RS256","kid":1}`)), false},
		{"escaped kid", rsSig(hdr(`{"alg":"RS256","kid":"r\u0073"}`)), true},
		{"upper-case ALG member", rsSig(hdr(`{"alg":"RS256","ALG":"none","kid":"rs"}`)), true},
		{"header not an object", rsSig(hdr(`["alg","RS256"]`)), false},
		{"non-canonical header base64", nonCanonical(seg[0]) + "." + seg[1] + "." + seg[2], true},
		{"padded signature", good + "==", false},
		{"four segments", good + ".x", false},
		{"two segments", seg[0] + "." + seg[1], false},
		{"HS256", func() string {
			s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
			jws, _ := s.Sign([]byte(payload))
			j, _ := jws.CompactSerialize()
			return j
		}(), false},
		{"alg none", hdr(`{"alg":"none"}`) + "." + seg[1] + ".", false},
		{"unknown kid", sign(t, k.rsa, jose.RS256, "nope", nil, payload), false},
		{"another key's signature", sign(t, k.otherRSA, jose.RS256, "rs", nil, payload), false},
		{"RS256 under a PS256-bound key", sign(t, k.rsa, jose.RS256, "ps", nil, payload), false},
		{"ES256 header on an RSA key", rsSig(hdr(`{"alg":"ES256","kid":"rs"}`)), false},
		{"ES384 signature on the P-256 key", sign(t, k.p384, jose.ES384, "es256", nil, payload), false},
		{"truncated ES256 signature", func() string {
			j := sign(t, k.p256, jose.ES256, "es256", nil, payload)
			return j[:len(j)-4]
		}(), false},
		{"tampered payload", seg[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`)) + "." + seg[2], false},
	} {
		if _, ok := verifyCompact(tc.jwt, k.set, signatureAlgorithms); ok {
			t.Errorf("%s: verifyCompact accepted it", tc.name)
		}
		_, found, err := viaJose(tc.jwt, k.set)
		if got := found && err == nil; got != tc.joseAccept {
			t.Errorf("%s: go-jose's path: found=%t err=%v, want accepted=%t", tc.name, found, err, tc.joseAccept)
		}
		ks := &KeySet{url: "https://op.example/jwks", keys: k.set, fetchedAt: time.Now(), lastRefetch: time.Now(), now: time.Now}
		p, err := ks.VerifySignature(context.Background(), tc.jwt)
		if (err == nil) != tc.joseAccept || err == nil && string(p) != payload && tc.name != "tampered payload" {
			t.Errorf("%s: VerifySignature = %q, %v; want accepted=%t", tc.name, p, err, tc.joseAccept)
		}
	}
}

// TestVerifySignatureAllocs pins the saving on an RS256 ID token.
func TestVerifySignatureAllocs(t *testing.T) {
	k := testCompactKeys()
	jwt := sign(t, k.rsa, jose.RS256, "rs", map[jose.HeaderKey]any{"typ": "JWT"},
		`{"iss":"https://op.example","sub":"alice","aud":"app","exp":2000000000,"iat":1,"nonce":"n","at_hash":"x"}`)
	ks := &KeySet{url: "https://op.example/jwks", keys: testCompactKeys().set, fetchedAt: time.Now(), now: time.Now}
	fast := testing.AllocsPerRun(50, func() { ks.VerifySignature(context.Background(), jwt) })
	slow := testing.AllocsPerRun(50, func() { viaJose(jwt, k.set) })
	if fast > slow/2 {
		t.Errorf("VerifySignature: %v allocations (go-jose's path: %v), want under half", fast, slow)
	}
	t.Logf("VerifySignature %v allocations, go-jose's path %v", fast, slow)
}

func FuzzVerifyCompact(f *testing.F) {
	k := testCompactKeys()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		key := map[jose.SignatureAlgorithm]crypto.Signer{jose.RS256: k.rsa, jose.PS256: k.rsa, jose.ES256: k.p256, jose.EdDSA: k.ed}[alg]
		kid := map[jose.SignatureAlgorithm]string{jose.RS256: "rs", jose.PS256: "ps", jose.ES256: "es256", jose.EdDSA: "ed"}[alg]
		f.Add(sign(f, key, alg, kid, map[jose.HeaderKey]any{"typ": "JWT"}, `{"sub":"alice"}`))
	}
	f.Fuzz(func(t *testing.T, jwt string) { checkAgrees(t, jwt, k.set) })
}

// checkHeader: whatever parseHeader accepts, encoding/json reads as an
// object of those string members with the same alg and kid.
func checkHeader(t *testing.T, h []byte) {
	t.Helper()
	alg, kid, ok := parseHeader(h)
	if !ok {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(h, &m); err != nil {
		t.Fatalf("parseHeader accepted %q, which is not a JSON object: %v", h, err)
	}
	if m["alg"] != string(alg) || len(kid) > 0 && m["kid"] != string(kid) {
		t.Errorf("parseHeader(%q) = alg %q kid %q; encoding/json: %v", h, alg, kid, m)
	}
	for k, v := range m {
		if _, isString := v.(string); !isString || k != "alg" && k != "kid" && k != "typ" && k != "cty" {
			t.Errorf("parseHeader accepted %q with member %q = %v", h, k, v)
		}
	}
	if bytes.Count(h, []byte(`"`)) != 4*len(m) {
		t.Errorf("parseHeader accepted %q: duplicate members", h)
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h        string
		alg, kid string
		ok       bool
	}{
		{`{"alg":"RS256","kid":"k1","typ":"JWT"}`, "RS256", "k1", true},
		{" {\n\t\"kid\" : \"a b\" , \"alg\":\"ES256\" , \"cty\":\"JWT\"\r} ", "ES256", "a b", true},
		{`{"alg":"EdDSA"}`, "EdDSA", "", true},
		{`{"alg":"RS256","kid":"ø"}`, "RS256", "ø", true},
		{`{}`, "", "", false},
		{`{"kid":"k"}`, "", "", false},
		{`{"alg":"RS256","alg":"PS256"}`, "", "", false},
		{`{"alg":"RS256","kid":"a\"b"}`, "", "", false},
		{`{"alg":"RS256","kid":"a\u0062"}`, "", "", false},
		{"{\"alg\":\"RS256\",\"kid\":\"a\tb\"}", "", "", false},
		{"{\"alg\":\"RS256\",\"kid\":\"\xff\"}", "", "", false},
		{`{"alg":"RS256","x5t":"t"}`, "", "", false},
		{`{"alg":"RS256","kid":1}`, "", "", false},
		{`{"alg":"RS256",}`, "", "", false},
		{`{"alg":"RS256"}x`, "", "", false},
		{`{"alg":"RS256"`, "", "", false},
		{`{"alg" "RS256"}`, "", "", false},
		{`{"alg":"RS256" "kid":"k"}`, "", "", false},
		{`["alg","RS256"]`, "", "", false},
		{`{"ALG":"RS256"}`, "", "", false},
	} {
		alg, kid, ok := parseHeader([]byte(tc.h))
		if ok != tc.ok || string(alg) != tc.alg || string(kid) != tc.kid {
			t.Errorf("parseHeader(%q) = %q, %q, %t; want %q, %q, %t", tc.h, alg, kid, ok, tc.alg, tc.kid, tc.ok)
		}
		checkHeader(t, []byte(tc.h))
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`))
	f.Add([]byte(` { "cty" : "x" , "alg" : "ES256" } `))
	f.Fuzz(checkHeader)
}
