package session

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/partest"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

func cookieManager(t testing.TB, name string) *Manager {
	t.Helper()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s", RedirectURIs: []string{"https://app.example/auth/callback"}}}})
	t.Cleanup(srv.Close)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s"),
		RedirectURL: "https://app.example/auth/callback", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Client: c, CookieSessions: true, Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Cookie: CookieConfig{Name: name}, Login: loginConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCookieSizeLimit: with CookieSessions a session fits when its cookie
// (name, "=", value) is at most MaxCookieSize bytes, exactly at the limit
// included, and is refused with ErrTooLarge one byte of session beyond it;
// a cookie over the limit does not open.
func TestCookieSizeLimit(t *testing.T) {
	t.Parallel()
	// 16 bytes of "name=" leave 4080 for the value, a length base64url
	// reaches (3060 sealed bytes), so the edge is exact.
	m := cookieManager(t, "__Host-session-x")
	rec := &record{ID: "id", Issuer: "https://op.example", Subject: "alice", Started: time.Unix(1, 0), LoggedIn: time.Unix(1, 0)}
	size := func() (int, error) {
		v, err := m.cookieValue(rec)
		return len(m.cookieName) + 1 + len(v), err
	}
	base, err := size()
	if err != nil {
		t.Fatal(err)
	}
	// Grow the access token until the cookie is exactly MaxCookieSize.
	rec.Access = strings.Repeat("a", (MaxCookieSize-base)*3/4)
	for {
		n, err := size()
		if err != nil || n >= MaxCookieSize {
			break
		}
		rec.Access += "a"
	}
	n, err := size()
	if err != nil || n != MaxCookieSize {
		t.Fatalf("cookie of %d bytes: %v; want exactly %d accepted", n, err, MaxCookieSize)
	}
	v, _ := m.cookieValue(rec)
	if got, err := m.openCookie(v); err != nil || got.Access != rec.Access {
		t.Fatalf("a cookie at the limit does not open: %v", err)
	}
	rec.Access += "a"
	if n, err := size(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("cookie of %d bytes: %v, want ErrTooLarge", n, err)
	}
	// The login is refused, not half-made.
	w := httptest.NewRecorder()
	if err := m.save(context.Background(), w, rec); !errors.Is(err, ErrTooLarge) || len(w.Result().Cookies()) != 0 {
		t.Errorf("save of an oversize session: %v, cookies %v", err, w.Result().Cookies())
	}
	if _, err := m.openCookie(v + "A"); err == nil {
		t.Error("a cookie over the limit opens")
	}

}

func loginConfig() login.Config { return login.Config{} }

// FuzzOpenCookie feeds arbitrary cookie values to the cookie-session
// opener: no panic, and nothing but a record the Manager sealed opens.
func FuzzOpenCookie(f *testing.F) {
	m := cookieManager(f, "__Host-session")
	good, err := m.cookieValue(&record{ID: "id", Issuer: "https://op.example", Subject: "alice"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("AQ")
	f.Add(good[:len(good)-2])
	f.Fuzz(func(t *testing.T, v string) {
		rec, err := m.openCookie(v)
		// Only values sealed with the key open (the fuzzing workers seal
		// the seed afresh, so the bytes differ, never the record).
		if err == nil && (rec.ID != "id" || rec.Subject != "alice") {
			t.Fatalf("a cookie that the Manager did not seal opened: %q", v)
		}
	})
}
