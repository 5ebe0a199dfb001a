package backchannel

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// ErrErrorBody: a 2xx token response whose body is an RFC 6749 §5.2 error
// (some providers answer errors with 200); read it with ParseError.
var ErrErrorBody = errors.New("token response is an error response")

// ErrNoAccessToken: a token response without access_token.
var ErrNoAccessToken = errors.New("token response has no access_token")

// tokenJSON is a JSON token response (RFC 6749 §5.1). Mistyped members fail
// the whole response, as in x/oauth2.
type tokenJSON struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresIn    expiresIn `json:"expires_in"`
	// Error only detects an error response; ParseError reads it.
	Error string `json:"error"`
}

// expiresIn is expires_in as x/oauth2 reads it: a JSON number or a string
// holding one (some providers send "3600"), an integer, null for none,
// capped at MaxInt32 seconds.
type expiresIn int64

func (e *expiresIn) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	i, err := n.Int64()
	if err != nil {
		return err
	}
	*e = expiresIn(max(min(i, math.MaxInt32), math.MinInt32))
	return nil
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
		if tj.Error != "" {
			return nil, ErrErrorBody
		}
		tok = &oauth2.Token{AccessToken: tj.AccessToken, TokenType: tj.TokenType, RefreshToken: tj.RefreshToken,
			ExpiresIn: int64(tj.ExpiresIn)}
		if tj.ExpiresIn != 0 {
			tok.Expiry = now.Add(time.Duration(tj.ExpiresIn) * time.Second)
		}
		raw := make(map[string]any)
		_ = json.Unmarshal(body, &raw) // the typed decode above succeeded
		tok = tok.WithExtra(raw)
	}
	if tok.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	return tok, nil
}
