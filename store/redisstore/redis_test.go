package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests run against a real redis-server that they start themselves on
// a free 127.0.0.1 port, without persistence: one shared server (sharedAddr)
// for the tests that only need a Redis, and dedicated ones for the tests
// that stop, pause or reconfigure theirs.

const installHint = "redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; " +
	"macOS: brew install redis) or set GOPAR_SKIP_REDIS=1 to skip the redisstore tests"

var (
	sharedAddr   string // the shared server, set by TestMain
	redisMissing bool   // GOPAR_SKIP_REDIS=1 and no redis-server
)

// quiet drops go-redis' own log lines (it logs failed dials to stderr).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	if os.Getenv(envReplica) != "" {
		// This test binary runs as an app replica of TestReplicas… (see
		// replica_test.go), not as the tests.
		os.Exit(runReplica())
	}
	flag.Parse()
	redis.SetLogger(quiet{})
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("GOPAR_SKIP_REDIS") != "1" {
			fmt.Fprintln(os.Stderr, "FAIL: "+installHint)
			os.Exit(1)
		}
		// Tests skip themselves (requireRedis); examples cannot, so they
		// are left out of the run.
		redisMissing = true
		flag.Set("test.run", "^(Test|Fuzz)")
		os.Exit(m.Run())
	}
	srv, err := launchRedis(0, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start redis-server:", err)
		os.Exit(1)
	}
	sharedAddr = srv.addr()
	code := m.Run()
	srv.close()
	os.Exit(code)
}

func requireRedis(tb testing.TB) {
	tb.Helper()
	if redisMissing {
		tb.Skip("GOPAR_SKIP_REDIS=1: " + installHint)
	}
}

// redisServer is one redis-server process; it can be stopped and started
// again on the same port.
type redisServer struct {
	port int
	args []string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
}

// startRedis starts a dedicated redis-server, stopped at the end of the
// test. extra are more redis-server arguments.
func startRedis(tb testing.TB, extra ...string) *redisServer {
	tb.Helper()
	requireRedis(tb)
	srv, err := launchRedis(0, extra)
	if err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(srv.close)
	return srv
}

// launchRedis starts redis-server on port, or on a free port when port is
// 0, and waits until it answers PING.
func launchRedis(port int, extra []string) (*redisServer, error) {
	dir, err := os.MkdirTemp("", "redisstore-test-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		srv := &redisServer{port: p, dir: dir, args: extra}
		if lastErr = srv.start(); lastErr == nil {
			return srv, nil
		}
		if port != 0 {
			break // the port was asked for: don't pick another
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server and waits for PING; the server has no
// persistence unless the extra arguments turn it on.
func (s *redisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server already running")
	}
	logFile := filepath.Join(s.dir, "redis.log")
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logFile, "--daemonize", "no"}, s.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.addr()) == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("redis-server on port %d exited (%v): %s", s.port, err, lastLines(string(log), 5))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s", s.port)
		}
	}
}

// stop kills the server (like a crash: nothing is saved on the way out)
// and waits for it to exit.
func (s *redisServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// close stops the server and removes its directory.
func (s *redisServer) close() {
	s.stop()
	os.RemoveAll(s.dir)
}

// signal sends sig to the running server (SIGSTOP pauses it, SIGCONT
// resumes it).
func (s *redisServer) signal(tb testing.TB, sig os.Signal) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		tb.Fatal("redis-server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %v: %v", sig, err)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// newClient is a go-redis client for addr, closed at the end of the test.
// ContextTimeoutEnabled makes the store's per-call timeout bound reads.
func newClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// slowClient is newClient with go-redis' own dial, read and write timeouts
// far above any store Timeout under test, so a call that returns in time
// shows that the store's Timeout bounded it.
func slowClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true,
		DialTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// sharedClient is a client of the shared server.
func sharedClient(tb testing.TB) *redis.Client {
	tb.Helper()
	requireRedis(tb)
	return newClient(tb, sharedAddr)
}
