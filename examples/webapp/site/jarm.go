package site

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// jarmStep opens a JWT-secured authorization response (JARM) as the client
// does (client.ResponseParams: decrypted when encrypted, signature, iss,
// aud, exp) and records what it says and the checks it passed. It returns
// the response's parameters, or nil when it did not verify (login's
// Callback then reports why).
func (a *App) jarmStep(ctx context.Context, params url.Values) (Step, url.Values) {
	raw := params.Get("response")
	st := Step{Kind: kindJARM, At: a.now()}
	encrypted := strings.Count(raw, ".") == 4
	outer := jwtHeader(raw)
	if encrypted {
		st.Facts = append(st.Facts, Param{Name: "form", Value: "JWE (encrypted to the app's key), alg " + outer.Alg + ", enc " + outer.Enc +
			", kid " + outer.Kid + "; a signed JWT inside"})
	} else {
		st.Facts = append(st.Facts, Param{Name: "form", Value: "JWS, alg " + outer.Alg + ", kid " + outer.Kid})
	}
	inner, err := a.c.ResponseParams(ctx, params)
	if err != nil {
		st.Err = err.Error()
		st.Checks = append(st.Checks, Check{Name: "response JWT", Value: "refused before any token request", OK: false,
			Why: "JARM §2.4: signature, iss, aud and exp must all hold"})
		return st, nil
	}
	if encrypted {
		st.Checks = append(st.Checks, Check{Name: "decryption", Value: "with the app's key (use enc)", OK: true,
			Why: "the provider encrypts the signed response to the key the client registered (JARM §2.2)"})
		st.Checks = append(st.Checks, Check{Name: "signature", Value: "inside the JWE", OK: true,
			Why: "verified with the provider's key from jwks_uri; alg on the allow-list, never none or HS* (JARM §2.4)"})
	} else {
		st.Checks = append(st.Checks, Check{Name: "signature", Value: "alg " + outer.Alg + ", kid " + outer.Kid, OK: true,
			Why: "verified with the provider's key from jwks_uri; alg on the allow-list, never none or HS* (JARM §2.4)"})
	}
	st.Checks = append(st.Checks,
		Check{Name: "iss", Value: inner.Get("iss"), OK: inner.Get("iss") == a.c.Metadata().Issuer,
			Why: "exactly the issuer, covered by the signature: it serves as the response's iss (JARM §2.1, RFC 9207)"},
		Check{Name: "aud", Value: a.clientID, OK: true, Why: "names this client (JARM §2.1)"})
	exp := Check{Name: "exp", Value: "present, not past, at most 10 min ahead", OK: true,
		Why: "a response JWT is short-lived; a far exp would widen a leaked response's replay window (JARM §2.1, §2.4)"}
	if !encrypted {
		if t, ok := jwtExp(raw); ok {
			exp.Value = t.UTC().Format(time.RFC3339) + " (in " + t.Sub(a.now()).Round(time.Second).String() + ")"
		}
	}
	st.Checks = append(st.Checks, exp)
	st.Params = callbackParams(inner)
	return st, inner
}

// jwtExp is the exp claim of a compact JWS (already verified by the
// client; decoded here for display only).
func jwtExp(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}, false
	}
	n, err := c.Exp.Int64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// responseMode is the PAR_RESPONSE_MODE setting, checked: "" or a mode the
// client knows.
func responseMode(s string) (string, error) {
	switch s {
	case "", "query", "form_post", "jwt", "query.jwt", "form_post.jwt":
		return s, nil
	}
	return "", fmt.Errorf("webapp: PAR_RESPONSE_MODE %q: want query, form_post, jwt, query.jwt or form_post.jwt", s)
}
