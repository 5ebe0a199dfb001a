package dpop_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// proofClaims are the claims a proof may carry (RFC 9449 §4.2).
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
	ATH   string `json:"ath,omitempty"`
}

// checkedProof is a proof that passed verifyProof.
type checkedProof struct {
	Alg    string
	JKT    string
	Claims proofClaims
	Keys   []string // claim names present
}

var proofAlgs = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512,
	jose.RS256, jose.RS384, jose.RS512, jose.EdDSA,
}

// verifyProof is a minimal DPoP proof verifier (RFC 9449 §4.3 steps 1-9,
// without the replay and time-window checks the callers do themselves): one
// compact JWS, typ dpop+jwt, an asymmetric alg, a public jwk without private
// members, a valid signature by that jwk, and the required claims, no
// unknown ones.
func verifyProof(proof string) (checkedProof, error) {
	var out checkedProof
	if strings.Count(proof, ".") != 2 {
		return out, errors.New("not a compact jws")
	}
	jws, err := jose.ParseSignedCompact(proof, proofAlgs)
	if err != nil {
		return out, fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return out, errors.New("want one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return out, fmt.Errorf("typ = %q, want dpop+jwt", typ)
	}
	if h.KeyID != "" {
		return out, errors.New("unexpected kid header")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() || !h.JSONWebKey.IsPublic() {
		return out, errors.New("jwk header missing or not a public key")
	}
	// No private members in the raw header either.
	rawHeader, err := base64.RawURLEncoding.DecodeString(proof[:strings.IndexByte(proof, '.')])
	if err != nil {
		return out, err
	}
	var hdr struct {
		JWK map[string]any `json:"jwk"`
	}
	if err := json.Unmarshal(rawHeader, &hdr); err != nil {
		return out, err
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := hdr.JWK[m]; ok {
			return out, fmt.Errorf("jwk has private member %q", m)
		}
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return out, fmt.Errorf("signature: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out.Claims); err != nil {
		return out, fmt.Errorf("claims: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(payload, &keys); err != nil {
		return out, err
	}
	for k := range keys {
		out.Keys = append(out.Keys, k)
	}
	c := out.Claims
	if c.JTI == "" || c.HTM == "" || c.HTU == "" || c.IAT == 0 {
		return out, errors.New("missing required claim")
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return out, err
	}
	out.Alg = h.Algorithm
	out.JKT = base64.RawURLEncoding.EncodeToString(tp)
	return out, nil
}

// Test keys, generated once per test binary (RSA is slow under -race).
var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	edKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// opaqueSigner hides the key type, as an HSM or KMS signer does.
type opaqueSigner struct{ crypto.Signer }
