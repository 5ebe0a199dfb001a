package main

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHTTPClientCAFile: --ca-file makes the CLI trust a provider with a
// private CA, over HTTP/2 (client.NewHTTPClient), and a bad file is a usage
// error.
func TestHTTPClientCAFile(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	hc, err := httpClient(ca, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with --ca-file: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0" || hc.Timeout != 5*time.Second {
		t.Errorf("protocol %q, timeout %v; want HTTP/2.0 and 5s", body, hc.Timeout)
	}
	plain, err := httpClient("", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil {
		t.Error("the private CA was trusted without --ca-file")
	}
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("no"), 0o600)
	for _, f := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		if _, err := httpClient(f, time.Second); err == nil {
			t.Errorf("httpClient(%s) accepted a bad file", f)
		} else if _, ok := err.(*usageError); !ok {
			t.Errorf("httpClient(%s) = %v, want a usage error", f, err)
		}
	}
}
