package browser

// The example web app as two replicas, each its own process, sharing one
// redis-server (login flows and sessions) and one provider: the test
// binary started again with GOPAR_WEBAPP_REPLICA set runs package site
// with the Redis stores of module store/redisstore (the example itself
// stays standard library and go-par) on the listener it inherits as file
// descriptor 3.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/examples/webapp/site"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/store/redisstore"
)

const envReplica = "GOPAR_WEBAPP_REPLICA"

func TestMain(m *testing.M) {
	if os.Getenv(envReplica) != "" {
		os.Exit(runWebappReplica())
	}
	os.Exit(m.Run())
}

// runWebappReplica serves package site, configured from the PAR_*
// environment as examples/webapp is, with Redis flow and session stores.
func runWebappReplica() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fail := func(err error) int {
		logger.Error("replica", slog.String("error", err.Error()))
		return 1
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return fail(err)
	}
	sessionKey, err1 := hex.DecodeString(os.Getenv("GOPAR_SESSION_KEY"))
	flowKey, err2 := hex.DecodeString(os.Getenv("GOPAR_FLOW_KEY"))
	if err := errors.Join(err1, err2); err != nil {
		return fail(err)
	}
	cfg, err := site.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fail(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("GOPAR_REDIS"), ContextTimeoutEnabled: true})
	defer rdb.Close()
	flows, err := redisstore.New(rdb, redisstore.Options{Key: flowKey})
	if err != nil {
		return fail(err)
	}
	sessions, err := redisstore.NewSessions(rdb, redisstore.SessionOptions{})
	if err != nil {
		return fail(err)
	}
	base := "http://" + ln.Addr().String()
	a, closeApp, err := site.New(context.Background(), cfg, site.Options{BaseURL: base, Logger: logger,
		Sessions: sessions, SessionKeys: [][]byte{sessionKey}, Flows: flows})
	if err != nil {
		return fail(err)
	}
	defer closeApp()
	fmt.Println("READY " + base)
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		return fail(err)
	}
	return 0
}

// startRedis runs a redis-server without persistence on a free port,
// stopped at the end of the test.
func startRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server not found in PATH: install it (Debian: sudo apt-get install -y redis-server)"
		if os.Getenv(skipEnv) == "1" {
			t.Skipf("%s (%s=1)", msg, skipEnv)
		}
		t.Fatal(msg)
	}
	for attempt := 0; attempt < 5; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		ok := false
		for range 200 {
			if rdb.Ping(context.Background()).Err() == nil {
				ok = true
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		rdb.Close()
		if ok {
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return addr
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Fatal("redis-server did not start")
	return ""
}

// startWebappReplica runs this test binary as a replica of the web app on
// ln, killed at the end of the test.
func startWebappReplica(t *testing.T, ln net.Listener, env []string) {
	t.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envReplica+"=1"), env...)
	cmd.ExtraFiles = []*os.File{f}
	logs := &lockedWriter{}
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
			t.Logf("replica %s log:\n%s", ln.Addr(), logs)
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("replica exited before READY:\n%s", logs)
		}
	case <-time.After(time.Minute):
		t.Fatalf("replica not READY within a minute:\n%s", logs)
	}
}

// TestWebappReplicasInChromium: the example app as two replicas (separate
// processes) on one Redis and one provider. A login on replica A shows the
// result page with the waterfall of the login's hops (screenshot); replica
// B serves the same session. Then the user logs out at the provider: its
// logout page loads B's front-channel logout URI in an iframe — a
// cross-site request (the provider is on localhost, the app on 127.0.0.1)
// that carries no SameSite=Lax cookie — which finds the session by sid and
// ends it on both replicas.
func TestWebappReplicasInChromium(t *testing.T) {
	shots := screenshotDir(t)
	redisAddr := startRedis(t)
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	lnA, lnB, lnOP := listen(), listen(), listen()
	urlA, urlB := "http://"+lnA.Addr().String(), "http://"+lnB.Addr().String()

	// The provider, on another site than the app: localhost.
	opURL := "http://localhost:" + strconv.Itoa(lnOP.Addr().(*net.TCPAddr).Port)
	secret := "replica+/" + rand.Text()
	srv := partest.NewUnstartedServer(partest.Config{URL: opURL, IssuerPath: "/op", Interactive: true,
		RequestURILifetime: 600 * time.Second, Users: site.TestUsers(),
		Clients: []partest.Client{{ID: "webapp", Secret: secret,
			RedirectURIs:           []string{urlA + "/auth/callback", urlB + "/auth/callback"},
			PostLogoutRedirectURIs: []string{urlA + "/", urlB + "/"},
			FrontchannelLogoutURI:  urlB + "/auth/frontchannel",
		}}})
	op := httptest.NewUnstartedServer(srv.Handler())
	op.Listener.Close()
	op.Listener = lnOP
	op.Start()
	defer op.Close()

	hexKey := func() string {
		k := make([]byte, 32)
		rand.Read(k)
		return hex.EncodeToString(k)
	}
	sessionKey, flowKey := hexKey(), hexKey() // the same on both replicas
	env := func(base string) []string {
		return []string{"GOPAR_REDIS=" + redisAddr, "GOPAR_SESSION_KEY=" + sessionKey, "GOPAR_FLOW_KEY=" + flowKey,
			"PAR_ISSUER=" + srv.Issuer(), "PAR_CLIENT_ID=webapp", "PAR_CLIENT_SECRET=" + secret,
			"PAR_REDIRECT_URL=" + base + "/auth/callback", "PAR_POST_LOGOUT_URL=" + base + "/",
			"PAR_SCOPES=openid mitid", "PAR_PROFILE=broker", "PAR_PARAMS=", "PAR_KEY_FILE=", "PORT="}
	}
	startWebappReplica(t, lnA, env(urlA))
	startWebappReplica(t, lnB, env(urlB))

	ctx := chromium(t, "")
	// What the front-channel iframe's request carried.
	var fcMu sync.Mutex
	var fcIDs []network.RequestID
	fcCookies := map[network.RequestID]bool{}
	var fcSeen atomic.Bool
	chromedp.ListenTarget(ctx, func(ev any) {
		fcMu.Lock()
		defer fcMu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasPrefix(e.Request.URL, urlB+"/auth/frontchannel?") {
				fcIDs = append(fcIDs, e.RequestID)
				fcSeen.Store(true)
			}
		case *network.EventRequestWillBeSentExtraInfo:
			for k := range e.Headers {
				if strings.EqualFold(k, "Cookie") {
					fcCookies[e.RequestID] = true
				}
			}
		}
	})

	var shot, wf []byte
	var sub, trace string
	var hops []string
	err := chromedp.Run(ctx,
		network.Enable(),
		chromedp.Navigate(urlA+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Click(`#login`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[name="sub"]`, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`button[value=%q]`, subject), chromedp.ByQuery),
		chromedp.WaitVisible(`#waterfall`, chromedp.ByQuery),
		chromedp.Text(`#subject`, &sub, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#waterfall g.bar")).map(g => g.dataset.hop + ":" + g.getBoundingClientRect().width.toFixed(0))`, &hops),
		chromedp.Evaluate(`document.querySelectorAll("li.step").length.toString()`, &trace),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.Screenshot(`section.waterfall`, &wf, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("login on replica A: %v", err)
	}
	for file, png := range map[string][]byte{"replica-result-page.png": shot, "waterfall.png": wf} {
		if err := os.WriteFile(filepath.Join(shots, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot in %s", shots)
	if sub != subject {
		t.Errorf("A's result page subject = %q, want %q", sub, subject)
	}
	got := strings.Join(hops, " ")
	for _, want := range []string{"push:", "authorize:", "callback:", "token:", "idtoken:", "userinfo:"} {
		if !strings.Contains(got, want) {
			t.Errorf("waterfall bars = %q, want a %s bar", got, strings.TrimSuffix(want, ":"))
		}
	}
	if trace == "0" {
		t.Error("A's result page has no step-by-step trace next to the waterfall")
	}

	// Replica B serves the same session (from Redis); it did not see the
	// login, so it has no trace of it.
	var subB string
	var noTrace bool
	if err := chromedp.Run(ctx,
		chromedp.Navigate(urlB+"/me"),
		chromedp.WaitVisible(`#subject`, chromedp.ByQuery),
		chromedp.Text(`#subject`, &subB, chromedp.ByQuery),
		chromedp.Evaluate(`!!document.querySelector("#no-trace")`, &noTrace),
	); err != nil {
		t.Fatalf("B's result page: %v", err)
	}
	if subB != subject || !noTrace {
		t.Errorf("B's result page: subject %q (no-trace note %t), want %q from the shared session", subB, noTrace, subject)
	}

	// The user logs out at the provider: its page loads B's front-channel
	// logout URI in an iframe.
	sids := srv.Sessions("webapp")
	if len(sids) != 1 {
		t.Fatalf("provider sessions = %v, want 1", sids)
	}
	var title string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.LogoutPageURL(sids[0])),
		chromedp.Poll(`document.title === "Signed out"`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Title(&title),
	); err != nil {
		t.Fatalf("the provider's logout page: %v", err)
	}
	if !fcSeen.Load() {
		t.Fatal("the provider's logout page did not load the front-channel logout URI")
	}
	fcMu.Lock()
	for _, id := range fcIDs {
		if fcCookies[id] {
			t.Errorf("the cross-site front-channel iframe request carried cookies; it must find the session by sid alone")
		}
	}
	fcMu.Unlock()
	for _, u := range []string{urlA, urlB} {
		var at string
		if err := chromedp.Run(ctx,
			chromedp.Navigate(u+"/me"),
			chromedp.WaitVisible(`#login`, chromedp.ByQuery),
			chromedp.Location(&at),
		); err != nil {
			t.Errorf("%s/me after the front-channel logout: %v", u, err)
			continue
		}
		if at != u+"/" {
			t.Errorf("%s/me after the front-channel logout ends at %s, want the home page", u, at)
		}
	}
}
