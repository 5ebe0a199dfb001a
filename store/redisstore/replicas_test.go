package redisstore_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/partest"
)

// appReplica is an app process of the multi-process tests.
type appReplica struct {
	url  string
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startReplica runs this test binary as an app replica (runReplica) on ln,
// with env, killed at the end of the test.
func startReplica(t *testing.T, ln net.Listener, env map[string]string) *appReplica {
	t.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envReplica+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.ExtraFiles = []*os.File{f}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("replica %s log:\n%s", ln.Addr(), lastLines(logs.String(), 40))
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- u
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("replica exited before READY:\n%s", logs)
		}
		return &appReplica{url: u, logs: logs}
	case <-time.After(time.Minute):
		t.Fatalf("replica not READY within a minute:\n%s", logs)
	}
	return nil
}

// TestReplicasInSeparateProcesses: two app replicas, each its own
// process, share one redis-server and one provider. 100 concurrent
// requests of one session, spread over both, all find its access token
// expired (past the replicas' refresh margin): exactly one refresh reaches
// the provider, no request fails,
// and the rotated refresh token is kept (a second round refreshes with it;
// partest revokes the whole grant when a used refresh token comes back).
// The session's own DPoP key travels with it: both replicas prove it to
// the resource server. Then a back-channel logout posted to replica A ends
// the session that replica B serves; a replayed logout token (at B: the
// jti is shared) and malformed ones are refused.
func TestReplicasInSeparateProcesses(t *testing.T) {
	requireRedis(t)
	rsrv := startRedis(t)
	lnA, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lnA.Close()
	lnB, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lnB.Close()
	urlA, urlB := "http://"+lnA.Addr().String(), "http://"+lnB.Addr().String()

	// The resource server: JWT access tokens, checked for exp and for the
	// DPoP key they are bound to (cnf.jkt, RFC 9449 §6.1).
	var rsCalls atomic.Int64
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rsCalls.Add(1)
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		claims := jwtPayload(tok)
		exp, _ := claims["exp"].(float64)
		cnf, _ := claims["cnf"].(map[string]any)
		jkt, _ := cnf["jkt"].(string)
		if claims == nil || time.Now().After(time.Unix(int64(exp), 0)) || scheme != "DPoP" || jkt == "" || proofThumbprint(r.Header.Get("DPoP")) != jkt {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "ok %v", claims["sub"])
	}))
	defer rs.Close()

	// The provider (partest mounted on a listener of the test's own),
	// behind a counter of refresh_token grant requests; no DPoP nonces
	// here, so that each refresh is one request.
	var refreshes atomic.Int64
	var provider atomic.Pointer[partest.Server] // set once the server exists
	op := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if f, _ := url.ParseQuery(string(body)); f.Get("grant_type") == "refresh_token" {
				refreshes.Add(1)
			}
		}
		provider.Load().ServeHTTP(w, r)
	}))
	defer op.Close()
	srv := partest.NewUnstartedServer(partest.Config{URL: op.URL, RefreshTokens: true, Clients: []partest.Client{{
		ID: "app", Secret: "replica-secret", DPoPBound: true,
		RedirectURIs:         []string{urlA + "/auth/callback", urlB + "/auth/callback"},
		BackchannelLogoutURI: urlA + "/auth/backchannel",
	}}})
	provider.Store(srv)
	hexKey := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	env := map[string]string{"GOPAR_REDIS": rsrv.addr(), "GOPAR_ISSUER": srv.Issuer(), "GOPAR_SECRET": "replica-secret",
		"GOPAR_SESSION_KEY": hexKey(), "GOPAR_FLOW_KEY": hexKey(), "GOPAR_RESOURCE": rs.URL + "/data", "GOPAR_DPOP": "1",
		"GOPAR_REFRESH_BEFORE": "5s"}
	a, b := startReplica(t, lnA, env), startReplica(t, lnB, env)
	if a.url != urlA || b.url != urlB {
		t.Fatalf("replicas at %s, %s; want %s, %s", a.url, b.url, urlA, urlB)
	}

	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	defer tr.CloseIdleConnections()
	browser := &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, u string, h http.Header) (int, string) {
		req, _ := http.NewRequest(method, u, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := browser.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 == 3 {
			return resp.StatusCode, resp.Header.Get("Location")
		}
		return resp.StatusCode, string(body)
	}
	// The next token response says expires_in n seconds; the replicas
	// refresh 5 s before expiry (GOPAR_REFRESH_BEFORE).
	expiresIn := func(n int) {
		srv.SetFault(partest.EndpointToken, partest.Fault{Times: 1, Response: func(body map[string]any) { body["expires_in"] = n }})
	}

	// Log in on A; the login's access token is already within the refresh
	// margin (1 s left).
	st, loc := do(http.MethodPost, urlA+"/auth/login", http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if st != http.StatusSeeOther {
		t.Fatalf("login start on A = %d %s", st, loc)
	}
	params, err := srv.Login(loc)
	if err != nil {
		t.Fatal(err)
	}
	expiresIn(1)
	if st, loc := do(http.MethodGet, urlA+"/auth/callback?"+params.Encode(), nil); st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("callback on A = %d %s", st, loc)
	}
	if st, body := do(http.MethodGet, urlB+"/me", nil); st != http.StatusOK || body != "alice on "+urlB {
		t.Fatalf("B's /me = %d %q, want the session made on A", st, body)
	}

	for round := 1; round <= 2; round++ {
		if round == 1 {
			// Round 1's refresh gives a token fresh for 5 s (10 s minus
			// the margin), expired by round 2.
			expiresIn(10)
		} else {
			time.Sleep(5500 * time.Millisecond)
		}
		before, calls := refreshes.Load(), rsCalls.Load()
		var wg sync.WaitGroup
		var failed atomic.Int64
		var firstFailure atomic.Value
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				target := urlA
				if i%2 == 1 {
					target = urlB
				}
				if st, body := do(http.MethodGet, target+"/api", nil); st != http.StatusOK || body != "ok alice" {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %d %q", target, st, body))
				}
			}()
		}
		wg.Wait()
		if n := failed.Load(); n != 0 {
			t.Errorf("round %d: %d of 100 requests failed, first: %v", round, n, firstFailure.Load())
		}
		if n := refreshes.Load() - before; n != 1 {
			t.Errorf("round %d: %d refresh requests at the provider, want exactly 1", round, n)
		}
		if n := rsCalls.Load() - calls; n != 100 {
			t.Errorf("round %d: %d resource calls, want 100 (none refused)", round, n)
		}
	}
	// The refresh token rotated in round 2 is still good.
	if st, body := do(http.MethodGet, urlB+"/api", nil); st != http.StatusOK {
		t.Fatalf("B's /api with the kept refresh token = %d %q", st, body)
	}

	// A back-channel logout posted to A ends the session B serves.
	sids := srv.Sessions("app")
	if len(sids) != 1 {
		t.Fatalf("provider sessions = %v", sids)
	}
	if err := srv.EndSession(context.Background(), sids[0]); err != nil {
		t.Fatalf("back-channel logout to A: %v", err)
	}
	if st, body := do(http.MethodGet, urlB+"/me", nil); st != http.StatusUnauthorized {
		t.Errorf("B's /me after the logout at A = %d %q, want 401", st, body)
	}
	if st, body := do(http.MethodGet, urlB+"/api", nil); st != http.StatusUnauthorized {
		t.Errorf("B's /api after the logout at A = %d %q, want 401", st, body)
	}

	// Replay across replicas, and malformed tokens.
	sign := func(mod func(map[string]any)) string {
		c, err := srv.LogoutTokenClaims("app", sids[0])
		if err != nil {
			t.Fatal(err)
		}
		mod(c)
		s, err := srv.SignLogoutToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	tok := sign(func(map[string]any) {})
	if err := partest.PostLogoutToken(ctx, urlA+"/auth/backchannel", tok); err != nil {
		t.Fatalf("a fresh logout token at A: %v", err)
	}
	if err := partest.PostLogoutToken(ctx, urlB+"/auth/backchannel", tok); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("the same logout token replayed at B: %v, want 400", err)
	}
	for name, raw := range map[string]string{
		"no events":           sign(func(c map[string]any) { delete(c, "events") }),
		"has nonce":           sign(func(c map[string]any) { c["nonce"] = "n" }),
		"wrong aud":           sign(func(c map[string]any) { c["aud"] = "other-app" }),
		"wrong signature":     func() string { s := sign(func(map[string]any) {}); return s[:len(s)-6] + "AAAAAA" }(),
		"neither sid nor sub": sign(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") }),
	} {
		if err := partest.PostLogoutToken(ctx, urlB+"/auth/backchannel", raw); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
}

func jwtPayload(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// proofThumbprint is the RFC 7638 thumbprint of a DPoP proof's jwk, after
// checking the proof's signature with it.
func proofThumbprint(proof string) string {
	obj, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 || obj.Signatures[0].Protected.JSONWebKey == nil {
		return ""
	}
	jwk := obj.Signatures[0].Protected.JSONWebKey
	if _, err := obj.Verify(jwk); err != nil {
		return ""
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}
