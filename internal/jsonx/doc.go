// Package jsonx appends JSON strings without reflection, for the hand-built
// JWT payloads on the hot paths (client assertions, DPoP proofs, request
// objects).
//
//	b := append(buf[:0], `{"iss":`...)
//	b = jsonx.AppendString(b, clientID) // quoted and escaped as encoding/json does
//	b = append(b, '}')
package jsonx
