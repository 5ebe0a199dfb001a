package browser

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

func TestWebappLoginInChromium(t *testing.T) {
	chromium := findChromium(t)
	shots := screenshotDir(t)
	base := startWebapp(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(userDataDir(t)),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	var loginShot, resultShot []byte
	var loginURL, sub, loa, who, authzCount, html string
	var steps []string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Click(`#login`, chromedp.ByQuery),
		// The provider's login page, reached with client_id and request_uri.
		chromedp.WaitVisible(`button[name="sub"]`, chromedp.ByQuery),
		chromedp.Location(&loginURL),
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

	// Logout goes through the provider's end_session_endpoint and back home.
	var home string
	if err := chromedp.Run(ctx,
		chromedp.Click(`#logout`, chromedp.ByQuery),
		chromedp.WaitVisible(`#login`, chromedp.ByQuery),
		chromedp.Location(&home),
	); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if home != base+"/" {
		t.Errorf("after logout the browser is at %q, want %q", home, base+"/")
	}
}
