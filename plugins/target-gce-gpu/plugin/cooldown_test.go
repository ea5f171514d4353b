package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestTheRestoredCooldownRunsFromTheLastScaling(t *testing.T) {
	last := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		last     time.Time
		cooldown time.Duration
		now      time.Time
		want     bool
	}{
		{"off by default", last, 0, last.Add(time.Second), false},
		{"never scaled", time.Time{}, time.Minute, last, false},
		{"within the cooldown", last, time.Minute, last.Add(59 * time.Second), true},
		{"at its end", last, time.Minute, last.Add(time.Minute), false},
		{"after it", last, time.Minute, last.Add(2 * time.Minute), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			until, got := inRestoredCooldown(tc.last, tc.cooldown, tc.now)
			must.Eq(t, tc.want, got)
			if got {
				must.Eq(t, tc.last.Add(tc.cooldown), until)
			}
		})
	}
}

// A restarted plugin (an agent restart or HA takeover) reads the last
// scaling from Nomad and holds the policy not ready for the rest of the
// cooldown.
func TestARestartedPluginHoldsThePolicyUntilTheCooldownEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond, drainDuration: 10 * time.Millisecond})
	h.policy["restore_cooldown"] = "1h"
	must.NoError(t, h.scale(4))
	cfg, err := parseTargetConfig(h.policy)
	must.NoError(t, err)
	_, written := h.nomad.Variable("default", lastEventPath(cfg.policyKey))
	must.True(t, written, must.Sprint("Scale recorded the last scaling in Nomad"))
	h.p = h.newPlugin() // the takeover: a new process, nothing in memory
	st := h.status()
	must.False(t, st.Ready)
	must.MapContainsKey(t, st.Meta, metaKeyCooldownUntil)
	delete(h.policy, "restore_cooldown")
	st = h.status()
	must.MapNotContainsKey(t, st.Meta, metaKeyCooldownUntil)
}
