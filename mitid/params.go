package mitid

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// ParamError reports an invalid broker request parameter. Param is the
// parameter's name as the broker spells it ("reference_text", "signtext_id").
// The error never contains the parameter's value.
type ParamError struct {
	Param string
	Err   error
}

// Error names the parameter and the problem, never the value.
func (e *ParamError) Error() string { return "mitid: " + e.Param + ": " + e.Err.Error() }

// Unwrap returns the underlying reason.
func (e *ParamError) Unwrap() error { return e.Err }

func paramErr(param, format string, args ...any) error {
	return &ParamError{Param: param, Err: fmt.Errorf(format, args...)}
}

// IDP names an identity provider behind the broker, as used in idp_values
// and in the idp claim (idps/identity-providers.md). Besides MitID and
// MitIDErhverv the broker documents "soloid", "passkeyid", "eboks",
// "mobilepay", "euid" and "euav" (EU wallet ID and age verification); write
// those as IDP("soloid").
type IDP string

// The identity providers this package has parameters and claims for.
const (
	MitID        IDP = "mitid"         // Danish national eID
	MitIDErhverv IDP = "mitid_erhverv" // Danish professional eID (NemLog-in), scope "nemlogin"
)

// IDPValues returns the idp_values parameter: the identity providers the
// broker may use, in order of preference; several values give the user a
// chooser (oidc-integration.md). Names outside the constants are passed on
// (the broker adds providers over time).
//
// IDPValues panics with a *ParamError when idps is empty, or a name is
// empty, holds a space or control character, or appears twice: identity
// providers are constants, so that is a programming error.
func IDPValues(idps ...IDP) oauth2.AuthCodeOption {
	if len(idps) == 0 {
		panic(paramErr("idp_values", "no identity provider given"))
	}
	parts := make([]string, 0, len(idps))
	for _, idp := range idps {
		switch {
		case !isToken(string(idp)):
			panic(paramErr("idp_values", "invalid identity provider name"))
		case slices.Contains(parts, string(idp)):
			panic(paramErr("idp_values", "identity provider %q given twice", idp))
		}
		parts = append(parts, string(idp))
	}
	return oauth2.SetAuthURLParam("idp_values", strings.Join(parts, " "))
}

// LanguageCode is a value of the broker's language parameter.
type LanguageCode string

// The languages the broker supports (oidc-integration.md).
const (
	Danish      LanguageCode = "da"
	English     LanguageCode = "en"
	Greenlandic LanguageCode = "kl"
)

// Language returns the broker's language parameter, which sets the language
// of the login pages (oidc-integration.md). The broker uses this custom
// parameter, not ui_locales.
//
// Language panics with a *ParamError for a code other than Danish, English
// and Greenlandic, the only ones the broker supports: map a user's
// preference onto these constants first.
func Language(l LanguageCode) oauth2.AuthCodeOption {
	switch l {
	case Danish, English, Greenlandic:
		return oauth2.SetAuthURLParam("language", string(l))
	}
	panic(paramErr("language", "must be da, en or kl"))
}

// promptLogin forces re-authentication. The broker needs it for signing and
// step-up: without it an existing SSO session is reused silently and no
// signing text is shown (transactionsigning/transaction-signing.md).
var promptLogin = oauth2.SetAuthURLParam("prompt", "login")

// maxText is the most characters (Unicode code points) a MitID reference
// text or controlled-transfer text may have (idps/mitid.md: "limited to 130
// characters"), counted before base64 encoding.
const maxText = 130

// Params are the broker's idp_params for MitID (the "mitid" section,
// idps/mitid.md) and MitID Erhverv (the "mitid_erhverv" section,
// idps/mitid-erhverv.md), sent as one JSON string parameter
// (oidc-integration.md). A section is sent when one of its fields is set;
// the zero value sends nothing and leaves the broker's defaults
// (loa_value=substantial).
type Params struct {
	// LoA is loa_value, the requested NSIS level of assurance. Zero: the
	// broker's default, Substantial.
	LoA Level
	// AAL is aal_value, the requested authenticator assurance level; the
	// broker ignores it when loa_value is set, so setting both is an error.
	AAL Level
	// ReferenceText is the text shown in the MitID client at the last
	// authenticator, e.g. "Transfer 100 DKK to 1234-5678". Give it as plain
	// text, at most 130 characters; it is base64-encoded here.
	ReferenceText string
	// ActionText is the action header of the MitID client: "LOG_ON",
	// "APPROVE", "CONFIRM", "ACCEPT" or "SIGN".
	ActionText string
	// UUIDHint starts the flow for the MitID identity with this UUID.
	UUIDHint string
	// CPRHint starts the flow for the MitID identity with this CPR number
	// (10 digits). The broker requires it to travel encrypted: Push sends it
	// server to server over TLS (PAR), CIBA in its back-channel request;
	// never put these options into a browser URL (idps/mitid.md).
	CPRHint string
	// RequirePSD2 makes the flow PSD2-compliant (require_psd2).
	RequirePSD2 bool
	// EnableStepUp asks for MitID step-up from a lower existing session. It
	// needs prompt=login, which Options adds, and LoA or AAL set.
	EnableStepUp bool
	// EnableAppSwitch turns on app switch to the MitID app; AppSwitchOS
	// ("ios" or "android") and AppSwitchURL (an https Universal Link / App
	// Link) are optional, the client's default URL is used otherwise
	// (idps/mitid-handle-appswitch.md).
	EnableAppSwitch bool
	AppSwitchOS     string
	AppSwitchURL    string
	// TransferTokenExchangeCode and TransferTokenText redeem a MitID
	// Controlled Transfer code received from another service provider; both
	// or neither. The text is at most 130 characters.
	TransferTokenExchangeCode string
	TransferTokenText         string

	// TransactionText is a text for the user to sign with MitID
	// (transaction signing as recorded from the broker, broker-recorded.md
	// "Requests"): the content itself — UTF-8 text, UTF-8 HTML or a PDF
	// document, as TransactionTextType says — base64-encoded here and sent
	// as transaction_text. The broker takes it only inside a signed request
	// object (client.Config.RequestObject) and issues the signed evidence,
	// its transaction_token, only for the transaction_token scope; Options
	// adds prompt=login, without which an existing session is reused and
	// no text is shown. Check the result with [VerifySigningToken] and
	// these same Params.
	TransactionText []byte
	// TransactionTextType is transaction_text_type: "text" (the default,
	// and the only type a recording shows), "html" or "pdf".
	TransactionTextType string

	// AllowPrivate is MitID Erhverv's allow_private: the user may continue
	// with a private MitID instead of a professional identity.
	AllowPrivate bool
}

type mitidWire struct {
	LoA                       string `json:"loa_value,omitempty"`
	AAL                       string `json:"aal_value,omitempty"`
	ReferenceText             string `json:"reference_text,omitempty"`
	ActionText                string `json:"action_text,omitempty"`
	UUIDHint                  string `json:"uuid_hint,omitempty"`
	CPRHint                   string `json:"cpr_hint,omitempty"`
	RequirePSD2               bool   `json:"require_psd2,omitempty"`
	EnableStepUp              bool   `json:"enable_step_up,omitempty"`
	EnableAppSwitch           bool   `json:"enable_app_switch,omitempty"`
	AppSwitchOS               string `json:"app_switch_os,omitempty"`
	AppSwitchURL              string `json:"app_switch_url,omitempty"`
	TransferTokenExchangeCode string `json:"transfer_token_exchange_code,omitempty"`
	TransferTokenText         string `json:"transfer_token_text,omitempty"`
	TransactionText           string `json:"transaction_text,omitempty"`
	TransactionTextType       string `json:"transaction_text_type,omitempty"`
}

type erhvervWire struct {
	AllowPrivate bool `json:"allow_private,omitempty"`
}

type paramsWire struct {
	MitID        *mitidWire   `json:"mitid,omitempty"`
	MitIDErhverv *erhvervWire `json:"mitid_erhverv,omitempty"`
}

// Options validates p and returns the idp_params parameter (a JSON string),
// plus prompt=login when MitID step-up or a transaction text is requested. An invalid field gives
// a *ParamError naming the broker's parameter. Put the options before any
// prompt option of your own if you mean to override it. A zero Params gives
// no options.
func (p Params) Options() ([]oauth2.AuthCodeOption, error) {
	var w paramsWire
	m, err := p.mitid()
	if err != nil {
		return nil, err
	}
	if m != (mitidWire{}) {
		w.MitID = &m
	}
	if p.AllowPrivate {
		w.MitIDErhverv = &erhvervWire{AllowPrivate: true}
	}
	if w.MitID == nil && w.MitIDErhverv == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("mitid: idp_params: %w", err)
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("idp_params", strings.TrimRight(buf.String(), "\n"))}
	if p.EnableStepUp || len(p.TransactionText) > 0 {
		opts = append(opts, promptLogin)
	}
	return opts, nil
}

// mitid validates and encodes the "mitid" section.
func (p *Params) mitid() (mitidWire, error) {
	var w mitidWire
	if p.LoA != 0 {
		if !p.LoA.valid() {
			return w, paramErr("loa_value", "must be Low, Substantial or High")
		}
		w.LoA = strings.ToLower(p.LoA.String())
	}
	if p.AAL != 0 {
		if !p.AAL.valid() {
			return w, paramErr("aal_value", "must be Low, Substantial or High")
		}
		if p.LoA != 0 {
			return w, paramErr("aal_value", "ignored by the broker when loa_value is set")
		}
		w.AAL = strings.ToLower(p.AAL.String())
	}
	if p.ReferenceText != "" {
		if err := checkText(p.ReferenceText); err != nil {
			return w, &ParamError{Param: "reference_text", Err: err}
		}
		w.ReferenceText = base64.StdEncoding.EncodeToString([]byte(p.ReferenceText))
	}
	switch p.ActionText {
	case "", "LOG_ON", "APPROVE", "CONFIRM", "ACCEPT", "SIGN":
		w.ActionText = p.ActionText
	default:
		return w, paramErr("action_text", "must be LOG_ON, APPROVE, CONFIRM, ACCEPT or SIGN")
	}
	if p.UUIDHint != "" {
		if !isUUID(p.UUIDHint) {
			return w, paramErr("uuid_hint", "is not a UUID")
		}
		w.UUIDHint = p.UUIDHint
	}
	if p.CPRHint != "" {
		if !isCPR(p.CPRHint) {
			return w, paramErr("cpr_hint", "must be 10 digits")
		}
		w.CPRHint = p.CPRHint
	}
	w.RequirePSD2 = p.RequirePSD2
	if p.EnableStepUp {
		if p.LoA == 0 && p.AAL == 0 {
			return w, paramErr("enable_step_up", "needs loa_value or aal_value above the existing session")
		}
		w.EnableStepUp = true
	}
	if !p.EnableAppSwitch && (p.AppSwitchOS != "" || p.AppSwitchURL != "") {
		return w, paramErr("enable_app_switch", "app_switch_os and app_switch_url need enable_app_switch")
	}
	w.EnableAppSwitch = p.EnableAppSwitch
	switch p.AppSwitchOS {
	case "", "ios", "android":
		w.AppSwitchOS = p.AppSwitchOS
	default:
		return w, paramErr("app_switch_os", "must be ios or android")
	}
	if p.AppSwitchURL != "" {
		u, err := url.Parse(p.AppSwitchURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return w, paramErr("app_switch_url", "must be an absolute https URL")
		}
		w.AppSwitchURL = p.AppSwitchURL
	}
	if (p.TransferTokenExchangeCode == "") != (p.TransferTokenText == "") {
		return w, paramErr("transfer_token_exchange_code", "transfer_token_exchange_code and transfer_token_text go together")
	}
	if p.TransferTokenExchangeCode != "" {
		if !isToken(p.TransferTokenExchangeCode) {
			return w, paramErr("transfer_token_exchange_code", "must be a non-empty code without spaces")
		}
		if err := checkText(p.TransferTokenText); err != nil {
			return w, &ParamError{Param: "transfer_token_text", Err: err}
		}
		w.TransferTokenExchangeCode = p.TransferTokenExchangeCode
		w.TransferTokenText = p.TransferTokenText
	}
	typ, err := p.transactionTextType()
	if err != nil {
		return w, err
	}
	if len(p.TransactionText) > 0 {
		if typ != "pdf" && !utf8.Valid(p.TransactionText) {
			return w, paramErr("transaction_text", "%s content is not UTF-8", typ)
		}
		w.TransactionText = base64.StdEncoding.EncodeToString(p.TransactionText)
		w.TransactionTextType = typ
	}
	return w, nil
}

// transactionTextType returns transaction_text_type: TransactionTextType,
// "text" when empty. A type without a text is an error.
func (p *Params) transactionTextType() (string, error) {
	typ := p.TransactionTextType
	switch {
	case typ != "" && len(p.TransactionText) == 0:
		return "", paramErr("transaction_text_type", "set without transaction_text")
	case typ == "":
		typ = "text"
	case typ != "text" && typ != "html" && typ != "pdf":
		return "", paramErr("transaction_text_type", "must be text, html or pdf")
	}
	return typ, nil
}

// checkText checks a text the MitID client shows: UTF-8, at most maxText
// characters, no control characters.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxText {
		return fmt.Errorf("%d characters, at most %d allowed", n, maxText)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("contains a control character")
		}
	}
	return nil
}

// isToken reports whether s is a non-empty run of printable ASCII without
// spaces, at most 256 bytes.
func isToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isCPR reports whether s is a CPR number written as 10 digits.
func isCPR(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
