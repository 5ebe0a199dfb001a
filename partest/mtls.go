package partest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// peerThumbprint returns the base64url SHA-256 thumbprint (x5t#S256) of the
// TLS client certificate of r, or "" when there is none (RFC 8705 §3.1).
func peerThumbprint(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// confirmation returns the cnf claim of g's access token: the DPoP key
// thumbprint (RFC 9449 §6.1) and the certificate thumbprint (RFC 8705
// §3.1), or nil when the token is a plain bearer token.
func confirmation(g *grant) map[string]any {
	if g.jkt == "" && g.x5t == "" {
		return nil
	}
	cnf := map[string]any{}
	if g.jkt != "" {
		cnf["jkt"] = g.jkt
	}
	if g.x5t != "" {
		cnf["x5t#S256"] = g.x5t
	}
	return cnf
}
