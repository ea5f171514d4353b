package e2e

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// managementLag is how far RabbitMQ's management API, which the glob query
// ekyc.* reads, may trail the queues (collect_statistics_interval, 5 s by
// default). The backlog query of the production policy is a glob, so the
// scenarios allow for it rather than use an exact queue name.
const managementLag = 5 * time.Second

// (a) A backlog surge resizes the MIGs of both zones up to what the whole
// backlog asks for within two evaluation intervals plus the management
// API's lag: the glob query sums per-queue statistics that RabbitMQ
// refreshes queue by queue, so one evaluation may see part of the backlog
// (one queue's 40 jobs: 2 + 4 workers) and the next the whole of it, on top
// of the workers the first added (backlog mode adds to the current count).
func TestBacklogSurgeResizesBothZonesUp(t *testing.T) {
	t.Parallel()
	interval := evalInterval
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: interval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 10 * time.Second},
	})
	// The agent evaluates the idle policy (rate 0, no backlog) without acting.
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)
	must.Eq(t, map[string]int{zoneA: 1, zoneB: 1}, s.targetSizes())

	// 80 waiting jobs at 10 jobs/min per worker and a 1m drain time: +8 workers.
	s.publishBacklog(80)
	published := time.Now()
	s.waitFor("both zones resized up for the whole backlog", 2*interval+managementLag+3*time.Second, func() bool {
		sz := s.targetSizes()
		return sz[zoneA]+sz[zoneB] >= 10
	})
	sizes := s.targetSizes()
	t.Logf("both zones resized %s after the surge: %v", time.Since(published).Round(100*time.Millisecond), sizes)
	// 2 + ceil(80 / (10 x 1m)) = 10 when one evaluation sees the whole
	// backlog; when the first sees one queue's 40 (2 + 4 = 6), the next
	// adds the workers for the 80 still waiting on top: 6 + 8 = 14.
	must.SliceContains(t, []int{10, 14}, sizes[zoneA]+sizes[zoneB], must.Sprintf("sizes %v", sizes))
	must.Eq(t, sizes[zoneA], sizes[zoneB], must.Sprint("an even count splits evenly over the zones"))

	// The new instances boot and join as ready workers in both zones.
	s.waitFor("the new workers are ready", 30*time.Second, func() bool {
		st := s.cloud.State()
		return st.ReadyWorkers[zoneA] == sizes[zoneA] && st.ReadyWorkers[zoneB] == sizes[zoneB]
	})
}
