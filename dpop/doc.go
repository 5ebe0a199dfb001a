// Package dpop implements the client side of OAuth 2.0 Demonstrating
// Proof of Possession (DPoP, RFC 9449, https://www.rfc-editor.org/rfc/rfc9449).
//
// A [Proofer] wraps a [crypto.Signer] (an in-memory key or an HSM/KMS key)
// and mints DPoP proof JWTs (§4.2) for single HTTP requests. Its
// [Proofer.Thumbprint] is the RFC 7638 JWK thumbprint that binds
// authorization codes and access tokens to the key: the value of the PAR
// parameter dpop_jkt (§10) and of the token's cnf.jkt claim (§6.1).
//
// Servers may require a fresh nonce in proofs (§8, §9). [Transport] and the
// client's back channel read the DPoP-Nonce header of every response,
// remember the latest nonce per server origin (in a [NonceStore] when one is
// given), and answer a use_dpop_nonce challenge — from an authorization
// server (400 with a JSON error) or a resource server (401 with a
// WWW-Authenticate DPoP challenge) — with exactly one retry.
//
// [Transport] is an [net/http.RoundTripper] for calls to resource servers
// with a DPoP-bound access token: it sends "Authorization: DPoP <token>"
// with a fresh proof that carries the token hash (ath), and retries once
// when the server asks for a new nonce.
//
//	p, err := dpop.NewProofer(key, nil) // ES256 for a P-256 key
//	// push with dpop_jkt = p.Thumbprint(), exchange the code with a proof, then:
//	hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: tokenSource}}
//	resp, err := hc.Get("https://api.example/resource")
//
// The package does not verify proofs: that is the server's job.
package dpop
