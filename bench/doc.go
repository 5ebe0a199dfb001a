// Package bench holds go-par's benchmarks and cost-counting tests; it has
// no API. The benchmarks run the SDK and a hand-written net/http baseline
// (package bench/internal/baseline) side by side, in the same process,
// against the same stub PAR endpoint (RFC 9126 §2), and a full login
// against partest. The tests count back-channel requests (discovery, JWKS,
// PAR, token) and measure the memory a pending flow costs. bench/cmd/compare
// compares throughput with openid-client (Node). See BENCHMARKS.md.
package bench
