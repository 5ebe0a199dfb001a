package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"https://as.example/par", true},
		{"http://127.0.0.1:8080/par", true},
		{"http://localhost/par", true},
		{"http://[::1]:9/par", true},
		{"http://app.localhost/par", true},
		{"http://as.example/par", false},
		{"http://10.0.0.1/par", false},
		{"https://as.example/par#frag", false},
		{"/par", false},
		{"", false},
		{"ftp://as.example/par", false},
		{"https://as.example/%zz", false},
	}
	for _, tt := range tests {
		_, err := CheckEndpoint("par", tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("CheckEndpoint(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestReadBodyLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 10, MaxBody} {
		b, err := ReadBody(&http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("a", n)))})
		if err != nil || len(b) != n {
			t.Errorf("ReadBody(%d bytes) = %d, %v", n, len(b), err)
		}
	}
	_, err := ReadBody(&http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("a", MaxBody+1)))})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("ReadBody(1 MiB + 1) error = %v, want ErrBodyTooLarge", err)
	}
}

func TestNoRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	user := &http.Client{} // follows redirects by default
	for _, hc := range []*http.Client{Client(nil), NoRedirects(user), NoRedirects(nil)} {
		resp, err := hc.Post(srv.URL, "text/plain", strings.NewReader("secret"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status = %d, want the 302 itself", resp.StatusCode)
		}
	}
	if user.CheckRedirect != nil {
		t.Error("NoRedirects modified the caller's client")
	}
	if DefaultClient().Timeout != DefaultTimeout {
		t.Error("default client has no timeout")
	}
}

// Errors never echo a query, fragment or user info, which may hold secrets.
func TestCheckEndpointRedacts(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://as.example/par?client_secret=SECRET",
		"https://user:SECRET@as.example/par#SECRET",
		"/relative?token=SECRET",
		"ftp://as.example/x?SECRET",
		"https://as.example/%zz?SECRET",
	} {
		_, err := CheckEndpoint("endpoint", raw)
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("CheckEndpoint(%q) = %v, want an error without the secret", raw, err)
		}
	}
}

func TestDefaultClientKeepsConnections(t *testing.T) {
	t.Parallel()
	tr, ok := DefaultClient().Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 32 || tr.Proxy == nil {
		t.Errorf("default transport = %+v, want net/http's defaults with ≥ 32 idle connections per host", tr)
	}
}
