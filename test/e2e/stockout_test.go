package e2e

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// (e) A stockout in one zone: the capacity appears in the other zone.
func TestStockoutInOneZoneMovesTheCapacityToTheOther(t *testing.T) {
	t.Parallel()
	interval := evalInterval
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: 500 * time.Millisecond,
		policy: policyParams{Min: 2, Max: 20, Interval: interval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)

	// No GPUs left in zone A: new instances there fail with
	// ZONE_RESOURCE_POOL_EXHAUSTED while the MIG keeps retrying.
	s.cloud.GCE.SetStockout(zoneA, true)
	s.publishBacklog(80) // 2 + 8 = 10 workers wanted
	var maxA int
	s.waitFor("zone B serves the whole demand beyond zone A's one worker, and every ordered worker serves", 60*time.Second, func() bool {
		st := s.cloud.State()
		maxA = max(maxA, st.ReadyWorkers[zoneA])
		sz := s.targetSizes()
		return st.ReadyWorkers[zoneB] >= 9 && st.ReadyWorkersTotal == sz[zoneA]+sz[zoneB]
	})
	st := s.cloud.State()
	t.Logf("ready workers per zone: %v, MIG sizes %v", st.ReadyWorkers, s.targetSizes())
	must.Eq(t, 1, maxA, must.Sprint("zone A never got a new worker"))
	// 2 + ceil(80 / (10 x 1m)) = 10 when one evaluation sees the whole
	// backlog; when the first sees one queue's 40 (2 + 4 = 6), the next
	// adds the workers for the 80 still waiting on top: 6 + 8 = 14 (as in
	// the scale-up test; a make test run saw 14 here).
	must.SliceContains(t, []int{10, 14}, st.ReadyWorkersTotal, must.Sprint("the fleet reached the wanted size despite the stockout"))
	// Zone A was tried and refused: the move was a reaction to the stockout.
	for _, m := range st.MIGs {
		if m.Zone == zoneA {
			must.Positive(t, m.Errors)
			must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", m.LastErrorCode)
		}
	}
}
