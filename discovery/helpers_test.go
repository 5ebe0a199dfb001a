package discovery_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fixtureHosts are the scheme and host parts of the fixtures that tests
// replace with a test server's URL.
var fixtureHosts = []string{
	"https://pp.netseidbroker.dk",
	"https://nemlog-in-oidc.test.example",
	"https://mtls.node-op.example",
	"https://node-op.example",
}

// fixture returns testdata/discovery/name with every fixture host replaced
// by base ("" keeps the document as it is).
func fixture(tb testing.TB, name, base string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "discovery", name))
	if err != nil {
		tb.Fatal(err)
	}
	if base == "" {
		return b
	}
	s := string(b)
	for _, h := range fixtureHosts {
		s = strings.ReplaceAll(s, h, base)
	}
	return []byte(s)
}

// route is what a test server answers for one path.
type route struct {
	status int
	body   []byte
	header map[string]string
}

// metadataServer is a TLS test server answering GET requests by path; it
// fails the test for anything else and counts the requests it gets.
type metadataServer struct {
	*httptest.Server
	requests atomic.Int64
	paths    chan string
}

// newMetadataServer starts a test server (TLS when tls is true); routes is called with the server's
// URL to build the answers. Unknown paths get 404.
func newMetadataServer(t *testing.T, tls bool, routes func(base string) map[string]route) *metadataServer {
	t.Helper()
	ms := &metadataServer{paths: make(chan string, 16)}
	var table map[string]route
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms.requests.Add(1)
		select {
		case ms.paths <- r.URL.RequestURI():
		default:
		}
		if r.Method != http.MethodGet {
			t.Errorf("%s %s: method = %s, want GET", r.Method, r.URL, r.Method)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("%s %s: Accept = %q, want application/json", r.Method, r.URL, got)
		}
		if r.ContentLength > 0 {
			t.Errorf("%s %s: request has a body", r.Method, r.URL)
		}
		rt, ok := table[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range rt.header {
			w.Header().Set(k, v)
		}
		if rt.status == 0 {
			rt.status = http.StatusOK
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(rt.status)
		_, _ = w.Write(rt.body)
	})
	ms.Server = quiet(httptest.NewUnstartedServer(h))
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	table = routes(scheme + ms.Listener.Addr().String()) // before the server starts
	if tls {
		ms.StartTLS()
	} else {
		ms.Start()
	}
	t.Cleanup(ms.Close)
	return ms
}

// requestPaths drains the recorded request paths.
func (ms *metadataServer) requestPaths() []string {
	var ps []string
	for {
		select {
		case p := <-ms.paths:
			ps = append(ps, p)
		default:
			return ps
		}
	}
}

// quiet silences the server's log of TLS handshakes that clients abandon
// (cancelled contexts, refused redirects).
func quiet(srv *httptest.Server) *httptest.Server {
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return srv
}
