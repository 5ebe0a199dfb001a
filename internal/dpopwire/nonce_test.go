package dpopwire_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/go-par/par/internal/dpopwire"
)

func TestParseNonce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   string
		ok     bool
	}{
		{"rfc example", []string{"eyJ7S_zG.eyJH0-Z.HX4w-7v"}, "eyJ7S_zG.eyJH0-Z.HX4w-7v", true},
		{"all NQCHAR ranges", []string{"!#[]^~"}, "!#[]^~", true},
		{"surrounding whitespace", []string{" abc\t"}, "abc", true},
		{"repeated equal", []string{"abc", "abc"}, "abc", true},
		{"absent", nil, "", false},
		{"empty", []string{""}, "", false},
		{"repeated different", []string{"abc", "abd"}, "", false},
		{"inner space", []string{"a b"}, "", false},
		{"dquote", []string{`a"b`}, "", false},
		{"backslash", []string{`a\b`}, "", false},
		{"control", []string{"a\x01b"}, "", false},
		{"del", []string{"a\x7fb"}, "", false},
		{"non-ascii", []string{"nœnce"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Dpop-Nonce", v)
			}
			got, ok := dpopwire.ParseNonce(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseNonce(%q) = %q, %v; want %q, %v", tt.values, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIsChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		auth   []string
		body   string
		want   bool
	}{
		{"as 400", 400, nil, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`, true},
		{"as 400 other error", 400, nil, `{"error":"invalid_dpop_proof"}`, false},
		{"as 400 not json", 400, nil, `use_dpop_nonce`, false},
		{"as 400 error not string", 400, nil, `{"error":["use_dpop_nonce"]}`, false},
		{"as 400 header only", 400, []string{`DPoP error="use_dpop_nonce"`}, ``, false},
		{"rs 401", 401, []string{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`}, ``, true},
		{"rs 401 token value", 401, []string{`DPoP algs="ES256 PS256", error=use_dpop_nonce`}, ``, true},
		{"rs 401 scheme case", 401, []string{`dpop error="use_dpop_nonce"`}, ``, true},
		{"rs 401 second challenge", 401, []string{`Bearer realm="api", DPoP error="use_dpop_nonce"`}, ``, true},
		{"rs 401 second header", 401, []string{`Bearer realm="api"`, `DPoP error="use_dpop_nonce"`}, ``, true},
		{"rs 401 bearer scheme", 401, []string{`Bearer error="use_dpop_nonce"`}, ``, false},
		{"rs 401 other error", 401, []string{`DPoP error="invalid_token"`}, ``, false},
		{"rs 401 json body only", 401, nil, `{"error":"use_dpop_nonce"}`, false},
		{"200", 200, []string{`DPoP error="use_dpop_nonce"`}, `{"error":"use_dpop_nonce"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.auth {
				h.Add("WWW-Authenticate", v)
			}
			if got := dpopwire.IsChallenge(tt.status, h, []byte(tt.body)); got != tt.want {
				t.Errorf("IsChallenge(%d, %q, %q) = %v, want %v", tt.status, tt.auth, tt.body, got, tt.want)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://AS.Example/op/connect/par?x=1", "https://as.example:443"},
		{"https://as.example:443/token", "https://as.example:443"},
		{"http://127.0.0.1/x", "http://127.0.0.1:80"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080"},
		{"HTTPS://[::1]:9443/", "https://[::1]:9443"},
		{"https://u:p@as.example/", "https://as.example:443"},
		{"/relative", ""},
		{"https:///x", ""},
		{"%zz", ""},
	}
	for _, tt := range tests {
		if got := dpopwire.Origin(tt.in); got != tt.want {
			t.Errorf("Origin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	var s dpopwire.MemoryStore // zero value ready
	if got := s.Nonce("https://a:443"); got != "" {
		t.Errorf("Nonce() on empty store = %q, want empty", got)
	}
	s.SetNonce("https://a:443", "n1")
	s.SetNonce("https://b:443", "n2")
	s.SetNonce("https://a:443", "n3")
	if got := s.Nonce("https://a:443"); got != "n3" {
		t.Errorf("Nonce(a) = %q, want n3", got)
	}
	if got := s.Nonce("https://b:443"); got != "n2" {
		t.Errorf("Nonce(b) = %q, want n2", got)
	}
	s.SetNonce("https://a:443", "")
	if got := s.Nonce("https://a:443"); got != "" {
		t.Errorf("Nonce(a) after forget = %q, want empty", got)
	}

	// Bounded: many origins never grow it past its cap, and the newest stays.
	for i := range 3000 {
		s.SetNonce(fmt.Sprintf("https://h%d:443", i), "n")
	}
	if got := s.Nonce("https://h2999:443"); got != "n" {
		t.Errorf("newest origin forgotten: Nonce = %q", got)
	}
	kept := 0
	for i := range 3000 {
		if s.Nonce(fmt.Sprintf("https://h%d:443", i)) != "" {
			kept++
		}
	}
	if kept > 1024 {
		t.Errorf("store keeps %d origins, want at most 1024", kept)
	}
}

func TestMemoryStoreConcurrent(t *testing.T) {
	t.Parallel()
	var s dpopwire.MemoryStore
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			o := fmt.Sprintf("https://h%d:443", g%2)
			for i := range 200 {
				s.SetNonce(o, fmt.Sprint(i))
				_ = s.Nonce(o)
			}
		})
	}
	wg.Wait()
	if got := s.Nonce("https://h0:443"); got != "199" {
		t.Errorf("Nonce(h0) = %q, want 199", got)
	}
}
