package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// decodedJWT is a JWT taken apart without verification.
type decodedJWT struct {
	Verified  bool           `json:"verified"` // always false
	Encrypted bool           `json:"encrypted"`
	Header    map[string]any `json:"header"`
	Claims    map[string]any `json:"claims,omitempty"`
	// Payload is set instead of Claims when the payload is not a JSON object.
	Payload        string `json:"payload,omitempty"`
	SignatureBytes int    `json:"signature_bytes"`
}

var errNotJWT = errors.New("not a JWT")

// decodeJWT splits a compact JWS (RFC 7515 §7.1) or JWE (RFC 7516 §7.1) and
// decodes what can be read without a key. It verifies nothing.
func decodeJWT(s string) (*decodedJWT, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts (JWS) or 5 (JWE), got %d", errNotJWT, len(parts))
	}
	d := &decodedJWT{Encrypted: len(parts) == 5}
	hb, err := b64(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", errNotJWT, err)
	}
	if err := unmarshalObject(hb, &d.Header); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", errNotJWT)
	}
	if d.Encrypted {
		return d, nil
	}
	pb, err := b64(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", errNotJWT, err)
	}
	if err := unmarshalObject(pb, &d.Claims); err != nil {
		d.Claims = nil
		d.Payload = fmt.Sprintf("[%d bytes, not a JSON object]", len(pb))
	}
	sig, err := b64(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", errNotJWT, err)
	}
	d.SignatureBytes = len(sig)
	return d, nil
}

// b64 decodes base64url, with or without padding (RFC 7515 §2 says
// without; some tools add it).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// unmarshalObject decodes one JSON object, keeping numbers exact.
func unmarshalObject(b []byte, v *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if *v == nil {
		return errors.New("null")
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func (c *cli) decode(args []string) int {
	fs, jsonOut := c.flagSet("decode", "[--json] JWT|-",
		"Prints a JWT's header and claims, pretty. NOTHING IS VERIFIED: neither the signature nor any claim.\n"+
			"Give - to read the JWT from stdin (keeps it out of your shell history). Encrypted JWTs (JWE) show\n"+
			"their header only.")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(c.stderr, "par decode: give one JWT, or - to read it from stdin")
		return exitUsage
	}
	raw := fs.Arg(0)
	if raw == "-" {
		b, err := io.ReadAll(io.LimitReader(c.stdinOrDefault(), 1<<20))
		if err != nil {
			fmt.Fprintf(c.stderr, "par decode: reading stdin: %v\n", err)
			return exitUsage
		}
		raw = string(b)
	}
	d, err := decodeJWT(raw)
	if err != nil {
		return c.fail(*jsonOut, "decode", &usageError{err.Error()}, "pass the compact JWT (header.payload.signature) only, without \"Bearer \" or quotes")
	}
	if *jsonOut {
		c.writeJSON(d)
		return exitOK
	}
	w := c.stdout
	fmt.Fprintln(w, "UNVERIFIED: the signature and the claims were not checked. Do not trust them.")
	if d.Encrypted {
		fmt.Fprintln(w, "Encrypted JWT (JWE): only the header can be read without the key.")
	}
	fmt.Fprintln(w, "\nheader:")
	writeIndented(w, d.Header)
	if d.Claims != nil {
		fmt.Fprintln(w, "\nclaims:")
		writeIndented(w, d.Claims)
		var times []string
		for _, k := range []string{"iat", "nbf", "exp", "auth_time"} {
			if n, ok := d.Claims[k].(json.Number); ok {
				if sec, err := n.Int64(); err == nil {
					t := time.Unix(sec, 0).UTC()
					times = append(times, fmt.Sprintf("  %-9s %s (%s)", k, t.Format(time.RFC3339), relative(time.Until(t))))
				}
			}
		}
		if len(times) > 0 {
			fmt.Fprintf(w, "\ntimes:\n%s\n", strings.Join(times, "\n"))
		}
	} else if d.Payload != "" {
		fmt.Fprintf(w, "\npayload: %s\n", d.Payload)
	}
	if !d.Encrypted {
		fmt.Fprintf(w, "\nsignature: %d bytes, alg %v (not verified)\n", d.SignatureBytes, d.Header["alg"])
	}
	return exitOK
}

func relative(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= 0 {
		return "in " + d.String()
	}
	return (-d).String() + " ago"
}

func writeIndented(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "%v\n", v)
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

func (c *cli) stdinOrDefault() io.Reader {
	if c.stdin != nil {
		return c.stdin
	}
	return os.Stdin
}
