package dpopwire

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-par/par/internal/httpx"
)

// ErrInvalidURL: a request URL is not an absolute http or https URL with a
// host. Package dpop exports it.
var ErrInvalidURL = errors.New("dpop: invalid request url")

// HTU returns the htu claim for a request URL (RFC 9449 §4.2): the target
// URI without query and fragment, with the syntax- and scheme-based
// normalisation of RFC 3986 §6.2.2 and §6.2.3 that §4.3 asks servers to
// apply before comparing: lower-case scheme and host, no userinfo, no
// default or empty port, upper-case hex in percent-encodings, unreserved
// characters decoded, dot segments removed, and "/" for an empty path.
//
// Only absolute http and https URLs are accepted. Errors never contain the
// URL beyond the offending characters.
func HTU(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidURL, httpx.RedactError(err, false))
	}
	return HTUOf(u, "")
}

// HTUOf builds the normalised htu of u. A non-empty host replaces u.Host
// (the request's Host header, RFC 9110 §7.2).
func HTUOf(u *url.URL, host string) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%w: scheme must be http or https", ErrInvalidURL)
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("%w: not a hierarchical url", ErrInvalidURL)
	}
	if host == "" {
		host = u.Host
	} else {
		// Validate and decode an overriding Host as url.Parse does u.Host.
		h, err := url.Parse("http://" + host)
		if err != nil || h.Host == "" || h.User != nil || h.Path != "" || h.RawQuery != "" || h.Fragment != "" {
			return "", fmt.Errorf("%w: invalid host", ErrInvalidURL)
		}
		host = h.Host
	}
	auth, err := normHost(scheme, host)
	if err != nil {
		return "", err
	}
	p := normPath(u.EscapedPath())
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(auth) + len(p))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(auth)
	b.WriteString(p)
	return b.String(), nil
}

// normHost lower-cases the host and drops a default or empty port.
func normHost(scheme, host string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	name, port := splitHostPort(host)
	if name == "" {
		return "", fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", fmt.Errorf("%w: invalid port", ErrInvalidURL)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == '/' || c == '?' || c == '#' || c == '@' || c == '"' || c == '\\' || c == 0x7f {
			return "", fmt.Errorf("%w: invalid host", ErrInvalidURL)
		}
	}
	if name[0] != '[' && strings.IndexByte(name, ':') >= 0 {
		return "", fmt.Errorf("%w: invalid host", ErrInvalidURL)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if name[0] == '[' {
		// IP literal: lower-case the address, keep a zone identifier as it
		// is but percent-encode its "%" (RFC 6874; url.URL.Host holds it
		// decoded).
		if i := strings.IndexByte(name, '%'); i >= 0 {
			name = lowerASCII(name[:i]) + "%25" + name[i+1:]
		} else {
			name = lowerASCII(name)
		}
	} else {
		// url.URL.Host holds "%25" decoded; encode it again.
		name = strings.ReplaceAll(lowerASCII(name), "%", "%25")
	}
	if port == "" {
		return name, nil
	}
	return name + ":" + port, nil
}

// splitHostPort splits "host:port", "[v6]:port", "host" or "[v6]". The host
// keeps its brackets.
func splitHostPort(h string) (name, port string) {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", ""
		}
		name, rest := h[:end+1], h[end+1:]
		if rest == "" {
			return name, ""
		}
		if rest[0] != ':' {
			return "", ""
		}
		return name, rest[1:]
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i], h[i+1:]
	}
	return h, ""
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// normPath normalises percent-encodings (RFC 3986 §6.2.2.1-2) and removes
// dot segments (§6.2.2.3) of an escaped path; an empty path becomes "/"
// (§6.2.3).
func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if strings.IndexByte(p, '%') >= 0 {
		p = normPercent(p)
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if strings.Contains(p, "/.") {
		p = removeDotSegments(p)
	}
	return p
}

// normPercent decodes percent-encoded unreserved characters and upper-cases
// the hex digits of the others. Malformed escapes are left as they are.
func normPercent(p string) string {
	const upper = "0123456789ABCDEF"
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b = append(b, c)
			continue
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(v) {
			b = append(b, v)
		} else {
			b = append(b, '%', upper[v>>4], upper[v&0xf])
		}
		i += 2
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isUnreserved reports RFC 3986 §2.3 unreserved characters.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments implements RFC 3986 §5.2.4 for an absolute path.
func removeDotSegments(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			trailing = last
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = last
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "/"
	}
	r := "/" + strings.Join(out, "/")
	if trailing {
		r += "/"
	}
	return r
}
