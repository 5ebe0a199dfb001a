package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"time"

	"github.com/go-par/par/client"
)

// httpClient is the client for every call to the provider: the SDK's
// default transport (HTTP/2, 64 idle connections per provider) through
// client.NewHTTPClient, trusting the PEM certificates in caFile as well as
// the system's roots when caFile is set (a test provider with a private CA).
func httpClient(caFile string, timeout time.Duration) (*http.Client, error) {
	var cfg *tls.Config
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usageErrorf("--ca-file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--ca-file %s: no PEM certificate in it", caFile)
		}
		cfg = &tls.Config{RootCAs: pool}
	}
	hc := client.NewHTTPClient(cfg)
	hc.Timeout = timeout
	return hc, nil
}

// caFileUsage describes --ca-file.
const caFileUsage = "PEM `file` of CA certificates to trust besides the system's (env PAR_CA_FILE)"
