package redisstore_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
	"github.com/go-par/par/store/redisstore"
)

// replica is one instance of a web app: its own client.Client, its own
// login.Handler and its own go-redis client, sharing a Redis with the
// other replicas.
type replica struct {
	name string
	h    *login.Handler

	mu     sync.Mutex
	served int // requests routed here
	logins []*client.Tokens
	errs   []error
}

func (r *replica) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *replica) counts() (served, logins, errs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served, len(r.logins), len(r.errs)
}

// cluster is a partest provider and a web app on several replicas behind
// one public URL. The test plays the load balancer: each request carries
// the replica it goes to in an X-Replica header.
type cluster struct {
	srv      *partest.Server
	web      *httptest.Server
	replicas map[string]*replica
	prefix   string
}

func newCluster(t *testing.T, addr string, names ...string) *cluster {
	t.Helper()
	requireRedis(t)
	cl := &cluster{replicas: map[string]*replica{}, prefix: testPrefix(t)}
	cl.web = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, ok := cl.replicas[r.Header.Get("X-Replica")]
		if !ok {
			http.Error(w, "no such replica", http.StatusBadGateway)
			return
		}
		rep.mu.Lock()
		rep.served++
		rep.mu.Unlock()
		rep.h.ServeHTTP(w, r)
	}))
	cl.web.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by closed idle connections
	cl.web.StartTLS()
	t.Cleanup(cl.web.Close)
	cl.srv = partest.NewServer(partest.Config{Clients: []partest.Client{{
		ID: "app", Secret: "s3cr+t/=", RedirectURIs: []string{cl.web.URL + "/callback"},
	}}})
	t.Cleanup(cl.srv.Close)

	key := newKey() // every replica has the same store key
	for _, name := range names {
		c, err := client.New(t.Context(), client.Config{
			Issuer: cl.srv.Issuer(), ClientID: "app", Auth: client.ClientSecretBasic("s3cr+t/="),
			RedirectURL: cl.web.URL + "/callback", HTTPClient: cl.srv.Client(),
		})
		if err != nil {
			t.Fatalf("client.New (%s): %v", name, err)
		}
		st := newStore(t, newClient(t, addr), redisstore.Options{Prefix: cl.prefix, Key: key})
		rep := &replica{name: name}
		rep.h, err = login.New(login.Config{
			Client: c,
			Store:  st,
			OnLogin: func(w http.ResponseWriter, r *http.Request, tok *client.Tokens) {
				rep.mu.Lock()
				rep.logins = append(rep.logins, tok)
				rep.mu.Unlock()
				fmt.Fprint(w, tok.IDToken.Subject)
			},
			OnError: func(w http.ResponseWriter, r *http.Request, err error) {
				rep.mu.Lock()
				rep.errs = append(rep.errs, err)
				rep.mu.Unlock()
				login.DefaultOnError(w, r, err)
			},
		})
		if err != nil {
			t.Fatalf("login.New (%s): %v", name, err)
		}
		cl.replicas[name] = rep
	}
	return cl
}

// browser is a user agent with a cookie jar that stops at redirects.
func (cl *cluster) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := cl.web.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request to one replica and returns the status and body.
func (cl *cluster) do(t *testing.T, b *http.Client, replicaName, method, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, cl.web.URL+path, nil)
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	req.Header.Set("X-Replica", replicaName)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Do(req)
	if err != nil {
		t.Errorf("%s %s on %s: %v", method, path, replicaName, err)
		return 0, nil, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// start POSTs the login start to a replica and returns the authorization
// URL it redirects to.
func (cl *cluster) start(t *testing.T, b *http.Client, replicaName string) string {
	t.Helper()
	status, header, body := cl.do(t, b, replicaName, http.MethodPost, "/login")
	if status != http.StatusSeeOther {
		t.Fatalf("POST /login on %s = %d %q, want 303", replicaName, status, body)
	}
	return header.Get("Location")
}

// TestLoginAcrossReplicas pushes on replica A and completes the callback
// on replica B: the flow travels through Redis.
func TestLoginAcrossReplicas(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	cl := newCluster(t, sharedAddr, "a", "b")
	b := cl.browser(t)

	authURL := cl.start(t, b, "a")
	keys, err := rdb.Keys(t.Context(), cl.prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys in Redis after start = %q, %v; want one flow", keys, err)
	}
	params, err := cl.srv.Login(authURL)
	if err != nil {
		t.Fatalf("partest Login: %v", err)
	}
	status, _, body := cl.do(t, b, "b", http.MethodGet, "/callback?"+params.Encode())
	if status != http.StatusOK || body != "alice" {
		t.Fatalf("callback on b = %d %q, want 200 alice (b errors: %v)", status, body, cl.replicas["b"].errors())
	}
	if n, err := rdb.Exists(t.Context(), keys[0]).Result(); err != nil || n != 0 {
		t.Errorf("flow still in Redis after the callback (EXISTS = %d, %v)", n, err)
	}
	for name, want := range map[string][3]int{"a": {1, 0, 0}, "b": {1, 1, 0}} {
		served, logins, errs := cl.replicas[name].counts()
		if got := [3]int{served, logins, errs}; got != want {
			t.Errorf("replica %s: served, logins, errors = %v, want %v", name, got, want)
		}
	}

	// The same callback replayed on A: the flow is gone.
	status, _, _ = cl.do(t, b, "a", http.MethodGet, "/callback?"+params.Encode())
	if errs := cl.replicas["a"].errors(); status != http.StatusBadRequest || len(errs) != 1 || !errors.Is(errs[0], login.ErrFlowNotFound) {
		t.Errorf("replayed callback on a = %d, errors %v; want 400 ErrFlowNotFound", status, errs)
	}
	if n := cl.srv.Requests(partest.EndpointToken); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

// TestReplayedCallbacks sends one callback 100 times at once, spread over
// two replicas: one login, 99 ErrFlowNotFound, one code exchange.
func TestReplayedCallbacks(t *testing.T) {
	t.Parallel()
	cl := newCluster(t, sharedAddr, "a", "b")
	b := cl.browser(t)
	params, err := cl.srv.Login(cl.start(t, b, "a"))
	if err != nil {
		t.Fatalf("partest Login: %v", err)
	}
	const n = 100
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok, bad int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			status, _, body := cl.do(t, b, []string{"a", "b"}[i%2], http.MethodGet, "/callback?"+params.Encode())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status == http.StatusOK && body == "alice":
				ok++
			case status == http.StatusBadRequest:
				bad++
			default:
				t.Errorf("callback = %d %q", status, body)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok != 1 || bad != n-1 {
		t.Fatalf("of %d concurrent callbacks: %d logged in, %d got 400; want 1 and %d", n, ok, bad, n-1)
	}
	logins, notFound := 0, 0
	for _, rep := range cl.replicas {
		_, l, _ := rep.counts()
		logins += l
		for _, err := range rep.errors() {
			if errors.Is(err, login.ErrFlowNotFound) {
				notFound++
			} else {
				t.Errorf("replica %s: callback error %v, want ErrFlowNotFound", rep.name, err)
			}
		}
	}
	if logins != 1 || notFound != n-1 {
		t.Errorf("logins = %d, ErrFlowNotFound = %d; want 1 and %d", logins, notFound, n-1)
	}
	if got := cl.srv.Requests(partest.EndpointToken); got != 1 {
		t.Errorf("token requests = %d, want 1 (a replayed code must never be sent)", got)
	}
}

// TestLoginRedisDown: with Redis down, Start fails with ErrUnavailable
// reaching OnError, and the browser is not sent to the provider.
func TestLoginRedisDown(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	cl := newCluster(t, srv.addr(), "a")
	b := cl.browser(t)
	srv.stop()
	status, header, _ := cl.do(t, b, "a", http.MethodPost, "/login")
	if status < 500 || header.Get("Location") != "" {
		t.Errorf("POST /login with Redis down = %d (Location %q), want a 5xx error page", status, header.Get("Location"))
	}
	errs := cl.replicas["a"].errors()
	if len(errs) != 1 || !errors.Is(errs[0], redisstore.ErrUnavailable) {
		t.Fatalf("OnError got %v, want one error matching redisstore.ErrUnavailable", errs)
	}
	if want := login.StatusCode(errs[0]); status != want {
		t.Errorf("POST /login with Redis down = %d, want login.StatusCode = %d", status, want)
	}
	t.Logf("start with Redis down: %d, %v", status, errs[0])
}
