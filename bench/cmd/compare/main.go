// Command compare measures pushes per second (RFC 9126 pushed authorization
// requests), or logins per second, of go-par, of the hand-written net/http
// baseline and of openid-client (Node), against one fast stub provider on
// 127.0.0.1, over http or TLS (HTTP/2, or HTTP/1.1 only).
//
// It starts the stubs, then for each setting (mode and TLS), auth method and
// concurrency runs the three clients one after the other, each in its own
// process, for a fixed time, and repeats that for a number of rounds,
// rotating which client goes first, so that a slow moment hits all three
// alike. It prints the median rates and the ratios, per wall-clock second
// and per second of the client process's own CPU time, and writes an SVG
// chart of the first setting's rates against concurrency.
//
//	go run ./bench/cmd/compare -seconds 3 -rounds 3 -svg BENCHMARKS.svg
//	go run ./bench/cmd/compare -tls h2,h1 -mode push,login,cold -conc 32 -rounds 5 -svg ''
//
// Modes: push (pushes only, one client), login (push, callback checks, code
// exchange and ID token verification, one client: warm), cold (a first
// login each time: a new HTTP client, so new TLS handshakes, discovery,
// the push, the exchange and the JWKS fetch).
//
// To profile one client by hand, start a stub in one shell and run a
// child against it in another:
//
//	go run ./bench/cmd/compare stub -tls h2 -ca /tmp/stub.pem        # prints the issuer URL
//	go run ./bench/cmd/compare run --impl go-par --issuer URL --tls h2 --ca /tmp/stub.pem \
//		--concurrency 32 --seconds 8 --cpuprofile /tmp/go-par.prof
//
// openid-client must be installed first: (cd bench/node && npm ci).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-par/par/bench/internal/stub"
)

// Implementations, in the order they run and are shown.
const (
	implGoPar    = "go-par"
	implBaseline = "baseline"
	implNode     = "openid-client"
)

var auths = []string{"client_secret_basic", "private_key_jwt_ES256"}

// Modes and TLS settings (see the command documentation).
var (
	modes = []string{"push", "login", "cold"}
	tlss  = []string{"off", "h2", "h1"}
)

// setting is one mode over one TLS setting.
type setting struct{ mode, tls string }

func (s setting) String() string {
	t := map[string]string{"off": "plain http", "h2": "TLS, HTTP/2", "h1": "TLS, HTTP/1.1"}[s.tls]
	return s.mode + " over " + t
}

// result is one timed run, as every child prints it.
type result struct {
	Impl        string  `json:"impl"`
	Auth        string  `json:"auth"`
	Concurrency int     `json:"concurrency"`
	Pushes      int64   `json:"pushes"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	// CPUSeconds is the client process's own CPU time (user+system) in
	// the measured window; the stub runs in another process.
	CPUSeconds float64 `json:"cpu_seconds"`
	LastError  string  `json:"last_error,omitempty"`
}

func (r result) rate() float64 { return float64(r.Pushes) / r.Seconds }

// cpuRate is pushes per second of client CPU time: what one fully used core
// would push. It moves far less than rate when other processes load the
// machine. Zero when CPU time was not measured.
func (r result) cpuRate() float64 {
	if r.CPUSeconds <= 0 {
		return 0
	}
	return float64(r.Pushes) / r.CPUSeconds
}

// parseResult reads the one JSON line a child prints.
func parseResult(b []byte) (result, error) {
	var r result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return result{}, fmt.Errorf("compare: child output: %w", err)
	}
	if dec.More() {
		return result{}, errors.New("compare: child output: more than one result")
	}
	switch {
	case r.Impl != implGoPar && r.Impl != implBaseline && r.Impl != implNode:
		return result{}, fmt.Errorf("compare: child output: unknown impl %q", r.Impl)
	case !slices.Contains(auths, r.Auth):
		return result{}, fmt.Errorf("compare: child output: unknown auth %q", r.Auth)
	case r.Concurrency < 1 || r.Pushes < 0 || r.Errors < 0 || !(r.Seconds > 0 && r.Seconds < 3600) ||
		!(r.CPUSeconds >= 0 && r.CPUSeconds < 1e6):
		return result{}, errors.New("compare: child output: values out of range")
	}
	return r, nil
}

type options struct {
	seconds, warmup float64
	rounds          int
	conc            []int
	auths           []string
	impls           []string
	modes, tlss     []string
	nodeDir, svg    string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "stub" {
		if err := runStub(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "run" {
		if err := runChild(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var o options
	var conc, authList, implList string
	flag.Float64Var(&o.seconds, "seconds", 3, "measured seconds per run")
	flag.Float64Var(&o.warmup, "warmup", 0.5, "unmeasured warm-up seconds per run")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every client once per setting")
	flag.StringVar(&conc, "conc", "1,4,16,32,64", "concurrency levels")
	flag.StringVar(&authList, "auth", strings.Join(auths, ","), "auth methods")
	flag.StringVar(&implList, "impl", strings.Join([]string{implGoPar, implBaseline, implNode}, ","), "clients to run")
	var modeList, tlsList string
	flag.StringVar(&modeList, "mode", "push", "modes: push, login, cold")
	flag.StringVar(&tlsList, "tls", "off", "TLS settings: off (plain http), h2 (TLS, HTTP/2), h1 (TLS, HTTP/1.1 only)")
	flag.StringVar(&o.nodeDir, "node", "bench/node", "directory of push.mjs with openid-client installed")
	flag.StringVar(&o.svg, "svg", "BENCHMARKS.svg", "chart to write; empty for none")
	flag.Parse()
	var err error
	if o.conc, err = parseInts(conc); err != nil {
		fatal(err)
	}
	o.auths, o.impls = strings.Split(authList, ","), strings.Split(implList, ",")
	o.modes, o.tlss = strings.Split(modeList, ","), strings.Split(tlsList, ",")
	if err := compare(o, os.Stdout); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("compare: bad concurrency %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// key identifies one cell of the table.
type key struct {
	auth, impl string
	conc       int
}

func compare(o options, w io.Writer) error {
	for _, a := range o.auths {
		if !slices.Contains(auths, a) {
			return fmt.Errorf("compare: unknown auth %q", a)
		}
	}
	for _, i := range o.impls {
		if i != implGoPar && i != implBaseline && i != implNode {
			return fmt.Errorf("compare: unknown impl %q", i)
		}
	}
	for _, m := range o.modes {
		if !slices.Contains(modes, m) {
			return fmt.Errorf("compare: unknown mode %q", m)
		}
	}
	for _, t := range o.tlss {
		if !slices.Contains(tlss, t) {
			return fmt.Errorf("compare: unknown TLS setting %q", t)
		}
	}
	if o.rounds < 1 || o.rounds > 50 || !(o.seconds > 0 && o.seconds <= 60) {
		return errors.New("compare: rounds must be 1..50 and seconds in (0, 60]")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	script := filepath.Join(o.nodeDir, "push.mjs")
	if slices.Contains(o.impls, implNode) {
		if _, err := os.Stat(filepath.Join(o.nodeDir, "node_modules", "openid-client")); err != nil {
			return fmt.Errorf("compare: openid-client is not installed in %s (run npm ci there): %w", o.nodeDir, err)
		}
	}
	var settings []setting
	for _, m := range o.modes {
		for _, t := range o.tlss {
			settings = append(settings, setting{m, t})
		}
	}
	// One stub per setting: a login stub answers pushes with a request_uri
	// that carries the request, a push stub with a fixed body.
	stubs := map[setting]*stub.Server{}
	cas := map[string]string{} // TLS setting → CA file
	dir, err := os.MkdirTemp("", "compare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, st := range settings {
		s, err := stub.StartWith(stub.Options{TLS: st.tls != "off", HTTP1: st.tls == "h1", Login: st.mode != "push"})
		if err != nil {
			return err
		}
		defer s.Close()
		stubs[st] = s
		if s.CertPEM != nil {
			f := filepath.Join(dir, st.mode+"-"+st.tls+".pem")
			if err := os.WriteFile(f, s.CertPEM, 0o600); err != nil {
				return err
			}
			cas[st.mode+st.tls] = f
		}
		fmt.Fprintf(w, "%s: %s\n", st, s)
	}
	fmt.Fprintf(w, "%d round(s) of %.1f s per client and cell\n", o.rounds, o.seconds)

	type cell struct {
		st setting
		k  key
	}
	rates, cpuRates := map[cell][]float64{}, map[cell][]float64{}
	// ratios are go-par/baseline per round, CPU rates (both ran in that round).
	ratios := map[cell][]float64{}
	failed := 0
	for round := 1; round <= o.rounds; round++ {
		for _, st := range settings {
			s := stubs[st]
			for _, auth := range o.auths {
				for _, c := range o.conc {
					roundCPU := map[string]float64{}
					// The order rotates by round, so no client always runs
					// first (after another client's connections and heap).
					for n := range o.impls {
						impl := o.impls[(n+round-1)%len(o.impls)]
						args := []string{"--issuer", s.URL, "--auth", auth, "--concurrency", strconv.Itoa(c),
							"--seconds", fmt.Sprint(o.seconds), "--warmup", fmt.Sprint(o.warmup),
							"--mode", st.mode, "--tls", st.tls}
						ca := cas[st.mode+st.tls]
						var cmd *exec.Cmd
						if impl == implNode {
							cmd = exec.Command("node", append([]string{script}, args...)...)
							if ca != "" {
								cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca)
							}
						} else {
							if ca != "" {
								args = append(args, "--ca", ca)
							}
							cmd = exec.Command(self, append([]string{"run", "--impl", impl}, args...)...)
						}
						r, err := runOne(cmd, o.seconds+o.warmup+60)
						if err == nil && r.Errors > 0 {
							err = fmt.Errorf("%d errors, last: %s", r.Errors, r.LastError)
						}
						if err != nil {
							// One failed run (a stalled machine, a crashed child)
							// loses its cell for this round only.
							failed++
							fmt.Fprintf(w, "round %d  %-22s %-5s %-3s c=%-3d %-14s failed: %v\n", round, auth, st.mode, st.tls, c, impl, err)
							continue
						}
						k := cell{st, key{auth, impl, c}}
						rates[k] = append(rates[k], r.rate())
						cpuRates[k] = append(cpuRates[k], r.cpuRate())
						roundCPU[impl] = r.cpuRate()
						fmt.Fprintf(w, "round %d  %-22s %-5s %-3s c=%-3d %-14s %9.0f /s %9.0f /cpu-s\n",
							round, auth, st.mode, st.tls, c, impl, r.rate(), r.cpuRate())
					}
					if g, b := roundCPU[implGoPar], roundCPU[implBaseline]; g > 0 && b > 0 {
						k := cell{st, key{auth, "", c}}
						ratios[k] = append(ratios[k], g/b)
					}
				}
			}
		}
	}
	for _, st := range settings {
		if n := stubs[st].Rejected(); n > 0 {
			return fmt.Errorf("compare: the %s stub rejected %d requests", st, n)
		}
	}
	for _, st := range settings {
		for _, a := range o.auths {
			for _, c := range o.conc {
				for _, i := range o.impls {
					if len(rates[cell{st, key{a, i, c}}]) == 0 {
						return fmt.Errorf("compare: every run of %s %s c=%d (%s) failed", i, a, c, st)
					}
				}
			}
		}
	}
	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "%d run(s) failed and were left out of the medians\n", failed)
	}
	var first [2]map[key]float64
	for n, st := range settings {
		med, cpuMed := map[key]float64{}, map[key]float64{}
		for k, v := range rates {
			if k.st == st {
				med[k.k] = median(v)
				cpuMed[k.k] = median(cpuRates[k])
			}
		}
		if n == 0 {
			first = [2]map[key]float64{med, cpuMed}
		}
		unit := "pushes"
		if st.mode != "push" {
			unit = "logins"
		}
		fmt.Fprintf(w, "== %s\n", st)
		printTable(w, o, med, fmt.Sprintf("median %s/s (wall clock) of %d round(s)", unit, o.rounds))
		fmt.Fprintln(w)
		printTable(w, o, cpuMed, fmt.Sprintf("median %s per second of client CPU time of %d round(s)", unit, o.rounds))
		if slices.Contains(o.impls, implGoPar) && slices.Contains(o.impls, implBaseline) {
			fmt.Fprintln(w, "go-par/baseline per round, client CPU time: median [min, max] (rounds)")
			for _, a := range o.auths {
				for _, c := range o.conc {
					r := ratios[cell{st, key{a, "", c}}]
					if len(r) == 0 {
						continue
					}
					fmt.Fprintf(w, "%-22s %5d %8.3f [%.3f, %.3f] (%d)\n", a, c, median(r), slices.Min(r), slices.Max(r), len(r))
				}
			}
		}
		fmt.Fprintln(w)
	}
	if o.svg != "" {
		unit := "pushes"
		if settings[0].mode != "push" {
			unit = "logins"
		}
		svg := chart(o, series{fmt.Sprintf("%s: %s/s (wall clock)", settings[0], unit), first[0]},
			series{fmt.Sprintf("%s: %s per second of client CPU time", settings[0], unit), first[1]})
		if err := os.WriteFile(o.svg, svg, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "chart written to %s\n", o.svg)
	}
	return nil
}

// runOne runs a child with a deadline and parses its output.
func runOne(cmd *exec.Cmd, limit float64) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(limit*float64(time.Second)))
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env = cmd.Env
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return result{}, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseResult(out)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printTable(w io.Writer, o options, med map[key]float64, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintf(w, "%-22s %5s", "auth", "conc")
	for _, i := range o.impls {
		fmt.Fprintf(w, " %14s", i)
	}
	has := func(i string) bool { return slices.Contains(o.impls, i) }
	if has(implGoPar) && has(implBaseline) {
		fmt.Fprintf(w, " %16s", "go-par/baseline")
	}
	if has(implGoPar) && has(implNode) {
		fmt.Fprintf(w, " %22s", "go-par/openid-client")
	}
	fmt.Fprintln(w)
	for _, a := range o.auths {
		for _, c := range o.conc {
			fmt.Fprintf(w, "%-22s %5d", a, c)
			for _, i := range o.impls {
				fmt.Fprintf(w, " %14.0f", med[key{a, i, c}])
			}
			if has(implGoPar) && has(implBaseline) {
				fmt.Fprintf(w, " %16.3f", med[key{a, implGoPar, c}]/med[key{a, implBaseline, c}])
			}
			if has(implGoPar) && has(implNode) {
				fmt.Fprintf(w, " %22.2f", med[key{a, implGoPar, c}]/med[key{a, implNode, c}])
			}
			fmt.Fprintln(w)
		}
	}
}

// runStub is the "stub" mode: serve one stub until interrupted (or for
// -for), printing its issuer URL and writing its certificate to -ca.
func runStub(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("stub", flag.ContinueOnError)
	tlsSetting := fs.String("tls", "off", "off, h2 or h1")
	login := fs.Bool("login", false, "serve whole logins (modes login and cold)")
	ca := fs.String("ca", "", "write the TLS certificate (PEM) here")
	d := fs.Duration("for", time.Hour, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains(tlss, *tlsSetting) || (*tlsSetting != "off") != (*ca != "") {
		return errors.New("compare: stub: -tls off, h2 or h1; -ca with TLS only, and required with it")
	}
	s, err := stub.StartWith(stub.Options{TLS: *tlsSetting != "off", HTTP1: *tlsSetting == "h1", Login: *login})
	if err != nil {
		return err
	}
	defer s.Close()
	if *ca != "" {
		if err := os.WriteFile(*ca, s.CertPEM, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, s.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(*d):
	}
	return nil
}
