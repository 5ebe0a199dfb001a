package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-par/par/client"
)

// TestNewHTTPClientPrivateCA: a client made for a private CA trusts it,
// speaks HTTP/2, and reuses its connection, where a bare
// &http.Transport{TLSClientConfig: …} falls back to HTTP/1.1.
func TestNewHTTPClientPrivateCA(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	hc := client.NewHTTPClient(&tls.Config{RootCAs: pool})
	for range 5 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "HTTP/2.0" {
			t.Errorf("protocol %q, want HTTP/2.0", body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 requests, want 1", n)
	}
	tr := hc.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 64 || hc.Timeout == 0 || tr.TLSHandshakeTimeout == 0 {
		t.Errorf("idle per host %d, timeout %v, handshake timeout %v", tr.MaxIdleConnsPerHost, hc.Timeout, tr.TLSHandshakeTimeout)
	}

	// The trap it replaces: the same pool in a bare transport loses HTTP/2.
	bare := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := bare.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/1.1" {
		t.Errorf("bare transport protocol %q; the comparison no longer holds", body)
	}

	// Without the CA the server is not trusted.
	if _, err := client.NewHTTPClient(nil).Get(srv.URL); err == nil {
		t.Error("the private CA's server was trusted without RootCAs")
	}
}
