package mitid_test

import (
	"testing"

	"github.com/go-par/par/mitid"
)

func TestSimulation(t *testing.T) {
	t.Parallel()
	const u1, u2 = "8314ab25-bf71-49ff-aee6-15e7d084cec1", "761b37f4-4315-4ae7-a9d6-f1f5d8663423"
	tests := []struct {
		name string
		s    mitid.Simulation
		want string
	}{
		{"ui", mitid.Simulation{}, "ui"},
		{"ui uuid", mitid.Simulation{UUID: u1}, "ui uuid:" + u1},
		{"no-ui all", mitid.Simulation{NoUI: true, UUID: u1, CPR: "0902322779", MitIDErhvervUUID: u2},
			"no-ui uuid:" + u1 + " cpr:0902322779 mitid_erhverv_uuid:" + u2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.s.Options()
			if err != nil {
				t.Fatal(err)
			}
			q := query(t, opts...)
			if got := q.Get("simulation"); got != tt.want || len(q) != 1 {
				t.Errorf("Options() = %v, want only simulation=%q", q, tt.want)
			}
		})
	}
	for _, bad := range []mitid.Simulation{
		{UUID: "x"},
		{NoUI: true, CPR: "123"},
		{CPR: "010170-1234"},
		{MitIDErhvervUUID: u1 + "0"},
	} {
		opts, err := bad.Options()
		if opts != nil {
			t.Errorf("Options() returned options with error %v", err)
		}
		wantParamError(t, err, "simulation", bad.UUID, bad.CPR, bad.MitIDErhvervUUID)
	}
}
