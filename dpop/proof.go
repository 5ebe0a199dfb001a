package dpop

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/internal/joseutil"
	"github.com/go-par/par/internal/jsonx"
)

// proofType is the JWS "typ" header value of a DPoP proof (RFC 9449 §4.2).
const proofType = "dpop+jwt"

// minRSABits is the smallest RSA modulus, in bits, that [NewProofer] accepts.
const minRSABits = 2048

var (
	// ErrInvalidKey is returned by [NewProofer] for a nil signer, a key type
	// no DPoP algorithm fits, an RSA key shorter than 2048 bits, or an
	// algorithm that does not fit the key.
	ErrInvalidKey = errors.New("dpop: invalid key")

	// ErrInvalidMethod is returned by [Proofer.Proof] for an empty HTTP
	// method or one that is not an RFC 9110 token.
	ErrInvalidMethod = errors.New("dpop: invalid http method")

	// ErrInvalidURL is returned by [Proofer.Proof] when the request URL is
	// not an absolute http or https URL with a host.
	ErrInvalidURL = dpopwire.ErrInvalidURL

	// ErrInvalidNonce is returned by [Proofer.Proof] for a nonce that is not
	// 1*NQCHAR (RFC 9449 §8.1).
	ErrInvalidNonce = errors.New("dpop: invalid nonce")
)

// Config configures a [Proofer]. The zero value and nil are valid.
type Config struct {
	// Algorithm is the JWS algorithm of the proofs. Default by key: ES256
	// for P-256 (ES384, ES512 for P-384, P-521), PS256 for RSA (RS256 and
	// the other RSxxx/PSxxx algorithms may be chosen), EdDSA for Ed25519.
	// Symmetric algorithms are never allowed (RFC 9449 §4.2).
	Algorithm jose.SignatureAlgorithm

	// Now returns the current time for the iat claim. Nil means time.Now.
	Now func() time.Time
}

// Proofer mints DPoP proof JWTs (RFC 9449 §4.2) with one key. It is
// immutable and safe for concurrent use. Its String and LogValue show the
// algorithm and the key thumbprint only, never key material.
type Proofer struct {
	signer jose.Signer
	alg    jose.SignatureAlgorithm
	jkt    string
	now    func() time.Time
}

// NewProofer returns a Proofer for signer. The public key is embedded in
// every proof's "jwk" header; the private key never leaves the signer, so
// HSM and KMS keys work. cfg may be nil.
func NewProofer(signer crypto.Signer, cfg *Config) (*Proofer, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrInvalidKey)
	}
	if cfg == nil {
		cfg = &Config{}
	}
	pub := signer.Public()
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("%w: rsa key of %d bits, want at least %d", ErrInvalidKey, k.N.BitLen(), minRSABits)
	}
	alg := cfg.Algorithm
	if alg == "" {
		var err error
		if alg, err = joseutil.DefaultAlgorithm(pub, true); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
	}
	if err := joseutil.CheckAlgorithm(pub, alg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	jwk := jose.JSONWebKey{Key: pub}
	if !jwk.Valid() || !jwk.IsPublic() {
		return nil, fmt.Errorf("%w: public key %T is not a valid jwk", ErrInvalidKey, pub)
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: thumbprint: %w", ErrInvalidKey, err)
	}
	// The jwk header is serialised once here; go-jose copies the raw JSON
	// into each proof's protected header.
	jwkJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	s, err := joseutil.NewSigner(signer, alg, "", proofType, map[jose.HeaderKey]any{
		"jwk": json.RawMessage(jwkJSON),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Proofer{
		signer: s,
		alg:    alg,
		jkt:    base64.RawURLEncoding.EncodeToString(tp),
		now:    now,
	}, nil
}

// Algorithm returns the JWS algorithm of the proofs.
func (p *Proofer) Algorithm() jose.SignatureAlgorithm { return p.alg }

// Thumbprint returns the base64url RFC 7638 SHA-256 JWK thumbprint of the
// public key: the dpop_jkt PAR and authorization request parameter (RFC
// 9449 §10) and the cnf.jkt of bound access tokens (§6.1).
func (p *Proofer) Thumbprint() string { return p.jkt }

// String describes p by algorithm and thumbprint.
func (p *Proofer) String() string {
	if p == nil {
		return "dpop.Proofer(nil)"
	}
	return "dpop.Proofer(" + string(p.alg) + ", jkt=" + p.jkt + ")"
}

// LogValue implements [slog.LogValuer] with the algorithm and thumbprint.
func (p *Proofer) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("alg", string(p.alg)), slog.String("jkt", p.jkt))
}

// Proof returns a DPoP proof JWT (RFC 9449 §4.2) for one request with the
// given HTTP method and URL. The htu claim is rawURL without query and
// fragment, normalised as §4.3 asks servers to compare (see [HTU]). nonce is
// the latest server-provided nonce (§8, §9) or empty. accessToken is set
// when the request presents an access token: the proof then carries its
// hash in ath (§4.2, §7). Every proof has a fresh 128-bit jti.
//
// Errors never contain the nonce, the token or the URL's query; at most the
// few offending characters of the URL.
func (p *Proofer) Proof(method, rawURL, nonce, accessToken string) (string, error) {
	htu, err := dpopwire.HTU(rawURL)
	if err != nil {
		return "", err
	}
	return p.proof(method, htu, nonce, accessToken)
}

// proof signs the claims for an already normalised htu.
func (p *Proofer) proof(method, htu, nonce, accessToken string) (string, error) {
	if !dpopwire.IsToken(method) {
		return "", ErrInvalidMethod
	}
	if nonce != "" && !dpopwire.IsNonce(nonce) {
		return "", ErrInvalidNonce
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:]) // never fails (Go ≥ 1.24 crashes instead)

	b := make([]byte, 0, 128+len(htu)+len(method)+len(nonce))
	b = append(b, `{"jti":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, rnd[:])
	b = append(b, `","htm":`...)
	b = jsonx.AppendString(b, method)
	b = append(b, `,"htu":`...)
	b = jsonx.AppendString(b, htu)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, p.now().Unix(), 10)
	if nonce != "" {
		b = append(b, `,"nonce":"`...)
		b = append(b, nonce...) // NQCHAR needs no JSON escaping
		b = append(b, '"')
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		b = append(b, `,"ath":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, sum[:])
		b = append(b, '"')
	}
	b = append(b, '}')

	jws, err := p.signer.Sign(b)
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("dpop: serialize proof: %w", err)
	}
	return out, nil
}
