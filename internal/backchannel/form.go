package backchannel

import (
	"net/url"
	"slices"
	"strings"
)

// encodeForm returns the application/x-www-form-urlencoded body of form
// with the members of over replacing those of form with the same name:
// byte for byte what url.Values.Encode gives for the merged map (keys
// sorted, names and values url.QueryEscape'd), without building that map
// and with one allocation.
func encodeForm(form, over url.Values) string {
	var stack [24]string
	keys := stack[:0]
	for k := range form {
		if _, ok := over[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k := range over {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	values := func(k string) []string {
		if vs, ok := over[k]; ok {
			return vs
		}
		return form[k]
	}
	n := 0
	for _, k := range keys {
		for _, v := range values(k) {
			n += escapedLen(k) + escapedLen(v) + 2 // '=' and '&'
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		for _, v := range values(k) {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			writeEscaped(&b, k)
			b.WriteByte('=')
			writeEscaped(&b, v)
		}
	}
	return b.String()
}

// unreserved reports the bytes url.QueryEscape keeps (RFC 3986 §2.3).
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && c != ' ' {
			n += 2
		}
	}
	return n
}

// writeEscaped writes url.QueryEscape(s).
func writeEscaped(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			continue
		}
		b.WriteString(s[start:i])
		if c == ' ' {
			b.WriteByte('+')
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
}
