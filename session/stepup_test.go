package session_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/go-par/par/partest"
	"github.com/go-par/par/session"
)

// stepUpFlow calls /api, which meets the resource server's challenge and
// starts the step-up; it returns the authorization URL.
func stepUpFlow(t *testing.T, e *env, b *browser) string {
	t.Helper()
	r := b.do(http.MethodGet, "/api", nil, nil)
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), e.srv.Issuer()) {
		t.Fatalf("/api with a challenge = %d %q %q, want 302 to the provider", r.status, r.header.Get("Location"), r.body)
	}
	return r.header.Get("Location")
}

// TestStepUp: a resource server's acr_values challenge becomes a login
// asking for it; its callback upgrades the same session (same start, new
// ID) at that level, and the resource call then succeeds.
func TestStepUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login()
	_, before := b.me()
	oldID := b.cookie()
	high := "urn:example:high"
	e.rs.needACR.Store(&high)
	authURL := stepUpFlow(t, e, b)
	if p := e.lastPush(); p.Get("acr_values") != high || p.Get("nonce") == "" {
		t.Errorf("step-up pushed acr_values %q, want %q", p.Get("acr_values"), high)
	}
	cb := b.finish(authURL, "")
	if cb.status != http.StatusSeeOther || cb.header.Get("Location") != "/me" {
		t.Fatalf("step-up callback = %d %q %q (%v)", cb.status, cb.header.Get("Location"), cb.body, e.lastErr())
	}
	_, after := b.me()
	startedBefore, startedAfter := before[strings.LastIndex(before, " ")+1:], after[strings.LastIndex(after, " ")+1:]
	if !strings.HasPrefix(after, "alice "+high+" ") || startedAfter != startedBefore {
		t.Errorf("/me after the step-up = %q, want alice at %s with the same start as %q", after, high, before)
	}
	if b.cookie() == oldID {
		t.Error("the step-up kept the session ID; want it rotated")
	}
	if n := e.store.Len(); n != 1 {
		t.Errorf("sessions stored = %d, want 1 (the same session)", n)
	}
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK || !strings.Contains(r.body, high) {
		t.Errorf("/api after the step-up = %d %q", r.status, r.body)
	}
}

// TestStepUpNotReached: a step-up that comes back below the level asked
// for, or as another user, leaves the session as it was and reports
// ErrStepUpFailed.
func TestStepUpNotReached(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		fault func(map[string]any)
		as    string
	}{
		{"lower acr", func(c map[string]any) { c["acr"] = "urn:example:low" }, ""},
		{"another user", nil, "bob"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{partest: func(c *partest.Config) {
				c.Users = append(partest.DefaultUsers(), partest.User{Subject: "bob"})
			}})
			b := e.browser()
			b.login()
			_, before := b.me()
			high := "urn:example:high"
			e.rs.needACR.Store(&high)
			if tt.fault != nil {
				e.srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, IDToken: tt.fault})
			}
			cb := b.finish(stepUpFlow(t, e, b), tt.as)
			if !errors.Is(e.lastErr(), session.ErrStepUpFailed) || cb.status == http.StatusSeeOther {
				t.Fatalf("step-up callback = %d, error %v; want ErrStepUpFailed", cb.status, e.lastErr())
			}
			if _, after := b.me(); after != before {
				t.Errorf("/me after a failed step-up = %q, want unchanged %q", after, before)
			}
		})
	}
}

// TestStepUpMitID: with MitIDStepUp, an NSIS acr_values challenge asks the
// broker for loa_value with enable_step_up and prompt=login, and the
// session reaches High (partest's broker mode).
func TestStepUpMitID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{broker: true})
	b := e.browser()
	b.login()
	if _, me := b.me(); !strings.Contains(me, "nsis/Substantial") {
		t.Fatalf("/me before = %q, want Substantial", me)
	}
	high := "https://data.gov.dk/concept/core/nsis/High"
	e.rs.needACR.Store(&high)
	r := b.do(http.MethodGet, "/api", nil, nil)
	if r.status != http.StatusFound {
		t.Fatalf("/api = %d %q", r.status, r.body)
	}
	p := e.lastPush()
	if p.Get("idp_params") != `{"mitid":{"loa_value":"high","enable_step_up":true}}` || p.Get("prompt") != "login" || p.Has("acr_values") {
		t.Errorf("MitID step-up pushed idp_params %q prompt %q acr_values %q; want loa_value high, enable_step_up, prompt=login, no acr_values",
			p.Get("idp_params"), p.Get("prompt"), p.Get("acr_values"))
	}
	cb := b.finish(r.header.Get("Location"), "")
	if cb.status != http.StatusSeeOther {
		t.Fatalf("step-up callback = %d %q (%v)", cb.status, cb.body, e.lastErr())
	}
	if _, me := b.me(); !strings.Contains(me, "nsis/High") {
		t.Errorf("/me after the MitID step-up = %q, want High", me)
	}
	if r := b.do(http.MethodGet, "/api", nil, nil); r.status != http.StatusOK {
		t.Errorf("/api after the step-up = %d %q", r.status, r.body)
	}
}
