package hostile_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// TestConcurrentLogins runs many logins at once through the login handlers
// against partest, each user in a browser of their own (own cookie jar):
// every user must end logged in as themselves, no flow lost, none crossed.
// 1,000 logins by default; GOPAR_LONG=1 runs 10,000.
func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	n, parallel := 1000, 100
	if os.Getenv("GOPAR_LONG") == "1" {
		n, parallel = 10000, 200
	}
	users := make([]partest.User, n)
	for i := range users {
		users[i] = partest.User{Subject: fmt.Sprintf("user-%05d", i), Claims: map[string]any{"name": fmt.Sprint("User ", i)}}
	}
	e := newEnv(t, envOptions{timeout: 30 * time.Second, partest: func(c *partest.Config) { c.Users = users }})
	defer e.close()
	e.tr.MaxIdleConnsPerHost = parallel
	ctx := context.Background()

	var mu sync.Mutex
	seen := make(map[string]int, n) // subject handed to OnLogin → count
	a := e.loginApp(ctx, func(c *login.Config) {
		// Every browser here has the same address and starts at once: the
		// default limits (bursts of 100 per address) would refuse most.
		c.StartLimits = login.StartLimits{PerClient: login.RateLimit{Rate: float64(n), Burst: n},
			Global: login.RateLimit{Rate: float64(n), Burst: n}}
	})
	// Replace OnLogin's bookkeeping: count the subjects the app saw.
	h := *e.handler.Load()
	var wrapped http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &subjectRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusOK && rec.body != "" {
			mu.Lock()
			seen[rec.body]++
			mu.Unlock()
		}
	})
	e.handler.Store(&wrapped)

	browserTr := e.tr.Clone()
	browserTr.MaxIdleConnsPerHost = parallel
	defer browserTr.CloseIdleConnections()

	var failed, crossed atomic.Int64
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sub := users[i].Subject
			b := newBrowser(e.app.URL, browserTr)
			status, loc, err := b.start(ctx)
			if err != nil || status != http.StatusSeeOther {
				failed.Add(1)
				t.Errorf("%s: start = %d, %v", sub, status, err)
				return
			}
			params, err := e.srv.LoginAs(loc, sub)
			if err != nil {
				failed.Add(1)
				t.Errorf("%s: authorize: %v", sub, err)
				return
			}
			status, body, err := b.callback(ctx, params)
			switch {
			case err != nil || status != http.StatusOK:
				failed.Add(1)
				t.Errorf("%s: callback = %d %q, %v", sub, status, body, err)
			case body != sub:
				crossed.Add(1)
				t.Errorf("%s: logged in as %q", sub, body)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := a.lastErr(); err != nil {
		t.Errorf("handler error: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range users {
		if seen[u.Subject] != 1 {
			t.Errorf("%s logged in %d times, want once", u.Subject, seen[u.Subject])
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct subjects logged in, want %d", len(seen), n)
	}
	t.Logf("concurrency: %d logins, %d at a time, in %v (%.0f/s): %d failed, %d crossed",
		n, parallel, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), failed.Load(), crossed.Load())
}

// subjectRecorder keeps the status and (short) body the app wrote.
type subjectRecorder struct {
	http.ResponseWriter
	status int
	body   string
}

func (r *subjectRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *subjectRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if len(r.body) < 64 {
		r.body += string(p)
	}
	return r.ResponseWriter.Write(p)
}
