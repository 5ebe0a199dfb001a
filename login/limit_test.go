package login_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitedApp is an app whose Handler's clock the test moves, with the
// errors its OnError saw.
type limitedApp struct {
	*testApp
	clock *fakeClock
}

func newLimitedApp(t *testing.T, tweak func(*login.Config)) *limitedApp {
	clock := newFakeClock()
	a := newApp(t, appOptions{login: func(c *login.Config) {
		c.Now = clock.Now
		if tweak != nil {
			tweak(c)
		}
	}})
	return &limitedApp{testApp: a, clock: clock}
}

// start calls Start directly, as from remoteAddr with the given
// X-Forwarded-For, and returns the recorded response.
func (a *limitedApp) start(remoteAddr, xff string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, a.web.URL+"/login", nil)
	r.RemoteAddr = remoteAddr
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// startN starts n logins from remoteAddr and returns how many were let
// through (303) and the last refusal.
func (a *limitedApp) startN(t *testing.T, n int, remoteAddr, xff string) (int, *httptest.ResponseRecorder) {
	t.Helper()
	ok := 0
	var refused *httptest.ResponseRecorder
	for range n {
		switch w := a.start(remoteAddr, xff); w.Code {
		case http.StatusSeeOther:
			ok++
		case http.StatusTooManyRequests:
			refused = w
		default:
			t.Fatalf("start from %s = %d %q", remoteAddr, w.Code, w.Body)
		}
	}
	return ok, refused
}

// TestStartLimitsDefault: the Handler limits starts out of the box, at 50
// per second per address with bursts of 100. On the code before the
// limits every start pushed.
func TestStartLimitsDefault(t *testing.T) {
	t.Parallel()
	a := newLimitedApp(t, nil)
	ok, refused := a.startN(t, login.DefaultPerClientBurst+1, "192.0.2.1:4000", "")
	if ok != login.DefaultPerClientBurst || refused == nil {
		t.Fatalf("%d starts at once from one address: %d let through, want the burst of %d and a 429",
			login.DefaultPerClientBurst+1, ok, login.DefaultPerClientBurst)
	}
	if got := refused.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (a token comes back within 20 ms at 50/s)", got)
	}
	if body := refused.Body.String(); !strings.Contains(body, "too many logins") {
		t.Errorf("429 body = %q", body)
	}
	err := a.lastErr()
	if !errors.Is(err, login.ErrRateLimited) || login.StatusCode(err) != http.StatusTooManyRequests ||
		!strings.Contains(err.Error(), "StartLimits.PerClient") {
		t.Errorf("OnError got %v (status %d), want ErrRateLimited naming StartLimits.PerClient", err, login.StatusCode(err))
	}
	if n := a.srv.Requests(partest.EndpointPAR); n != login.DefaultPerClientBurst {
		t.Errorf("PAR requests = %d, want %d: a refused start must not push", n, login.DefaultPerClientBurst)
	}

	// Another address has a bucket of its own; the first gets a token
	// back after 1/50 s.
	if w := a.start("192.0.2.2:4000", ""); w.Code != http.StatusSeeOther {
		t.Errorf("start from another address = %d, want 303", w.Code)
	}
	if w := a.start("192.0.2.1:4001", ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("start from the limited address, another port = %d, want 429", w.Code)
	}
	a.clock.Advance(time.Second / login.DefaultPerClientRate)
	if ok, _ := a.startN(t, 2, "192.0.2.1:4000", ""); ok != 1 {
		t.Errorf("after 20 ms: %d of 2 starts let through, want 1", ok)
	}
	// Sustained: one second refills 50.
	a.clock.Advance(time.Second)
	if ok, _ := a.startN(t, login.DefaultPerClientRate+1, "192.0.2.1:4000", ""); ok != login.DefaultPerClientRate {
		t.Errorf("after 1 s: %d starts let through, want %d", ok, login.DefaultPerClientRate)
	}
}

func TestStartLimitsGlobal(t *testing.T) {
	t.Parallel()
	a := newLimitedApp(t, func(c *login.Config) {
		c.StartLimits.Global = login.RateLimit{Rate: 2, Burst: 3}
	})
	for i, addr := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"} {
		if w := a.start(addr, ""); w.Code != http.StatusSeeOther {
			t.Fatalf("start %d = %d, want 303", i, w.Code)
		}
	}
	w := a.start("192.0.2.4:1", "")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("fourth start = %d Retry-After %q, want 429 after 1", w.Code, w.Header().Get("Retry-After"))
	}
	if err := a.lastErr(); !strings.Contains(err.Error(), "StartLimits.Global") {
		t.Errorf("error = %v, want it to name StartLimits.Global", err)
	}
	a.clock.Advance(500 * time.Millisecond)
	if w := a.start("192.0.2.4:1", ""); w.Code != http.StatusSeeOther {
		t.Errorf("start after 0.5 s at 2/s = %d, want 303", w.Code)
	}
}

// TestStartLimitsClientAddress: RemoteAddr counts unless the app says
// otherwise; X-Forwarded-For counts only as far as the configured proxies
// wrote it.
func TestStartLimitsClientAddress(t *testing.T) {
	t.Parallel()
	one := login.RateLimit{Rate: 1, Burst: 1}
	tests := []struct {
		name  string
		addr  func(*http.Request) string
		reqs  [][2]string // RemoteAddr, X-Forwarded-For
		codes []int
	}{
		{"RemoteAddr; X-Forwarded-For ignored", nil,
			[][2]string{{"192.0.2.1:1", "198.51.100.1"}, {"192.0.2.1:2", "198.51.100.2"}, {"192.0.2.2:1", "198.51.100.1"}},
			[]int{303, 429, 303}},
		{"ForwardedFor(1): the last entry", login.ForwardedFor(1),
			[][2]string{{"10.0.0.1:1", "198.51.100.1"}, {"10.0.0.1:2", "spoofed, 198.51.100.1"}, {"10.0.0.1:3", "198.51.100.2"}},
			[]int{303, 429, 303}},
		{"ForwardedFor(2): the second entry from the right", login.ForwardedFor(2),
			[][2]string{{"10.0.0.1:1", "1.1.1.1, 198.51.100.1, 10.0.0.9"}, {"10.0.0.1:1", "2.2.2.2, 198.51.100.1, 10.0.0.8"},
				{"10.0.0.1:1", "198.51.100.1"}},
			[]int{303, 429, 303}}, // too few entries: RemoteAddr
		{"IPv6 by /64", nil,
			[][2]string{{"[2001:db8::1]:1", ""}, {"[2001:db8::ffff]:1", ""}, {"[2001:db8:0:1::1]:1", ""}},
			[]int{303, 429, 303}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newLimitedApp(t, func(c *login.Config) {
				c.StartLimits = login.StartLimits{PerClient: one, ClientAddress: tt.addr}
			})
			for i, rq := range tt.reqs {
				if w := a.start(rq[0], rq[1]); w.Code != tt.codes[i] {
					t.Errorf("request %d (%s, X-Forwarded-For %q) = %d, want %d", i, rq[0], rq[1], w.Code, tt.codes[i])
				}
			}
		})
	}
}

func TestForwardedFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		proxies int
		remote  string
		xff     []string
		want    string
	}{
		{1, "10.0.0.1:5", nil, "10.0.0.1"},
		{1, "10.0.0.1:5", []string{"198.51.100.7"}, "198.51.100.7"},
		{1, "10.0.0.1:5", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{1, "10.0.0.1:5", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"}, // two header lines
		{2, "10.0.0.1:5", []string{"6.6.6.6, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{2, "10.0.0.1:5", []string{"198.51.100.7"}, "10.0.0.1"},
		{1, "10.0.0.1:5", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{1, "10.0.0.1:5", []string{"198.51.100.7:8080"}, "198.51.100.7"},
		{0, "10.0.0.1:5", []string{"198.51.100.7"}, "198.51.100.7"}, // 0 means 1
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := login.ForwardedFor(tt.proxies)(r); got != tt.want {
			t.Errorf("ForwardedFor(%d) with %q from %s = %q, want %q", tt.proxies, tt.xff, tt.remote, got, tt.want)
		}
	}
}

// TestStartLimitsOff: only the explicit Insecure knob turns the limits off.
func TestStartLimitsOff(t *testing.T) {
	t.Parallel()
	a := newLimitedApp(t, func(c *login.Config) { c.InsecureNoStartLimits = true })
	if ok, _ := a.startN(t, login.DefaultPerClientBurst+20, "192.0.2.1:1", ""); ok != login.DefaultPerClientBurst+20 {
		t.Errorf("with InsecureNoStartLimits %d of %d starts let through", ok, login.DefaultPerClientBurst+20)
	}
}

func TestStartLimitsConfigErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	tests := []struct {
		name   string
		limits login.StartLimits
		want   string
	}{
		{"negative rate", login.StartLimits{PerClient: login.RateLimit{Rate: -1}}, "StartLimits.PerClient"},
		{"negative burst", login.StartLimits{Global: login.RateLimit{Rate: 1, Burst: -1}}, "StartLimits.Global"},
		{"burst without rate", login.StartLimits{Global: login.RateLimit{Burst: 5}}, "StartLimits.Global"},
		{"negative table", login.StartLimits{MaxClients: -1}, "StartLimits.MaxClients"},
	}
	for _, tt := range tests {
		if _, err := login.New(login.Config{Client: a.c, StartLimits: tt.limits}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}
