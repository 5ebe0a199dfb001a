package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0 // success
	exitProtocol = 1 // the provider said no, or answered something invalid
	exitUsage    = 2 // bad command line or configuration
	exitNetwork  = 3 // the provider could not be reached
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the par command line and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{getenv: os.Getenv, stdout: stdout, stderr: stderr, open: openBrowser}
	return c.run(ctx, args)
}

// cli holds what the commands need from the outside, so tests can replace
// it.
type cli struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader // default os.Stdin
	open   func(url string) error
	// listening, when set, is called by login with the callback listener's
	// address once it listens.
	listening func(addr string)

	help func() // prints the current command's usage
}

const usage = `par is a command-line debugger for OAuth 2.0 Pushed Authorization Requests (RFC 9126)
and OpenID Connect providers.

Usage:
  par discover ISSUER            show the provider's metadata and what PAR / FAPI 2.0 needs that is missing
  par push [flags]               push an authorization request; print the authorization URL and request_uri
  par login [flags]              a whole login: push, open the browser, receive the callback on a loopback
                                 redirect URI, exchange the code, print the verified claims
  par decode JWT                 print a JWT's header and claims, UNVERIFIED ("-" reads stdin)

Every command takes --json for machine-readable output. "par CMD --help" lists a command's flags.

Exit codes: 0 ok, 1 protocol or provider error, 2 usage, 3 network.

Environment (defaults for the flags of push and login):
  PAR_ISSUER, PAR_CLIENT_ID, PAR_CLIENT_SECRET, PAR_KEY_FILE, PAR_KEY_PASSWORD, PAR_AUTH_METHOD,
  PAR_REDIRECT_URL, PAR_SCOPES, PAR_PARAMS (k=v&k=v), PAR_PROFILE (default, broker, fapi2),
  PAR_RESPONSE_MODE (e.g. jwt for JWT-secured responses), PAR_RESPONSE_KEY_FILE
Prefer PAR_CLIENT_SECRET to --secret: command lines are visible to other users of the machine.
`

func (c *cli) run(ctx context.Context, args []string) int {
	var jsonOut bool
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-h", "-help", "--help":
			fmt.Fprint(c.stdout, usage)
			return exitOK
		case "-json", "--json":
			jsonOut = true
			args = args[1:]
		default:
			fmt.Fprintf(c.stderr, "par: unknown flag %s before the command\n\n%s", args[0], usage)
			return exitUsage
		}
	}
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if jsonOut {
		rest = append([]string{"--json"}, rest...)
	}
	switch cmd {
	case "discover":
		return c.discover(ctx, rest)
	case "push":
		return c.push(ctx, rest)
	case "login":
		return c.login(ctx, rest)
	case "decode":
		return c.decode(rest)
	case "help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "par: unknown command %q: want discover, push, login or decode\n", cmd)
	return exitUsage
}

// flagSet returns a FlagSet for a command with --json, and a parse function
// that maps -h and errors to exit codes.
func (c *cli) flagSet(name, synopsis, about string) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("par "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	jsonOut := fs.Bool("json", false, "print JSON instead of text")
	fs.Usage = func() {} // parse prints it, to stdout, for --help only
	c.help = func() {
		fs.SetOutput(c.stdout)
		fmt.Fprintf(c.stdout, "Usage: par %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr)
	}
	return fs, jsonOut
}

// parse parses args; done is true when the command must return code.
func (c *cli) parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(interleave(fs, args))
	if errors.Is(err, flag.ErrHelp) {
		c.help()
		return exitOK, true
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "see %s --help\n", fs.Name())
		return exitUsage, true
	}
	return 0, false
}

// interleave moves flags after positional arguments to the front, so that
// "par discover ISSUER --json" works as well as "par discover --json ISSUER".
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

// fail prints err for a human (or as JSON) and returns the exit code that
// fits it.
func (c *cli) fail(jsonOut bool, cmd string, err error, hint string) int {
	code := exitCode(err)
	if jsonOut {
		out := map[string]any{"error": err.Error(), "exit_code": code}
		if hint != "" {
			out["hint"] = hint
		}
		c.writeJSON(out)
	} else {
		fmt.Fprintf(c.stderr, "par %s: %v\n", cmd, err)
		if hint != "" {
			fmt.Fprintf(c.stderr, "hint: %s\n", hint)
		}
	}
	return code
}

// usageError is a configuration mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCode classifies err: usage (2), network (3) or protocol (1).
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	if isNetworkError(err) {
		return exitNetwork
	}
	return exitProtocol
}

// isNetworkError reports whether err means the provider was not reached or
// did not answer in time.
func isNetworkError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	var de *net.DNSError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ue) && !errors.Is(err, context.Canceled))
}

func (c *cli) writeJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// openBrowser asks the desktop to open u (xdg-open), without waiting.
func openBrowser(u string) error {
	cmd := exec.Command("xdg-open", u)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
