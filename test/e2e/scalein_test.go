package e2e

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// (b) When traffic stops, scale-in drains nodes before deleting them and
// deletes exactly the drained instances.
func TestScaleInDrainsThenDeletesExactlyTheDrainedInstances(t *testing.T) {
	t.Parallel()
	const initial = 2
	s := newStack(t, stackOptions{
		initialPerZone: initial, bootTime: time.Second, drainDuration: time.Second,
		workerCapacity: 600,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	before := s.instances()
	must.MapLen(t, 2*initial, before)

	// Some traffic (within the backlog tolerance), then none: the workers
	// drain the queue, the rate check sees no demand and the fleet shrinks
	// to the policy's min of 2, one node per zone.
	s.publishBacklog(4)
	s.waitFor("the workers served the traffic", 30*time.Second, func() bool {
		return s.workers.Stats().Requests >= 4
	})
	s.waitFor("the fleet is scaled in to min", 90*time.Second, func() bool {
		sz := s.targetSizes()
		return sz[zoneA] == 1 && sz[zoneB] == 1 && len(s.instances()) == 2
	})

	dels, shrinks := s.gceEvidence(initial)
	must.SliceEmpty(t, shrinks, must.Sprint("no resize lowered a MIG: every removal went through deleteInstances"))
	after := s.instances()
	var gone []string
	for name := range before {
		if _, ok := after[name]; !ok {
			gone = append(gone, name)
		}
	}
	deleted := map[string]deletion{}
	for _, d := range dels {
		deleted[d.Instance] = d
	}
	must.Eq(t, slices.Sorted(slices.Values(gone)), slices.Sorted(maps.Keys(deleted)),
		must.Sprint("the instances that are gone are exactly those named in deleteInstances"))

	drains := s.drains()
	var drained []string
	for node, d := range drains {
		if !d.Completed.IsZero() {
			drained = append(drained, node)
		}
	}
	must.Eq(t, slices.Sorted(maps.Keys(deleted)), slices.Sorted(slices.Values(drained)),
		must.Sprint("exactly the drained nodes' instances were deleted"))
	for name, del := range deleted {
		d := drains[name]
		must.True(t, d.Completed.Before(del.At),
			must.Sprintf("%s: drain completed at %s, before its deletion at %s", name, d.Completed.Format(time.StampMilli), del.At.Format(time.StampMilli)))
		must.Eq(t, before[name], del.Zone, must.Sprintf("%s deleted from its own zone's MIG", name))
	}
	t.Logf("deleted after drain: %v", slices.Sorted(maps.Keys(deleted)))
}
