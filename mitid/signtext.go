package mitid

import (
	"encoding/base64"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// SignText is a text for the user to sign with MitID (transaction signing,
// transactionsigning/transaction-signing.md); set exactly one field. ID
// names a text registered through the broker's Signtext API (signtext_id).
// Text, HTML and PDF send the content itself as signtext_base64 and
// signtext_type, which the broker accepts at its PAR endpoint only
// (transactionsigning/transactionsigning_par.md), as Push sends them.
// Request the transaction_token scope to get the signed receipt.
//
// No recording of the broker covers this path: it follows the broker's
// documentation only. The path recorded in pre-production (2026) sends the
// text as transaction_text and transaction_text_type in idp_params.mitid,
// inside a signed request object, with the transaction_token scope
// (broker-recorded.md, "Requests"): prefer [Params].TransactionText, whose
// result [VerifySigningToken] checks.
type SignText struct {
	ID   string // signtext_id
	Text string // plain text, UTF-8 (signtext_type text)
	HTML string // HTML, UTF-8 (signtext_type html)
	PDF  []byte // a PDF document (signtext_type pdf)
}

// Options validates s and returns its parameters with prompt=login, without
// which the broker reuses an existing session silently and shows no text.
// An invalid or missing text gives a *ParamError.
func (s SignText) Options() ([]oauth2.AuthCodeOption, error) {
	typ, content, n := "", []byte(nil), 0
	if s.Text != "" {
		typ, content, n = "text", []byte(s.Text), n+1
	}
	if s.HTML != "" {
		typ, content, n = "html", []byte(s.HTML), n+1
	}
	if len(s.PDF) > 0 {
		typ, content, n = "pdf", s.PDF, n+1
	}
	switch {
	case s.ID != "" && n > 0:
		return nil, paramErr("signtext_id", "signtext_id and signtext_base64 are exclusive")
	case s.ID != "":
		if !isToken(s.ID) {
			return nil, paramErr("signtext_id", "must be an id without spaces")
		}
		return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("signtext_id", s.ID), promptLogin}, nil
	case n == 0:
		return nil, paramErr("signtext_base64", "no text given")
	case n > 1:
		return nil, paramErr("signtext_type", "Text, HTML and PDF are exclusive")
	}
	if typ != "pdf" && !utf8.Valid(content) {
		return nil, paramErr("signtext_base64", "%s content is not UTF-8", typ)
	}
	return []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("signtext_base64", base64.StdEncoding.EncodeToString(content)),
		oauth2.SetAuthURLParam("signtext_type", typ),
		promptLogin,
	}, nil
}
