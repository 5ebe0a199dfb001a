package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-par/par/examples/webapp/site"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run starts the app and serves until ctx is done. It returns the exit code:
// 0 after a clean shutdown, 1 when the app cannot start, 2 for bad flags.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fl.SetOutput(stderr)
	defaultAddr := "127.0.0.1:8080"
	if p := getenv("PORT"); p != "" {
		defaultAddr = ":" + p
	}
	addr := fl.String("addr", defaultAddr, "listen address (host:port; port 0 picks a free one)")
	verbose := fl.Bool("v", false, "log the SDK's Debug traces too")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./examples/webapp [-addr host:port] [-v]\n\n"+
			"A web app that logs in with PAR (RFC 9126) + OpenID Connect through go-par's login handlers and\n"+
			"shows the protocol steps of each login. Without configuration it starts an embedded test provider.\n\n")
		fl.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", site.EnvHelp)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := site.ConfigFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "webapp: listen: %v\n", err)
		return 1
	}
	base := baseURL(ln.Addr())
	a, closeApp, err := site.New(ctx, cfg, site.Options{BaseURL: base, Logger: logger})
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeApp()
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("webapp: ready", slog.String("url", base), slog.String("provider", a.Provider()))
	fmt.Fprintf(stdout, "READY %s\n", base)
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "webapp: serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// baseURL is the app's URL for a listener address; an unspecified host
// becomes 127.0.0.1.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
