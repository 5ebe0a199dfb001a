package mitid

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Level is an NSIS assurance level (Low < Substantial < High), as found in
// the loa, ial and aal claims and requested with loa_value / aal_value. The
// zero value means "not given".
type Level int

// The NSIS levels, in increasing order.
const (
	Low Level = iota + 1
	Substantial
	High
)

// The NSIS level URIs as the MitID broker issues them in loa, ial and aal
// (idps/mitid.md). NemLog-in (OIOSAML) and some other brokers put "loa/"
// before the level name; [ParseLevel] accepts both.
const (
	NSISLow         = nsisPrefix + "Low"
	NSISSubstantial = nsisPrefix + "Substantial"
	NSISHigh        = nsisPrefix + "High"
)

const nsisPrefix = "https://data.gov.dk/concept/core/nsis/"

// ErrUnknownLevel is returned (wrapped) by ParseLevel for a value that is not
// an NSIS level URI.
var ErrUnknownLevel = errors.New("not an NSIS level URI")

func (l Level) valid() bool { return l >= Low && l <= High }

// String returns "Low", "Substantial" or "High", "unspecified" for the zero
// value and "Level(n)" otherwise.
func (l Level) String() string {
	switch l {
	case 0:
		return "unspecified"
	case Low:
		return "Low"
	case Substantial:
		return "Substantial"
	case High:
		return "High"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// URI returns the broker's spelling of the level's NSIS URI
// (https://data.gov.dk/concept/core/nsis/Substantial), or "" for a value that
// is not a level.
func (l Level) URI() string {
	if !l.valid() {
		return ""
	}
	return nsisPrefix + l.String()
}

// ParseLevel parses an NSIS level URI in either spelling:
// https://data.gov.dk/concept/core/nsis/Substantial (the MitID broker) or
// https://data.gov.dk/concept/core/nsis/loa/Substantial (NemLog-in, OIOSAML).
// The comparison is exact (case-sensitive), as for any URI used in a policy.
func ParseLevel(uri string) (Level, error) {
	name, ok := strings.CutPrefix(uri, nsisPrefix)
	if ok {
		name = strings.TrimPrefix(name, "loa/")
		switch name {
		case "Low":
			return Low, nil
		case "Substantial":
			return Substantial, nil
		case "High":
			return High, nil
		}
	}
	if len(uri) > 80 {
		uri = uri[:80] + "…"
	}
	return 0, fmt.Errorf("mitid: %q: %w", uri, ErrUnknownLevel)
}

// LevelError is returned by [Claims.RequireLevel] when the level of
// assurance is below Want. Got is zero when the loa claim is missing or not
// an NSIS level; Err then holds the parse error.
type LevelError struct {
	Got, Want Level
	Err       error
}

// Error names the level found and the level required.
func (e *LevelError) Error() string {
	if e.Got == 0 {
		return "mitid: level of assurance missing or unknown, want at least " + e.Want.String()
	}
	return "mitid: level of assurance " + e.Got.String() + " is below the required " + e.Want.String()
}

// Unwrap returns the parse error, nil when the level parsed but is too low.
func (e *LevelError) Unwrap() error { return e.Err }
