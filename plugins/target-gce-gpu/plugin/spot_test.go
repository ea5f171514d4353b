package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestSpotKeysDefaultToNoSpotTier(t *testing.T) {
	t.Parallel()
	cfg, err := parseTargetConfig(validTarget())
	must.NoError(t, err)
	must.False(t, cfg.spot.enabled())
	must.Eq(t, 0.6, cfg.spot.share)
	must.Eq(t, 30*time.Minute, cfg.spot.cooldown)
}

func TestSpotKeysAreParsed(t *testing.T) {
	t.Parallel()
	raw := validTarget()
	raw["spot_migs"] = "europe-west4-a/spot-a, europe-west4-b/spot-b"
	raw["spot_share"] = "0.8"
	raw["spot_cooldown"] = "10m"
	cfg, err := parseTargetConfig(raw)
	must.NoError(t, err)
	must.Eq(t, []migRef{
		{Project: "ml-prod", Zone: "europe-west4-a", Name: "spot-a"},
		{Project: "ml-prod", Zone: "europe-west4-b", Name: "spot-b"},
	}, cfg.spot.migs)
	must.Eq(t, 0.8, cfg.spot.share)
	must.Eq(t, 10*time.Minute, cfg.spot.cooldown)
	// The tiers mark their scale-ins apart, and adding Spot does not
	// change the standard tier's key (its markers and last event).
	must.NotEq(t, cfg.policyKey, cfg.spot.policyKey)
	plain, err := parseTargetConfig(validTarget())
	must.NoError(t, err)
	must.Eq(t, plain.policyKey, cfg.policyKey)
}

func TestSpotKeyErrorsNameTheKeyAndTheEntry(t *testing.T) {
	t.Parallel()
	raw := validTarget()
	raw["spot_migs"] = "europe-west4-a/gpu-a,us-central1/spot-mig,europe-west4-c/x_bad"
	raw["spot_share"] = "1.5"
	raw["spot_cooldown"] = "48h"
	_, err := parseTargetConfig(raw)
	must.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`spot_migs entry 1 "europe-west4-a/gpu-a": also in migs`,
		`spot_migs entry 2 "us-central1/spot-mig": names a region`,
		`spot_migs entry 3 "europe-west4-c/x_bad": the MIG name`,
		`spot_share "1.5": must be between`,
		`spot_cooldown "48h": must be between`,
	} {
		must.StrContains(t, msg, want)
	}
}

func TestPreemptedInstances(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   managedInstance
		want bool
	}{
		{"stopping with the MIG recreating it", managedInstance{Status: instanceStopping, CurrentAction: actionRecreating}, true},
		{"terminated with the MIG recreating it", managedInstance{Status: instanceTerminated, CurrentAction: actionRecreating}, true},
		{"terminated before the MIG acts", managedInstance{Status: instanceTerminated, CurrentAction: actionNone}, true},
		{"booting again after the recreation", managedInstance{Status: "STAGING", CurrentAction: actionRecreating}, false},
		{"running", managedInstance{Status: instanceRunning, CurrentAction: actionNone}, false},
		{"a creation waiting for capacity", managedInstance{CurrentAction: actionCreating, LastAttemptCode: "ZONE_RESOURCE_POOL_EXHAUSTED"}, false},
	}
	for _, c := range cases {
		must.Eq(t, c.want, c.in.preempted(), must.Sprint(c.name))
	}
}

func TestSpotMemoryCountsEachPreemptionOnce(t *testing.T) {
	t.Parallel()
	var m spotMemory
	a := migRef{Zone: "europe-west4-a", Name: "spot-a"}
	b := migRef{Zone: "europe-west4-b", Name: "spot-b"}
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	must.True(t, m.record(a, nil, t0).IsZero())
	must.Eq(t, t0, m.record(a, []string{"spot-a-1", "spot-a-2"}, t0))
	// Still preempted a minute later: the same two preemptions.
	must.Eq(t, t0, m.record(a, []string{"spot-a-1", "spot-a-2"}, t0.Add(time.Minute)))
	must.True(t, m.record(b, nil, t0.Add(time.Minute)).IsZero())
	must.Eq(t, 2, m.since(t0.Add(-time.Hour)))
	// Recreated, then preempted again: a third preemption.
	m.record(a, nil, t0.Add(2*time.Minute))
	t3 := t0.Add(3 * time.Minute)
	must.Eq(t, t3, m.record(a, []string{"spot-a-1"}, t3))
	must.Eq(t, 3, m.since(t0.Add(-time.Hour)))
	must.Eq(t, 1, m.since(t0.Add(2*time.Minute)))
}
