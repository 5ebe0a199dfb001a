package dpop_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
)

const testAccessToken = "at-Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"

// resourceServer is a minimal DPoP resource server (RFC 9449 §7, §9): it
// verifies the proof, its binding to the token's key (jkt), htm, htu, ath,
// iat and jti, and demands its current nonce.
type resourceServer struct {
	t        *testing.T
	jkt      string
	wantBody string // for POST

	// mode: "" issues a nonce once and accepts it; "always" challenges
	// every request with a fresh nonce; "fixed" challenges every request
	// with the same nonce; "rotate" accepts the nonce and rotates it on 200.
	mode string

	mu       sync.Mutex
	requests int
	issued   int
	nonce    string
	jtis     map[string]bool
	bodies   []string
}

func newResourceServer(t *testing.T, jkt, mode string) (*resourceServer, *httptest.Server) {
	rs := &resourceServer{t: t, jkt: jkt, mode: mode, jtis: map[string]bool{}}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	return rs, srv
}

func (rs *resourceServer) newNonce() string {
	rs.issued++
	rs.nonce = fmt.Sprintf("n-%d.%d", rs.issued, time.Now().UnixNano())
	return rs.nonce
}

func (rs *resourceServer) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.requests
}

func (rs *resourceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.requests++
	t := rs.t
	if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "DPoP "+testAccessToken {
		t.Errorf("Authorization = %q, want one DPoP token", got)
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		t.Errorf("got %d DPoP headers, want 1", len(proofs))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p, err := verifyProof(proofs[0])
	if err != nil {
		t.Errorf("proof: %v", err)
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c := p.Claims
	sum := sha256.Sum256([]byte(testAccessToken))
	switch {
	case p.JKT != rs.jkt:
		t.Errorf("proof key jkt = %s, want the token's %s", p.JKT, rs.jkt)
	case c.HTM != r.Method:
		t.Errorf("htm = %q, want %q", c.HTM, r.Method)
	case c.HTU != "http://"+r.Host+r.URL.Path:
		t.Errorf("htu = %q, want %q", c.HTU, "http://"+r.Host+r.URL.Path)
	case c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]):
		t.Errorf("ath = %q, want the token hash", c.ATH)
	case rs.jtis[c.JTI]:
		t.Errorf("jti %q replayed", c.JTI)
	case time.Since(time.Unix(c.IAT, 0)).Abs() > time.Minute:
		t.Errorf("iat %d too far from now", c.IAT)
	}
	rs.jtis[c.JTI] = true
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	rs.bodies = append(rs.bodies, string(body))
	if r.Method == http.MethodPost && string(body) != rs.wantBody {
		t.Errorf("body = %q, want %q", body, rs.wantBody)
	}

	challenge := false
	switch rs.mode {
	case "always":
		rs.newNonce()
		challenge = true
	case "fixed":
		if rs.nonce == "" {
			rs.newNonce()
		}
		challenge = true
	default:
		if rs.nonce == "" {
			rs.newNonce()
		}
		challenge = c.Nonce != rs.nonce
	}
	if challenge {
		w.Header().Set("DPoP-Nonce", rs.nonce)
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "nonce required")
		return
	}
	if rs.mode == "rotate" {
		w.Header().Set("DPoP-Nonce", rs.newNonce())
	}
	io.WriteString(w, "ok")
}

func dpopToken(typ string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testAccessToken, TokenType: typ})
}

func newTestProofer(t *testing.T) *dpop.Proofer {
	t.Helper()
	p, err := dpop.NewProofer(ecKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends req through hc and returns the status and body.
func do(t *testing.T, hc *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("Do() error = %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestTransportNonceChallenge(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	rs, srv := newResourceServer(t, p.Thumbprint(), "rotate")
	hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/resource?q=1", nil)
	if status, body := do(t, hc, req); status != 200 || body != "ok" {
		t.Fatalf("first call = %d %q, want 200 ok", status, body)
	}
	if got := rs.count(); got != 2 {
		t.Errorf("first call made %d requests, want 2 (challenge + one retry)", got)
	}
	// The nonce rotated on the 200 is used directly: no new challenge.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/other", nil)
	if status, _ := do(t, hc, req); status != 200 {
		t.Fatalf("second call status = %d, want 200", status)
	}
	if got := rs.count(); got != 3 {
		t.Errorf("after second call %d requests, want 3", got)
	}
}

func TestTransportRetriesOnce(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"always", "fixed"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p := newTestProofer(t)
			rs, srv := newResourceServer(t, p.Thumbprint(), mode)
			hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") || string(body) != "nonce required" {
				t.Errorf("response = %d %q, want the second 401 use_dpop_nonce challenge", resp.StatusCode, body)
			}
			if got := rs.count(); got != 2 {
				t.Errorf("made %d requests, want 2 (no loop on repeated challenges)", got)
			}
			// A challenge that repeats the nonce just sent is not retried.
			req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
			do(t, hc, req)
			want := 4
			if mode == "fixed" {
				want = 3
			}
			if got := rs.count(); got != want {
				t.Errorf("after second call %d requests, want %d", got, want)
			}
		})
	}
}

func TestTransportBodyReplay(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	rs, srv := newResourceServer(t, p.Thumbprint(), "")
	rs.wantBody = `{"amount":42}`
	hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/pay", strings.NewReader(rs.wantBody))
	if status, _ := do(t, hc, req); status != 200 {
		t.Fatalf("status = %d, want 200 after the replayed retry", status)
	}
	if got := rs.count(); got != 2 {
		t.Errorf("made %d requests, want 2", got)
	}
	if len(rs.bodies) != 2 || rs.bodies[0] != rs.wantBody || rs.bodies[1] != rs.wantBody {
		t.Errorf("bodies = %q, want the body twice", rs.bodies)
	}
}

func TestTransportNoReplayWithoutGetBody(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	rs, srv := newResourceServer(t, p.Thumbprint(), "")
	rs.wantBody = "stream"
	hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api", io.NopCloser(strings.NewReader("stream")))
	if req.GetBody != nil {
		t.Fatal("test setup: GetBody set")
	}
	if status, _ := do(t, hc, req); status != 401 {
		t.Errorf("status = %d, want the 401 challenge (body cannot be replayed)", status)
	}
	if got := rs.count(); got != 1 {
		t.Errorf("made %d requests, want 1", got)
	}
}

func TestTransportTokenType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ    string
		wantOK bool
	}{
		{"DPoP", true},
		{"dpop", true},
		{"DPOP", true},
		{"Bearer", false},
		{"bearer", false},
		{"", false}, // oauth2.Token.Type() defaults to Bearer
		{"MAC", false},
		{"N_A", false},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			p := newTestProofer(t)
			rs, srv := newResourceServer(t, p.Thumbprint(), "rotate")
			tr := &dpop.Transport{Proofer: p, Source: dpopToken(tt.typ)}
			body := &closeTracker{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api", body)
			resp, err := tr.RoundTrip(req)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("RoundTrip() error = %v", err)
				}
				resp.Body.Close()
				return
			}
			if !errors.Is(err, dpop.ErrNotDPoPToken) {
				t.Fatalf("RoundTrip() = %v, %v; want ErrNotDPoPToken", resp, err)
			}
			if strings.Contains(err.Error(), testAccessToken) {
				t.Errorf("error %q shows the token", err)
			}
			if n := rs.count(); n != 0 {
				t.Errorf("server saw %d requests, want none", n)
			}
			if !body.closed {
				t.Error("request body not closed on error")
			}
		})
	}
}

func TestTransportDoesNotMutateRequest(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	_, srv := newResourceServer(t, p.Thumbprint(), "")
	tr := &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(req.Header) != 1 || req.Header.Get("Accept") != "application/json" {
		t.Errorf("caller's headers changed: %v", req.Header)
	}
}

// recordingTransport records the requests it forwards to its base.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestTransportBaseAndSharedStore(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	rs, srv := newResourceServer(t, p.Thumbprint(), "")
	base := &recordingTransport{}
	store := &mapStore{m: map[string]string{}}
	hc := &http.Client{Transport: &dpop.Transport{Base: base, Proofer: p, Source: dpopToken("DPoP"), Nonces: store}}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/x", nil)
	if status, _ := do(t, hc, req); status != 200 {
		t.Fatalf("status = %d, want 200", status)
	}
	if len(base.reqs) != 2 {
		t.Errorf("base saw %d requests, want 2", len(base.reqs))
	}
	rs.mu.Lock()
	want := rs.nonce
	rs.mu.Unlock()
	origin := "http://" + strings.TrimPrefix(srv.URL, "http://") // httptest: 127.0.0.1:port
	if got := store.Nonce(origin); got != want {
		t.Errorf("store nonce for %s = %q, want %q (store: %v)", origin, got, want, store.m)
	}
	// A second Transport sharing the store needs no challenge.
	hc2 := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: dpopToken("DPoP"), Nonces: store}}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/y", nil)
	if status, _ := do(t, hc2, req); status != 200 || rs.count() != 3 {
		t.Errorf("status = %d after %d requests, want 200 after 3", status, rs.count())
	}
}

func TestTransportHostOverride(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	base := &recordingTransport{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "API.example:443" {
			t.Errorf("Host = %q, want API.example:443", r.Host)
		}
	}))
	t.Cleanup(srv.Close)
	tr := &dpop.Transport{Base: base, Proofer: p, Source: dpopToken("DPoP")}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
	req.Host = "API.example:443"
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, err := verifyProof(base.reqs[0].Header.Get("DPoP"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Claims.HTU != "http://api.example:443/api" {
		t.Errorf("htu = %q, want the Host header's authority", c.Claims.HTU)
	}
}

type errSource struct{}

func (errSource) Token() (*oauth2.Token, error) { return nil, errBoom }

var errBoom = errors.New("boom")

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	p := newTestProofer(t)
	tests := []struct {
		name string
		tr   *dpop.Transport
		url  string
		want error
	}{
		{"source error", &dpop.Transport{Proofer: p, Source: errSource{}}, "https://rs.example/", errBoom},
		{"bad scheme", &dpop.Transport{Proofer: p, Source: dpopToken("DPoP")}, "ftp://rs.example/", dpop.ErrInvalidURL},
		{"no proofer", &dpop.Transport{Source: dpopToken("DPoP")}, "https://rs.example/", nil},
		{"no source", &dpop.Transport{Proofer: p}, "https://rs.example/", nil},
		{"empty token", &dpop.Transport{Proofer: p, Source: oauth2.StaticTokenSource(&oauth2.Token{TokenType: "DPoP"})}, "https://rs.example/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &closeTracker{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest(http.MethodPost, tt.url, body)
			resp, err := tt.tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("RoundTrip() error = nil")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("RoundTrip() error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "dpop: ") {
				t.Errorf("error %q lacks the dpop: prefix", err)
			}
			if !body.closed {
				t.Error("request body not closed on error")
			}
		})
	}
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// mapStore is a NonceStore as a user would write one.
type mapStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *mapStore) Nonce(origin string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[origin]
}

func (s *mapStore) SetNonce(origin, nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[origin] = nonce
}
