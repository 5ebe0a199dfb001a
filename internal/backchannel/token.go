package backchannel

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// ErrErrorBody: a 2xx token response whose body is an RFC 6749 §5.2 error
// (some providers answer errors with 200); read it with ParseError.
var ErrErrorBody = errors.New("token response is an error response")

// ErrNoAccessToken: a token response without access_token.
var ErrNoAccessToken = errors.New("token response has no access_token")

// tokenJSON is a JSON token response (RFC 6749 §5.1), decoded only to
// check it: mistyped members fail the whole response, as in x/oauth2
// (whose struct decoding, like this one, matches member names without
// regard to case). The values are read from the decoded map, which
// Token.Extra needs anyway.
type tokenJSON struct {
	AccessToken  stringMember `json:"access_token"`
	TokenType    stringMember `json:"token_type"`
	RefreshToken stringMember `json:"refresh_token"`
	ExpiresIn    expiresIn    `json:"expires_in"`
	// Error only detects an error response; ParseError reads it.
	Error stringMember `json:"error"`
}

// stringMember is a member that must be a string or null; it remembers
// which, not the value, and how many members matched its name.
type stringMember struct {
	isString bool
	seen     int
}

var stringType = reflect.TypeFor[string]()

func (m *stringMember) UnmarshalJSON(b []byte) error {
	m.seen++
	switch {
	case len(b) > 0 && b[0] == '"':
		m.isString = true
	case string(b) == "null":
		m.isString = false
	default:
		kind := "number"
		switch b[0] {
		case '{':
			kind = "object"
		case '[':
			kind = "array"
		case 't', 'f':
			kind = "bool"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: stringType}
	}
	return nil
}

// value returns the member named name from raw when m saw a string there:
// ok is false when the decoder matched a member of another case, or
// several members, which the caller then reads the slow way.
func (m stringMember) value(raw map[string]any, name string) (v string, ok bool) {
	if m.seen > 1 {
		return "", false
	}
	if !m.isString {
		return "", true
	}
	v, ok = raw[name].(string)
	return v, ok
}

// tokenJSONValues is the x/oauth2 shape of a token response, decoded into
// values: the reading of a body whose member names vary in case.
type tokenJSONValues struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// expiresIn is expires_in as x/oauth2 reads it: a JSON number or a string
// holding one (some providers send "3600"), an integer, null for none,
// capped at MaxInt32 seconds.
type expiresIn int64

func (e *expiresIn) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	i, ok := int64Literal(b)
	if !ok {
		// What x/oauth2 does (json.Number, then Int64), for its error.
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		var err error
		if i, err = n.Int64(); err != nil {
			return err
		}
	}
	*e = expiresIn(max(min(i, math.MaxInt32), math.MinInt32))
	return nil
}

// int64Literal reads a JSON integer within int64, bare or as the whole of
// a JSON string without escapes: -?(0|[1-9][0-9]*). Anything else (a
// fraction, an exponent, a leading zero, an overflow) is not ok.
func int64Literal(b []byte) (int64, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || len(b) > 1 && b[0] == '0' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= math.MaxInt64+1:
		return int64(-u), true
	}
	return 0, false
}

// ParseToken reads a successful token response body (RFC 6749 §5.1) with
// the tolerance of golang.org/x/oauth2: a JSON object with expires_in as a
// number or a numeric string, or a form-encoded body (Content-Type
// application/x-www-form-urlencoded or text/plain). The other members stay
// reachable with Token.Extra. Expiry is now + expires_in (none when it is
// 0 or absent). A body that is an error response gives ErrErrorBody; one
// without access_token gives ErrNoAccessToken; anything unreadable, the
// decoding error.
func ParseToken(h http.Header, body []byte, now time.Time) (*oauth2.Token, error) {
	var tok *oauth2.Token
	if isFormBody(h) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		if v.Get("error") != "" {
			return nil, ErrErrorBody
		}
		tok = &oauth2.Token{AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"),
			RefreshToken: v.Get("refresh_token")}
		if n, _ := strconv.Atoi(v.Get("expires_in")); n != 0 {
			tok.Expiry = now.Add(time.Duration(n) * time.Second)
		}
		tok = tok.WithExtra(v)
	} else {
		var tj tokenJSON
		if err := json.Unmarshal(body, &tj); err != nil {
			return nil, err
		}
		raw := make(map[string]any)
		_ = json.Unmarshal(body, &raw) // the checking decode above succeeded
		var v tokenJSONValues
		var ok [4]bool
		v.AccessToken, ok[0] = tj.AccessToken.value(raw, "access_token")
		v.TokenType, ok[1] = tj.TokenType.value(raw, "token_type")
		v.RefreshToken, ok[2] = tj.RefreshToken.value(raw, "refresh_token")
		v.Error, ok[3] = tj.Error.value(raw, "error")
		if ok != [4]bool{true, true, true, true} {
			v = tokenJSONValues{}
			_ = json.Unmarshal(body, &v) // member names in another case
		}
		if v.Error != "" {
			return nil, ErrErrorBody
		}
		tok = &oauth2.Token{AccessToken: v.AccessToken, TokenType: v.TokenType, RefreshToken: v.RefreshToken,
			ExpiresIn: int64(tj.ExpiresIn)}
		if tj.ExpiresIn != 0 {
			tok.Expiry = now.Add(time.Duration(tj.ExpiresIn) * time.Second)
		}
		tok = tok.WithExtra(raw)
	}
	if tok.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	return tok, nil
}
