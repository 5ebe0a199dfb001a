package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

// saveCookie saves f in s and returns the Set-Cookie it made.
func saveCookie(t *testing.T, s *login.CookieStore, f *client.Flow, exp time.Time) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := s.Save(context.Background(), w, httptest.NewRequest("POST", "/login", nil), f, exp); err != nil {
		t.Fatalf("Save: %v", err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("Save set %d cookies, want 1", len(cs))
	}
	return cs[0]
}

// takeCookie presents cookies at the callback for state.
func takeCookie(s *login.CookieStore, state string, cookies ...*http.Cookie) (*client.Flow, *httptest.ResponseRecorder, error) {
	r := httptest.NewRequest("GET", "/callback?state=x", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := httptest.NewRecorder()
	f, err := s.Take(context.Background(), w, r, state)
	return f, w, err
}

func newCookieStore(t *testing.T, cfg login.CookieConfig) *login.CookieStore {
	t.Helper()
	s, err := login.NewCookieStore(cfg)
	if err != nil {
		t.Fatalf("NewCookieStore: %v", err)
	}
	return s
}

func TestCookieStoreRoundTrip(t *testing.T) {
	t.Parallel()
	clock := &slowClock{now: time.Unix(1_700_000_000, 0)}
	s := newCookieStore(t, login.CookieConfig{Keys: [][]byte{newKey()}, Now: clock.Now})
	f := brokerFlow(clock.Now())
	f.ExpiresAt = f.ExpiresAt.Add(123456789 * time.Nanosecond)
	f.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	c := saveCookie(t, s, f, clock.Now().Add(10*time.Minute))

	if !strings.HasPrefix(c.Name, "__Host-par-f-") || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 600 {
		t.Errorf("cookie attributes = %+v", c)
	}
	for _, secret := range []string{f.State, f.Nonce, f.CodeVerifier, f.RequestURI} {
		if strings.Contains(c.Name+c.Value, secret) {
			t.Errorf("cookie shows a flow value in clear")
		}
	}

	if _, err := s.Take(context.Background(), nil, nil, f.State); err == nil {
		t.Error("Take without request = nil error")
	}
	if err := s.Save(context.Background(), nil, nil, f, clock.Now().Add(time.Minute)); err == nil {
		t.Error("Save without response writer = nil error")
	}
	got, w, err := takeCookie(s, f.State, c)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	if got.State != f.State || got.Nonce != f.Nonce || got.CodeVerifier != f.CodeVerifier || got.RequestURI != f.RequestURI ||
		got.RedirectURL != f.RedirectURL || got.Issuer != f.Issuer || got.DPoPJKT != f.DPoPJKT || !got.ExpiresAt.Equal(f.ExpiresAt) {
		t.Errorf("Take = %+v\nwant %+v", got, f)
	}
	cleared := w.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != c.Name || cleared[0].MaxAge >= 0 {
		t.Errorf("Take set %+v, want the cookie cleared", cleared)
	}
}

func TestCookieStoreSize(t *testing.T) {
	t.Parallel()
	s := newCookieStore(t, login.CookieConfig{Keys: [][]byte{newKey()}})
	f := brokerFlow(time.Now())
	c := saveCookie(t, s, f, time.Now().Add(10*time.Minute))
	header := c.String()
	t.Logf("cookie store: name+value %d bytes, Set-Cookie %d bytes (broker flow: issuer %d, redirect_uri %d, request_uri %d)",
		len(c.Name)+1+len(c.Value), len(header), len(f.Issuer), len(f.RedirectURL), len(f.RequestURI))
	if n := len(c.Name) + 1 + len(c.Value); n > 1200 {
		t.Errorf("cookie is %d bytes, want ≤ 1200", n)
	}
	huge := brokerFlow(time.Now())
	huge.RedirectURL = "https://app.example/" + strings.Repeat("x", 4000)
	w := httptest.NewRecorder()
	if err := s.Save(context.Background(), w, httptest.NewRequest("POST", "/", nil), huge, time.Now().Add(time.Minute)); err == nil {
		t.Error("Save of a flow larger than a cookie = nil, want an error")
	}
}

func TestCookieStoreTake(t *testing.T) {
	t.Parallel()
	clock := &slowClock{now: time.Unix(1_700_000_000, 0)}
	oldKey, newK := newKey(), newKey()
	old := newCookieStore(t, login.CookieConfig{Keys: [][]byte{oldKey}, Now: clock.Now})
	rotated := newCookieStore(t, login.CookieConfig{Keys: [][]byte{newK, oldKey}, Now: clock.Now})
	retired := newCookieStore(t, login.CookieConfig{Keys: [][]byte{newK}, Now: clock.Now})
	strict := newCookieStore(t, login.CookieConfig{Keys: [][]byte{oldKey}, Now: clock.Now, StrictSingleUse: true})

	f, g := brokerFlow(clock.Now()), brokerFlow(clock.Now())
	exp := clock.Now().Add(10 * time.Minute)
	cf, cg := saveCookie(t, old, f, exp), saveCookie(t, old, g, exp)
	moved := &http.Cookie{Name: cg.Name, Value: cf.Value} // f's flow under g's name
	tampered := &http.Cookie{Name: cf.Name, Value: cf.Value[:40] + flip(cf.Value[40]) + cf.Value[41:]}
	garbage := &http.Cookie{Name: cf.Name, Value: "not base64!"}

	tests := []struct {
		name    string
		store   *login.CookieStore
		state   string
		cookies []*http.Cookie
		invalid bool // ErrInvalidCookie as well as ErrFlowNotFound
		ok      bool
	}{
		{"own flow", old, f.State, []*http.Cookie{cf, cg}, false, true},
		{"second tab", old, g.State, []*http.Cookie{cf, cg}, false, true},
		{"rotated key list", rotated, f.State, []*http.Cookie{cf}, false, true},
		{"retired key", retired, f.State, []*http.Cookie{cf}, true, false},
		{"no cookie", old, f.State, []*http.Cookie{cg}, false, false},
		{"cookie of another state", old, g.State, []*http.Cookie{moved}, true, false},
		{"tampered", old, f.State, []*http.Cookie{tampered}, true, false},
		{"garbage", old, f.State, []*http.Cookie{garbage}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := takeCookie(tc.store, tc.state, tc.cookies...)
			if tc.ok {
				if err != nil || got.State != tc.state {
					t.Errorf("Take = %v, %v; want the flow", got, err)
				}
				return
			}
			if got != nil || !errors.Is(err, login.ErrFlowNotFound) || errors.Is(err, login.ErrInvalidCookie) != tc.invalid {
				t.Errorf("Take = %v, %v; want ErrFlowNotFound (invalid cookie: %v)", got, err, tc.invalid)
			}
		})
	}

	t.Run("single use", func(t *testing.T) {
		// Per browser: Take clears the cookie. A copied cookie opens again
		// unless StrictSingleUse remembers the state.
		if _, _, err := takeCookie(old, f.State, cf); err != nil {
			t.Errorf("replay without StrictSingleUse = %v, want the flow (single use is per browser)", err)
		}
		if _, _, err := takeCookie(strict, f.State, cf); err != nil {
			t.Fatalf("first strict Take = %v", err)
		}
		if _, _, err := takeCookie(strict, f.State, cf); !errors.Is(err, login.ErrFlowNotFound) {
			t.Errorf("replayed strict Take = %v, want ErrFlowNotFound", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		h := brokerFlow(clock.Now())
		ch := saveCookie(t, old, h, clock.Now().Add(time.Minute))
		clock.advance(time.Minute)
		if _, _, err := takeCookie(old, h.State, ch); !errors.Is(err, login.ErrFlowNotFound) || errors.Is(err, login.ErrInvalidCookie) {
			t.Errorf("Take after expiry = %v, want ErrFlowNotFound", err)
		}
	})
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestCookieStoreMaxPending(t *testing.T) {
	t.Parallel()
	s := newCookieStore(t, login.CookieConfig{Keys: [][]byte{newKey()}, MaxPending: 2})
	r := httptest.NewRequest("POST", "/login", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-par-f-oldest", Value: "x"})
	r.AddCookie(&http.Cookie{Name: "session", Value: "app"})
	r.AddCookie(&http.Cookie{Name: "__Host-par-f-newer", Value: "y"})
	w := httptest.NewRecorder()
	f := brokerFlow(time.Now())
	if err := s.Save(context.Background(), w, r, f, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var set, cleared []string
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			cleared = append(cleared, c.Name)
		} else {
			set = append(set, c.Name)
		}
	}
	if len(cleared) != 1 || cleared[0] != "__Host-par-f-oldest" || len(set) != 1 {
		t.Errorf("Save cleared %v and set %v, want the oldest cleared and one set", cleared, set)
	}
}

func TestCookieConfig(t *testing.T) {
	t.Parallel()
	key := newKey()
	tests := []struct {
		name    string
		cfg     login.CookieConfig
		prefix  string
		secure  bool
		path    string
		domain  string
		sameSit http.SameSite
		err     string
	}{
		{"default", login.CookieConfig{Keys: [][]byte{key}}, "__Host-par-f-", true, "/", "", http.SameSiteLaxMode, ""},
		{"insecure dev", login.CookieConfig{Keys: [][]byte{key}, InsecureCookie: true}, "par-f-", false, "/", "", http.SameSiteLaxMode, ""},
		{"path", login.CookieConfig{Keys: [][]byte{key}, Path: "/auth"}, "par-f-", true, "/auth", "", http.SameSiteLaxMode, ""},
		{"domain", login.CookieConfig{Keys: [][]byte{key}, Domain: "app.example"}, "par-f-", true, "/", "app.example", http.SameSiteLaxMode, ""},
		{"name and form_post", login.CookieConfig{Keys: [][]byte{key}, Name: "__Secure-app", SameSite: http.SameSiteNoneMode}, "__Secure-app-f-", true, "/", "", http.SameSiteNoneMode, ""},
		{"no keys", login.CookieConfig{}, "", false, "", "", 0, "Keys is empty"},
		{"short key", login.CookieConfig{Keys: [][]byte{key, key[:16]}}, "", false, "", "", 0, "Keys[1] is 16 bytes"},
		{"none without secure", login.CookieConfig{Keys: [][]byte{key}, SameSite: http.SameSiteNoneMode, InsecureCookie: true}, "", false, "", "", 0, "SameSite=None"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := login.NewCookieStore(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("NewCookieStore = %v, want an error about %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := saveCookie(t, s, brokerFlow(time.Now()), time.Now().Add(time.Minute))
			if !strings.HasPrefix(c.Name, tc.prefix) || c.Secure != tc.secure || c.Path != tc.path || c.Domain != tc.domain ||
				c.SameSite != tc.sameSit || !c.HttpOnly {
				t.Errorf("cookie = %+v", c)
			}
		})
	}
}

// TestBindingCookieAttributes checks the Handler's binding cookie with the
// default and the development (InsecureCookie) attributes.
func TestBindingCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		insecure bool
		prefix   string
	}{
		{"default", false, "__Host-par-b-"},
		{"insecure", true, "par-b-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{login: func(c *login.Config) { c.Cookie.InsecureCookie = tc.insecure }})
			r := a.browser().do(http.MethodPost, "/login", sameOrigin, nil)
			resp := http.Response{Header: r.header}
			cs := resp.Cookies()
			if len(cs) != 1 {
				t.Fatalf("start set %d cookies, want 1", len(cs))
			}
			c := cs[0]
			if !strings.HasPrefix(c.Name, tc.prefix) || c.Secure == tc.insecure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.MaxAge != 600 || c.Path != "/" {
				t.Errorf("binding cookie = %+v", c)
			}
		})
	}
}

func BenchmarkCookieStore(b *testing.B) {
	ctx := context.Background()
	s, err := login.NewCookieStore(login.CookieConfig{Keys: [][]byte{newKey(), newKey()}})
	if err != nil {
		b.Fatal(err)
	}
	f := brokerFlow(time.Now())
	exp := time.Now().Add(10 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		if err := s.Save(ctx, w, nil, f, exp); err != nil {
			b.Fatal(err)
		}
		c := w.Result().Cookies()[0]
		r := httptest.NewRequest("GET", "/callback", nil)
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		if _, err := s.Take(ctx, httptest.NewRecorder(), r, f.State); err != nil {
			b.Fatal(err)
		}
	}
}
