package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/go-par/par/internal/httpx"
)

// knownMember is a member name and the index of its Metadata field.
type knownMember struct {
	name  string
	field int
}

// knownMembers lists the members Metadata has fields for, in field order.
var knownMembers = func() []knownMember {
	t := reflect.TypeFor[Metadata]()
	var ms []knownMember
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && t.Field(i).IsExported() {
			ms = append(ms, knownMember{name, i})
		}
	}
	return ms
}()

// Parse decodes a metadata document and validates it against the
// configured issuer:
//
//   - the document is one JSON object with no duplicate member names;
//     every known member has its JSON type (unknown members may hold
//     anything and stay available through [Metadata.Claims]);
//   - issuer equals the configured issuer exactly, or the error is an
//     [*IssuerMismatchError] (OpenID Connect Discovery 1.0 §4.3,
//     RFC 8414 §3.3);
//   - authorization_endpoint and token_endpoint are present, and jwks_uri
//     too when the document describes an OpenID Provider (it lists
//     id_token_signing_alg_values_supported, subject_types_supported,
//     userinfo_endpoint or the openid scope);
//   - every endpoint present, mTLS aliases included, is an absolute https
//     URL, or http on a loopback host.
//
// Members are matched by their exact, case-sensitive names. Other errors
// are [*ParseError] values wrapping one of the sentinel errors.
func Parse(data []byte, issuer string) (*Metadata, error) {
	return parse(data, issuer, false)
}

// parse is Parse; oidc says the document came from an OpenID Connect
// discovery URL, which makes jwks_uri required whatever it contains.
func parse(data []byte, issuer string, oidc bool) (*Metadata, error) {
	if _, err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	members, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	m := &Metadata{raw: bytes.Clone(data)}
	v := reflect.ValueOf(m).Elem()
	for _, k := range knownMembers {
		raw, ok := members[k.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, v.Field(k.field).Addr().Interface()); err != nil {
			return nil, &ParseError{Member: k.name, Err: typeError(err)}
		}
	}
	if raw, ok := members["request_uri_parameter_supported"]; !ok || string(raw) == "null" {
		m.RequestURIParameterSupported = true // OpenID Connect Discovery 1.0 §3
	}
	if err := m.validate(issuer, oidc); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeObject splits a JSON object into its members, refusing anything
// else, duplicate names and trailing data.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	malformed := func(err error) error {
		return &ParseError{Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, malformed(err)
	}
	if tok != json.Delim('{') {
		return nil, &ParseError{Err: fmt.Errorf("%w: not a JSON object", ErrMalformed)}
	}
	members := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, &ParseError{Err: fmt.Errorf("%w: member name expected", ErrMalformed)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed(err)
		}
		if _, dup := members[name]; dup {
			return nil, &ParseError{Member: name, Err: ErrDuplicateMember}
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ParseError{Err: fmt.Errorf("%w: data after the object", ErrMalformed)}
	}
	return members, nil
}

// typeError turns a decoder error for one member into ErrWrongType.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: %s, want %s", ErrWrongType, te.Value, jsonKind(te.Type))
	}
	return fmt.Errorf("%w: %w", ErrWrongType, err)
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array of " + jsonKind(t.Elem()) + "s"
	case reflect.Map:
		return "object of " + jsonKind(t.Elem()) + "s"
	}
	return t.String()
}

func (m *Metadata) validate(issuer string, oidc bool) error {
	if m.Issuer != issuer {
		return &IssuerMismatchError{Expected: issuer, Got: m.Issuer}
	}
	required := []string{"authorization_endpoint", "token_endpoint"}
	if oidc || m.isOpenIDProvider() {
		required = append(required, "jwks_uri")
	}
	for _, name := range required {
		if m.Endpoint(name, false) == "" {
			return &ParseError{Member: name, Err: ErrMissingMember}
		}
	}
	for _, e := range endpointMembers {
		if err := checkEndpoint(e.name, e.get(m)); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.MTLSEndpointAliases)) {
		if err := checkEndpoint("mtls_endpoint_aliases."+name, m.MTLSEndpointAliases[name]); err != nil {
			return err
		}
	}
	return nil
}

// isOpenIDProvider reports whether the document carries members only an
// OpenID Provider has.
func (m *Metadata) isOpenIDProvider() bool {
	return len(m.IDTokenSigningAlgValuesSupported) > 0 || len(m.SubjectTypesSupported) > 0 ||
		m.UserinfoEndpoint != "" || slices.Contains(m.ScopesSupported, "openid")
}

// checkEndpoint checks an endpoint member, if present.
func checkEndpoint(member, raw string) error {
	if raw == "" {
		return nil
	}
	if _, err := httpx.CheckEndpoint("url", raw); err != nil {
		return &ParseError{Member: member, Err: fmt.Errorf("%w: %w", ErrInvalidEndpoint, err)}
	}
	return nil
}

// checkIssuer parses a configured issuer: https (or http on loopback), a
// host, and no query, fragment or user info (RFC 8414 §2).
func checkIssuer(issuer string) (*url.URL, error) {
	if issuer == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidIssuer)
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrInvalidIssuer)
	}
	invalid := func(why string) error {
		// Redacted hides a password given in user info.
		return fmt.Errorf("%w %q: %s", ErrInvalidIssuer, clip(u.Redacted()), why)
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return nil, invalid("not an absolute URL with a host")
	case strings.ContainsAny(issuer, "?#"):
		return nil, invalid("has a query or fragment")
	case u.User != nil:
		return nil, invalid("has user info")
	case u.Scheme == "https":
	case u.Scheme == "http" && httpx.IsLoopback(u.Hostname()):
	default:
		return nil, invalid("must use https (http is allowed on loopback only)")
	}
	return u, nil
}
