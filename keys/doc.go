// Package keys loads the private keys a relying party signs with: client
// assertions (RFC 7523 private_key_jwt), request objects (RFC 9101) and DPoP
// proofs (RFC 9449).
//
// It reads PEM files (PKCS#1, PKCS#8 and SEC1 keys, with any certificate
// chain in the same file), private JWKs and JWK Sets (RFC 7517), and PKCS#12
// files (.p12/.pfx), including the modern AES-256/PBKDF2 files issued for
// OCES3 certificates and legacy 3DES/RC2 ones. Every loader returns a [*Key]:
// a [crypto.Signer], its certificate chain (leaf first) and a key ID.
//
//	k, err := keys.LoadFile("oces3.p12", password)
//	if err != nil { ... }
//	alg, _ := k.Algorithm(true) // PS256 for an RSA key
//
// Errors never carry key material, file contents or passwords. Callers test
// them with [errors.Is] against [ErrWrongPassword], [ErrUnsupportedKey],
// [ErrCertificateMismatch] and [ErrNoKey].
package keys
