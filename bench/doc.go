// Package bench holds go-par's benchmarks and cost-counting tests; it has
// no API. The benchmarks run the SDK and a hand-written net/http baseline
// (package bench/internal/baseline) side by side, in the same process,
// against the same stub PAR endpoint (RFC 9126 §2), and a full login
// against partest. The tests count back-channel requests (discovery, JWKS,
// PAR, token) and measure the memory a pending flow costs. bench/cmd/compare
// compares throughput with openid-client (Node), over http or TLS (HTTP/2
// or HTTP/1.1), for pushes and for warm and cold logins. See BENCHMARKS.md.
package bench
