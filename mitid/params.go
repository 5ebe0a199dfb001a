package mitid

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// ParamError reports an invalid broker request parameter. Param is the
// parameter's name as the broker spells it ("reference_text", "idp_values").
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

// ErrCPRHintFrontChannel is returned (inside a *ParamError for "cpr_hint") by
// [Params.FrontChannelOptions]: the broker requires cpr_hint to travel
// encrypted, server to server (a pushed request) or in an encrypted request
// object, never in a browser URL (idps/mitid.md).
var ErrCPRHintFrontChannel = errors.New("may only be sent in a pushed (PAR) or encrypted request, not in a front-channel URL")

// IDP names an identity provider behind the broker, as used in idp_values and
// in the idp claim (idps/identity-providers.md).
type IDP string

// The identity providers the broker documents.
const (
	MitID        IDP = "mitid"         // Danish national eID
	MitIDErhverv IDP = "mitid_erhverv" // Danish professional eID (NemLog-in), scope "nemlogin"
	SoloID       IDP = "soloid"
	PasskeyID    IDP = "passkeyid"
	EBoks        IDP = "eboks"
	MobilePay    IDP = "mobilepay"
	EUID         IDP = "euid" // EU wallet ID (also behind AltID)
	EUAV         IDP = "euav" // EU wallet age verification (also behind AltID)

	// NemID was closed down in 2023; the broker's multiple-IdP example
	// ("mitid nemid") still names it.
	//
	// Deprecated: NemID no longer exists; use MitID.
	NemID IDP = "nemid"
)

// IDPValues returns the idp_values parameter: the identity providers the
// broker may use, in order of preference; several values give the user a
// chooser (oidc-integration.md). Values outside the documented constants are
// passed on (the broker adds providers over time), but each must be a single
// non-empty token and appear once.
func IDPValues(idps ...IDP) (oauth2.AuthCodeOption, error) {
	s, err := joinIDPs(idps)
	if err != nil {
		return nil, err
	}
	return oauth2.SetAuthURLParam("idp_values", s), nil
}

func joinIDPs(idps []IDP) (string, error) {
	if len(idps) == 0 {
		return "", paramErr("idp_values", "no identity provider given")
	}
	seen := make(map[IDP]bool, len(idps))
	parts := make([]string, 0, len(idps))
	for _, idp := range idps {
		if !isToken(string(idp)) {
			return "", paramErr("idp_values", "invalid identity provider name")
		}
		if seen[idp] {
			return "", paramErr("idp_values", "identity provider %q given twice", idp)
		}
		seen[idp] = true
		parts = append(parts, string(idp))
	}
	return strings.Join(parts, " "), nil
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

// LanguageCode is a value of the broker's language parameter.
type LanguageCode string

// The languages the broker supports (oidc-integration.md).
const (
	Danish      LanguageCode = "da"
	English     LanguageCode = "en"
	Greenlandic LanguageCode = "kl"
)

// Language returns the broker's language parameter, which sets the language
// of the login pages: da, en or kl only (oidc-integration.md). The broker
// uses this custom parameter, not ui_locales.
func Language(l LanguageCode) (oauth2.AuthCodeOption, error) {
	switch l {
	case Danish, English, Greenlandic:
		return oauth2.SetAuthURLParam("language", string(l)), nil
	}
	return nil, paramErr("language", "must be da, en or kl")
}

// SignTextType is the format of a text to sign (signtext_type).
type SignTextType string

// The documented sign-text formats (transactionsigning/transactionsigning_par.md).
const (
	SignTextPlain SignTextType = "text"
	SignTextHTML  SignTextType = "html"
	SignTextPDF   SignTextType = "pdf"
)

// promptLogin forces re-authentication. The broker needs it for signing and
// step-up: without it an existing SSO session is reused silently and no
// signing text is shown (transactionsigning/transaction-signing.md).
var promptLogin = oauth2.SetAuthURLParam("prompt", "login")

// SignTextID returns the signtext_id parameter (an id from the broker's
// Signtext API) together with prompt=login, which the broker needs for the
// text to be shown. Request the transaction_token scope to get the signed
// receipt (transactionsigning/transaction-signing.md).
func SignTextID(id string) ([]oauth2.AuthCodeOption, error) {
	if !isToken(id) {
		return nil, paramErr("signtext_id", "must be a non-empty id without spaces")
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("signtext_id", id), promptLogin}, nil
}

// SignText returns signtext_base64 (content, base64-encoded here) and
// signtext_type, which the broker accepts at its PAR endpoint only, and only
// together; the flow is then the same as with [SignTextID]
// (transactionsigning/transactionsigning_par.md). prompt=login is added as
// for SignTextID. Text and HTML content must be UTF-8.
func SignText(typ SignTextType, content []byte) ([]oauth2.AuthCodeOption, error) {
	switch typ {
	case SignTextPlain, SignTextHTML:
		if !utf8.Valid(content) {
			return nil, paramErr("signtext_base64", "%s content is not UTF-8", typ)
		}
	case SignTextPDF:
	default:
		return nil, paramErr("signtext_type", "must be text, html or pdf")
	}
	if len(content) == 0 {
		return nil, paramErr("signtext_base64", "empty content")
	}
	return []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("signtext_base64", base64.StdEncoding.EncodeToString(content)),
		oauth2.SetAuthURLParam("signtext_type", string(typ)),
		promptLogin,
	}, nil
}

// SimulationMode selects how the broker simulates MitID and NemLog-in.
type SimulationMode string

// The simulation modes (enterprise/simulation.md).
const (
	SimulationUI   SimulationMode = "ui"    // simulated MitID client UI
	SimulationNoUI SimulationMode = "no-ui" // no UI at all, for automated tests
)

// SimulationParams describe the broker's simulation parameter, an enterprise
// test feature that replaces MitID and NemLog-in with simulators
// (enterprise/simulation.md). It is for test environments; never send it in
// production.
type SimulationParams struct {
	Mode             SimulationMode
	UUID             string // MitID UUID of the simulated user (optional)
	CPR              string // CPR number of the simulated user, 10 digits (optional)
	MitIDErhvervUUID string // MitID Erhverv UUID of the simulated user (optional)
}

// Simulation returns the simulation parameter, whose value is the mode
// followed by space-separated key:value pairs ("no-ui uuid:… cpr:…").
func Simulation(s SimulationParams) (oauth2.AuthCodeOption, error) {
	if s.Mode != SimulationUI && s.Mode != SimulationNoUI {
		return nil, paramErr("simulation", "mode must be ui or no-ui")
	}
	v := []string{string(s.Mode)}
	if s.UUID != "" {
		if !isUUID(s.UUID) {
			return nil, paramErr("simulation", "uuid is not a UUID")
		}
		v = append(v, "uuid:"+s.UUID)
	}
	if s.CPR != "" {
		if !isCPR(s.CPR) {
			return nil, paramErr("simulation", "cpr must be 10 digits")
		}
		v = append(v, "cpr:"+s.CPR)
	}
	if s.MitIDErhvervUUID != "" {
		if !isUUID(s.MitIDErhvervUUID) {
			return nil, paramErr("simulation", "mitid_erhverv_uuid is not a UUID")
		}
		v = append(v, "mitid_erhverv_uuid:"+s.MitIDErhvervUUID)
	}
	return oauth2.SetAuthURLParam("simulation", strings.Join(v, " ")), nil
}

// ActionText is the action header the MitID client shows (action_text).
type ActionText string

// The documented action texts (idps/mitid.md).
const (
	ActionLogOn   ActionText = "LOG_ON"
	ActionApprove ActionText = "APPROVE"
	ActionConfirm ActionText = "CONFIRM"
	ActionAccept  ActionText = "ACCEPT"
	ActionSign    ActionText = "SIGN"
)

// AppSwitchOS is the operating system of an app-switch flow.
type AppSwitchOS string

// The documented app-switch operating systems (idps/mitid-handle-appswitch.md).
const (
	IOS     AppSwitchOS = "ios"
	Android AppSwitchOS = "android"
)

// MaxReferenceText is the most characters (Unicode code points) a MitID
// reference text may have (idps/mitid.md: "limited to 130 characters"). The
// limit applies to the text shown, before base64 encoding; the MitID
// controlled-transfer text has the same limit.
const MaxReferenceText = 130

// MitIDParams are the MitID section of idp_params (idps/mitid.md). The zero
// value sends an empty section and lets the broker apply its defaults
// (loa_value=substantial).
type MitIDParams struct {
	// LoA is loa_value, the requested NSIS level of assurance. Zero: the
	// broker's default, Substantial.
	LoA Level
	// AAL is aal_value, the requested authenticator assurance level; the
	// broker ignores it when loa_value is set, so setting both is an error.
	AAL Level
	// ReferenceText is the text shown in the MitID client at the last
	// authenticator, e.g. "Transfer 100 DKK to 1234-5678". Give it as plain
	// text, at most MaxReferenceText characters; it is base64-encoded here.
	ReferenceText string
	// ActionText is the action header of the MitID client.
	ActionText ActionText
	// UUIDHint starts the flow for the MitID identity with this UUID.
	UUIDHint string
	// CPRHint starts the flow for the MitID identity with this CPR number
	// (10 digits). The broker requires it to be sent encrypted: in a pushed
	// request (Options, over TLS) or an encrypted request object, never in a
	// browser URL. See [Params.FrontChannelOptions].
	CPRHint string
	// RequirePSD2 makes the flow PSD2-compliant (require_psd2).
	RequirePSD2 bool
	// EnableStepUp asks for MitID step-up from a lower existing session. It
	// needs prompt=login, which Options adds, and LoA or AAL set.
	EnableStepUp bool
	// EnableAppSwitch turns on app switch to the MitID app; AppSwitchOS and
	// AppSwitchURL (an https Universal Link / App Link) are optional, the
	// client's default URL is used otherwise (idps/mitid-handle-appswitch.md).
	EnableAppSwitch bool
	AppSwitchOS     AppSwitchOS
	AppSwitchURL    string
	// TransferTokenExchangeCode and TransferTokenText redeem a MitID
	// Controlled Transfer code received from another service provider; both
	// or neither. The text is at most MaxReferenceText characters.
	TransferTokenExchangeCode string
	TransferTokenText         string
}

// MitIDErhvervParams are the MitID Erhverv section of idp_params
// (idps/mitid-erhverv.md).
type MitIDErhvervParams struct {
	// AllowPrivate lets the user continue with a private MitID instead of a
	// professional identity.
	AllowPrivate bool
}

// Params are the broker's idp_params: per-IdP settings, sent as a JSON
// string parameter (oidc-integration.md). A nil section is left out.
type Params struct {
	MitID        *MitIDParams
	MitIDErhverv *MitIDErhvervParams
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
}

type erhvervWire struct {
	AllowPrivate bool `json:"allow_private,omitempty"`
}

type paramsWire struct {
	MitID        *mitidWire   `json:"mitid,omitempty"`
	MitIDErhverv *erhvervWire `json:"mitid_erhverv,omitempty"`
}

// Validate checks p against the broker's documented rules and returns a
// *ParamError naming the first bad parameter.
func (p Params) Validate() error {
	_, err := p.wire()
	return err
}

func (p Params) wire() (paramsWire, error) {
	var w paramsWire
	if m := p.MitID; m != nil {
		mw, err := m.wire()
		if err != nil {
			return w, err
		}
		w.MitID = &mw
	}
	if e := p.MitIDErhverv; e != nil {
		w.MitIDErhverv = &erhvervWire{AllowPrivate: e.AllowPrivate}
	}
	return w, nil
}

func (m *MitIDParams) wire() (mitidWire, error) {
	var w mitidWire
	if m.LoA != 0 {
		if !m.LoA.valid() {
			return w, paramErr("loa_value", "must be Low, Substantial or High")
		}
		w.LoA = strings.ToLower(m.LoA.String())
	}
	if m.AAL != 0 {
		if !m.AAL.valid() {
			return w, paramErr("aal_value", "must be Low, Substantial or High")
		}
		if m.LoA != 0 {
			return w, paramErr("aal_value", "ignored by the broker when loa_value is set")
		}
		w.AAL = strings.ToLower(m.AAL.String())
	}
	if m.ReferenceText != "" {
		if err := checkText(m.ReferenceText); err != nil {
			return w, &ParamError{Param: "reference_text", Err: err}
		}
		w.ReferenceText = base64.StdEncoding.EncodeToString([]byte(m.ReferenceText))
	}
	switch m.ActionText {
	case "", ActionLogOn, ActionApprove, ActionConfirm, ActionAccept, ActionSign:
		w.ActionText = string(m.ActionText)
	default:
		return w, paramErr("action_text", "must be LOG_ON, APPROVE, CONFIRM, ACCEPT or SIGN")
	}
	if m.UUIDHint != "" {
		if !isUUID(m.UUIDHint) {
			return w, paramErr("uuid_hint", "is not a UUID")
		}
		w.UUIDHint = m.UUIDHint
	}
	if m.CPRHint != "" {
		if !isCPR(m.CPRHint) {
			return w, paramErr("cpr_hint", "must be 10 digits")
		}
		w.CPRHint = m.CPRHint
	}
	w.RequirePSD2 = m.RequirePSD2
	if m.EnableStepUp {
		if m.LoA == 0 && m.AAL == 0 {
			return w, paramErr("enable_step_up", "needs loa_value or aal_value above the existing session")
		}
		w.EnableStepUp = true
	}
	if !m.EnableAppSwitch && (m.AppSwitchOS != "" || m.AppSwitchURL != "") {
		return w, paramErr("enable_app_switch", "app_switch_os and app_switch_url need enable_app_switch")
	}
	w.EnableAppSwitch = m.EnableAppSwitch
	switch m.AppSwitchOS {
	case "", IOS, Android:
		w.AppSwitchOS = string(m.AppSwitchOS)
	default:
		return w, paramErr("app_switch_os", "must be ios or android")
	}
	if m.AppSwitchURL != "" {
		u, err := url.Parse(m.AppSwitchURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return w, paramErr("app_switch_url", "must be an absolute https URL")
		}
		w.AppSwitchURL = m.AppSwitchURL
	}
	if (m.TransferTokenExchangeCode == "") != (m.TransferTokenText == "") {
		return w, paramErr("transfer_token_exchange_code", "transfer_token_exchange_code and transfer_token_text go together")
	}
	if m.TransferTokenExchangeCode != "" {
		if !isToken(m.TransferTokenExchangeCode) {
			return w, paramErr("transfer_token_exchange_code", "must be a non-empty code without spaces")
		}
		if err := checkText(m.TransferTokenText); err != nil {
			return w, &ParamError{Param: "transfer_token_text", Err: err}
		}
		w.TransferTokenExchangeCode = m.TransferTokenExchangeCode
		w.TransferTokenText = m.TransferTokenText
	}
	return w, nil
}

func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxReferenceText {
		return fmt.Errorf("%d characters, at most %d allowed", n, MaxReferenceText)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("contains a control character")
		}
	}
	return nil
}

// JSON validates p and returns the idp_params JSON object, for callers that
// put idp_params into a request object themselves.
func (p Params) JSON() ([]byte, error) {
	w, err := p.wire()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("mitid: idp_params: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Options validates p and returns the idp_params parameter (a JSON string),
// plus prompt=login when MitID step-up is requested. They are meant for a
// pushed request (PAR, RFC 9126 §2.1): cpr_hint is allowed. Put them before
// any prompt option of your own if you mean to override it. A zero Params
// gives no options.
func (p Params) Options() ([]oauth2.AuthCodeOption, error) {
	if p.MitID == nil && p.MitIDErhverv == nil {
		return nil, nil
	}
	b, err := p.JSON()
	if err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("idp_params", string(b))}
	if p.MitID != nil && p.MitID.EnableStepUp {
		opts = append(opts, promptLogin)
	}
	return opts, nil
}

// FrontChannelOptions is Options for a request sent through the browser (a
// plain authorization URL without PAR): it refuses a CPRHint with
// [ErrCPRHintFrontChannel].
func (p Params) FrontChannelOptions() ([]oauth2.AuthCodeOption, error) {
	if p.MitID != nil && p.MitID.CPRHint != "" {
		return nil, &ParamError{Param: "cpr_hint", Err: ErrCPRHintFrontChannel}
	}
	return p.Options()
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
