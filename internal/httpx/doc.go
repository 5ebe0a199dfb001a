// Package httpx holds the back-channel HTTP rules every go-par package
// follows: a default client with a timeout that follows no redirects, capped
// response bodies, and the https-except-loopback rule for endpoints.
//
//	u, err := httpx.CheckEndpoint("token_endpoint", md.TokenEndpoint) // https, or http on loopback
//	resp, err := httpx.NoRedirects(cfg.HTTPClient).Do(req)            // nil client: 30 s timeout
//	body, err := httpx.ReadBody(resp)                                 // closes; ErrBodyTooLarge past 1 MiB
package httpx
