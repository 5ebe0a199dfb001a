package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces every redacted value.
const Mask = "[redacted]"

// Withheld replaces a body that echoed a value in an encoding Bytes cannot
// undo in place.
const Withheld = "[response body withheld: it echoed a value the client sent]"

// MinLen is the shortest value that is redacted: shorter ones would cut
// ordinary words out of the provider's text, and no real secret, code or
// token is that short.
const MinLen = 8

// Values is a set of values a client sent (its secret, assertions, codes,
// verifiers, tokens, proofs) that must not come back in a provider's error.
// The zero value redacts nothing. It is not safe for concurrent use while
// values are added.
type Values struct {
	secrets []string // as sent
	forms   []string // secrets and the encodings a provider may echo, longest first
}

// Add adds the values (empty and short ones are ignored) with their
// encodings: form/query and path escaping, JSON string escaping (with and
// without HTML escapes, with \/), HTML escaping, and base64.
func (v *Values) Add(values ...string) {
	for _, s := range values {
		if len(s) < MinLen || slices.Contains(v.secrets, s) {
			continue
		}
		v.secrets = append(v.secrets, s)
		for _, f := range encodings(s) {
			if len(f) >= MinLen && !slices.Contains(v.forms, f) {
				v.forms = append(v.forms, f)
			}
		}
	}
	slices.SortStableFunc(v.forms, func(a, b string) int { return len(b) - len(a) })
}

// String describes the set without its values (a value receiver, so that
// a Values value is covered too).
func (v Values) String() string {
	return fmt.Sprintf("redact.Values(%d values redacted)", len(v.secrets))
}

// GoString (the %#v verb) is String.
func (v Values) GoString() string { return v.String() }

// LogValue logs the set without its values.
func (v Values) LogValue() slog.Value { return slog.StringValue(v.String()) }

// Empty reports whether there is nothing to redact.
func (v *Values) Empty() bool { return v == nil || len(v.secrets) == 0 }

func encodings(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s),
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))}
	if b, err := json.Marshal(s); err == nil {
		j := string(b[1 : len(b)-1])
		forms = append(forms, j, strings.ReplaceAll(j, "/", `\/`))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		j := strings.TrimSuffix(buf.String(), "\n")
		j = j[1 : len(j)-1]
		forms = append(forms, j, strings.ReplaceAll(j, "/", `\/`))
	}
	return forms
}

// replace masks every known form in s.
func (v *Values) replace(s string) string {
	for _, f := range v.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Mask)
		}
	}
	return s
}

// shows reports whether s, or s decoded as HTML, a URL query or path or
// with \/ unescaped, still contains a raw value.
func (v *Values) shows(s string) bool {
	cands := []string{s, html.UnescapeString(s), strings.ReplaceAll(s, `\/`, "/")}
	if u, err := url.QueryUnescape(s); err == nil {
		cands = append(cands, u)
	}
	if u, err := url.PathUnescape(s); err == nil {
		cands = append(cands, u)
	}
	for _, c := range cands {
		for _, r := range v.secrets {
			if strings.Contains(c, r) {
				return true
			}
		}
	}
	return false
}

// Redact returns s with every value, in every known encoding, replaced by
// Mask. When a value still shows after that (in an encoding the list does
// not cover), the whole string is Mask.
func (v *Values) Redact(s string) string {
	if v.Empty() || s == "" {
		return s
	}
	s = v.replace(s)
	if v.shows(s) {
		return Mask
	}
	return s
}

// Bytes returns a redacted copy of a response body (nil stays nil): every
// value in every known encoding replaced by Mask. When a value still shows
// in a JSON body's decoded strings, the body is re-encoded from its decoded
// form with those strings redacted; when it still shows in any other body
// (decoded as HTML or a URL query), the body is replaced by Withheld.
func (v *Values) Bytes(b []byte) []byte {
	if v.Empty() || b == nil {
		return b
	}
	out := []byte(v.replace(string(b)))
	if json.Valid(out) {
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) == nil {
			if red, changed := v.walk(doc); changed {
				if re, err := json.Marshal(red); err == nil {
					return re
				}
				return []byte(Withheld)
			}
			return out
		}
	}
	if v.shows(string(out)) {
		return []byte(Withheld)
	}
	return out
}

// walk redacts the strings (and object keys) of a decoded JSON document;
// changed reports whether any was changed.
func (v *Values) walk(doc any) (any, bool) {
	switch x := doc.(type) {
	case string:
		r := v.Redact(x)
		return r, r != x
	case []any:
		changed := false
		for i, e := range x {
			var c bool
			x[i], c = v.walk(e)
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			rk := v.Redact(k)
			re, c := v.walk(e)
			changed = changed || c || rk != k
			out[rk] = re
		}
		return out, changed
	}
	return doc, false
}

// Header returns a copy of h with every value redacted as by Redact (nil
// stays nil).
func (v *Values) Header(h http.Header) http.Header {
	if v.Empty() || h == nil {
		return h
	}
	out := make(http.Header, len(h))
	for k, vals := range h {
		c := make([]string, len(vals))
		for i, s := range vals {
			c[i] = v.Redact(s)
		}
		out[v.Redact(k)] = c
	}
	return out
}

// secretParams are the form parameters whose values are secrets of the
// client: credentials, grants, tokens, verifiers, request objects and the
// flow's state and nonce.
var secretParams = []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token",
	"access_token", "token", "id_token", "id_token_hint", "request", "auth_req_id", "device_code", "assertion",
	"subject_token", "actor_token", "password", "state", "nonce"}

// AddRequest adds what a form POST carried that is secret: the values of
// the secret parameters, the Authorization credentials (for Basic also the
// password, decoded and form-decoded) and the DPoP proof.
func (v *Values) AddRequest(form url.Values, h http.Header) {
	for _, k := range secretParams {
		v.Add(form[k]...)
	}
	for _, a := range h.Values("Authorization") {
		scheme, cred, _ := strings.Cut(a, " ")
		v.Add(cred)
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				_, pass, _ := strings.Cut(string(dec), ":")
				v.Add(pass)
				if p, err := url.QueryUnescape(pass); err == nil {
					v.Add(p)
				}
			}
		}
	}
	v.Add(h.Values("DPoP")...)
}
