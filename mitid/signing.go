package mitid

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ocsp"

	"github.com/go-par/par/client"
)

// Transaction signing as the broker was recorded doing it
// (broker-recorded.md, "Requests" and "Tokens and claims"): the app sends
// the text in Params.TransactionText, inside a signed request object, with
// the transaction_token scope; after the login the token response carries
// a transaction_token, a JWT the broker signs with a key of its own (a
// separate entry of its JWKS), and transaction_token_ocsp_resp, an OCSP
// response about that key's certificate.
//
// Names: the broker calls its token a "transaction token". The IETF OAuth
// working group's Transaction Tokens draft (draft-ietf-oauth-transaction-
// tokens: short-lived tokens that carry a request's context between the
// workloads of one trust domain) is unrelated, so the Go names here say
// what the broker's token is for — [SigningToken], [VerifySigningToken] —
// and only the wire names (the scope, the token response members) keep
// the broker's spelling.

// Errors of [VerifySigningToken] and [Identity]. Test for them with
// errors.Is.
var (
	// ErrNoSigningToken: the token response has no transaction_token. The
	// broker issues one only for the transaction_token scope.
	ErrNoSigningToken = errors.New("mitid: no transaction_token in the token response (request the transaction_token scope)")
	// ErrTextMismatch: the signing token is not evidence that the user
	// signed the text the app asked for: transaction_text_sha256 is not
	// the SHA-256 of that text (or is missing), transaction_text or
	// transaction_text_type differ from what was sent, a claim and its
	// mitid. duplicate disagree, or transaction_actions lacks
	// mitid.transaction_signing — or the token vouches for a signed text
	// although the app asked for none.
	ErrTextMismatch = errors.New("mitid: transaction_token: not evidence of the text the app asked to sign")
	// ErrSubjectMismatch: a token's sub is not the verified ID token's
	// (OIDC Core §5.3.2's rule for UserInfo, applied to the broker's
	// userinfo_token and transaction_token).
	ErrSubjectMismatch = errors.New("mitid: sub is not the ID token's")
)

// SigningToken is a verified transaction_token of the MitID broker: its
// signed evidence that the user, identified by Claims, logged in and —
// when the app sent a Params.TransactionText — signed Text. Keep Raw and
// OCSP as the evidence: the broker makes the token valid for about six
// years (it is a receipt, not a session).
type SigningToken struct {
	// Claims are the token's claims: sub, auth_time and amr (strings in
	// this token), loa, ial, aal, idp, identity_type, transaction_id, the
	// mitid.* identity claims and TransactionActions ("mitid.login", and
	// "mitid.transaction_signing" after a signing). Extra keeps the rest
	// (nonce, redirect_uri, acr, idp_identity_id, aud, iat, nbf, exp, …)
	// but not the members that have a field below.
	Claims Claims
	// Text is transaction_text decoded from base64: what the user was
	// shown and signed; nil when the login signed no text.
	Text []byte
	// TextType is transaction_text_type: "text", "html" or "pdf".
	TextType string
	// TextSHA256 is transaction_text_sha256 as the broker wrote it: the
	// standard base64 of the SHA-256 of Text (the decoded text, not its
	// base64), checked against the text the app asked to sign.
	TextSHA256 string
	// ClientIP is transaction_client_ip: the user's IP address as the
	// broker saw it.
	ClientIP string
	// RequestedScope is requested_scope: the scope of the login.
	RequestedScope string
	// KeyID is the kid of the broker key that signed the token: its entry
	// in the broker's JWKS carries the transaction-signing certificate
	// (x5c; CN=NEB Transact PP in pre-production).
	KeyID string
	// Raw is the token as received (a compact JWS).
	Raw string
	// OCSP is transaction_token_ocsp_resp decoded from standard base64: a
	// DER OCSP response (RFC 6960) about the certificate of the key that
	// signed the token; nil when the token response had none. Read it
	// with [SigningToken.OCSPResponse].
	OCSP []byte
}

// signingMembers are the members of a transaction_token that SigningToken
// has fields for, each also sent with the mitid. prefix
// (broker-recorded.md); Claims.Extra leaves them out.
var signingMembers = []string{"transaction_text", "transaction_text_type", "transaction_text_sha256"}

// VerifySigningToken verifies the transaction_token of t, the tokens of a
// login with the transaction_token scope, and checks it against asked,
// the Params the login was pushed with (only TransactionText and
// TransactionTextType are read):
//
//   - the signature with the broker's published keys (its transaction
//     key, a separate JWKS entry, is found by kid), an algorithm of the
//     client's ID token allow-list, iss the issuer, aud the client, exp
//     and nbf ([client.Client.VerifyJWT]);
//   - sub is the verified ID token's (ErrSubjectMismatch), and nonce, when
//     both carry one, too (the token is of this login);
//   - with a TransactionText: transaction_text_sha256 is the standard
//     base64 SHA-256 of exactly those bytes, transaction_text (when
//     present) decodes to them, transaction_text_type (when present) is
//     the type sent ("text" by default), each mitid. duplicate agrees, and
//     transaction_actions holds "mitid.transaction_signing"; without one,
//     the token vouches for no signed text. Anything else is
//     ErrTextMismatch: only then is the token evidence of what the app
//     asked the user to sign;
//   - transaction_token_ocsp_resp, when present, is standard base64 of an
//     OCSP response.
//
// A token response without transaction_token is ErrNoSigningToken; a
// failed signature, iss, aud or expiry check wraps client.ErrInvalidResponse;
// a claim of the wrong type is a *ClaimError.
func VerifySigningToken(ctx context.Context, c *client.Client, t *client.Tokens, asked Params) (*SigningToken, error) {
	const source = "transaction_token"
	wantType, err := asked.transactionTextType()
	if err != nil {
		return nil, err
	}
	if c == nil || t == nil || t.Token == nil || t.IDToken == nil {
		return nil, errors.New("mitid: transaction_token: needs a client and tokens with a verified ID token")
	}
	raw, _ := t.Token.Extra("transaction_token").(string)
	if raw == "" {
		return nil, ErrNoSigningToken
	}
	payload, h, err := verifyToken(ctx, c, raw)
	if err != nil {
		return nil, inSource(source, err)
	}
	st, nonce, err := parseSigningToken(payload)
	if err != nil {
		return nil, err
	}
	st.KeyID, st.Raw = h.KeyID, raw
	if err := sameSubject(source, st.Claims.Subject, t); err != nil {
		return nil, err
	}
	if nonce != nil && t.IDToken.Nonce != "" && *nonce != t.IDToken.Nonce {
		return nil, fmt.Errorf("mitid: transaction_token: %w: nonce is not the ID token's (another login)", client.ErrInvalidResponse)
	}
	if err := checkSigned(st, asked.TransactionText, wantType); err != nil {
		return nil, err
	}
	if s, _ := t.Token.Extra("transaction_token_ocsp_resp").(string); s != "" {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("mitid: transaction_token_ocsp_resp: %w: not standard base64", client.ErrInvalidResponse)
		}
		if _, err := ocsp.ParseResponse(der, nil); err != nil {
			return nil, fmt.Errorf("mitid: transaction_token_ocsp_resp: %w: %w", client.ErrInvalidResponse, err)
		}
		st.OCSP = der
	}
	return st, nil
}

// parseSigningToken decodes the claims of a verified transaction_token
// into a SigningToken (without KeyID and Raw) and returns its nonce.
func parseSigningToken(payload []byte) (*SigningToken, *string, error) {
	const source = "transaction_token"
	st := &SigningToken{}
	if err := json.Unmarshal(payload, &st.Claims); err != nil {
		return nil, nil, inSource(source, err)
	}
	var m struct {
		Nonce          *string `json:"nonce"`
		ClientIP       *string `json:"transaction_client_ip"`
		RequestedScope *string `json:"requested_scope"`
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, nil, inSource(source, claimError(err))
	}
	st.ClientIP, st.RequestedScope = deref(m.ClientIP), deref(m.RequestedScope)
	vals := make(map[string]string, len(signingMembers))
	for _, name := range signingMembers {
		v, err := signingMember(st.Claims.Extra, name)
		if err != nil {
			return nil, nil, err
		}
		vals[name] = v
		delete(st.Claims.Extra, name)
		delete(st.Claims.Extra, "mitid."+name)
	}
	delete(st.Claims.Extra, "transaction_client_ip")
	delete(st.Claims.Extra, "requested_scope")
	if len(st.Claims.Extra) == 0 {
		st.Claims.Extra = nil
	}
	st.TextType, st.TextSHA256 = vals["transaction_text_type"], vals["transaction_text_sha256"]
	if s := vals["transaction_text"]; s != "" {
		var err error
		if st.Text, err = decodeBase64(s); err != nil {
			return nil, nil, fmt.Errorf("%w: transaction_text is not base64", ErrTextMismatch)
		}
	}
	return st, m.Nonce, nil
}

// checkSigned checks that st is evidence of text (of type typ) being
// signed, or of no text when text is empty.
func checkSigned(st *SigningToken, text []byte, typ string) error {
	signing := slices.Contains(st.Claims.TransactionActions, "mitid.transaction_signing")
	if len(text) == 0 {
		if st.Text != nil || st.TextSHA256 != "" || signing {
			return fmt.Errorf("%w: it vouches for a signed text, and none was asked for", ErrTextMismatch)
		}
		return nil
	}
	sum := sha256.Sum256(text)
	got, err := decodeBase64(st.TextSHA256)
	switch {
	case st.TextSHA256 == "":
		return fmt.Errorf("%w: no transaction_text_sha256", ErrTextMismatch)
	case err != nil || !bytes.Equal(got, sum[:]):
		return fmt.Errorf("%w: transaction_text_sha256 is not the SHA-256 of the text", ErrTextMismatch)
	case st.Text != nil && !bytes.Equal(st.Text, text):
		return fmt.Errorf("%w: transaction_text is not the text", ErrTextMismatch)
	case st.TextType != "" && st.TextType != typ:
		return fmt.Errorf("%w: transaction_text_type is not the type sent", ErrTextMismatch)
	case !signing:
		return fmt.Errorf("%w: transaction_actions lacks mitid.transaction_signing", ErrTextMismatch)
	}
	if st.Text == nil {
		st.Text = bytes.Clone(text)
	}
	return nil
}

// signingMember returns the string value of the claim name or its mitid.
// duplicate; both present and different is ErrTextMismatch.
func signingMember(extra map[string]json.RawMessage, name string) (string, error) {
	var vals []string
	for _, n := range []string{name, "mitid." + name} {
		raw, ok := extra[n]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", inSource("transaction_token", &ClaimError{Claim: n, Err: valueError(err)})
		}
		vals = append(vals, s)
	}
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) == 2 && vals[0] != vals[1]:
		return "", fmt.Errorf("%w: %s and mitid.%s differ", ErrTextMismatch, name, name)
	}
	return vals[0], nil
}

// OCSPResponse parses OCSP with golang.org/x/crypto/ocsp: Status
// (ocsp.Good, ocsp.Revoked, ocsp.Unknown), ProducedAt, ThisUpdate,
// NextUpdate and SerialNumber, the serial of the certificate the response
// is about — compare it with the transaction-signing certificate, the x5c
// of the broker's JWKS entry that KeyID names.
//
// issuer is the certificate of the CA that issued that certificate (for
// partest, partest.Server.TransactionCA). With it, the response's
// signature must chain to issuer: made by issuer itself, or by a
// responder certificate the response embeds that issuer signed, that is
// authorised for OCSP signing (RFC 6960 §4.2.2.2) and was valid when the
// response was produced. With a nil issuer only the structure is read and
// an embedded responder's own signature checked, which proves nothing
// about who made the response.
func (t *SigningToken) OCSPResponse(issuer *x509.Certificate) (*ocsp.Response, error) {
	if len(t.OCSP) == 0 {
		return nil, errors.New("mitid: transaction_token_ocsp_resp: none in the token response")
	}
	resp, err := ocsp.ParseResponse(t.OCSP, issuer)
	if err != nil {
		return nil, fmt.Errorf("mitid: transaction_token_ocsp_resp: %w", err)
	}
	if issuer == nil || resp.Certificate == nil || resp.Certificate.Equal(issuer) {
		return resp, nil
	}
	r := resp.Certificate
	switch {
	case !slices.Contains(r.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning):
		return nil, errors.New("mitid: transaction_token_ocsp_resp: the responder certificate is not authorised for OCSP signing (RFC 6960 §4.2.2.2)")
	case resp.ProducedAt.Before(r.NotBefore) || resp.ProducedAt.After(r.NotAfter):
		return nil, errors.New("mitid: transaction_token_ocsp_resp: the responder certificate was not valid when the response was produced")
	}
	return resp, nil
}

// jwtHeader holds the JOSE header members read after verification.
type jwtHeader struct {
	Type  string `json:"typ"`
	KeyID string `json:"kid"`
}

// verifyToken verifies raw, a JWT the broker signed for this client, with
// the client's keys and checks, and returns its payload and header. The
// header is read only after the signature, which covers it, verified.
func verifyToken(ctx context.Context, c *client.Client, raw string) ([]byte, jwtHeader, error) {
	var h jwtHeader
	payload, err := c.VerifyJWT(ctx, raw)
	if err != nil {
		return nil, h, err
	}
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || json.Unmarshal(b, &h) != nil {
		return nil, h, fmt.Errorf("%w: unreadable JOSE header", client.ErrInvalidResponse)
	}
	return payload, h, nil
}

// sameSubject checks a source's sub against the verified ID token's.
func sameSubject(source, sub string, t *client.Tokens) error {
	if sub == "" || sub != t.IDToken.Subject {
		return inSource(source, ErrSubjectMismatch)
	}
	return nil
}

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// claimError turns a json error about a struct field into an error that
// names no value.
func claimError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ClaimError{Claim: te.Field, Err: valueError(err)}
	}
	return err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sourceError is an error about one token or response, named once in
// its text: "mitid: transaction_token: claim amr: …" rather than
// "mitid: transaction_token: mitid: claim amr: …".
type sourceError struct {
	source string
	err    error
}

func inSource(source string, err error) error { return &sourceError{source: source, err: err} }

func (e *sourceError) Error() string {
	return "mitid: " + e.source + ": " + strings.TrimPrefix(e.err.Error(), "mitid: ")
}

func (e *sourceError) Unwrap() error { return e.err }
