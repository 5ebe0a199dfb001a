// Package stub is the fast PAR endpoint the benchmarks push to: plain
// net/http on 127.0.0.1, serving a discovery document and answering every
// well-formed push with 201 and a fixed body (RFC 9126 §2.2). It checks only
// that the request is a form POST with client_id and some client
// authentication, so its cost is the same whichever client pushes.
package stub

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// RequestURI is the request_uri every push gets back.
const RequestURI = "urn:ietf:params:oauth:request_uri:" +
	"6e5a0a4f7d0c4d1b9b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"

// ExpiresIn is the expires_in every push gets back (the MitID broker's).
const ExpiresIn = 600

var parBody = []byte(`{"request_uri":"` + RequestURI + `","expires_in":600}`)

// Server is a running stub.
type Server struct {
	// URL is the issuer and base URL, http://127.0.0.1:port.
	URL string

	srv       *http.Server
	ln        net.Listener
	discovery []byte
	onPush    func(*http.Request)
	pushes    atomic.Int64
	rejected  atomic.Int64
	fetches   atomic.Int64
}

// Start listens on 127.0.0.1 and serves until Close.
func Start() (*Server, error) { return StartRecording(nil) }

// StartRecording is Start with a hook that sees every push after its form
// was parsed, before the stub checks it. onPush must be safe for concurrent
// use.
func StartRecording(onPush func(*http.Request)) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, URL: "http://" + ln.Addr().String(), onPush: onPush}
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
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Pushes returns how many pushes were answered with 201.
func (s *Server) Pushes() int64 { return s.pushes.Load() }

// Rejected returns how many pushes were refused.
func (s *Server) Rejected() int64 { return s.rejected.Load() }

// DiscoveryFetches returns how many times the discovery document was served.
func (s *Server) DiscoveryFetches() int64 { return s.fetches.Load() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.discovery)
	case "/jwks":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	case "/par":
		if s.onPush != nil && r.ParseForm() == nil {
			s.onPush(r)
		}
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("client_id") == "" ||
			(r.Header.Get("Authorization") == "" && r.PostForm.Get("client_assertion") == "") ||
			(r.PostForm.Get("request") == "" && !strings.HasPrefix(r.PostForm.Get("code_challenge_method"), "S256")) {
			s.rejected.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_request"}`))
			return
		}
		s.pushes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		w.Write(parBody)
	default:
		http.NotFound(w, r)
	}
}
