package partest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// pathMTLS prefixes the RFC 8705 §5 endpoint aliases (Config.MTLSEndpointAliases).
const pathMTLS = "/mtls"

// mtlsAliased are the endpoints that get an alias.
var mtlsAliased = []string{pathPAR, pathToken, pathUserinfo}

// mtlsAliases adds mtls_endpoint_aliases to the metadata md.
func (s *Server) mtlsAliases(md map[string]any) {
	if !s.Config.MTLSEndpointAliases {
		return
	}
	md["mtls_endpoint_aliases"] = map[string]any{
		"pushed_authorization_request_endpoint": s.endpointURL(pathMTLS + pathPAR),
		"token_endpoint":                        s.endpointURL(pathMTLS + pathToken),
		"userinfo_endpoint":                     s.endpointURL(pathMTLS + pathUserinfo),
	}
}

// withoutPlainCertificate hides the client certificate of a request to a
// plain (not aliased) endpoint when the server has mTLS aliases.
func (s *Server) withoutPlainCertificate(r *http.Request) *http.Request {
	if !s.Config.MTLSEndpointAliases || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 ||
		strings.HasPrefix(r.URL.Path, s.Config.IssuerPath+pathMTLS+"/") {
		return r
	}
	cs := *r.TLS
	cs.PeerCertificates, cs.VerifiedChains = nil, nil
	r2 := r.WithContext(r.Context())
	r2.TLS = &cs
	return r2
}

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
