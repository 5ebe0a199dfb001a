package dpopwire_test

import (
	"errors"
	"testing"

	"github.com/go-par/par/internal/dpopwire"
)

func TestHTU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://server.example.com/token", "https://server.example.com/token"},
		{"case of scheme and host", "HTTPS://Server.Example.COM/Path", "https://server.example.com/Path"},
		{"query and fragment dropped", "https://rs.example/a?b=c&d#frag", "https://rs.example/a"},
		{"empty query", "https://rs.example/a?", "https://rs.example/a"},
		{"default https port", "https://rs.example:443/x", "https://rs.example/x"},
		{"default http port", "http://rs.example:80/x", "http://rs.example/x"},
		{"https on port 80 kept", "https://rs.example:80/x", "https://rs.example:80/x"},
		{"other port kept", "http://127.0.0.1:8080/par", "http://127.0.0.1:8080/par"},
		{"empty port", "https://rs.example:/x", "https://rs.example/x"},
		{"empty path", "https://rs.example", "https://rs.example/"},
		{"empty path with query", "https://rs.example?x=1", "https://rs.example/"},
		{"userinfo dropped", "https://user:pw@rs.example/x", "https://rs.example/x"},
		{"unreserved decoded", "https://rs.example/%7euser/%41%2d%2E%5F", "https://rs.example/~user/A-._"},
		{"hex upper-cased", "https://rs.example/%c3%a9/%2f", "https://rs.example/%C3%A9/%2F"},
		{"encoded slash kept", "https://rs.example/a%2Fb", "https://rs.example/a%2Fb"},
		{"non-ascii encoded", "https://rs.example/é", "https://rs.example/%C3%A9"},
		{"space encoded", "https://rs.example/a b", "https://rs.example/a%20b"},
		{"dot segments", "https://rs.example/a/b/c/./../../g", "https://rs.example/a/g"},
		{"trailing dot", "https://rs.example/a/b/.", "https://rs.example/a/b/"},
		{"trailing dot-dot", "https://rs.example/a/b/..", "https://rs.example/a/"},
		{"above root", "https://rs.example/../../x", "https://rs.example/x"},
		{"only dot-dot", "https://rs.example/..", "https://rs.example/"},
		{"encoded dots", "https://rs.example/a/%2e%2E/b", "https://rs.example/b"},
		{"dot-like names kept", "https://rs.example/.well-known/x..y/.z", "https://rs.example/.well-known/x..y/.z"},
		{"double slash kept", "https://rs.example/a//b", "https://rs.example/a//b"},
		{"trailing slash kept", "https://rs.example/a/", "https://rs.example/a/"},
		{"ipv6", "https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"},
		{"ipv6 port", "http://[::1]:9000/x", "http://[::1]:9000/x"},
		{"ipv6 zone", "http://[fe80::1%25en0]:8080/", "http://[fe80::1%25en0]:8080/"},
		{"sub-delims in path", "https://rs.example/a;b=c,d", "https://rs.example/a;b=c,d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := dpopwire.HTU(tt.in)
			if err != nil {
				t.Fatalf("HTU(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("HTU(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := dpopwire.HTU(got)
			if err != nil || again != got {
				t.Errorf("HTU(%q) = %q, %v; want it unchanged (idempotent)", got, again, err)
			}
		})
	}
}

func TestHTUErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"/relative",
		"rs.example/x",
		"ftp://rs.example/",
		"wss://rs.example/",
		"mailto:a@rs.example",
		"https:opaque",
		"https:///x",
		"https://:443/x",
		"https://rs.example:port/",
		"https://rs ex.example/",
		"https://[::1/",
		"https://rs.example/%zz",
	} {
		if got, err := dpopwire.HTU(in); !errors.Is(err, dpopwire.ErrInvalidURL) {
			t.Errorf("HTU(%q) = %q, %v; want ErrInvalidURL", in, got, err)
		}
	}
}
