package httpx

import "testing"

// TestIsLoopback checks the loopback rule behind CheckEndpoint (RFC 8252
// §7.3, RFC 6761 §6.3 for .localhost).
func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost":         true,
		"LOCALHOST":         true,
		"app.localhost":     true,
		"127.0.0.1":         true,
		"127.8.9.10":        true,
		"::1":               true,
		"[::1]":             true,
		"0:0:0:0:0:0:0:1":   true,
		"10.0.0.1":          false,
		"128.0.0.1":         false,
		"::":                false,
		"localhost.example": false,
		"notlocalhost":      false,
		"example.com":       false,
		"":                  false,
		"127.0.0.1.nip.io":  false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
