package partest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/ocsp"
)

// The MitID broker signs its transaction tokens with a key of its own,
// published in its JWKS beside the ID-token key, whose certificate
// (CN=NEB Transact PP) a CA issued; each token response carries an OCSP
// response for that certificate (broker-recorded.md, "Keys", "Tokens and
// claims"). partest mimics that with a test CA of its own: the CA issues
// the transaction-signing certificate and an OCSP responder certificate,
// and the responder signs a "good" answer for every token response.
//
// The certificates are valid from 1999 to 2099, so they are valid at any
// instant a test clock may show, a testing/synctest bubble's included.

// transactionCertSubject is the common name of the broker's
// transaction-signing certificate in pre-production.
const transactionCertSubject = "NEB Transact PP"

var (
	certNotBefore = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
)

// txKeySet is the transaction-signing key with its CA and OCSP responder.
type txKeySet struct {
	jwk          jose.JSONWebKey // private key, certificate, kid
	cert         *x509.Certificate
	ca           *x509.Certificate
	responder    *x509.Certificate
	responderKey *ecdsa.PrivateKey
}

var brokerTxKeys struct {
	once sync.Once
	set  *txKeySet
	err  error
}

// transactionKeys returns the transaction-signing key set, made once per
// test binary.
func transactionKeys() (*txKeySet, error) {
	brokerTxKeys.once.Do(func() {
		brokerTxKeys.set, brokerTxKeys.err = newTxKeySet()
	})
	return brokerTxKeys.set, brokerTxKeys.err
}

func newTxKeySet() (*txKeySet, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca, err := issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "partest test CA", Organization: []string{"partest"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	txKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cert, err := issue(&x509.Certificate{
		Subject:  pkix.Name{CommonName: transactionCertSubject, Organization: []string{"partest"}, Country: []string{"DK"}},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}, ca, txKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	respKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	responder, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "partest test CA OCSP responder", Organization: []string{"partest"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	}, ca, respKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	return &txKeySet{
		jwk:          certifiedJWK(jose.JSONWebKey{Key: txKey, Use: "sig", Algorithm: string(jose.RS256)}, cert),
		cert:         cert,
		ca:           ca,
		responder:    responder,
		responderKey: respKey,
	}, nil
}

// issue creates a certificate from tmpl for pub, signed by signer as
// parent (self-signed when parent is nil).
func issue(tmpl *x509.Certificate, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = certNotBefore, certNotAfter
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// certifiedJWK gives k the certificate (x5c), its SHA-1 thumbprint (x5t)
// and, as the MitID broker does, the upper-case hex of that thumbprint as
// kid.
func certifiedJWK(k jose.JSONWebKey, cert *x509.Certificate) jose.JSONWebKey {
	sum := sha1.Sum(cert.Raw)
	k.Certificates = []*x509.Certificate{cert}
	k.CertificateThumbprintSHA1 = sum[:]
	k.KeyID = strings.ToUpper(hex.EncodeToString(sum[:]))
	return k
}

// TransactionCA returns the certificate of partest's test CA, which issued
// the transaction-signing certificate (x5c of the transaction key in the
// JWKS of a BrokerLayout or BrokerJWKS server) and the OCSP responder that
// signs transaction_token_ocsp_resp. A test verifying the OCSP response's
// chain trusts it, as an app trusts the broker's CA.
func (s *Server) TransactionCA() *x509.Certificate {
	set, err := transactionKeys()
	if err != nil {
		return nil
	}
	return set.ca
}

// transactionOCSP returns a DER OCSP response (RFC 6960) saying "good"
// about the transaction-signing certificate, signed by the delegated
// responder, with the responder's certificate embedded.
func transactionOCSP(set *txKeySet, now time.Time) ([]byte, error) {
	return ocsp.CreateResponse(set.ca, set.responder, ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: set.cert.SerialNumber,
		ThisUpdate:   now.Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate:   now.Add(24 * time.Hour).UTC().Truncate(time.Second),
		Certificate:  set.responder,
	}, set.responderKey)
}

// publishedJWKS renders the JWKS document. The MitID broker's recorded
// JWKS has no alg on any key (broker-recorded.md, "Keys"); with
// Config.BrokerDocumented the signing keys keep theirs and the encryption
// key gets the documentation's hex x5t and XML-Enc alg URI, which go-jose
// cannot write, so the document is patched after marshalling.
func (s *Server) publishedJWKS() ([]byte, error) {
	set := s.PublicJWKS()
	b, err := json.Marshal(set)
	if err != nil || !s.Config.BrokerJWKS || !s.Config.BrokerDocumented {
		return b, err
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	for _, k := range doc.Keys {
		if k["use"] == "enc" {
			k["alg"] = xmlEncRSAOAEP
			k["x5t"] = k["kid"]
		}
	}
	return json.Marshal(doc)
}

// requestObjectDecrypter unwraps the content encryption key of a request
// object encrypted to the broker-style encryption key. go-jose knows
// RSA-OAEP and RSA-OAEP-256 but not the RSA-OAEP-384 and RSA-OAEP-512 that
// the broker advertises, so the unwrapping is done here (RFC 8017 §7.1.2
// with the hash the alg names); go-jose decrypts the content.
type requestObjectDecrypter struct {
	priv *rsa.PrivateKey
	algs []jose.KeyAlgorithm
}

// DecryptKey implements [jose.OpaqueKeyDecrypter].
func (d requestObjectDecrypter) DecryptKey(encryptedKey []byte, h jose.Header) ([]byte, error) {
	var newHash func() hash.Hash
	switch jose.KeyAlgorithm(h.Algorithm) {
	case jose.RSA_OAEP:
		newHash = sha1.New
	case jose.RSA_OAEP_256:
		newHash = sha256.New
	case rsaOAEP384:
		newHash = sha512.New384
	case rsaOAEP512:
		newHash = sha512.New
	}
	if newHash == nil || !containsAlg(d.algs, jose.KeyAlgorithm(h.Algorithm)) {
		return nil, fmt.Errorf("key management algorithm %q is not accepted", h.Algorithm)
	}
	return rsa.DecryptOAEP(newHash(), nil, d.priv, encryptedKey, nil)
}

func containsAlg(list []jose.KeyAlgorithm, a jose.KeyAlgorithm) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// RSA-OAEP with SHA-384 and SHA-512 (RFC 7518 §4.3 defines only SHA-1 and
// SHA-256; the names are those the broker advertises).
const (
	rsaOAEP384 jose.KeyAlgorithm = "RSA-OAEP-384"
	rsaOAEP512 jose.KeyAlgorithm = "RSA-OAEP-512"
)

// requestKeyAlgs returns the key management algorithms accepted for
// encrypted request objects: those the broker's discovery document
// advertises (RSA-OAEP-256/384/512), or with Config.BrokerDocumented the
// documentation's RSA-OAEP (xmlenc#rsa-oaep) and RSA-OAEP-256.
func (s *Server) requestKeyAlgs() []jose.KeyAlgorithm {
	if s.Config.BrokerDocumented {
		return []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}
	}
	return []jose.KeyAlgorithm{jose.RSA_OAEP_256, rsaOAEP384, rsaOAEP512}
}

var errNotBase64 = errors.New("not base64")

// decodeStdOrURL decodes standard or URL-safe base64, padded or not.
func decodeStdOrURL(v string) ([]byte, error) {
	if strings.ContainsAny(v, " \t\r\n") {
		return nil, errNotBase64
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, nil
		}
	}
	return nil, errNotBase64
}
