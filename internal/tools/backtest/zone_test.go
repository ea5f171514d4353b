package backtest

import (
	"strings"
	"testing"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func zonePolicy(cfgs ...map[string]string) *sdk.ScalingPolicy {
	p := &sdk.ScalingPolicy{}
	for i, cfg := range cfgs {
		p.Checks = append(p.Checks, &sdk.ScalingPolicyCheck{
			Name:     []string{"request-rate", "backlog"}[i],
			Strategy: &sdk.ScalingPolicyStrategy{Name: "slope", Config: cfg},
		})
	}
	return p
}

func TestZoneNotesNameTheCheckTheKeyAndBothValues(t *testing.T) {
	t.Parallel()
	p := zonePolicy(map[string]string{"timezone": "America/New_York", "floor_hours": "08:00-22:00"}, map[string]string{"mode": "backlog"})
	notes := zoneNotes(p, "Europe/Paris", "08:00-22:00")
	must.SliceLen(t, 1, notes)
	for _, want := range []string{`check "request-rate"`, "timezone America/New_York", "-tz Europe/Paris"} {
		must.StrContains(t, notes[0], want)
	}
	must.False(t, strings.Contains(notes[0], "floor_hours"))

	notes = zoneNotes(p, "Europe/Paris", "09:00-18:00")
	must.SliceLen(t, 1, notes)
	must.StrContains(t, notes[0], "floor_hours 08:00-22:00 (the run scores -business-hours 09:00-18:00)")
}

func TestZoneNotesAreSilentWhenThePolicyMatchesTheRunOrSaysNothing(t *testing.T) {
	t.Parallel()
	p := zonePolicy(map[string]string{"timezone": "Asia/Kolkata", "floor_hours": "08:00-22:00"}, map[string]string{"mode": "backlog"})
	must.SliceEmpty(t, zoneNotes(p, "Asia/Kolkata", "08:00-22:00"))
	must.SliceEmpty(t, zoneNotes(zonePolicy(map[string]string{}), "UTC", "08:00-22:00"))
	must.SliceEmpty(t, zoneNotes(nil, "UTC", "08:00-22:00"))
	must.SliceEmpty(t, zoneNotes(&sdk.ScalingPolicy{Checks: []*sdk.ScalingPolicyCheck{nil, {Name: "x"}}}, "UTC", "08:00-22:00"))
}
