package e2e

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// (f) The agent killed (SIGKILL) mid-drain and restarted: at the end no
// node is left ineligible but alive and no drained instance is left
// running. The target keeps its scale-in progress in GCE and Nomad, so the
// restarted agent's first calls reconcile what the dead one started.
func TestAgentKilledMidDrainLeavesNothingHalfDone(t *testing.T) {
	t.Parallel()
	const initial = 2
	s := newStack(t, stackOptions{
		initialPerZone: initial, bootTime: time.Second, drainDuration: 5 * time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 30 * time.Second, ScaleTimeout: 30 * time.Second},
	})
	before := s.instances()

	// No traffic: the rate check scales in, and the target drains a node.
	var victim string
	s.waitFor("a drain starts", 30*time.Second, func() bool {
		for node, d := range s.drains() {
			if !d.Started.IsZero() {
				victim = node
				return true
			}
		}
		return false
	})
	s.agent.Kill() // the agent and its plugins at once, as a crash would
	killed := time.Now()
	t.Logf("agent killed while %s was draining", victim)
	node := s.nodeNamed(victim)
	must.Eq(t, "ineligible", node.Eligibility, must.Sprint("the crash left a drained node behind"))

	s.agent.Restart()
	t.Logf("agent restarted %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	s.waitFor("the fleet settles at min with every node eligible", 90*time.Second, func() bool {
		st := s.cloud.State()
		if len(st.Nodes) != 2 || len(s.instances()) != 2 {
			return false
		}
		for _, n := range st.Nodes {
			if n.Eligibility != "eligible" {
				return false
			}
		}
		return true
	})

	alive := s.instances()
	for _, n := range s.cloud.State().Nodes {
		if _, running := alive[n.Name]; running {
			must.Eq(t, "eligible", n.Eligibility, must.Sprintf("node %s is alive and must be eligible", n.Name))
		}
	}
	drains := s.drains()
	for name, d := range drains {
		if !d.Completed.IsZero() && !d.Canceled {
			_, running := alive[name]
			must.False(t, running, must.Sprintf("instance %s was drained and must be gone", name))
		}
	}

	dels, shrinks := s.gceEvidence(initial)
	must.SliceEmpty(t, shrinks, must.Sprint("removals only through deleteInstances"))
	deleted := map[string]bool{}
	for _, del := range dels {
		deleted[del.Instance] = true
		d := drains[del.Instance]
		must.False(t, d.Completed.IsZero(), must.Sprintf("%s was drained before its deletion", del.Instance))
		must.True(t, d.Completed.Before(del.At), must.Sprintf("%s: drain completed before deletion", del.Instance))
	}
	var gone []string
	for name := range before {
		if _, ok := alive[name]; !ok {
			gone = append(gone, name)
		}
	}
	must.Eq(t, slices.Sorted(slices.Values(gone)), slices.Sorted(maps.Keys(deleted)))

	// The node drained at the crash was finished by the restarted agent:
	// deleted after the restart (the fleet was still above its desired size)
	// or made eligible again. Nothing of the killed processes survived to do it.
	if _, alive := alive[victim]; !alive {
		var at time.Time
		for _, del := range dels {
			if del.Instance == victim {
				at = del.At
			}
		}
		must.True(t, at.After(killed), must.Sprintf("%s deleted after the restart (at %s, kill at %s)", victim, at.Format(time.StampMilli), killed.Format(time.StampMilli)))
		t.Logf("the restarted agent deleted %s, drained before the crash", victim)
	} else {
		t.Logf("the restarted agent made %s eligible again", victim)
	}
}
