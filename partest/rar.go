package partest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// OAuth 2.0 Rich Authorization Requests (RFC 9396): authorization_details
// is accepted at the PAR and authorization endpoints, as a form parameter
// holding a JSON array or as a JSON array claim of a request object (§3),
// checked here, and the granted details are echoed in the token response
// (§7) and the JWT access token (§9.1) as received.

// invalidDetails is RFC 9396 §5's error.
func invalidDetails(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_authorization_details", format, args...)
}

// parseAuthorizationDetails checks an authorization_details value (RFC
// 9396 §2): a JSON array of objects, each with a non-empty string type
// among allowed; the common members locations, actions, datatypes and
// privileges, when present, arrays of non-empty strings, identifier a
// non-empty string (§2.2). It returns the array compacted but otherwise as
// received (numbers keep their digits, members their order), or nil for an
// empty array, which asks for nothing (as node-oidc-provider reads it).
func parseAuthorizationDetails(raw string, allowed []string) (json.RawMessage, *oauthError) {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &items); err != nil || !isJSONKind(raw, '[') {
		return nil, invalidDetails("authorization_details must be a JSON array")
	}
	if len(items) == 0 {
		return nil, nil
	}
	for i, item := range items {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(item, &members); err != nil || !isJSONKind(string(item), '{') {
			return nil, invalidDetails("authorization_details[%d] is not a JSON object", i)
		}
		typ, ok := nonEmptyString(members["type"])
		if !ok {
			return nil, invalidDetails("authorization_details[%d] has no type string", i)
		}
		if !slices.Contains(allowed, typ) {
			return nil, invalidDetails("authorization_details type %q is not allowed for the client", typ)
		}
		for _, name := range []string{"locations", "actions", "datatypes", "privileges"} {
			v, has := members[name]
			if !has {
				continue
			}
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil || !isJSONKind(string(v), '[') {
				return nil, invalidDetails("authorization_details[%d].%s must be an array of strings", i, name)
			}
			for _, e := range list {
				if _, ok := nonEmptyString(e); !ok {
					return nil, invalidDetails("authorization_details[%d].%s must be an array of strings", i, name)
				}
			}
		}
		if v, has := members["identifier"]; has {
			if _, ok := nonEmptyString(v); !ok {
				return nil, invalidDetails("authorization_details[%d].identifier must be a string", i)
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, invalidDetails("authorization_details must be a JSON array")
	}
	return buf.Bytes(), nil
}

// isJSONKind reports whether the JSON text v starts with open ('[' or '{')
// after white space: json.Unmarshal reads null into a slice or map without
// an error.
func isJSONKind(v string, open byte) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return v[i] == open
	}
	return false
}

// nonEmptyString decodes a JSON string that is not empty.
func nonEmptyString(v json.RawMessage) (string, bool) {
	if !isJSONKind(string(v), '"') {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

// authorizationDetailsTypes returns the types of every client, sorted, for
// authorization_details_types_supported.
func (s *Server) authorizationDetailsTypes() []string {
	var out []string
	for _, c := range s.clients {
		for _, t := range c.AuthorizationDetailsTypes {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}
