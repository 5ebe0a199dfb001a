package mitid

import (
	"strings"

	"golang.org/x/oauth2"
)

// Simulation is the broker's simulation parameter, an enterprise test
// feature that replaces MitID and NemLog-in with simulators
// (enterprise/simulation.md). It is for test environments; never send it in
// production. The zero value is mode ui with no user chosen.
type Simulation struct {
	// NoUI selects mode no-ui, with no UI at all, for automated tests;
	// otherwise the mode is ui, a simulated MitID client UI.
	NoUI             bool
	UUID             string // MitID UUID of the simulated user (optional)
	CPR              string // CPR number of the simulated user, 10 digits (optional)
	MitIDErhvervUUID string // MitID Erhverv UUID of the simulated user (optional)
}

// Options validates s and returns the simulation parameter, whose value is
// the mode followed by space-separated key:value pairs ("no-ui uuid:…
// cpr:…"). An invalid field gives a *ParamError for "simulation".
func (s Simulation) Options() ([]oauth2.AuthCodeOption, error) {
	v := []string{"ui"}
	if s.NoUI {
		v[0] = "no-ui"
	}
	if s.UUID != "" {
		if !isUUID(s.UUID) {
			return nil, paramErr("simulation", "uuid is not a UUID")
		}
		v = append(v, "uuid:"+s.UUID)
	}
	if s.CPR != "" {
		if !isCPR(s.CPR) {
			return nil, paramErr("simulation", "cpr must be 10 digits")
		}
		v = append(v, "cpr:"+s.CPR)
	}
	if s.MitIDErhvervUUID != "" {
		if !isUUID(s.MitIDErhvervUUID) {
			return nil, paramErr("simulation", "mitid_erhverv_uuid is not a UUID")
		}
		v = append(v, "mitid_erhverv_uuid:"+s.MitIDErhvervUUID)
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("simulation", strings.Join(v, " "))}, nil
}
