package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/oauth2"
)

// OAuth 2.0 Rich Authorization Requests (RFC 9396).

// ErrInvalidAuthorizationDetails: the authorization_details a push would
// send are not a JSON array of objects each with a type string and the
// common members of RFC 9396 §2.2 in their shapes, or name a type the
// provider does not list in authorization_details_types_supported. Nothing
// is pushed.
var ErrInvalidAuthorizationDetails = errors.New("client: push: invalid authorization_details")

// AuthorizationDetail is one object of authorization_details (RFC 9396
// §2): a JSON object with a string member type and any other members. It
// is the object's exact JSON text, so large integers, nested objects and
// member order survive the round trip from the push to the token response
// (no detour through float64). Decode it into a type of your own with
// json.Unmarshal([]byte(d), &v); make one with json.Marshal.
type AuthorizationDetail json.RawMessage

// Type returns the detail's type member, or "" when it has none.
func (d AuthorizationDetail) Type() string {
	var m struct {
		Type json.RawMessage `json:"type"`
	}
	if json.Unmarshal(d, &m) != nil {
		return ""
	}
	s, _ := jsonString(m.Type)
	return s
}

// MarshalJSON returns d as it is, or null when it is empty.
func (d AuthorizationDetail) MarshalJSON() ([]byte, error) {
	if len(d) == 0 {
		return []byte("null"), nil
	}
	return d, nil
}

// UnmarshalJSON keeps a copy of data.
func (d *AuthorizationDetail) UnmarshalJSON(data []byte) error {
	*d = append((*d)[:0], data...)
	return nil
}

// WithAuthorizationDetails asks for fine-grained authorization (RFC 9396
// §2): authorization_details, the JSON array of details, goes into the
// pushed form or, with a request object, into it as a JSON array claim
// (§3). Push checks the details before anything is sent (see
// ErrInvalidAuthorizationDetails); what the provider granted comes back in
// Tokens.AuthorizationDetails.
func WithAuthorizationDetails(details ...AuthorizationDetail) Option {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, d := range details {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(d) == 0 {
			b.WriteString("null") // refused by Push
			continue
		}
		b.Write(d)
	}
	b.WriteByte(']')
	return oauth2.SetAuthURLParam("authorization_details", b.String())
}

// checkAuthorizationDetails checks the authorization_details parameter of
// a push, however it was set (WithAuthorizationDetails or WithParam), and
// returns it compacted (digits and member order as given).
func (c *Client) checkAuthorizationDetails(vals []string) (string, error) {
	if len(vals) != 1 {
		return "", fmt.Errorf("%w: given %d times", ErrInvalidAuthorizationDetails, len(vals))
	}
	details, err := parseAuthorizationDetails([]byte(vals[0]))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidAuthorizationDetails, err)
	}
	if len(details) == 0 {
		return "", fmt.Errorf("%w: empty array (it asks for nothing; leave the parameter out)", ErrInvalidAuthorizationDetails)
	}
	if types := c.md.AuthorizationDetailsTypesSupported; len(types) > 0 {
		for i, d := range details {
			if t := d.Type(); !slices.Contains(types, t) {
				return "", fmt.Errorf("%w: [%d]: type %.60q is not in the provider's authorization_details_types_supported", ErrInvalidAuthorizationDetails, i, t)
			}
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(vals[0])); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidAuthorizationDetails, err)
	}
	return b.String(), nil
}

// parseAuthorizationDetails reads an authorization_details value (RFC 9396
// §2): a JSON array of objects, each with a non-empty type string;
// locations, actions, datatypes and privileges, when present, arrays of
// strings; identifier a string (§2.2). Other members are free.
func parseAuthorizationDetails(data []byte) ([]AuthorizationDetail, error) {
	if !isJSON(data, '[') {
		return nil, errors.New("not a JSON array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, errors.New("not a JSON array")
	}
	out := make([]AuthorizationDetail, 0, len(items))
	for i, item := range items {
		if !isJSON(item, '{') {
			return nil, fmt.Errorf("[%d] is not a JSON object", i)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(item, &members); err != nil {
			return nil, fmt.Errorf("[%d] is not a JSON object", i)
		}
		if t, ok := jsonString(members["type"]); !ok || t == "" {
			return nil, fmt.Errorf("[%d] has no type string (RFC 9396 §2)", i)
		}
		for _, name := range []string{"locations", "actions", "datatypes", "privileges"} {
			v, ok := members[name]
			if !ok {
				continue
			}
			var list []json.RawMessage
			if !isJSON(v, '[') || json.Unmarshal(v, &list) != nil {
				return nil, fmt.Errorf("[%d].%s is not an array of strings (RFC 9396 §2.2)", i, name)
			}
			for _, e := range list {
				if _, ok := jsonString(e); !ok {
					return nil, fmt.Errorf("[%d].%s is not an array of strings (RFC 9396 §2.2)", i, name)
				}
			}
		}
		if v, ok := members["identifier"]; ok {
			if _, ok := jsonString(v); !ok {
				return nil, fmt.Errorf("[%d].identifier is not a string (RFC 9396 §2.2)", i)
			}
		}
		out = append(out, AuthorizationDetail(item))
	}
	return out, nil
}

// isJSON reports whether the JSON text b starts with open after white
// space (json.Unmarshal reads null into a slice or map without error).
func isJSON(b []byte, open byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == open
}

// grantedDetails reads the authorization_details of a JSON token response
// (RFC 9396 §7): nil when there are none, each object's text as received.
func grantedDetails(body []byte) ([]AuthorizationDetail, error) {
	var r struct {
		Details json.RawMessage `json:"authorization_details"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Details) == 0 || string(r.Details) == "null" {
		return nil, nil //nolint:nilerr // a form-encoded body, or none given
	}
	d, err := parseAuthorizationDetails(r.Details)
	if err != nil {
		return nil, fmt.Errorf("%w: token: authorization_details: %w", ErrInvalidResponse, err)
	}
	return d, nil
}
