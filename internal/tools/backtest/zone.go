package backtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// zoneNotes says, per check, where the policy's business hours differ
// from the ones this run scores (-tz, -business-hours): the strategy keeps
// its floor and judges its replayed SLA in its own, so a policy copied
// from a deployment in another zone is replayed as that deployment would
// run it, which may not be what the reader meant. Checks without the keys
// say nothing (the strategy's defaults are not the backtest's to guess).
func zoneNotes(p *sdk.ScalingPolicy, tz, hours string) []string {
	if p == nil {
		return nil
	}
	var notes []string
	for _, c := range p.Checks {
		if c == nil || c.Strategy == nil {
			continue
		}
		cfg := c.Strategy.Config
		var diffs []string
		if v, ok := cfg[slopeKeyTimeZone]; ok && v != tz {
			diffs = append(diffs, fmt.Sprintf("%s %s (the run scores -tz %s)", slopeKeyTimeZone, v, tz))
		}
		if v, ok := cfg[slopeKeyFloorHours]; ok && v != hours {
			diffs = append(diffs, fmt.Sprintf("%s %s (the run scores -business-hours %s)", slopeKeyFloorHours, v, hours))
		}
		if len(diffs) > 0 {
			notes = append(notes, fmt.Sprintf("note: check %q: the policy's %s: its floor and its calibration's business hours are the policy's (the calibration moves to the traffic's busiest hours only when they lie mostly outside); set them to your traffic's to replay your deployment",
				c.Name, strings.Join(diffs, ", ")))
		}
	}
	slices.Sort(notes)
	return notes
}
