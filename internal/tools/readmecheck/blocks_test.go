package readmecheck

import (
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/validate"
	"github.com/shoenig/test/must"
)

func TestTopLabelTakesTheHeldOutTracesAndTheirLabelsFromTheMatrix(t *testing.T) {
	t.Parallel()
	for _, st := range validate.StandardTraces() {
		row := validate.Row{Scenario: st.Name, Part: validate.PartAll, Volume: 500_000, Label: st.Name + " (as validate labels it)"}
		label, ok := topLabel(row)
		if st.HeldOut {
			must.True(t, ok, must.Sprint(st.Name))
			must.Eq(t, row.Label, label)
		} else if st.Name != "flashcrowd-a" {
			// business-a and -b are shown at 2M/day only.
			must.False(t, ok, must.Sprint(st.Name))
		}
	}
	_, ok := topLabel(validate.Row{Scenario: "business-z", Part: validate.PartAll, Volume: 2_000_000})
	must.False(t, ok)
}
