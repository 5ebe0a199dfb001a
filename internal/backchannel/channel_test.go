package backchannel_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/redact"
)

// countingAuth mints a new "assertion" per call, as a JWT method does.
type countingAuth struct {
	mu sync.Mutex
	n  int
}

func (a *countingAuth) Authenticate(form url.Values, _ http.Header) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	form.Set("client_assertion", fmt.Sprintf("assertion-%d", a.n))
	form.Set("client_id", "app")
	return nil
}

type seen struct {
	form   url.Values
	proof  string
	auth   string
	method string
}

func newProofer(t *testing.T) *dpop.Proofer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProofer(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func proofNonce(t *testing.T, proof string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Nonce string `json:"nonce"`
		ATH   string `json:"ath"`
	}
	if err := jsonUnmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	return c.Nonce + "|" + c.ATH
}

// TestDoNonceRetry: a use_dpop_nonce challenge is answered exactly once,
// with a new proof carrying the nonce and a new client assertion (RFC 9449
// §8); the caller's form is not modified.
func TestDoNonceRetry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, seen{form: r.PostForm, proof: r.Header.Get("DPoP"), method: r.Method})
		n := len(got)
		mu.Unlock()
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("n%d", n))
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"use_dpop_nonce"}`)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	auth := &countingAuth{}
	ch := &backchannel.Channel{HTTPClient: httpx.NoRedirects(srv.Client()), Auth: auth, DPoP: newProofer(t),
		Nonces: &dpopwire.MemoryStore{}, Logger: slog.New(slog.DiscardHandler)}
	form := url.Values{"grant_type": {"authorization_code"}}
	resp, err := ch.Do(context.Background(), backchannel.Request{Name: "token", URL: srv.URL + "/token", Form: form, DPoP: true})
	if err != nil || resp.StatusCode != 200 || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if a, b := got[0].form.Get("client_assertion"), got[1].form.Get("client_assertion"); a == b || b != "assertion-2" {
		t.Errorf("assertions %q, %q: want a new one for the retry", a, b)
	}
	if got[0].proof == got[1].proof || proofNonce(t, got[0].proof) != "|" || proofNonce(t, got[1].proof) != "n1|" {
		t.Errorf("proof nonces %q, %q; want none, then n1", proofNonce(t, got[0].proof), proofNonce(t, got[1].proof))
	}
	if got[1].form.Get("grant_type") != "authorization_code" || len(form) != 1 {
		t.Errorf("form sent %v; caller's form now %v", got[1].form, form)
	}
	if n := ch.Nonces.Nonce(dpopwire.Origin(srv.URL)); n != "n2" {
		t.Errorf("stored nonce %q, want n2", n)
	}
}

// TestDoGetWithToken: a GET carries the access token as Bearer, or as DPoP
// with a proof holding its hash (RFC 9449 §7), and no client
// authentication.
func TestDoGetWithToken(t *testing.T) {
	t.Parallel()
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = seen{auth: r.Header.Get("Authorization"), proof: r.Header.Get("DPoP"), method: r.Method}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	for _, dp := range []bool{false, true} {
		ch := &backchannel.Channel{HTTPClient: srv.Client(), Auth: &countingAuth{}, Nonces: &dpopwire.MemoryStore{},
			Logger: slog.New(slog.DiscardHandler)}
		if dp {
			ch.DPoP = newProofer(t)
		}
		if _, err := ch.Do(context.Background(), backchannel.Request{Name: "userinfo", URL: srv.URL, Token: "at-1", DPoP: true}); err != nil {
			t.Fatal(err)
		}
		want := "Bearer at-1"
		if dp {
			want = "DPoP at-1"
			sum := sha256.Sum256([]byte("at-1"))
			if proofNonce(t, last.proof) != "|"+base64.RawURLEncoding.EncodeToString(sum[:]) {
				t.Errorf("proof claims %q, want the ath of at-1", proofNonce(t, last.proof))
			}
		}
		if last.method != http.MethodGet || last.auth != want {
			t.Errorf("dpop %v: %s with Authorization %q, want GET with %q", dp, last.method, last.auth, want)
		}
	}
}

// TestDoLimits: redirects are not followed, bodies over 1 MiB are refused,
// and transport errors do not show the URL's query.
func TestDoLimits(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/big":
			io.WriteString(w, strings.Repeat("x", httpx.MaxBody+1))
		}
	}))
	defer srv.Close()
	ch := &backchannel.Channel{HTTPClient: httpx.NoRedirects(srv.Client()), Auth: &countingAuth{},
		Logger: slog.New(slog.DiscardHandler)}
	resp, err := ch.Do(context.Background(), backchannel.Request{Name: "par", URL: srv.URL + "/redirect", Form: url.Values{}})
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("redirect: %v, %v; want the 302 itself", resp, err)
	}
	if _, err := ch.Do(context.Background(), backchannel.Request{Name: "par", URL: srv.URL + "/big", Form: url.Values{}}); !errors.Is(err, httpx.ErrBodyTooLarge) {
		t.Errorf("big body: %v, want ErrBodyTooLarge", err)
	}
	_, err = ch.Do(context.Background(), backchannel.Request{Name: "par", URL: "http://127.0.0.1:1/x?secret=s3cr3t", Form: url.Values{}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "http://127.0.0.1:1/x") {
		t.Errorf("transport error %v: want the URL without its query", err)
	}
}

// TestResponseSent: a response keeps what every attempt behind it carried
// that a provider's error must not echo (redact.Values.AddRequest): the
// secret form members and client assertion of the first attempt and of
// the nonce retry, both DPoP proofs, and a GET's access token; it leaves
// ordinary members alone.
func TestResponseSent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var proofs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proofs = append(proofs, r.Header.Get("DPoP"))
		n := len(proofs)
		mu.Unlock()
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("nonce-%d", n))
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"use_dpop_nonce"}`)
	}))
	defer srv.Close()
	ch := &backchannel.Channel{HTTPClient: srv.Client(), Auth: &countingAuth{}, DPoP: newProofer(t),
		Nonces: &dpopwire.MemoryStore{}, Logger: slog.New(slog.DiscardHandler)}
	code := "code-0123456789"
	resp, err := ch.Do(context.Background(), backchannel.Request{Name: "token", URL: srv.URL + "/token",
		Form: url.Values{"code": {code}, "grant_type": {"authorization_code"}}, DPoP: true})
	if err != nil || resp.StatusCode != http.StatusBadRequest || len(proofs) != 2 {
		t.Fatalf("Do = %v, %v after %d requests; want the retry's 400", resp, err, len(proofs))
	}
	v := &redact.Values{}
	resp.Sent(v)
	for _, s := range []string{code, "assertion-1", "assertion-2", proofs[0], proofs[1]} {
		if got := v.Redact("echo " + s + " echo"); got != "echo "+redact.Mask+" echo" {
			t.Errorf("Sent misses %.20q…: %q", s, got)
		}
	}
	if got := v.Redact("authorization_code"); got != "authorization_code" {
		t.Errorf("Sent redacts grant_type: %q", got)
	}

	at := "access-token-0123456789"
	resp, err = ch.Do(context.Background(), backchannel.Request{Name: "userinfo", URL: srv.URL + "/userinfo", Token: at})
	if err != nil {
		t.Fatal(err)
	}
	v = &redact.Values{}
	resp.Sent(v)
	if got := v.Redact("echo " + at); got != "echo "+redact.Mask {
		t.Errorf("Sent misses the access token of a GET: %q", got)
	}
	if s := fmt.Sprintf("%v %+v %#v", resp, resp, resp); strings.Contains(s, code) || strings.Contains(s, at) {
		t.Errorf("a formatted Response shows what was sent: %s", s)
	}
}
