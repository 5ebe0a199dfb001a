package login_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// With response_mode=form_post the callback is a cross-site POST, so the
// browser-binding cookie must default to SameSite=None (with Secure), or
// browsers would drop it and every broker login would fail.
func TestBindingCookieSameSite(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{
		{ID: "app", Secret: "s", RedirectURIs: []string{"https://app.example/callback"}}}})
	t.Cleanup(srv.Close)
	for _, tt := range []struct{ mode, want string }{{"", "SameSite=Lax"}, {"form_post", "SameSite=None"}} {
		c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
			Auth: client.ClientSecretBasic("s"), RedirectURL: "https://app.example/callback", ResponseMode: tt.mode,
			HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		h, err := login.New(login.Config{Client: c})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		w := httptest.NewRecorder()
		h.Start(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("Start = %d %s", w.Code, w.Body)
		}
		sc := strings.Join(w.Result().Header.Values("Set-Cookie"), "\n")
		if !strings.Contains(sc, tt.want) || !strings.Contains(sc, "Secure") {
			t.Errorf("response_mode %q: Set-Cookie = %s, want %s; Secure", tt.mode, sc, tt.want)
		}
	}
}

type tempErr struct{}

func (tempErr) Error() string   { return "store down" }
func (tempErr) Temporary() bool { return true }

// A store whose backend is down answers 503, not 500.
func TestStatusCodeTemporaryStore(t *testing.T) {
	t.Parallel()
	err := &login.Error{Op: login.OpCallback, Err: fmt.Errorf("take: %w", tempErr{})}
	if got := login.StatusCode(err); got != http.StatusServiceUnavailable {
		t.Errorf("StatusCode(temporary store error) = %d, want 503", got)
	}
}
