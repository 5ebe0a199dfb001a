// Command compare measures pushes per second (RFC 9126 pushed authorization
// requests) of go-par, of the hand-written net/http baseline and of
// openid-client (Node), against one fast stub PAR endpoint on 127.0.0.1.
//
// It starts the stub, then for each auth method and concurrency runs the
// three clients one after the other, each in its own process, for a fixed
// time, and repeats that for a number of rounds, rotating which client goes
// first, so that a slow moment hits all three alike. It prints the median pushes/s and the ratios, and writes
// an SVG chart of pushes/s against concurrency.
//
//	go run ./bench/cmd/compare -seconds 3 -rounds 3 -svg BENCHMARKS.svg
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
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	nodeDir, svg    string
}

func main() {
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
	flag.StringVar(&o.nodeDir, "node", "bench/node", "directory of push.mjs with openid-client installed")
	flag.StringVar(&o.svg, "svg", "BENCHMARKS.svg", "chart to write; empty for none")
	flag.Parse()
	var err error
	if o.conc, err = parseInts(conc); err != nil {
		fatal(err)
	}
	o.auths, o.impls = strings.Split(authList, ","), strings.Split(implList, ",")
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
	s, err := stub.Start()
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(w, "stub PAR endpoint %s; %d round(s) of %.1f s per client and setting\n", s.URL, o.rounds, o.seconds)

	rates, cpuRates := map[key][]float64{}, map[key][]float64{}
	failed := 0
	for round := 1; round <= o.rounds; round++ {
		for _, auth := range o.auths {
			for _, c := range o.conc {
				// The order rotates by round, so no client always runs
				// first (after another client's connections and heap).
				for n := range o.impls {
					impl := o.impls[(n+round-1)%len(o.impls)]
					args := []string{"--issuer", s.URL, "--auth", auth, "--concurrency", strconv.Itoa(c),
						"--seconds", fmt.Sprint(o.seconds), "--warmup", fmt.Sprint(o.warmup)}
					var cmd *exec.Cmd
					if impl == implNode {
						cmd = exec.Command("node", append([]string{script}, args...)...)
					} else {
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
						fmt.Fprintf(w, "round %d  %-22s c=%-3d %-14s failed: %v\n", round, auth, c, impl, err)
						continue
					}
					k := key{auth, impl, c}
					rates[k] = append(rates[k], r.rate())
					cpuRates[k] = append(cpuRates[k], r.cpuRate())
					fmt.Fprintf(w, "round %d  %-22s c=%-3d %-14s %9.0f pushes/s %9.0f pushes/cpu-s\n",
						round, auth, c, impl, r.rate(), r.cpuRate())
				}
			}
		}
	}
	if n := s.Rejected(); n > 0 {
		return fmt.Errorf("compare: the stub rejected %d pushes", n)
	}
	for _, a := range o.auths {
		for _, c := range o.conc {
			for _, i := range o.impls {
				if len(rates[key{a, i, c}]) == 0 {
					return fmt.Errorf("compare: every run of %s %s c=%d failed", i, a, c)
				}
			}
		}
	}
	med, cpuMed := map[key]float64{}, map[key]float64{}
	for k, v := range rates {
		med[k] = median(v)
		cpuMed[k] = median(cpuRates[k])
	}
	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "%d run(s) failed and were left out of the medians\n", failed)
	}
	printTable(w, o, med, fmt.Sprintf("median pushes/s (wall clock) of %d round(s)", o.rounds))
	fmt.Fprintln(w)
	printTable(w, o, cpuMed, fmt.Sprintf("median pushes per second of client CPU time of %d round(s)", o.rounds))
	if o.svg != "" {
		svg := chart(o, series{"PAR pushes/s (wall clock)", med},
			series{"PAR pushes per second of client CPU time", cpuMed})
		if err := os.WriteFile(o.svg, svg, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nchart written to %s\n", o.svg)
	}
	return nil
}

// runOne runs a child with a deadline and parses its output.
func runOne(cmd *exec.Cmd, limit float64) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(limit*float64(time.Second)))
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
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
