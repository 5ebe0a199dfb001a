// Package stub is the fast provider the benchmarks talk to: plain net/http
// on 127.0.0.1, over http or over TLS (HTTP/2 or HTTP/1.1 only), serving a
// discovery document and answering every well-formed push with 201 and a
// fixed body (RFC 9126 §2.2). It checks only that the request is a form POST
// with client_id and some client authentication, so its cost is the same
// whichever client pushes.
//
// With Options.Login it is a whole provider for a login: each push gets a
// request_uri that carries the request (no server state), /authorize
// answers at once with a 303 to the redirect_uri (a user who always
// consents), /token checks PKCE and returns an RS256 ID token for the
// pushed nonce, and /jwks publishes the key.
package stub

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RequestURI is the request_uri every push gets back (without Options.Login).
const RequestURI = "urn:ietf:params:oauth:request_uri:" +
	"6e5a0a4f7d0c4d1b9b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"

// ExpiresIn is the expires_in every push gets back (the MitID broker's).
const ExpiresIn = 600

// Subject is the sub of every ID token.
const Subject = "alice"

var parBody = []byte(`{"request_uri":"` + RequestURI + `","expires_in":600}`)

// Options configure a stub.
type Options struct {
	// TLS serves https with a self-signed certificate for 127.0.0.1, made
	// at start (Server.CertPEM).
	TLS bool
	// HTTP1 turns HTTP/2 off: over TLS the stub offers http/1.1 only.
	HTTP1 bool
	// Login serves a whole login (see the package documentation).
	Login bool
	// OnPush sees every push after its form was parsed, before the stub
	// checks it. It must be safe for concurrent use.
	OnPush func(*http.Request)
}

// Server is a running stub.
type Server struct {
	// URL is the issuer and base URL, http(s)://127.0.0.1:port.
	URL string
	// CertPEM is the TLS certificate (PEM) to trust; nil without TLS.
	CertPEM []byte

	opts      Options
	srv       *http.Server
	ln        net.Listener
	discovery []byte
	key       *rsa.PrivateKey
	kid       string
	jwks      []byte
	pushes    atomic.Int64
	rejected  atomic.Int64
	fetches   atomic.Int64
	logins    atomic.Int64
}

// Start listens on 127.0.0.1 over http and serves until Close.
func Start() (*Server, error) { return StartWith(Options{}) }

// StartRecording is Start with Options.OnPush.
func StartRecording(onPush func(*http.Request)) (*Server, error) {
	return StartWith(Options{OnPush: onPush})
}

// StartWith starts a stub configured by o.
func StartWith(o Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, opts: o, URL: "http://" + ln.Addr().String(), jwks: []byte(`{"keys":[]}`)}
	// ErrorLog discards: clients that end a run close connections mid
	// handshake, which net/http would log as "TLS handshake error: EOF".
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	if o.TLS {
		cert, certPEM, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.URL, s.CertPEM = "https://"+ln.Addr().String(), certPEM
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(!o.HTTP1)
		s.srv.Protocols = &p
	}
	if o.Login {
		if s.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			ln.Close()
			return nil, err
		}
		s.kid = "stub-rs-1"
		s.jwks, _ = json.Marshal(map[string]any{"keys": []any{map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
			"n": b64(s.key.N.Bytes()), "e": b64(big.NewInt(int64(s.key.E)).Bytes())}}})
	}
	s.discovery, _ = json.Marshal(map[string]any{
		"issuer":                                           s.URL,
		"authorization_endpoint":                           s.URL + "/authorize",
		"token_endpoint":                                   s.URL + "/token",
		"jwks_uri":                                         s.URL + "/jwks",
		"pushed_authorization_request_endpoint":            s.URL + "/par",
		"require_pushed_authorization_requests":            true,
		"response_types_supported":                         []string{"code"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256", "PS256"},
		"request_object_signing_alg_values_supported":      []string{"ES256"},
		"dpop_signing_alg_values_supported":                []string{"ES256"},
		"authorization_response_iss_parameter_supported":   true,
	})
	if o.TLS {
		go s.srv.ServeTLS(ln, "", "")
	} else {
		go s.srv.Serve(ln)
	}
	return s, nil
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, valid a day.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "go-par bench stub"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// CertPool returns a pool that trusts the stub's certificate (nil without TLS).
func (s *Server) CertPool() *x509.CertPool {
	if s.CertPEM == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CertPEM)
	return p
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Pushes returns how many pushes were answered with 201.
func (s *Server) Pushes() int64 { return s.pushes.Load() }

// Rejected returns how many requests were refused (pushes, authorization
// and token requests).
func (s *Server) Rejected() int64 { return s.rejected.Load() }

// DiscoveryFetches returns how many times the discovery document was served.
func (s *Server) DiscoveryFetches() int64 { return s.fetches.Load() }

// Logins returns how many token requests were answered with tokens.
func (s *Server) Logins() int64 { return s.logins.Load() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.discovery)
	case "/jwks":
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.jwks)
	case "/par":
		s.par(w, r)
	case "/authorize":
		if !s.opts.Login {
			http.NotFound(w, r)
			return
		}
		s.authorize(w, r)
	case "/token":
		if !s.opts.Login {
			http.NotFound(w, r)
			return
		}
		s.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) par(w http.ResponseWriter, r *http.Request) {
	if s.opts.OnPush != nil && r.ParseForm() == nil {
		s.opts.OnPush(r)
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("client_id") == "" ||
		(r.Header.Get("Authorization") == "" && r.PostForm.Get("client_assertion") == "") ||
		(r.PostForm.Get("request") == "" && !strings.HasPrefix(r.PostForm.Get("code_challenge_method"), "S256")) {
		s.reject(w)
		return
	}
	body := parBody
	if s.opts.Login {
		// The request_uri carries what the authorization and token steps
		// need, so the stub keeps no state.
		f := r.PostForm
		p := pending{ClientID: f.Get("client_id"), Redirect: f.Get("redirect_uri"), State: f.Get("state"),
			Nonce: f.Get("nonce"), Challenge: f.Get("code_challenge")}
		if p.Redirect == "" || p.Challenge == "" {
			s.reject(w)
			return
		}
		body, _ = json.Marshal(map[string]any{"request_uri": "urn:ietf:params:oauth:request_uri:" + p.encode(),
			"expires_in": ExpiresIn})
	}
	s.pushes.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	w.Write(body)
}

func (s *Server) reject(w http.ResponseWriter) {
	s.rejected.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(`{"error":"invalid_request"}`))
}

// pending is a pushed request, carried in the request_uri and the code.
type pending struct {
	ClientID  string `json:"c"`
	Redirect  string `json:"r"`
	State     string `json:"s"`
	Nonce     string `json:"n"`
	Challenge string `json:"p"`
}

func (p pending) encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePending(s string) (pending, error) {
	var p pending
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return p, err
	}
	err = json.Unmarshal(b, &p)
	return p, err
}

// authorize is a user who consents at once: 303 to the redirect_uri with
// code, state and iss (RFC 9207).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	enc, ok := strings.CutPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:")
	p, err := decodePending(enc)
	if !ok || err != nil || p.ClientID != q.Get("client_id") {
		s.reject(w)
		return
	}
	v := url.Values{"code": {p.encode()}, "iss": {s.URL}}
	if p.State != "" {
		v.Set("state", p.State)
	}
	w.Header().Set("Location", p.Redirect+"?"+v.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// token redeems a code: client authentication present, PKCE S256 and
// redirect_uri checked; an access token and an RS256 ID token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "authorization_code" ||
		(r.Header.Get("Authorization") == "" && r.PostForm.Get("client_assertion") == "") {
		s.reject(w)
		return
	}
	p, err := decodePending(r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if err != nil || p.Redirect != r.PostForm.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(p.Challenge)) != 1 {
		s.reject(w)
		return
	}
	var at [32]byte
	rand.Read(at[:])
	access := b64(at[:])
	idt, err := s.idToken(p, access)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	body, _ := json.Marshal(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600,
		"id_token": idt, "scope": "openid"})
	s.logins.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

func (s *Server) idToken(p pending, accessToken string) (string, error) {
	now := time.Now().Unix()
	ah := sha256.Sum256([]byte(accessToken))
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": s.kid, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"iss": s.URL, "sub": Subject, "aud": p.ClientID,
		"exp": now + 300, "iat": now, "auth_time": now, "nonce": p.Nonce, "at_hash": b64(ah[:16])})
	input := b64(header) + "." + b64(claims)
	h := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		return "", errors.New("stub: signing the id token")
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// String describes the stub.
func (s *Server) String() string {
	mode := "http"
	if s.opts.TLS {
		mode = "https, HTTP/2"
		if s.opts.HTTP1 {
			mode = "https, HTTP/1.1 only"
		}
	}
	return "stub " + s.URL + " (" + mode + ", login " + strconv.FormatBool(s.opts.Login) + ")"
}
