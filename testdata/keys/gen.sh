#!/bin/sh
# gen.sh regenerates the test-only key fixtures in this folder with OpenSSL 3.
# Every key here is a throwaway made for tests; none is used anywhere real.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

b64url() { basenc --base64url -w0 | tr -d '='; }
only=${1:-all}

keys_and_documented_jwks() {
# 1. OCES3-like PKCS#12 made by OpenSSL's defaults (PBES2, PBKDF2-HMAC-SHA256,
#    AES-256-CBC, HMAC-SHA256 MAC). Password: test-password
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/oces3.key" -out "$tmp/oces3.crt" -days 3650 \
  -subj "/C=DK/O=Test Virksomhed ApS \/\/ CVR:12345678/serialNumber=UI:DK-O:G:00000000-0000-4000-8000-000000000001/CN=Test Virksomhed" 2>/dev/null
openssl pkcs12 -export -inkey "$tmp/oces3.key" -in "$tmp/oces3.crt" -name "test" \
  -passout pass:test-password -out oces3-test.p12

# 2. A traditional OpenSSL EC key file (EC PARAMETERS + SEC1 EC PRIVATE KEY).
openssl ecparam -name prime256v1 -genkey -out ec-sec1.pem

# 3. A JWKS shaped like the Signaturgruppen broker's (reference §8.2): a signing key with the
#    documented kid and base64url x5t, and an encryption key published only as x5c, with an
#    XML-Enc alg URI and an upper-case hex x5t (= kid). The private keys are kept for tests.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out broker-sig.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out broker-enc.key 2>/dev/null
openssl req -x509 -new -key broker-enc.key -out "$tmp/enc.crt" -days 36500 \
  -subj "/CN=Test eID Broker client request encryption" -addext "keyUsage=keyEncipherment" 2>/dev/null
sig_n=$(openssl rsa -in broker-sig.key -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
# .NET writes "+" as \u002B in JSON; keep that quirk.
enc_der_b64=$(openssl x509 -in "$tmp/enc.crt" -outform DER | base64 -w0 | sed 's/+/\\u002B/g')
enc_x5t=$(openssl x509 -in "$tmp/enc.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'a-f' 'A-F')
cat > broker-jwks-documented.json <<JSON
{
  "keys": [
    {"kty": "RSA", "use": "sig", "kid": "048058BB59F4D3007045896FD488CE81F4EB4923",
     "x5t": "BIBYu1n00wBwRYlv1IjOgfTrSSM", "alg": "RS256", "e": "AQAB",
     "n": "$sig_n"},
    {"kty": "RSA", "use": "enc", "kid": "$enc_x5t",
     "x5t": "$enc_x5t",
     "x5c": ["$enc_der_b64"],
     "alg": "http://www.w3.org/2001/04/xmlenc#rsa-oaep"}
  ]
}
JSON
}
[ "$only" = recorded ] || keys_and_documented_jwks

# 4. A JWKS shaped like the broker's as recorded (shared/reference/broker-recorded.md, "Keys"):
#    three RSA keys, each with an upper-case hex kid (SHA-1 of its certificate), a base64url x5t
#    of the same, x5c, use, and no alg: the transaction-signing key (CN=NEB Transact PP), the
#    ID-token signing key (broker-sig.key) and the request-encryption key (broker-enc.key).
#    Section 4 alone: sh gen.sh recorded (keeps the keys of sections 1-3).
recorded_jwks() {
  [ -f broker-transact.key ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out broker-transact.key 2>/dev/null
  entry() { # key file, name, subject, use
    openssl req -x509 -new -key "$1" -out "$tmp/$2.crt" -days 36500 -subj "$3" 2>/dev/null
    der=$(openssl x509 -in "$tmp/$2.crt" -outform DER | base64 -w0)
    hex=$(openssl x509 -in "$tmp/$2.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'a-f' 'A-F')
    t=$(printf '%s' "$hex" | xxd -r -p | b64url)
    n=$(openssl rsa -in "$1" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
    printf '    {"kty":"RSA","use":"%s","kid":"%s","x5t":"%s","e":"AQAB",\n     "n":"%s",\n     "x5c":["%s"]}' "$4" "$hex" "$t" "$n" "$der"
  }
  {
    echo '{'
    echo '  "keys": ['
    entry broker-transact.key tx "/C=DK/O=Test eID Broker/CN=NEB Transact PP" sig; echo ','
    entry broker-sig.key sig "/C=DK/CN=Test eID Broker Token Signing" sig; echo ','
    entry broker-enc.key enc "/CN=Test eID Broker client request encryption" enc; echo
    echo '  ]'
    echo '}'
  } > broker-jwks.json
}
recorded_jwks
