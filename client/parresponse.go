package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// parsePARResponse reads a successful PAR response body (RFC 9126 §2.2):
// request_uri must be a non-blank JSON string, expires_in a positive JSON
// integer (capped at a day). One decoding pass: the members record what
// they held rather than failing the decode.
func parsePARResponse(body []byte) (requestURI string, expiresIn int64, err error) {
	if uri, n, ok := scanPARResponse(body); ok {
		return uri, min(n, 24*3600), nil
	}
	var r struct {
		RequestURI parString `json:"request_uri"`
		ExpiresIn  parInt    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", 0, fmt.Errorf("%w: par: body is not a JSON object: %w", ErrInvalidResponse, err)
	}
	if !r.RequestURI.isString {
		return "", 0, fmt.Errorf("%w: par: request_uri missing or not a string", ErrInvalidResponse)
	}
	if strings.TrimSpace(r.RequestURI.v) == "" {
		return "", 0, fmt.Errorf("%w: par: request_uri is empty", ErrInvalidResponse)
	}
	switch {
	case r.ExpiresIn.state == parMissing:
		return "", 0, fmt.Errorf("%w: par: expires_in missing", ErrInvalidResponse)
	case r.ExpiresIn.state == parInvalid || r.ExpiresIn.v <= 0:
		return "", 0, fmt.Errorf("%w: par: expires_in must be a positive integer", ErrInvalidResponse)
	}
	return r.RequestURI.v, min(r.ExpiresIn.v, 24*3600), nil
}

// scanPARResponse reads the shape providers send without a decoder: an
// object of exactly request_uri (a non-blank string without escapes or
// control characters, in valid UTF-8) and expires_in (a positive integer
// within int64), in either order. On that subset of JSON it reads what the
// decoder reads; anything else is not ok, and parsePARResponse decodes it.
func scanPARResponse(b []byte) (uri string, expiresIn int64, ok bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		start := i + 1
		for i++; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				i++
				return b[start : i-1], true
			case c == '\\' || c < 0x20:
				return nil, false
			}
		}
		return nil, false
	}
	var rawURI []byte
	haveURI, haveExp := false, false
	ws()
	if i >= len(b) || b[i] != '{' {
		return "", 0, false
	}
	i++
	for range 2 {
		ws()
		name, ok := str()
		if !ok {
			return "", 0, false
		}
		ws()
		if i >= len(b) || b[i] != ':' {
			return "", 0, false
		}
		i++
		ws()
		switch string(name) {
		case "request_uri":
			if haveURI {
				return "", 0, false
			}
			if rawURI, ok = str(); !ok {
				return "", 0, false
			}
			haveURI = true
		case "expires_in":
			start := i
			for i < len(b) && (b[i] == '-' || '0' <= b[i] && b[i] <= '9') {
				i++
			}
			n, ok := jsonInt64(b[start:i])
			if haveExp || !ok || n <= 0 || b[start] == '0' {
				return "", 0, false
			}
			expiresIn, haveExp = n, true
		default:
			return "", 0, false
		}
		ws()
		if !(haveURI && haveExp) {
			if i >= len(b) || b[i] != ',' {
				return "", 0, false
			}
			i++
		}
	}
	if i >= len(b) || b[i] != '}' || !haveURI || !haveExp || !utf8.Valid(rawURI) {
		return "", 0, false
	}
	i++
	ws()
	if i != len(b) || len(bytes.TrimSpace(rawURI)) == 0 {
		return "", 0, false
	}
	return string(rawURI), expiresIn, true
}

// parString is a PAR response member that must be a JSON string; any other
// value (a later duplicate member included) leaves isString false.
type parString struct {
	v        string
	isString bool
}

func (s *parString) UnmarshalJSON(b []byte) error {
	*s = parString{}
	if len(b) == 0 || b[0] != '"' {
		return nil
	}
	// The decoder has checked b is a valid JSON string: without escapes
	// or invalid UTF-8 it is its own text.
	if in := b[1 : len(b)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		s.v, s.isString = string(in), true
		return nil
	}
	s.isString = json.Unmarshal(b, &s.v) == nil
	return nil
}

// parInt is a PAR response member that must be a JSON integer: null counts
// as missing, anything else that is not an int64 literal as invalid.
type parInt struct {
	v     int64
	state uint8
}

const (
	parMissing uint8 = iota
	parInvalid
	parValid
)

func (n *parInt) UnmarshalJSON(b []byte) error {
	*n = parInt{state: parInvalid}
	if string(b) == "null" {
		n.state = parMissing
		return nil
	}
	if v, ok := jsonInt64(b); ok {
		n.v, n.state = v, parValid
	}
	return nil
}

// jsonInt64 reads a JSON number literal that is an integer within int64,
// as strconv.ParseInt does, without allocating.
func jsonInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
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
		return -int64(u-1) - 1, true
	}
	return 0, false
}
