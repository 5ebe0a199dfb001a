package opharness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Provider modes understood by provider/server.mjs.
const (
	// ModeOptional offers PAR without requiring it (except for clients
	// registered with require_pushed_authorization_requests).
	ModeOptional = "optional"
	// ModeRequired requires PAR for every client and advertises
	// require_pushed_authorization_requests (RFC 9126 §5).
	ModeRequired = "required"
	// ModeDPoPNonce requires a server-provided nonce in DPoP proofs
	// (RFC 9449 §8, §9).
	ModeDPoPNonce = "dpop-nonce"
	// ModeNoPAR disables PAR, as at most OpenID Connect providers: discovery
	// has no pushed_authorization_request_endpoint and only front-channel
	// authorization requests work (the par-only client is not registered).
	ModeNoPAR = "no-par"
)

// SupportedVersionPrefix is the node-oidc-provider release line the suite is
// pinned to (package.json).
const SupportedVersionPrefix = "9.13."

// DefaultStartTimeout bounds how long Start waits for the READY line. The
// provider starts in about a second; loaded CI machines need the margin.
const DefaultStartTimeout = 90 * time.Second

// ErrNotInstalled is returned (wrapped) by Start when node or the npm
// dependencies are missing.
var ErrNotInstalled = errors.New("opharness: node-oidc-provider not installed: run `npm ci --prefix interop`")

// Options configure one provider process.
type Options struct {
	// Dir is the interop module directory (holding package.json,
	// node_modules and provider/server.mjs). Required.
	Dir string
	// Mode is ModeOptional (default), ModeRequired, ModeDPoPNonce or
	// ModeNoPAR.
	Mode string
	// RedirectURI is registered for every client. Required.
	RedirectURI string
	// Secrets maps client_id to client_secret for the secret-based clients
	// of the script's catalogue; a client is only registered when it has a
	// secret or a JWKS.
	Secrets map[string]string
	// JWKS maps client_id to the public keys of private_key_jwt clients,
	// and of clients registered for encrypted JWT-secured authorization
	// responses (jarm-enc: its key with use "enc").
	JWKS map[string]jose.JSONWebKeySet
	// BackchannelLogoutURI, when set, is the session client's
	// backchannel_logout_uri (OIDC Back-Channel Logout 1.0 §2.2).
	BackchannelLogoutURI string
	// Node is the node binary. Default: "node" from PATH.
	Node string
	// StartTimeout bounds the wait for READY. Default DefaultStartTimeout.
	StartTimeout time.Duration
	// Stderr, if set, receives the process's stderr as well (for -v runs).
	Stderr io.Writer
	// Env is appended to the process environment.
	Env []string
}

// Provider is a running node-oidc-provider. Close stops it.
type Provider struct {
	// Issuer is the provider's issuer identifier, http://127.0.0.1:<port>.
	Issuer string

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *capped
	done    chan struct{}
	waitErr error
	tmp     string

	closeOnce sync.Once
}

// Check reports whether node and the pinned npm dependencies are present
// in dir. The error wraps ErrNotInstalled.
func Check(dir, node string) (nodePath string, err error) {
	if node == "" {
		node = "node"
	}
	nodePath, err = exec.LookPath(node)
	if err != nil {
		return "", fmt.Errorf("%w: node not found: %v", ErrNotInstalled, err)
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(pkg, &meta); err != nil {
		return "", fmt.Errorf("%w: oidc-provider package.json: %v", ErrNotInstalled, err)
	}
	if !strings.HasPrefix(meta.Version, SupportedVersionPrefix) {
		return "", fmt.Errorf("%w: oidc-provider %s installed, want %sx", ErrNotInstalled, meta.Version, SupportedVersionPrefix)
	}
	return nodePath, nil
}

// Start runs provider/server.mjs with opts and waits until it listens.
// ctx bounds the start only; the process runs until Close.
func Start(ctx context.Context, opts Options) (*Provider, error) {
	if opts.Dir == "" || opts.RedirectURI == "" {
		return nil, errors.New("opharness: Dir and RedirectURI are required")
	}
	if opts.Mode == "" {
		opts.Mode = ModeOptional
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	node, err := Check(opts.Dir, opts.Node)
	if err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp("", "gopar-op-")
	if err != nil {
		return nil, fmt.Errorf("opharness: %w", err)
	}
	cfg := struct {
		RedirectURI          string                        `json:"redirect_uri"`
		Secrets              map[string]string             `json:"secrets"`
		JWKS                 map[string]jose.JSONWebKeySet `json:"jwks"`
		BackchannelLogoutURI string                        `json:"backchannel_logout_uri,omitempty"`
	}{opts.RedirectURI, opts.Secrets, opts.JWKS, opts.BackchannelLogoutURI}
	b, err := json.Marshal(cfg)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("opharness: config: %w", err)
	}
	cfgPath := filepath.Join(tmp, "op.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("opharness: %w", err)
	}

	cmd := exec.Command(node, filepath.Join("provider", "server.mjs"),
		"--config", cfgPath, "--mode", opts.Mode, "--port", "0")
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.WaitDelay = 2 * time.Second
	p := &Provider{cmd: cmd, stderr: &capped{max: 64 << 10}, done: make(chan struct{}), tmp: tmp}
	if opts.Stderr != nil {
		cmd.Stderr = io.MultiWriter(p.stderr, opts.Stderr)
	} else {
		cmd.Stderr = p.stderr
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("opharness: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("opharness: %w", err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("opharness: start node: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if issuer, ok := parseReady(sc.Text()); ok {
				ready <- issuer
				break
			}
		}
		io.Copy(io.Discard, stdout) // keep the pipe drained
	}()

	timer := time.NewTimer(opts.StartTimeout)
	defer timer.Stop()
	select {
	case p.Issuer = <-ready:
		// The script has read its config: drop it now, so that not even a
		// killed test run leaves the (test-only) secrets behind.
		os.RemoveAll(tmp)
		return p, nil
	case <-p.done:
		p.Close()
		return nil, fmt.Errorf("opharness: provider exited before READY (%v): %s", p.waitErr, p.stderr.String())
	case <-timer.C:
		p.Close()
		return nil, fmt.Errorf("opharness: provider not READY after %v: %s", opts.StartTimeout, p.stderr.String())
	case <-ctx.Done():
		p.Close()
		return nil, fmt.Errorf("opharness: start: %w", ctx.Err())
	}
}

// parseReady parses the script's "READY <issuer>" line. The issuer must be
// http://127.0.0.1:<port> exactly.
func parseReady(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		return "", false
	}
	issuer := strings.TrimSpace(rest)
	port, ok := strings.CutPrefix(issuer, "http://127.0.0.1:")
	if !ok {
		return "", false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", false
	}
	return issuer, true
}

// Stderr returns what the process wrote to stderr so far (capped at 64 KiB).
func (p *Provider) Stderr() string { return p.stderr.String() }

// Close stops the process: stdin is closed (the script exits on EOF), then
// SIGTERM, then a kill after two seconds each. It is safe to call more than
// once and from several goroutines.
func (p *Provider) Close() {
	p.closeOnce.Do(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
			// Windows has no SIGTERM: the error is ignored and the kill follows.
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
		os.RemoveAll(p.tmp)
	})
}

// capped is a concurrency-safe buffer that keeps the first max bytes.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *capped) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
