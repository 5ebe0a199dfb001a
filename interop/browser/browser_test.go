package browser

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// skipEnv skips the interop tests when their tools are missing.
const skipEnv = "GOPAR_SKIP_INTEROP"

// findChromium returns the Chromium binary or fails (or skips) the test
// with an install hint.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found in PATH: install it (Debian: sudo apt-get install -y chromium)"
	if os.Getenv(skipEnv) == "1" {
		t.Skipf("%s (%s=1)", msg, skipEnv)
	}
	t.Fatalf("%s, or set %s=1 to skip the browser test", msg, skipEnv)
	return ""
}

// repoRoot is the core module's directory, two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "webapp", "main.go")); err != nil {
		t.Fatalf("examples/webapp not found under %s: %v", root, err)
	}
	return root
}

var reReady = regexp.MustCompile(`^READY (http://\S+)$`)

// startWebapp runs the README's command, go run ./examples/webapp, on a
// free port and returns its URL once it prints READY.
func startWebapp(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "run", "./examples/webapp", "-addr", "127.0.0.1:0")
	cmd.Dir = repoRoot(t)
	cmd.Env = os.Environ()
	for _, k := range []string{"PAR_ISSUER", "PAR_CLIENT_ID", "PAR_CLIENT_SECRET", "PAR_KEY_FILE", "PAR_PARAMS", "PAR_SCOPES", "PAR_PROFILE", "PORT"} {
		cmd.Env = append(cmd.Env, k+"=")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run's child too
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("go run ./examples/webapp: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := reReady.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("the web app exited before it was ready:\n%s", logs)
		}
		return u
	case <-time.After(3 * time.Minute):
		t.Fatalf("the web app printed no READY line within 3 minutes:\n%s", logs)
	}
	return ""
}

// lockedWriter collects the app's log for failure messages.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// screenshotDir is $GOPAR_SCREENSHOTS, or a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GOPAR_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// userDataDir is a fresh Chromium profile directory. It is removed
// leniently: Chromium's helper processes may still write to it for a
// moment after the browser has gone, which t.TempDir would fail the test
// for.
func userDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gopar-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove %s", dir)
	})
	return dir
}

// Birgitte Sørensen, the High test identity of the web app's embedded
// provider.
const (
	subject = "c2d9e0f1-7a3b-4c5d-8e9f-0a1b2c3d4e5f"
	name    = "Birgitte Sørensen"
)

// chromium starts a headless Chromium with a fresh profile (prefs, when
// set, become its preferences) and returns a context for one tab.
func chromium(t *testing.T, prefs string) context.Context {
	t.Helper()
	exe := findChromium(t)
	dir := userDataDir(t)
	if prefs != "" {
		if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(prefs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// requests records what the browser sent: the Origin of the login form's
// POST and the callback URL.
type requests struct {
	mu          sync.Mutex
	loginOrigin string
	callback    string
	bfcache     []string // why a back/forward navigation did not use the cache
}

func (rq *requests) listen(ctx context.Context, base string) {
	chromedp.ListenTarget(ctx, func(ev any) {
		rq.mu.Lock()
		defer rq.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := e.Request.URL
			switch {
			case e.Request.Method == "POST" && u == base+"/auth/login":
				rq.loginOrigin, _ = e.Request.Headers["Origin"].(string)
			case strings.HasPrefix(u, base+"/auth/callback?"):
				rq.callback = u
			}
		case *page.EventBackForwardCacheNotUsed:
			for _, r := range e.NotRestoredExplanations {
				rq.bfcache = append(rq.bfcache, r.Reason.String())
			}
		}
	})
}

func (rq *requests) get() (origin, callback string, bfcache []string) {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return rq.loginOrigin, rq.callback, rq.bfcache
}

// appCookies returns the browser's cookies for base by name.
func appCookies(ctx context.Context, base string) (map[string]*network.Cookie, error) {
	cs, err := network.GetCookies().WithURLs([]string{base + "/"}).Do(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*network.Cookie, len(cs))
	for _, c := range cs {
		m[c.Name] = c
	}
	return m, nil
}

// goBack goes one step back in the tab's history without waiting for a
// network response (a page restored from the back/forward cache has none).
func goBack() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		cur, entries, err := page.GetNavigationHistory().Do(ctx)
		if err != nil {
			return err
		}
		if cur <= 0 {
			return fmt.Errorf("no history entry before %d", cur)
		}
		return page.NavigateToHistoryEntry(entries[cur-1].ID).Do(ctx)
	})
}

// pageState is what a test reads off the current page.
type pageState struct {
	URL     string `json:"url"`
	Title   string `json:"title"`
	Text    string `json:"text"`
	Marker  bool   `json:"marker"` // the document carries window.__goparMarker
	Login   bool   `json:"login"`  // the home page's Log in button is there
	Loading bool   `json:"loading"`
}

const readPage = `({url: location.href, title: document.title, text: document.body ? document.body.innerText : "",
	marker: window.__goparMarker === 1, login: !!document.querySelector("#login"), loading: document.readyState !== "complete"})`

// waitPage polls the current page until ok says yes or d has passed, and
// returns the last state seen.
func waitPage(ctx context.Context, d time.Duration, ok func(pageState) bool) (pageState, bool) {
	var st pageState
	end := time.Now().Add(d)
	for {
		err := chromedp.Run(ctx, chromedp.Evaluate(readPage, &st))
		if err == nil && ok(st) {
			return st, true
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return st, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWebappLoginInChromium(t *testing.T) {
	shots := screenshotDir(t)
	base := startWebapp(t)
	ctx := chromium(t, "")
	rq := &requests{}
	rq.listen(ctx, base)

	var loginShot, resultShot []byte
	var loginURL, sub, loa, who, authzCount, html string
	var steps []string
	var flowCookies map[string]*network.Cookie
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Click(`#login`, chromedp.ByQuery),
		// The provider's login page, reached with client_id and request_uri.
		chromedp.WaitVisible(`button[name="sub"]`, chromedp.ByQuery),
		chromedp.Location(&loginURL),
		chromedp.ActionFunc(func(ctx context.Context) (err error) {
			flowCookies, err = appCookies(ctx, base)
			return err
		}),
		chromedp.FullScreenshot(&loginShot, 100),
		chromedp.Click(fmt.Sprintf(`button[value=%q]`, subject), chromedp.ByQuery),
		// Callback, token exchange, then the result page.
		chromedp.WaitVisible(`#subject`, chromedp.ByQuery),
		chromedp.Text(`#subject`, &sub, chromedp.ByQuery),
		chromedp.Text(`#loa`, &loa, chromedp.ByQuery),
		chromedp.Text(`#who h1`, &who, chromedp.ByQuery),
		chromedp.AttributeValue(`li[data-kind="authorize"]`, "data-param-count", &authzCount, nil, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("li.step")).map(e => e.dataset.kind)`, &steps),
		chromedp.OuterHTML(`html`, &html, chromedp.ByQuery),
		chromedp.FullScreenshot(&resultShot, 100),
	)
	if err != nil {
		t.Fatalf("browser login: %v", err)
	}
	for file, png := range map[string][]byte{"login-page.png": loginShot, "result-page.png": resultShot} {
		if err := os.WriteFile(filepath.Join(shots, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", shots)

	if !strings.Contains(loginURL, "/op/connect/authorize") {
		t.Errorf("login page URL = %q, want the provider's authorization endpoint", loginURL)
	}
	if sub != subject {
		t.Errorf("subject = %q, want %q", sub, subject)
	}
	if !strings.HasPrefix(loa, "High") {
		t.Errorf("level of assurance = %q, want High", loa)
	}
	if !strings.Contains(who, name) {
		t.Errorf("heading = %q, want the name %q", who, name)
	}
	if authzCount != "2" {
		t.Errorf("authorization URL parameters = %q, want 2", authzCount)
	}
	got := strings.Replace(strings.Join(steps, " "), "token jwks idtoken", "token idtoken", 1)
	if want := "discovery push authorize callback token idtoken userinfo"; got != want {
		t.Errorf("timeline = %q, want %q", got, want)
	}
	if strings.Contains(html, "eyJ") {
		t.Error("the result page holds something that looks like a JWT")
	}
	if strings.Contains(html, "✗") {
		t.Error("the result page shows a failed check")
	}

	// Issue 17 item 13: with Referrer-Policy same-origin the login form's
	// POST carries the app's Origin (no-referrer made it "null").
	origin, _, _ := rq.get()
	if origin != base {
		t.Errorf("Origin of the login form's POST = %q, want %q", origin, base)
	}
	// Item 12: Chromium keeps __Host- Secure cookies on http://127.0.0.1.
	var binding bool
	for n, c := range flowCookies {
		if strings.HasPrefix(n, "__Host-par-b-") && c.Secure && c.HTTPOnly {
			binding = true
		}
	}
	if !binding {
		t.Errorf("during the login the browser holds no Secure __Host-par-b- binding cookie: %v", cookieNames(flowCookies))
	}
	var cookies map[string]*network.Cookie
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) (err error) {
		cookies, err = appCookies(ctx, base)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if c := cookies["__Host-webapp-session"]; c == nil || !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		t.Errorf("session cookie = %+v, want __Host-webapp-session, Secure, HttpOnly, SameSite=Lax, Path=/ (cookies: %v)", c, cookieNames(cookies))
	}

	// Logout goes through the provider's end_session_endpoint and back home.
	var home string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#logout`, chromedp.ByQuery),
		chromedp.Click(`#logout`, chromedp.ByQuery),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Location(&home),
	); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if home != base+"/" {
		t.Errorf("after logout the browser is at %q, want %q", home, base+"/")
	}

	// Item 11: Back after logout must not show the personal data again
	// (Chromium restored the result page from its back/forward cache).
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.__goparMarker = 1`, nil), goBack()); err != nil {
		t.Fatalf("back: %v", err)
	}
	// Wait for the navigation to leave the current document, then for the
	// page to settle as the login page.
	if _, ok := waitPage(ctx, 10*time.Second, func(s pageState) bool { return !s.Marker }); !ok {
		t.Fatal("going back after logout did not leave the home page")
	}
	st, ok := waitPage(ctx, 10*time.Second, func(s pageState) bool {
		return !s.Loading && s.Login && !strings.Contains(s.Text, subject) && !strings.Contains(s.Text, name)
	})
	if _, _, bf := rq.get(); len(bf) > 0 {
		t.Logf("back: Chromium did not use its back/forward cache: %v", bf)
	} else {
		t.Log("back: Chromium restored the page from its back/forward cache")
	}
	if !ok {
		t.Errorf("back after logout shows %s %q with the user's data: %t", st.URL, st.Title,
			strings.Contains(st.Text, subject) || strings.Contains(st.Text, name))
	}
	time.Sleep(time.Second) // nothing comes back later either
	if st, _ := waitPage(ctx, 0, func(pageState) bool { return true }); strings.Contains(st.Text, subject) || strings.Contains(st.Text, name) {
		t.Errorf("back after logout shows the user's data a moment later at %s", st.URL)
	}

	// Item 14: log in again, then open the callback once more (a reload
	// while logged in): it shows the session, not "Login failed".
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Click(`#login`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[name="sub"]`, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`button[value=%q]`, subject), chromedp.ByQuery),
		chromedp.WaitVisible(`#subject`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("second login: %v", err)
	}
	_, callback, _ := rq.get()
	if callback == "" {
		t.Fatal("no callback request seen")
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(callback)); err != nil {
		t.Fatalf("open the callback again: %v", err)
	}
	if st, ok := waitPage(ctx, 10*time.Second, func(s pageState) bool {
		return !s.Loading && strings.Contains(s.Text, subject)
	}); !ok || strings.Contains(st.Title, "failed") {
		at, _, _ := strings.Cut(st.URL, "?") // the query holds the (used) code
		t.Errorf("callback opened again while logged in shows %s %q:\n%s", at, st.Title, st.Text)
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/me")); err != nil {
			t.Fatal(err)
		}
	}

	// Item 14: a refused logout (GET) is not titled "Login failed".
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/auth/logout")); err != nil {
		t.Fatalf("GET /auth/logout: %v", err)
	}
	if st, _ := waitPage(ctx, 5*time.Second, func(s pageState) bool { return !s.Loading && s.Title != "" }); strings.Contains(st.Title+st.Text, "Login failed") ||
		!strings.HasPrefix(st.Title, "Logout failed") {
		t.Errorf("refused logout: title %q, page:\n%s\nwant Logout failed", st.Title, st.Text)
	}

	// Item 13: no page of the app can be framed, not even by itself.
	var framed string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Evaluate(`new Promise(resolve => {
			const f = document.createElement("iframe");
			f.onload = () => {
				let d = null;
				try { d = f.contentDocument; } catch (e) {}
				resolve(d && d.querySelector("#login") ? "framed" : "blocked");
			};
			f.src = "/";
			document.body.appendChild(f);
			setTimeout(() => resolve("no load event"), 5000);
		})`, &framed, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	); err != nil {
		t.Fatalf("framing: %v", err)
	}
	if framed != "blocked" {
		t.Errorf("the home page in an iframe: %s, want blocked (frame-ancestors 'none')", framed)
	}
}

func cookieNames(m map[string]*network.Cookie) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	return names
}

// TestWebappLocalhostInChromium: the README says 127.0.0.1, but users type
// localhost. The app sends them to the redirect URI's host first, so the
// login's cookies are where the callback arrives (issue 17 item 14).
func TestWebappLocalhostInChromium(t *testing.T) {
	base := startWebapp(t)
	ctx := chromium(t, "")
	local := strings.Replace(base, "127.0.0.1", "localhost", 1)
	var at, sub string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(local+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Location(&at),
	); err != nil {
		t.Fatalf("open %s: %v", local, err)
	}
	if at != base+"/" {
		t.Errorf("opening %s/ ends at %q, want %q", local, at, base+"/")
	}
	err := chromedp.Run(ctx,
		chromedp.Click(`#login`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[name="sub"]`, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`button[value=%q]`, subject), chromedp.ByQuery),
		chromedp.WaitVisible(`#subject, #error`, chromedp.ByQuery),
		chromedp.Evaluate(`(document.querySelector("#subject") || document.querySelector("#error")).innerText`, &sub),
	)
	if err != nil || sub != subject {
		t.Errorf("login started at %s: %v; page says %q", local, err, sub)
	}
}

// TestWebappCookiesBlockedInChromium: with cookies blocked the user is told
// to allow them, before going to the provider, not to "start again"
// (issue 17 item 14).
func TestWebappCookiesBlockedInChromium(t *testing.T) {
	base := startWebapp(t)
	ctx := chromium(t, `{"profile":{"default_content_setting_values":{"cookies":2}}}`)
	var stored bool
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Evaluate(`document.cookie = "gopar-probe=1"; document.cookie.includes("gopar-probe=1")`, &stored),
	); err != nil {
		t.Fatal(err)
	}
	if stored {
		t.Fatal("the profile did not block cookies: a cookie set by script was stored")
	}
	if err := chromedp.Run(ctx, chromedp.Click(`#login`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	st, ok := waitPage(ctx, 20*time.Second, func(s pageState) bool {
		return !s.Loading && (strings.Contains(s.Text, "Cookies are blocked") || strings.Contains(s.URL, "/op/"))
	})
	if !ok || strings.Contains(st.URL, "/op/") {
		t.Fatalf("login with cookies blocked went to %s (%q), want the app's page telling to allow cookies", st.URL, st.Title)
	}
	u, _ := url.Parse(base)
	if !strings.Contains(st.Text, "Allow cookies for "+u.Host) || strings.Contains(st.Text, "start again") {
		t.Errorf("cookies-blocked page says:\n%s", st.Text)
	}
}
