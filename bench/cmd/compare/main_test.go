package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-par/par/bench/internal/stub"
)

func TestParseResult(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want result
		ok   bool
	}{
		{`{"impl":"openid-client","auth":"client_secret_basic","concurrency":32,"pushes":100,"errors":0,"seconds":2}`,
			result{Impl: implNode, Auth: "client_secret_basic", Concurrency: 32, Pushes: 100, Seconds: 2}, true},
		{`{"impl":"go-par","auth":"private_key_jwt_ES256","concurrency":1,"pushes":7,"errors":1,"seconds":0.5,"last_error":"x"}` + "\n",
			result{Impl: implGoPar, Auth: "private_key_jwt_ES256", Concurrency: 1, Pushes: 7, Errors: 1, Seconds: 0.5, LastError: "x"}, true},
		{`{"impl":"curl","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":1}`, result{}, false},
		{`{"impl":"go-par","auth":"none","concurrency":1,"pushes":1,"errors":0,"seconds":1}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":0,"pushes":1,"errors":0,"seconds":1}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":0}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":1,"cpu_seconds":-1}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":4,"errors":0,"seconds":1,"cpu_seconds":0.5}`,
			result{Impl: implGoPar, Auth: "client_secret_basic", Concurrency: 1, Pushes: 4, Seconds: 1, CPUSeconds: 0.5}, true},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":-1,"errors":0,"seconds":1}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":1,"extra":1}`, result{}, false},
		{`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":1} {}`, result{}, false},
		{``, result{}, false},
		{`[]`, result{}, false},
	} {
		got, err := parseResult([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseResult(%q) = %+v, %v; want %+v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseResult(f *testing.F) {
	f.Add([]byte(`{"impl":"go-par","auth":"client_secret_basic","concurrency":1,"pushes":1,"errors":0,"seconds":1}`))
	f.Add([]byte(`{"impl":"openid-client","seconds":1e308}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseResult(b)
		if err != nil {
			return
		}
		if r.Concurrency < 1 || r.Pushes < 0 || r.Errors < 0 || !(r.Seconds > 0) || r.rate() < 0 || r.cpuRate() < 0 {
			t.Errorf("accepted out-of-range result %+v", r)
		}
	})
}

// TestRunChild runs both Go implementations for a moment against the stub.
func TestRunChild(t *testing.T) {
	t.Parallel()
	s, err := stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, impl := range []string{implGoPar, implBaseline} {
		for _, auth := range auths {
			var out bytes.Buffer
			err := runChild([]string{"--impl", impl, "--issuer", s.URL, "--auth", auth,
				"--concurrency", "2", "--seconds", "0.2", "--warmup", "0.05"}, &out)
			if err != nil {
				t.Fatalf("%s %s: %v", impl, auth, err)
			}
			r, err := parseResult(out.Bytes())
			if err != nil {
				t.Fatalf("%s %s: %v in %q", impl, auth, err, out.String())
			}
			if r.Impl != impl || r.Auth != auth || r.Concurrency != 2 || r.Pushes == 0 || r.Errors != 0 || r.CPUSeconds <= 0 {
				t.Errorf("%s %s: %+v", impl, auth, r)
			}
		}
	}
	if s.Rejected() != 0 {
		t.Errorf("stub rejected %d pushes", s.Rejected())
	}
}

func TestRunChildRefuses(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--issuer", "https://pp.netseidbroker.dk/op"},
		{"--issuer", "http://127.0.0.1:1", "--concurrency", "0"},
		{"--issuer", "http://127.0.0.1:1", "--seconds", "0"},
		{"--issuer", "http://127.0.0.1:1", "--impl", "curl"},
		{"--bogus"},
	} {
		if err := runChild(args, io.Discard); err == nil {
			t.Errorf("runChild(%q) succeeded", args)
		}
	}
}

func TestCompareRefuses(t *testing.T) {
	t.Parallel()
	base := options{seconds: 1, rounds: 1, conc: []int{1}, auths: auths, impls: []string{implGoPar}}
	for name, mod := range map[string]func(o *options){
		"auth":    func(o *options) { o.auths = []string{"client_secret_post"} },
		"impl":    func(o *options) { o.impls = []string{"curl"} },
		"rounds":  func(o *options) { o.rounds = 0 },
		"seconds": func(o *options) { o.seconds = 0 },
		"node":    func(o *options) { o.impls = []string{implNode}; o.nodeDir = t.TempDir() },
	} {
		o := base
		mod(&o)
		if err := compare(o, io.Discard); err == nil {
			t.Errorf("%s: compare succeeded", name)
		}
	}
}

func TestParseInts(t *testing.T) {
	t.Parallel()
	got, err := parseInts("1, 4,16,32,64")
	if err != nil || len(got) != 5 || got[4] != 64 {
		t.Errorf("parseInts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "a", "1,2000"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q) succeeded", bad)
		}
	}
}

func TestMedianAndNiceCeil(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {43210, 50000}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestChartAndTable checks the SVG is well-formed XML with one line per
// client and panel, and the table prints the ratios.
func TestChartAndTable(t *testing.T) {
	t.Parallel()
	o := options{rounds: 1, conc: []int{1, 4, 16, 32, 64}, auths: auths, impls: []string{implGoPar, implBaseline, implNode}}
	med := map[key]float64{}
	for _, a := range o.auths {
		for i, c := range o.conc {
			med[key{a, implGoPar, c}] = float64(1000 * (i + 1))
			med[key{a, implBaseline, c}] = float64(1000 * (i + 1))
			med[key{a, implNode, c}] = float64(100 * (i + 1))
		}
	}
	svg := chart(o, series{"a", med}, series{"b", med})
	dec := xml.NewDecoder(bytes.NewReader(svg))
	lines, circles := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("svg is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				lines++
			case "circle":
				circles++
			}
		}
	}
	if want := 2 * len(o.auths) * len(o.impls); lines != want {
		t.Errorf("%d polylines, want %d", lines, want)
	}
	if want := 2 * len(o.auths) * len(o.impls) * len(o.conc); circles != want {
		t.Errorf("%d points, want %d", circles, want)
	}
	var out bytes.Buffer
	printTable(&out, o, med, "t")
	if !strings.Contains(out.String(), "client_secret_basic        1           1000           1000            100            1.000                  10.00") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestRunChildTLSLogin runs both Go implementations' warm and cold logins
// for a moment against a login stub over TLS (HTTP/2 and HTTP/1.1).
func TestRunChildTLSLogin(t *testing.T) {
	t.Parallel()
	for _, tlsSetting := range []string{"h2", "h1"} {
		s, err := stub.StartWith(stub.Options{TLS: true, HTTP1: tlsSetting == "h1", Login: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, s.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, impl := range []string{implGoPar, implBaseline} {
			for _, mode := range []string{"push", "login", "cold"} {
				var out bytes.Buffer
				err := runChild([]string{"--impl", impl, "--issuer", s.URL, "--auth", "client_secret_basic",
					"--concurrency", "2", "--seconds", "0.2", "--warmup", "0.05", "--mode", mode, "--tls", tlsSetting, "--ca", ca}, &out)
				if err != nil {
					t.Fatalf("%s %s %s: %v", impl, mode, tlsSetting, err)
				}
				r, err := parseResult(out.Bytes())
				if err != nil || r.Pushes == 0 || r.Errors != 0 {
					t.Errorf("%s %s %s: %+v %v", impl, mode, tlsSetting, r, err)
				}
			}
		}
		if s.Rejected() != 0 || s.Logins() == 0 {
			t.Errorf("%s: stub rejected %d, %d logins", tlsSetting, s.Rejected(), s.Logins())
		}
	}
}

// TestRunStub serves a TLS stub for a moment: it prints an https URL and
// writes the certificate; bad flags are refused.
func TestRunStub(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	var out bytes.Buffer
	if err := runStub([]string{"-tls", "h1", "-login", "-ca", ca, "-for", "50ms"}, &out); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(ca)
	if !strings.HasPrefix(out.String(), "https://127.0.0.1:") || err != nil || !bytes.Contains(pem, []byte("CERTIFICATE")) {
		t.Errorf("stub printed %q, certificate %q %v", out.String(), pem, err)
	}
	for _, args := range [][]string{{"-tls", "h2"}, {"-tls", "off", "-ca", ca}, {"-tls", "h3", "-ca", ca}} {
		if err := runStub(args, io.Discard); err == nil {
			t.Errorf("runStub(%q) succeeded", args)
		}
	}
}
