package partest

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// txText is a transaction text the user is asked to sign
// (idp_params.mitid.transaction_text).
type txText struct {
	text     string // the base64 text exactly as sent
	textType string // transaction_text_type; "" when not sent
	// sha256 is transaction_text_sha256: the standard base64 (padded) of
	// the SHA-256 of the decoded text, the bytes the user was shown. The
	// recording (CAP-031 of the recording project) settles this: its
	// digest is that of the decoded text, not of the base64 string as sent.
	sha256 string
}

// transactionTextTypes are the transaction_text_type values MitID takes.
var transactionTextTypes = []string{"text", "html", "pdf"}

// parseTxText reads the transaction text of idp_params (a JSON object, as
// the broker takes it: {"mitid":{"transaction_text":"<base64>",
// "transaction_text_type":"text"}}). Without a transaction text it returns
// nil. As recorded and documented, the text must come inside a signed
// request object (signed); the broker never showed it taking one from a
// plain request, so partest refuses that (invalid_request) rather than let
// an app pass a test the broker may fail. The text must be base64
// (standard or URL-safe, without white space) and the type, when sent, one
// of text, html and pdf.
func parseTxText(idpParams string, signed bool) (*txText, *oauthError) {
	if idpParams == "" {
		return nil, nil
	}
	var p struct {
		MitID struct {
			Text *string `json:"transaction_text"`
			Type *string `json:"transaction_text_type"`
		} `json:"mitid"`
	}
	if err := json.Unmarshal([]byte(idpParams), &p); err != nil || p.MitID.Text == nil {
		// idp_params is not checked further here: the broker passes
		// its values on to the identity provider.
		return nil, nil
	}
	if !signed {
		return nil, invalidRequest("idp_params.mitid.transaction_text must be sent inside a signed request object")
	}
	raw, err := decodeStdOrURL(*p.MitID.Text)
	if err != nil || len(raw) == 0 {
		return nil, invalidRequest("idp_params.mitid.transaction_text is not base64")
	}
	tx := &txText{text: *p.MitID.Text}
	if p.MitID.Type != nil {
		if !slices.Contains(transactionTextTypes, *p.MitID.Type) {
			return nil, invalidRequest("idp_params.mitid.transaction_text_type %q is not one of text, html, pdf", *p.MitID.Type)
		}
		tx.textType = *p.MitID.Type
	}
	sum := sha256.Sum256(raw)
	tx.sha256 = base64.StdEncoding.EncodeToString(sum[:])
	return tx, nil
}

// decodedText returns the transaction text to show the user.
func (tx *txText) decodedText() string {
	b, _ := decodeStdOrURL(tx.text)
	return string(b)
}

// userinfoToken returns the broker's userinfo_token of g: a JWT signed
// with the ID-token key, header typ at+jwt, with the user's claims as
// strings (amr a list, auth_time a string; as recorded, without
// mitid.psd2 and mitid.geo_ip_distance_km, which only UserInfo carries),
// idp_identity_id, acr, the identity provider's mitid.transaction_id and
// the broker's transaction_id, the mapped sub, and iss, aud, iat, nbf and
// exp (the ID token's lifetime) as a JWT's.
func (s *Server) userinfoToken(g *grant) (string, error) {
	now := s.Config.Now()
	u := s.user(g.sub)
	claims := stringClaims(u)
	delete(claims, "mitid.psd2")
	delete(claims, "mitid.geo_ip_distance_km")
	if amr := stringList(u.Claims["amr"]); len(amr) > 0 {
		claims["amr"] = amr
	}
	if id, ok := claims["mitid.uuid"].(string); ok {
		claims["idp_identity_id"] = id
	}
	if _, ok := claims["acr"]; !ok && claims["loa"] != nil {
		claims["acr"] = claims["loa"]
	}
	if g.sess != nil {
		claims["auth_time"] = strconv.FormatInt(g.sess.authTime.Unix(), 10)
		claims["transaction_id"] = g.sess.txID
		if claims["idp"] == "mitid" {
			claims["mitid.transaction_id"] = g.sess.idpTxID
		}
	}
	claims["sub"] = s.subjectFor(g.client, g.sub)
	claims["iss"] = s.Issuer()
	claims["aud"] = g.client.ID
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(s.Config.IDTokenLifetime).Unix()
	k, err := s.signingKey(s.Config.IDTokenAlg)
	if err != nil {
		return "", err
	}
	return signJWT(k.Key.(crypto.Signer), s.Config.IDTokenAlg, k.KeyID, "at+jwt", claims)
}

// transactionToken returns the broker's transaction_token of g and its
// transaction_token_ocsp_resp (standard base64 of a DER OCSP response
// saying "good" about the transaction-signing certificate). The token is
// signed RS256 with the transaction key (kid of that JWKS entry, typ JWT)
// and lives six years. Its members are the recorded ones: the user's claims
// as strings with amr a single string (several values joined by a space),
// acr, auth_time (a string), idp_identity_id, the identity provider's
// mitid.transaction_id, the broker's transaction_id, the mapped sub,
// redirect_uri, nonce, requested_scope, transaction_actions ("mitid.login",
// or ["mitid.login","mitid.transaction_signing"] after signing a text),
// transaction_client_ip, iss, aud, iat, nbf, exp, and after signing a text
// transaction_text (the base64 as sent), transaction_text_type and
// transaction_text_sha256, each also with the mitid. prefix.
func (s *Server) transactionToken(g *grant) (token, ocspResp string, err error) {
	set, err := transactionKeys()
	if err != nil {
		return "", "", err
	}
	now := s.Config.Now()
	u := s.user(g.sub)
	claims := stringClaims(u)
	if amr := stringList(u.Claims["amr"]); len(amr) > 0 {
		claims["amr"] = strings.Join(amr, " ")
	}
	if id, ok := claims["mitid.uuid"].(string); ok {
		claims["idp_identity_id"] = id
	}
	if _, ok := claims["acr"]; !ok && claims["loa"] != nil {
		claims["acr"] = claims["loa"]
	}
	sess := g.sess
	if sess == nil {
		sess = s.newSession(u, "127.0.0.1", nil)
	}
	claims["auth_time"] = strconv.FormatInt(sess.authTime.Unix(), 10)
	claims["transaction_id"] = sess.txID
	if claims["idp"] == "mitid" {
		claims["mitid.transaction_id"] = sess.idpTxID
	}
	claims["sub"] = s.subjectFor(g.client, g.sub)
	if g.redirectURI != "" {
		claims["redirect_uri"] = g.redirectURI
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	claims["requested_scope"] = g.scope
	claims["transaction_actions"] = "mitid.login"
	if tx := sess.tx; tx != nil {
		for _, prefix := range []string{"", "mitid."} {
			claims[prefix+"transaction_text"] = tx.text
			if tx.textType != "" {
				claims[prefix+"transaction_text_type"] = tx.textType
			}
			claims[prefix+"transaction_text_sha256"] = tx.sha256
		}
		claims["transaction_actions"] = []string{"mitid.login", "mitid.transaction_signing"}
	}
	claims["transaction_client_ip"] = sess.clientIP
	claims["iss"] = s.Issuer()
	claims["aud"] = g.client.ID
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(transactionTokenLifetime).Unix()
	token, err = signJWT(set.jwk.Key.(crypto.Signer), jose.RS256, set.jwk.KeyID, "JWT", claims)
	if err != nil {
		return "", "", err
	}
	der, err := transactionOCSP(set, now)
	if err != nil {
		return "", "", err
	}
	return token, base64.StdEncoding.EncodeToString(der), nil
}
