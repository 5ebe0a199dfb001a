package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/mitid"
)

// StepUpError is a resource server's insufficient_user_authentication
// challenge (RFC 9470 §3): the access token's authentication is not
// enough for the request, and a new login with ACRValues and/or MaxAge
// would be. The resource clients of [Manager.Client] return it as their
// error for such a response; [Manager.StepUp] turns it into that login.
type StepUpError struct {
	// StatusCode is the response's status (401, or 403 as some servers
	// send).
	StatusCode int
	// ACRValues are the acr_values asked for, in order of preference.
	ACRValues []string
	// MaxAge is the max_age asked for, or -1 when none was.
	MaxAge time.Duration
}

// Error describes the challenge; it holds nothing from the response but
// the values asked for.
func (e *StepUpError) Error() string {
	var parts []string
	if len(e.ACRValues) > 0 {
		parts = append(parts, "acr_values "+strings.Join(e.ACRValues, " "))
	}
	if e.MaxAge >= 0 {
		parts = append(parts, "max_age "+strconv.FormatInt(int64(e.MaxAge/time.Second), 10))
	}
	if len(parts) == 0 {
		parts = append(parts, "no acr_values or max_age")
	}
	return fmt.Sprintf("session: the resource server asks for a stronger login (RFC 9470, HTTP %d): %s", e.StatusCode, strings.Join(parts, ", "))
}

// ParseStepUpChallenge returns the RFC 9470 challenge of a resource
// server's response, read from its WWW-Authenticate header fields (any
// scheme, Bearer and DPoP alike, error="insufficient_user_authentication"),
// and whether it has one. Malformed acr_values or max_age members are left
// out; the values are capped (at most 16 acr values of 512 bytes).
func ParseStepUpChallenge(status int, h http.Header) (*StepUpError, bool) {
	for _, field := range h.Values("WWW-Authenticate") {
		for _, c := range dpopwire.ParseWWWAuthenticate(field) {
			if c.Params["error"] != "insufficient_user_authentication" {
				continue
			}
			e := &StepUpError{StatusCode: status, MaxAge: -1}
			for _, v := range strings.Fields(c.Params["acr_values"]) {
				if len(e.ACRValues) < 16 && len(v) <= 512 {
					e.ACRValues = append(e.ACRValues, v)
				}
			}
			if ma, ok := c.Params["max_age"]; ok {
				if n, err := strconv.ParseInt(ma, 10, 64); err == nil && n >= 0 && n < 1<<31 {
					e.MaxAge = time.Duration(n) * time.Second
				}
			}
			return e, true
		}
	}
	return nil, false
}

// stepUpLifetime bounds how long a step-up may take at the provider.
const stepUpLifetime = 15 * time.Minute

// StepUp turns a resource server's challenge into a new login that asks
// for what it wants (RFC 9470 §4), from one of the app's own handlers:
// acr_values and max_age, or, with Config.MitIDStepUp, the MitID broker's
// loa_value with enable_step_up and prompt=login (an acr value naming an
// NSIS level URI maps to its level). The browser's session remembers the
// step-up; when its callback comes back to this browser, the same session
// is upgraded (its ID rotated) if the login reached the level (the acr
// claim is one of ACRValues; with NSIS levels, the acr or loa level is at
// least the lowest one asked for) for the same user, and the browser goes
// on to returnTo (a path of this site; "" calls Config.OnLogin). Otherwise
// the session stays as it was and the login handler's OnError gets
// ErrStepUpFailed. Without a session it is a plain login asking for the
// level.
func (m *Manager) StepUp(w http.ResponseWriter, r *http.Request, ch *StepUpError, returnTo string) {
	if ch == nil {
		m.fail(w, r, fmt.Errorf("%w: no challenge", ErrStepUpFailed))
		return
	}
	if returnTo != "" && !localPath(returnTo) {
		m.fail(w, r, fmt.Errorf("session: step-up: returnTo %.100q is not a path of this site", returnTo))
		return
	}
	want := &pending{Nonce: rand.Text(), ACR: slices.Clone(ch.ACRValues), ReturnTo: returnTo,
		Expires: m.now().Add(stepUpLifetime)}
	opts, err := m.stepUpOptions(ch, want)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	opts = append(opts, client.WithParam("nonce", want.Nonce))
	ctx := r.Context()
	l, err := m.load(ctx, r)
	switch {
	case err == nil:
		l.rec.StepUp = want
		if err := m.update(ctx, w, l); err != nil {
			m.fail(w, r, fmt.Errorf("session: step-up: %w", err))
			return
		}
	case !errors.Is(err, ErrNoSession):
		m.fail(w, r, err)
		return
	}
	m.h.StartWith(w, r, opts...)
}

// stepUpOptions are the authorization request parameters of a step-up.
func (m *Manager) stepUpOptions(ch *StepUpError, want *pending) ([]client.Option, error) {
	var opts []client.Option
	if ch.MaxAge >= 0 {
		opts = append(opts, client.WithMaxAge(ch.MaxAge))
	}
	if !m.mitid {
		if len(ch.ACRValues) > 0 {
			opts = append(opts, client.WithParam("acr_values", strings.Join(ch.ACRValues, " ")))
		}
		return opts, nil
	}
	if len(ch.ACRValues) == 0 {
		// max_age alone: the broker re-authenticates (prompt=login too, as
		// its documentation advises for a forced re-authentication).
		return append(opts, client.WithPrompt("login")), nil
	}
	// The broker takes one loa_value: the first NSIS level asked for (the
	// preferred one); the check accepts any level at or above the lowest.
	var first mitid.Level
	for _, v := range ch.ACRValues {
		lvl, err := mitid.ParseLevel(v)
		if err != nil {
			return nil, fmt.Errorf("%w: acr value %.100q is not an NSIS level URI, which the MitID broker cannot ask for", ErrStepUpFailed, v)
		}
		if first == 0 {
			first = lvl
		}
		if want.Level == 0 || int(lvl) < want.Level {
			want.Level = int(lvl)
		}
	}
	p, err := mitid.Params{LoA: first, EnableStepUp: true}.Options()
	if err != nil {
		return nil, err
	}
	return append(opts, p...), nil
}

// satisfies reports whether a login's acr (or loa) meets want: with NSIS
// levels, a level at or above the lowest asked for; otherwise one of the
// acr values asked for, exactly. A step-up that asked only for max_age is
// met by any login (client.Exchange checked auth_time).
func satisfies(want *pending, acr, loa string) bool {
	if len(want.ACR) == 0 {
		return true
	}
	if want.Level == 0 {
		// Without MitIDStepUp, NSIS URIs are compared as levels too: High
		// meets a request for Substantial.
		if lvl, ok := nsisLevels(want.ACR); ok {
			want = &pending{Level: lvl}
		}
	}
	if want.Level > 0 {
		for _, v := range []string{acr, loa} {
			if lvl, err := mitid.ParseLevel(v); err == nil && int(lvl) >= want.Level {
				return true
			}
		}
		return false
	}
	return acr != "" && slices.Contains(want.ACR, acr)
}

// nsisLevels returns the lowest level of acr values that are all NSIS
// level URIs.
func nsisLevels(acr []string) (int, bool) {
	low := 0
	for _, v := range acr {
		lvl, err := mitid.ParseLevel(v)
		if err != nil {
			return 0, false
		}
		if low == 0 || int(lvl) < low {
			low = int(lvl)
		}
	}
	return low, low > 0
}
