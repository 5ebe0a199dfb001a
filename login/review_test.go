package login

// Regression tests for the findings of the security and correctness review.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// TestReviewCookieStoreKeepsMaxAge: the cookie store carries Flow.MaxAge,
// without which client.Exchange cannot apply max_age (OIDC Core
// §3.1.3.7 item 13), and Flow.ResponseMode, without which it cannot refuse
// a plain response to a JARM flow; a flow without them packs exactly as
// before.
func TestReviewCookieStoreKeepsMaxAge(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	rand.Read(key)
	s, err := NewCookieStore(CookieConfig{Keys: [][]byte{key}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		maxAge, mode string
	}{
		{"max_age 0", "0", ""},
		{"max_age 300", "300", ""},
		{"no max_age", "", ""},
		{"response_mode jwt", "", "jwt"},
		{"max_age and form_post.jwt", "60", "form_post.jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &client.Flow{State: "st-" + tt.name, Nonce: "n", CodeVerifier: "v", RequestURI: "urn:x",
				RedirectURL: "https://app.example/cb", Issuer: "https://op.example", MaxAge: tt.maxAge,
				ResponseMode: tt.mode, ExpiresAt: time.Now().Add(time.Minute)}
			w := httptest.NewRecorder()
			if err := s.Save(context.Background(), w, httptest.NewRequest("POST", "/login", nil), in, time.Now().Add(time.Minute)); err != nil {
				t.Fatalf("Save: %v", err)
			}
			r := httptest.NewRequest("GET", "/callback", nil)
			for _, c := range w.Result().Cookies() {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			out, err := s.Take(context.Background(), httptest.NewRecorder(), r, in.State)
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if out.MaxAge != tt.maxAge || out.ResponseMode != tt.mode || out.Nonce != in.Nonce || out.Issuer != in.Issuer {
				t.Errorf("Take = %+v, want max_age %q, response_mode %q", out, tt.maxAge, tt.mode)
			}
		})
	}
}

// TestReviewUnpackSixFieldFlow: a flow packed before max_age existed (six
// strings) still unpacks, with no max_age.
func TestReviewUnpackSixFieldFlow(t *testing.T) {
	t.Parallel()
	var b []byte
	b = binary.AppendVarint(b, 1_700_000_600)
	b = binary.AppendVarint(b, 1_700_000_060)
	b = binary.AppendUvarint(b, 0)
	for _, s := range []string{"n", "v", "urn:x", "https://app/cb", "https://op", ""} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	f, exp, err := unpackFlow(b)
	if err != nil || f.MaxAge != "" || f.Issuer != "https://op" || exp.Unix() != 1_700_000_600 {
		t.Fatalf("unpackFlow = %+v, %v, %v", f, exp, err)
	}
}

// FuzzReviewPackFlowMaxAge: any flow, max_age included, survives pack and
// unpack.
func FuzzReviewPackFlowMaxAge(f *testing.F) {
	f.Add("n", "v", "urn:x", "https://op", "300")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, nonce, verifier, uri, issuer, maxAge string) {
		in := &client.Flow{Nonce: nonce, CodeVerifier: verifier, RequestURI: uri, Issuer: issuer, MaxAge: maxAge,
			ExpiresAt: time.Unix(1_700_000_060, 0)}
		out, _, err := unpackFlow(packFlow(in, time.Unix(1_700_000_600, 0)))
		if err != nil || out.MaxAge != in.MaxAge || out.Nonce != in.Nonce || out.CodeVerifier != in.CodeVerifier ||
			out.RequestURI != in.RequestURI || out.Issuer != in.Issuer {
			t.Fatalf("round trip: %+v, %v; want %+v", out, err, in)
		}
	})
}

// TestReviewCallbackErrorWithoutState: a provider error without state (a
// reused or expired request_uri) keeps its code reachable with errors.As,
// while errors.Is(err, client.ErrStateMismatch) still holds (R17).
func TestReviewCallbackErrorWithoutState(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s", RedirectURIs: []string{"https://app.example/callback"}}}})
	t.Cleanup(srv.Close)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		code  string
	}{
		{"error=invalid_request_uri&error_description=expired", "invalid_request_uri"},
		{"code=abc", ""},
	}
	for _, tt := range tests {
		var got error
		h, err := New(Config{Client: c, OnError: func(_ http.ResponseWriter, _ *http.Request, err error) { got = err }})
		if err != nil {
			t.Fatal(err)
		}
		h.Callback(httptest.NewRecorder(), httptest.NewRequest("GET", "/callback?"+tt.query, nil))
		if !errors.Is(got, client.ErrStateMismatch) {
			t.Errorf("%s: error %v, want ErrStateMismatch", tt.query, got)
		}
		var ae *client.AuthorizationError
		if found := errors.As(got, &ae); found != (tt.code != "") || found && ae.Code != tt.code {
			t.Errorf("%s: AuthorizationError %v, want code %q", tt.query, ae, tt.code)
		}
	}
}

// TestReviewCallbackHEAD: a HEAD request at the callback (a link checker,
// a prefetch) is refused with 405 and does not use up the flow.
func TestReviewCallbackHEAD(t *testing.T) {
	t.Parallel()
	srv := partest.NewServer(partest.Config{Clients: []partest.Client{{ID: "app", Secret: "s", RedirectURIs: []string{"https://app.example/callback"}}}})
	t.Cleanup(srv.Close)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic("s"), RedirectURL: "https://app.example/callback", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemoryStore(MemoryOptions{})
	flow := &client.Flow{State: "st", Nonce: "n", CodeVerifier: "v", Issuer: srv.Issuer()}
	if err := store.Save(context.Background(), nil, nil, flow, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Client: c, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.Callback(w, httptest.NewRequest("HEAD", "/callback?state=st&code=abc", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /callback = %d, want 405", w.Code)
	}
	if store.Len() != 1 {
		t.Errorf("flows after HEAD = %d, want 1 (not used up)", store.Len())
	}
}
