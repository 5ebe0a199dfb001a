package mitid

import (
	"errors"
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

const nsisPrefix = "https://data.gov.dk/concept/core/nsis/"

// errNotLevel does not show the value: it is a claim.
var errNotLevel = errors.New("mitid: not an NSIS level URI")

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

// URI returns the level's NSIS URI as the MitID broker issues it in the
// loa, ial and aal claims (https://data.gov.dk/concept/core/nsis/Substantial,
// idps/mitid.md), or "" for a value that is not a level.
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
// The error does not show uri.
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
	return 0, errNotLevel
}

// LevelError is returned by [Claims.RequireLevel] when the level of
// assurance is below Want. Got is zero when the loa claim is missing or not
// an NSIS level URI.
type LevelError struct {
	Got, Want Level
}

// Error names the level found and the level required.
func (e *LevelError) Error() string {
	if e.Got == 0 {
		return "mitid: level of assurance missing or unknown, want at least " + e.Want.String()
	}
	return "mitid: level of assurance " + e.Got.String() + " is below the required " + e.Want.String()
}
