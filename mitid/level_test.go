package mitid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-par/par/mitid"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want mitid.Level
	}{
		{"https://data.gov.dk/concept/core/nsis/Low", mitid.Low},
		{"https://data.gov.dk/concept/core/nsis/Substantial", mitid.Substantial},
		{"https://data.gov.dk/concept/core/nsis/High", mitid.High},
		{"https://data.gov.dk/concept/core/nsis/loa/Low", mitid.Low},
		{"https://data.gov.dk/concept/core/nsis/loa/Substantial", mitid.Substantial},
		{"https://data.gov.dk/concept/core/nsis/loa/High", mitid.High},
		{mitid.Substantial.URI(), mitid.Substantial},
	}
	for _, tt := range tests {
		got, err := mitid.ParseLevel(tt.uri)
		if err != nil || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.uri, got, err, tt.want)
		}
	}
}

func TestParseLevelInvalid(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"",
		"Substantial",
		"substantial",
		"https://data.gov.dk/concept/core/nsis/substantial",
		"https://data.gov.dk/concept/core/nsis/SUBSTANTIAL",
		"http://data.gov.dk/concept/core/nsis/High",
		"https://data.gov.dk/concept/core/nsis/High/",
		"https://data.gov.dk/concept/core/nsis/loa/loa/High",
		"https://data.gov.dk/concept/core/nsis/ial/High",
		"https://data.gov.dk/concept/core/nsis/",
		" https://data.gov.dk/concept/core/nsis/High",
		"https://evil.example/concept/core/nsis/High",
		strings.Repeat("x", 10000),
	} {
		got, err := mitid.ParseLevel(uri)
		if err == nil || got != 0 {
			t.Errorf("ParseLevel(%.40q) = %v, %v; want 0 and an error", uri, got, err)
			continue
		}
		// The value is a claim: the error names the problem, not the value.
		if err.Error() != "mitid: not an NSIS level URI" {
			t.Errorf("ParseLevel(%.40q) error = %q", uri, err)
		}
	}
}

func TestLevelOrderAndStrings(t *testing.T) {
	t.Parallel()
	if !(0 < mitid.Low && mitid.Low < mitid.Substantial && mitid.Substantial < mitid.High) {
		t.Errorf("levels not ordered: %d %d %d", mitid.Low, mitid.Substantial, mitid.High)
	}
	tests := []struct {
		l        mitid.Level
		str, uri string
	}{
		{0, "unspecified", ""},
		{mitid.Low, "Low", "https://data.gov.dk/concept/core/nsis/Low"},
		{mitid.Substantial, "Substantial", "https://data.gov.dk/concept/core/nsis/Substantial"},
		{mitid.High, "High", "https://data.gov.dk/concept/core/nsis/High"},
		{-1, "Level(-1)", ""},
		{9, "Level(9)", ""},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.str {
			t.Errorf("Level(%d).String() = %q, want %q", int(tt.l), got, tt.str)
		}
		if got := tt.l.URI(); got != tt.uri {
			t.Errorf("Level(%d).URI() = %q, want %q", int(tt.l), got, tt.uri)
		}
	}
}

func TestRequireLevel(t *testing.T) {
	t.Parallel()
	low, substantial, high := mitid.Low.URI(), mitid.Substantial.URI(), mitid.High.URI()
	tests := []struct {
		name    string
		loa     string
		min     mitid.Level
		wantGot mitid.Level // 0 with wantErr: missing/unknown
		wantErr bool
	}{
		{"equal", substantial, mitid.Substantial, 0, false},
		{"above", high, mitid.Substantial, 0, false},
		{"low accepted", low, mitid.Low, 0, false},
		{"nemlog-in spelling", "https://data.gov.dk/concept/core/nsis/loa/High", mitid.High, 0, false},
		{"below", low, mitid.Substantial, mitid.Low, true},
		{"substantial below high", substantial, mitid.High, mitid.Substantial, true},
		{"missing", "", mitid.Low, 0, true},
		{"garbage", "substantial", mitid.Low, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mitid.Claims{LoA: tt.loa, IAL: high, AAL: high}
			err := c.RequireLevel(tt.min)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("RequireLevel(%v) with loa %q = %v, want nil", tt.min, tt.loa, err)
				}
				return
			}
			var le *mitid.LevelError
			if !errors.As(err, &le) {
				t.Fatalf("RequireLevel(%v) with loa %q = %v, want *LevelError", tt.min, tt.loa, err)
			}
			if le.Got != tt.wantGot || le.Want != tt.min {
				t.Errorf("LevelError = {Got %v, Want %v}, want {Got %v, Want %v}", le.Got, le.Want, tt.wantGot, tt.min)
			}
			want := "mitid: level of assurance " + tt.wantGot.String() + " is below the required " + tt.min.String()
			if tt.wantGot == 0 {
				want = "mitid: level of assurance missing or unknown, want at least " + tt.min.String()
			}
			if err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
		})
	}
}

func TestRequireLevelInvalidMinimum(t *testing.T) {
	t.Parallel()
	c := mitid.Claims{LoA: mitid.High.URI()}
	for _, min := range []mitid.Level{0, -1, 4} {
		err := c.RequireLevel(min)
		var le *mitid.LevelError
		if err == nil || errors.As(err, &le) {
			t.Errorf("RequireLevel(%d) = %v, want a plain error", int(min), err)
		}
	}
}

func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{
		mitid.Low.URI(), mitid.Substantial.URI(), mitid.High.URI(),
		"https://data.gov.dk/concept/core/nsis/loa/Substantial",
		"https://data.gov.dk/concept/core/nsis/loa/", "", "High",
	} {
		f.Add(s)
	}
	valid := map[string]bool{}
	for _, l := range []string{"Low", "Substantial", "High"} {
		valid["https://data.gov.dk/concept/core/nsis/"+l] = true
		valid["https://data.gov.dk/concept/core/nsis/loa/"+l] = true
	}
	f.Fuzz(func(t *testing.T, uri string) {
		l, err := mitid.ParseLevel(uri)
		if err != nil {
			if l != 0 || valid[uri] {
				t.Fatalf("ParseLevel(%q) = %v, %v", uri, l, err)
			}
			return
		}
		if !valid[uri] {
			t.Fatalf("ParseLevel(%q) accepted a non-NSIS URI as %v", uri, l)
		}
		if back, err := mitid.ParseLevel(l.URI()); err != nil || back != l {
			t.Fatalf("ParseLevel(%q).URI() does not round-trip: %v, %v", uri, back, err)
		}
	})
}
