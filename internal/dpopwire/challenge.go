package dpopwire

import "strings"

// Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1, formerly RFC 7235 §4.1).
type Challenge struct {
	// Scheme is the auth-scheme as sent; compare it with strings.EqualFold.
	Scheme string
	// Params holds the auth-params by lower-cased name, quoted-string values
	// unquoted. When a name repeats, the first value is kept. Nil when the
	// challenge has no parameters.
	Params map[string]string
	// Token68 is the token68 form of the challenge data, if used instead of
	// parameters.
	Token68 string
}

// ParseWWWAuthenticate parses the value of one WWW-Authenticate header
// field into its challenges (RFC 9110 §11.6.1, §11.2):
//
//	challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param = token BWS "=" BWS ( token / quoted-string )
//
// It is lenient: malformed parts are skipped up to the next comma and the
// rest is still parsed, so garbage never panics and yields at most fewer
// challenges or parameters. A response may carry several WWW-Authenticate
// fields: parse each one (http.Header.Values).
func ParseWWWAuthenticate(v string) []Challenge {
	p := challengeParser{s: v}
	var out []Challenge
	for {
		p.skipListSep()
		if p.eof() {
			return out
		}
		scheme := p.token()
		if scheme == "" {
			p.skipItem()
			continue
		}
		c := Challenge{Scheme: scheme}
		if p.eof() || p.peek() == ',' || p.skipWS() {
			if t, ok := p.token68(); ok {
				c.Token68 = t
			} else {
				c.Params = p.params()
			}
		}
		out = append(out, c)
	}
}

type challengeParser struct {
	s   string
	pos int
}

func (p *challengeParser) eof() bool  { return p.pos >= len(p.s) }
func (p *challengeParser) peek() byte { return p.s[p.pos] }

// skipWS skips spaces and tabs and reports whether it skipped any.
func (p *challengeParser) skipWS() bool {
	start := p.pos
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
	return p.pos > start
}

// skipListSep skips whitespace and empty list elements.
func (p *challengeParser) skipListSep() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.pos++
	}
}

// skipItem skips up to the next comma outside a quoted string. It consumes
// at least one byte unless it stands on a comma or at the end.
func (p *challengeParser) skipItem() {
	for !p.eof() && p.peek() != ',' {
		if p.peek() == '"' {
			p.quoted()
			continue
		}
		p.pos++
	}
}

func (p *challengeParser) token() string {
	start := p.pos
	for !p.eof() && isTChar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// token68 reads a token68 that ends the challenge (followed by optional
// whitespace and then a comma or the end); otherwise it consumes nothing.
func (p *challengeParser) token68() (string, bool) {
	start := p.pos
	for !p.eof() && isToken68Char(p.peek()) {
		p.pos++
	}
	if p.pos == start {
		return "", false
	}
	for !p.eof() && p.peek() == '=' {
		p.pos++
	}
	end := p.pos
	p.skipWS()
	if p.eof() || p.peek() == ',' {
		return p.s[start:end], true
	}
	p.pos = start
	return "", false
}

func isToken68Char(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// params reads "name=value" list elements until one is not a parameter
// (the start of the next challenge) or the input ends.
func (p *challengeParser) params() map[string]string {
	var m map[string]string
	for {
		p.skipListSep()
		if p.eof() {
			return m
		}
		start := p.pos
		name := p.token()
		p.skipWS()
		if name == "" || p.eof() || p.peek() != '=' {
			p.pos = start // next challenge, or garbage for the caller to skip
			return m
		}
		p.pos++ // '='
		p.skipWS()
		var val string
		ok := !p.eof()
		if ok && p.peek() == '"' {
			val, ok = p.quoted()
		} else if ok {
			val = p.token()
			ok = val != ""
		}
		p.skipWS()
		if !ok || (!p.eof() && p.peek() != ',') {
			p.skipItem()
			continue
		}
		if m == nil {
			m = make(map[string]string)
		}
		name = strings.ToLower(name)
		if _, dup := m[name]; !dup {
			m[name] = val
		}
	}
}

// quoted reads a quoted-string at p.pos (which is '"') and returns it
// unquoted. An unterminated string consumes the rest and is not ok.
func (p *challengeParser) quoted() (string, bool) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '"':
			p.pos++
			return b.String(), true
		case c == '\\' && p.pos+1 < len(p.s):
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", false
}
