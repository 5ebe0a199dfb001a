package mitid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Claims are the claims the broker issues in the ID token, the UserInfo
// response and the userinfo token (issued-claims-tokens.md, idps/mitid.md,
// idps/mitid-erhverv.md). The ID token is minimal; most claims come from
// UserInfo, whose sub must equal the ID token's.
//
// Claims decode with json.Unmarshal or go-oidc's IDToken.Claims. The broker
// writes many values as strings ("88", "true", "1663143384"); the int, bool,
// time and []string fields accept both forms (a time is a NumericDate, RFC
// 7519 §2, in either form; amr a single string or an array). JSON null
// leaves a field unset. Claims without a field land in Extra. A value of the
// wrong type gives a *ClaimError naming the claim. Claims does NOT verify
// anything: verify the ID token (or fetch UserInfo with its access token)
// first.
type Claims struct {
	Issuer   string    `json:"iss"`
	Subject  string    `json:"sub"` // per-organisation UUID
	AuthTime time.Time `json:"auth_time"`

	IDP            IDP    `json:"idp"`             // identity provider used
	IDPEnvironment string `json:"idp_environment"` // optional
	// IdentityType is "private", "professional" or "test".
	IdentityType  string    `json:"identity_type"`
	SessionID     string    `json:"neb_sid"` // the broker's session id (not sid)
	TransactionID string    `json:"transaction_id"`
	SessionExpiry time.Time `json:"session_expiry"` // absolute end of the broker session
	// TransactionActions are what a transaction token vouches for, such as
	// "mitid.login" and "mitid.transaction_signing"; the broker writes a
	// single action as a string.
	TransactionActions []string `json:"transaction_actions"`

	// LoA, IAL and AAL are NSIS level URIs; see [ParseLevel].
	LoA string   `json:"loa"`
	IAL string   `json:"ial"`
	AAL string   `json:"aal"`
	AMR []string `json:"amr"` // spelling varies: "code_app", "mitid:code_app", "mitid.password"

	// MitID are the mitid.* claims (scope mitid; idps/mitid.md).
	MitID struct {
		UUID          string `json:"mitid.uuid"` // global MitID identifier
		DateOfBirth   string `json:"mitid.date_of_birth"`
		Age           int    `json:"mitid.age"`
		IdentityName  string `json:"mitid.identity_name"`
		TransactionID string `json:"mitid.transaction_id"`
		HasCPR        bool   `json:"mitid.has_cpr"`
		PSD2          bool   `json:"mitid.psd2"`
		// IAL is mitid.ial_identity_assurance_level, MitID's own spelling
		// ("MEDIUM"), not an NSIS URI.
		IAL string `json:"mitid.ial_identity_assurance_level"`
	}
	// NemLogin are the nemlogin.* claims of MitID Erhverv (scope nemlogin;
	// idps/mitid-erhverv.md).
	NemLogin struct {
		CVR                      string `json:"nemlogin.cvr"`
		OrgName                  string `json:"nemlogin.org_name"`
		Name                     string `json:"nemlogin.name"`
		GivenName                string `json:"nemlogin.given_name"`
		FamilyName               string `json:"nemlogin.family_name"`
		Email                    string `json:"nemlogin.email"`
		DateOfBirth              string `json:"nemlogin.date_of_birth"`
		PersistentProfessionalID string `json:"nemlogin.persistent_professional_id"`
		CPRUUID                  string `json:"nemlogin.cpr_uuid"` // private service providers
		CPR                      string `json:"nemlogin.cpr"`      // public service providers
		RID                      string `json:"nemlogin.nemid.rid"`
		SENumber                 string `json:"nemlogin.se_number"`
		PNumber                  string `json:"nemlogin.p_number"`
	}

	CPR          string `json:"dk.cpr"`           // scope ssn
	NemIDPID     string `json:"nemid.pid"`        // scope nemid.pid
	NemIDPIDStat string `json:"nemid.pid_status"` // "success" or "unable_to_lookup"

	// Extra holds every claim not mapped to a field above (aud, exp, nonce,
	// ssn.details.*, …) as compact JSON, undecoded. Nil when there are none.
	Extra map[string]json.RawMessage
}

// ClaimError reports a claim whose value has the wrong type. It names the
// claim, never its value.
type ClaimError struct {
	Claim string
	Err   error
}

// Error names the claim and the problem, never the value.
func (e *ClaimError) Error() string { return "mitid: claim " + e.Claim + ": " + e.Err.Error() }

// Unwrap returns the decoding error, for [errors.Is] and [errors.As].
func (e *ClaimError) Unwrap() error { return e.Err }

// fields maps each claim name to its field in c; the fields whose JSON form
// varies are wrapped in the flexible decoders below.
func (c *Claims) fields() map[string]any {
	return map[string]any{
		"iss":                 &c.Issuer,
		"sub":                 &c.Subject,
		"auth_time":           (*numericDate)(&c.AuthTime),
		"idp":                 &c.IDP,
		"idp_environment":     &c.IDPEnvironment,
		"identity_type":       &c.IdentityType,
		"neb_sid":             &c.SessionID,
		"transaction_id":      &c.TransactionID,
		"session_expiry":      (*numericDate)(&c.SessionExpiry),
		"transaction_actions": (*flexStrings)(&c.TransactionActions),
		"loa":                 &c.LoA,
		"ial":                 &c.IAL,
		"aal":                 &c.AAL,
		"amr":                 (*flexStrings)(&c.AMR),
		"dk.cpr":              &c.CPR,
		"nemid.pid":           &c.NemIDPID,
		"nemid.pid_status":    &c.NemIDPIDStat,

		"mitid.uuid":                         &c.MitID.UUID,
		"mitid.date_of_birth":                &c.MitID.DateOfBirth,
		"mitid.age":                          (*flexInt)(&c.MitID.Age),
		"mitid.identity_name":                &c.MitID.IdentityName,
		"mitid.transaction_id":               &c.MitID.TransactionID,
		"mitid.has_cpr":                      (*flexBool)(&c.MitID.HasCPR),
		"mitid.psd2":                         (*flexBool)(&c.MitID.PSD2),
		"mitid.ial_identity_assurance_level": &c.MitID.IAL,

		"nemlogin.cvr":                        &c.NemLogin.CVR,
		"nemlogin.org_name":                   &c.NemLogin.OrgName,
		"nemlogin.name":                       &c.NemLogin.Name,
		"nemlogin.given_name":                 &c.NemLogin.GivenName,
		"nemlogin.family_name":                &c.NemLogin.FamilyName,
		"nemlogin.email":                      &c.NemLogin.Email,
		"nemlogin.date_of_birth":              &c.NemLogin.DateOfBirth,
		"nemlogin.persistent_professional_id": &c.NemLogin.PersistentProfessionalID,
		"nemlogin.cpr_uuid":                   &c.NemLogin.CPRUUID,
		"nemlogin.cpr":                        &c.NemLogin.CPR,
		"nemlogin.nemid.rid":                  &c.NemLogin.RID,
		"nemlogin.se_number":                  &c.NemLogin.SENumber,
		"nemlogin.p_number":                   &c.NemLogin.PNumber,
	}
}

// UnmarshalJSON decodes a JSON object of claims into c.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("mitid: claims: %w", err)
	}
	if raw == nil {
		return errors.New("mitid: claims: not a JSON object")
	}
	*c = Claims{}
	fields := c.fields()
	for name, v := range raw {
		f, ok := fields[name]
		if !ok {
			if c.Extra == nil {
				c.Extra = make(map[string]json.RawMessage)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return &ClaimError{Claim: name, Err: err}
			}
			c.Extra[name] = buf.Bytes()
			continue
		}
		if err := json.Unmarshal(v, f); err != nil {
			return &ClaimError{Claim: name, Err: valueError(err)}
		}
	}
	return nil
}

// valueError strips a json error down to its kind, so that no claim value
// ends up in an error string.
func valueError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("unexpected JSON %s", te.Value)
	}
	return err
}

// MarshalJSON encodes c as one flat JSON object: the fields that are set
// (zero values are left out; times as NumericDates, RFC 7519 §2) and Extra.
func (c Claims) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(c.Extra)+8)
	for k, v := range c.Extra {
		out[k] = v
	}
	for name, f := range c.fields() {
		switch v := f.(type) {
		case *string:
			if *v != "" {
				out[name] = *v
			}
		case *IDP:
			if *v != "" {
				out[name] = *v
			}
		case *flexBool:
			if *v {
				out[name] = bool(*v)
			}
		case *flexInt:
			if *v != 0 {
				out[name] = int(*v)
			}
		case *numericDate:
			if t := time.Time(*v); !t.IsZero() {
				out[name] = t.Unix()
			}
		case *flexStrings:
			if *v != nil {
				out[name] = []string(*v)
			}
		}
	}
	return json.Marshal(out)
}

// DisplayName is the user's name to show: mitid.identity_name for MitID,
// nemlogin.name (or nemlogin.given_name and nemlogin.family_name) for
// MitID Erhverv — the login's idp first, then the other — and finally
// OIDC's name claim (OIDC Core §5.1). It is "" when the claims carry no
// name: the broker puts names in UserInfo and the userinfo_token, not in
// the ID token (broker-recorded.md), so decode the UserInfo claims too.
func (c *Claims) DisplayName() string {
	mitID := c.MitID.IdentityName
	erhverv := c.NemLogin.Name
	if strings.TrimSpace(erhverv) == "" {
		erhverv = c.NemLogin.GivenName + " " + c.NemLogin.FamilyName
	}
	names := []string{mitID, erhverv}
	if c.IDP == MitIDErhverv {
		names = []string{erhverv, mitID}
	}
	var oidc string
	_ = json.Unmarshal(c.Extra["name"], &oidc)
	for _, n := range append(names, oidc) {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return ""
}

// RequireLevel checks that the loa claim is an NSIS level at or above min
// and returns a *LevelError otherwise. It uses loa only, failing when loa is
// missing: the broker always issues loa for MitID and MitID Erhverv, and loa
// is by definition the lower of ial and aal, so checking loa checks both
// (idps/mitid.md: ial=low, aal=substantial ⇒ loa=low). Use [ParseLevel] on
// IAL or AAL for policies about those alone.
func (c *Claims) RequireLevel(min Level) error {
	if !min.valid() {
		return fmt.Errorf("mitid: RequireLevel: invalid minimum %v", min)
	}
	got, err := ParseLevel(c.LoA)
	if err != nil {
		return &LevelError{Want: min}
	}
	if got < min {
		return &LevelError{Got: got, Want: min}
	}
	return nil
}

// flexBool is a boolean claim that the broker may write as a JSON boolean
// or as the string "true" / "false" (any case). null leaves it unchanged.
type flexBool bool

var errBool = errors.New("not a boolean")

// UnmarshalJSON accepts true, false, "true" and "false".
func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return errBool
		}
	}
	switch {
	case strings.EqualFold(s, "true"):
		*b = true
	case strings.EqualFold(s, "false"):
		*b = false
	default:
		return errBool
	}
	return nil
}

// flexInt is an integer claim that the broker may write as a JSON number or
// as a string of decimal digits ("88"). null leaves it unchanged.
type flexInt int

var errInt = errors.New("not an integer")

// UnmarshalJSON accepts 88, "88" and integral numbers such as 88.0.
func (n *flexInt) UnmarshalJSON(data []byte) error {
	v, err := parseNumber(data, false)
	if err != nil || (v != nil && (*v < math.MinInt || *v > math.MaxInt)) {
		return errInt
	}
	if v != nil {
		*n = flexInt(*v)
	}
	return nil
}

// numericDate is a time claim in seconds since the Unix epoch (RFC 7519
// §2), as a JSON number or a string of digits ("1663143384", seen in the
// broker's transaction tokens). Fractions are dropped; 0 is the zero time.
// null leaves it unchanged.
type numericDate time.Time

var errDate = errors.New("not a numeric date")

// The NumericDates a time.Time holds without overflow: years 1 to 9999.
const minDate, maxDate = -62135596800, 253402300799

// UnmarshalJSON accepts 1663143384, 1663143384.5 and "1663143384".
func (d *numericDate) UnmarshalJSON(data []byte) error {
	v, err := parseNumber(data, true)
	if err != nil || (v != nil && (*v < minDate || *v > maxDate)) {
		return errDate
	}
	switch {
	case v == nil:
	case *v == 0:
		*d = numericDate{}
	default:
		*d = numericDate(time.Unix(*v, 0))
	}
	return nil
}

// parseNumber reads a JSON number or a string holding one. It returns nil
// for null. With truncate, fractions are dropped; without, they must be 0.
func parseNumber(data []byte, truncate bool) (*int64, error) {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil, nil
	}
	var num json.Number
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, err
		}
		// Only a JSON number inside the string: no hex, Inf, NaN or spaces.
		if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || !json.Valid([]byte(s)) {
			return nil, errInt
		}
		num = json.Number(s)
	} else if err := json.Unmarshal(data, &num); err != nil {
		return nil, err
	}
	if i, err := strconv.ParseInt(string(num), 10, 64); err == nil {
		return &i, nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < math.MinInt64 || f >= math.MaxInt64 {
		return nil, errInt
	}
	if !truncate && f != math.Trunc(f) {
		return nil, errInt
	}
	i := int64(f)
	return &i, nil
}

// flexStrings is a claim that may be a JSON array of strings or a single
// string (amr is both, depending on the token); a single string becomes a
// one-element slice and is not split. null leaves it unchanged.
type flexStrings []string

// UnmarshalJSON accepts ["a","b"] and "a".
func (s *flexStrings) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexStrings{v}
		return nil
	}
	var v []string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v == nil {
		v = []string{}
	}
	*s = v
	return nil
}
