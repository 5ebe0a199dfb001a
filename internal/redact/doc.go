// Package redact removes the values a client sent (its secret, client
// assertions, codes, verifiers, tokens, DPoP proofs, request objects) from
// what a provider sends back, before the provider's text reaches an error
// or a log line: a provider that echoes the request in error_description
// must not put the client secret into ResponseError.Error().
//
// Values is built only on error paths; it knows each value in the
// encodings a provider is likely to echo it in (as sent, form- and
// path-escaped, JSON-escaped, HTML-escaped, base64) and falls back to
// masking a whole string, re-encoding a JSON body, or withholding any other
// body when a value still shows in another encoding.
package redact
