package partest

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"time"
)

// inProcessTransport serves requests by calling the server's handler
// directly (Config.InProcess). It presents cert, when set, as the TLS
// client certificate of https requests.
type inProcessTransport struct {
	s    *Server
	leaf *x509.Certificate
}

// inProcessClient returns a client of the in-memory transport that follows
// no redirects, like [Server.Client].
func (s *Server) inProcessClient(cert *tls.Certificate) *http.Client {
	t := &inProcessTransport{s: s}
	if cert != nil && len(cert.Certificate) > 0 {
		t.leaf = cert.Leaf
		if t.leaf == nil {
			t.leaf, _ = x509.ParseCertificate(cert.Certificate[0])
		}
	}
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// RoundTrip implements http.RoundTripper. It leaves r unchanged.
func (t *inProcessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = r.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:49152"
	if in.Host == "" {
		in.Host = r.URL.Host
	}
	if r.URL.Scheme == "https" {
		in.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: r.URL.Hostname()}
		if t.leaf != nil {
			in.TLS.PeerCertificates = []*x509.Certificate{t.leaf}
		}
	}
	defer in.Body.Close()
	rec := httptest.NewRecorder()
	t.s.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
