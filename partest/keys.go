package partest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/joseutil"
)

// idTokenAlgs are the algorithms the server signs with.
var idTokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// rsaPool caches RSA keys for all servers of the test binary: generating a
// 2048-bit key takes tens of milliseconds. Index i is generated once.
var rsaPool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

func pooledRSAKey(i int) (*rsa.PrivateKey, error) {
	rsaPool.mu.Lock()
	defer rsaPool.mu.Unlock()
	for len(rsaPool.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		rsaPool.keys = append(rsaPool.keys, k)
	}
	return rsaPool.keys[i], nil
}

// keyRing holds the server's current signing keys, one per algorithm,
// created on first use. Guarded by Server.mu.
type keyRing struct {
	gen  int
	keys map[jose.SignatureAlgorithm]jose.JSONWebKey
}

func newSigningKey(alg jose.SignatureAlgorithm, gen int, broker bool) (jose.JSONWebKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = pooledRSAKey(2 * gen)
	case jose.PS256:
		priv, err = pooledRSAKey(2*gen + 1)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return jose.JSONWebKey{}, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	k := jose.JSONWebKey{Key: priv, Algorithm: string(alg), Use: "sig"}
	if broker {
		return withCertificate(k, priv, "partest signing key")
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// withCertificate gives k a self-signed certificate (x5c), its SHA-1
// thumbprint (x5t) and, as the MitID broker does, the upper-case hex of
// that thumbprint as kid.
func withCertificate(k jose.JSONWebKey, priv crypto.Signer, name string) (jose.JSONWebKey, error) {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"partest"}},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	sum := sha1.Sum(der)
	k.Certificates = []*x509.Certificate{cert}
	k.CertificateThumbprintSHA1 = sum[:]
	k.KeyID = strings.ToUpper(hex.EncodeToString(sum[:]))
	return k, nil
}

// xmlEncRSAOAEP is the XML-Enc algorithm URI the MitID broker's
// documentation puts in its encryption key's alg member instead of a JWA
// name (Config.BrokerDocumented).
const xmlEncRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep"

var brokerEncKey struct {
	once sync.Once
	key  jose.JSONWebKey // public
	priv *rsa.PrivateKey
	err  error
}

// encryptionJWK returns the broker-style encryption key (public part),
// without alg as in the broker's recorded JWKS.
func encryptionJWK() (jose.JSONWebKey, error) {
	brokerEncKey.once.Do(func() {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			brokerEncKey.err = err
			return
		}
		k, err := withCertificate(jose.JSONWebKey{Key: priv, Use: "enc"}, priv, "partest encryption key")
		brokerEncKey.key, brokerEncKey.priv, brokerEncKey.err = k.Public(), priv, err
	})
	return brokerEncKey.key, brokerEncKey.err
}

// signingKey returns the current private key for alg, creating it.
func (s *Server) signingKey(alg jose.SignatureAlgorithm) (jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys.keys[alg]; ok {
		return k, nil
	}
	k, err := newSigningKey(alg, s.keys.gen, s.Config.BrokerJWKS)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	if s.keys.keys == nil {
		s.keys.keys = map[jose.SignatureAlgorithm]jose.JSONWebKey{}
	}
	s.keys.keys[alg] = k
	return k, nil
}

// Keys returns the server's current private signing keys (one per algorithm
// used so far). Tests may use them to forge tokens the JWKS vouches for.
func (s *Server) Keys() []jose.JSONWebKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]jose.JSONWebKey, 0, len(s.keys.keys))
	for _, alg := range idTokenAlgs {
		if k, ok := s.keys.keys[alg]; ok {
			out = append(out, k)
		}
	}
	return out
}

// PublicJWKS returns the JWKS the server publishes: the public signing
// keys and, with Config.BrokerJWKS, the MitID broker's shape: first the
// transaction-signing key (certificate CN=NEB Transact PP issued by
// [Server.TransactionCA]), then the ID-token signing keys, then the
// encryption key (use enc), every key with a certificate (x5c), its
// base64url SHA-1 thumbprint (x5t) and the upper-case hex of that
// thumbprint as kid, and, as recorded, no alg member on any key unless
// Config.BrokerDocumented asks for the documentation's shape. A
// BrokerLayout server without BrokerJWKS publishes the transaction key
// too, for its transaction tokens.
func (s *Server) PublicJWKS() jose.JSONWebKeySet {
	keys := s.Keys()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys)+2)}
	broker := s.Config.BrokerJWKS || s.Config.BrokerLayout
	if broker {
		if tx, err := transactionKeys(); err == nil {
			set.Keys = append(set.Keys, tx.jwk.Public())
		}
	}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	if s.Config.BrokerJWKS {
		if enc, err := encryptionJWK(); err == nil {
			set.Keys = append(set.Keys, enc)
		}
	}
	if broker {
		if !s.Config.BrokerDocumented {
			for i := range set.Keys {
				set.Keys[i].Algorithm = ""
			}
		}
	}
	return set
}

// RotateKeys replaces every signing key with a new one (new kid) and drops
// the old ones from the JWKS, as a provider rotating its keys mid-flow.
// Tokens signed before no longer verify against the new JWKS.
func (s *Server) RotateKeys() error {
	s.mu.Lock()
	algs := make([]jose.SignatureAlgorithm, 0, len(s.keys.keys))
	for alg := range s.keys.keys {
		algs = append(algs, alg)
	}
	gen := s.keys.gen + 1
	s.mu.Unlock()
	fresh := map[jose.SignatureAlgorithm]jose.JSONWebKey{}
	for _, alg := range algs {
		k, err := newSigningKey(alg, gen, s.Config.BrokerJWKS)
		if err != nil {
			return fmt.Errorf("partest: rotate keys: %w", err)
		}
		fresh[alg] = k
	}
	s.mu.Lock()
	s.keys.gen = gen
	s.keys.keys = fresh
	s.mu.Unlock()
	return nil
}

// SignIDToken signs claims with the server's current key for alg (RS256,
// PS256, ES256, EdDSA; empty means Config.IDTokenAlg), with typ JWT and the
// key's kid. alg "none" gives an unsigned token. The claims are taken as
// they are: tests build valid or forged tokens with it.
func (s *Server) SignIDToken(claims map[string]any, alg jose.SignatureAlgorithm) (string, error) {
	if alg == "" {
		alg = s.Config.IDTokenAlg
	}
	if alg == "none" {
		return unsignedJWT(claims)
	}
	k, err := s.signingKey(alg)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return signJWT(k.Key.(crypto.Signer), alg, k.KeyID, "JWT", claims)
}

// SignWithKey signs claims with key, which is a crypto.Signer, a []byte
// (HMAC secret for HS256/384/512) or a jose.JSONWebKey; kid and typ go into
// the header when set. alg "none" gives an unsigned token.
func (s *Server) SignWithKey(key any, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) (string, error) {
	return signWithKey(key, alg, kid, typ, claims)
}

func signWithKey(key any, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) (string, error) {
	if alg == "none" {
		return unsignedJWT(claims)
	}
	if jwk, ok := key.(jose.JSONWebKey); ok {
		if kid == "" {
			kid = jwk.KeyID
		}
		key = jwk.Key
	}
	switch k := key.(type) {
	case []byte:
		return hmacJWT(k, alg, kid, typ, claims)
	case crypto.Signer:
		return signJWT(k, alg, kid, typ, claims)
	}
	return "", fmt.Errorf("partest: unsupported key type %T", key)
}

func signJWT(key crypto.Signer, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) (string, error) {
	signer, err := joseutil.NewSigner(key, alg, kid, typ, nil)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return serialize(signer, claims)
}

func serialize(signer jose.Signer, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	return obj.CompactSerialize()
}

func unsignedJWT(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".", nil
}

// verifyOwnJWT verifies a JWT the server signed with one of its current
// keys and returns its claims. Time claims are not checked.
func (s *Server) verifyOwnJWT(raw string) (map[string]any, error) {
	obj, err := jose.ParseSignedCompact(raw, idTokenAlgs)
	if err != nil {
		return nil, err
	}
	if len(obj.Signatures) != 1 {
		return nil, errors.New("not a single-signature JWS")
	}
	h := obj.Signatures[0].Protected
	for _, k := range s.Keys() {
		if k.KeyID != h.KeyID || k.Algorithm != h.Algorithm {
			continue
		}
		payload, err := obj.Verify(k.Public())
		if err != nil {
			return nil, err
		}
		return decodeClaims(payload)
	}
	return nil, errors.New("unknown signing key")
}

// decodeClaims decodes a JWT payload, keeping numbers as json.Number.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytesReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("claims are not a JSON object")
	}
	return m, nil
}

// hashAlgFor returns the hash for at_hash (OIDC Core §3.1.3.6): the one of
// the JWS algorithm; SHA-512 for EdDSA with Ed25519.
func hashAlgFor(alg jose.SignatureAlgorithm) crypto.Hash {
	switch alg {
	case jose.RS384, jose.PS384, jose.ES384, jose.HS384:
		return crypto.SHA384
	case jose.RS512, jose.PS512, jose.ES512, jose.HS512, jose.EdDSA:
		return crypto.SHA512
	}
	return crypto.SHA256
}

// halfHash is the base64url left half of hash(v), for at_hash.
func halfHash(alg jose.SignatureAlgorithm, v string) string {
	h := hashAlgFor(alg).New()
	h.Write([]byte(v))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

var asymmetricAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

var hmacAlgs = []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512}

func isHMAC(alg string) bool { return slices.Contains(hmacAlgs, jose.SignatureAlgorithm(alg)) }

// hmacJWT signs claims with HS256/384/512 by hand: go-jose refuses keys
// shorter than the hash, but client secrets (RFC 7518 §3.2 notwithstanding)
// often are, and providers accept them.
func hmacJWT(secret []byte, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) (string, error) {
	if !isHMAC(string(alg)) {
		return "", fmt.Errorf("partest: %s is not an HMAC algorithm", alg)
	}
	header := map[string]string{"alg": string(alg)}
	if kid != "" {
		header["kid"] = kid
	}
	if typ != "" {
		header["typ"] = typ
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("partest: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	return input + "." + enc.EncodeToString(hmacSum(alg, secret, input)), nil
}

func hmacSum(alg jose.SignatureAlgorithm, secret []byte, input string) []byte {
	m := hmac.New(hashAlgFor(alg).New, secret)
	m.Write([]byte(input))
	return m.Sum(nil)
}

// verifyHMAC checks the HMAC signature of a compact JWS that go-jose has
// already parsed (so its header and alg are known good) and returns the
// payload.
func verifyHMAC(raw string, alg string, secret []byte) ([]byte, error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 || !isHMAC(alg) {
		return nil, errors.New("not an HMAC compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(sig, hmacSum(jose.SignatureAlgorithm(alg), secret, parts[0]+"."+parts[1])) {
		return nil, errors.New("signature mismatch")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}

// Content encryption algorithms accepted for request objects (RFC 9101
// §6.1).
var requestEncs = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256CBC_HS512, jose.A128GCM, jose.A256GCM}

// decryptRequestObject decrypts a nested (signed, then encrypted) request
// object addressed to the broker-style encryption key.
func (s *Server) decryptRequestObject(raw string) (string, error) {
	algs := s.requestKeyAlgs()
	obj, err := jose.ParseEncryptedCompact(raw, algs, requestEncs)
	if err != nil {
		return "", err
	}
	enc, err := encryptionJWK()
	if err != nil {
		return "", err
	}
	if kid := obj.Header.KeyID; kid != "" && kid != enc.KeyID {
		return "", fmt.Errorf("unknown encryption key %q", kid)
	}
	inner, err := obj.Decrypt(requestObjectDecrypter{priv: brokerEncKey.priv, algs: algs})
	if err != nil {
		return "", err
	}
	return string(inner), nil
}
