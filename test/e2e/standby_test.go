package e2e

import (
	"encoding/json"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// The warm pool (target-gce-gpu's standby_size): stopped VMs started on a
// surge before anything is created, filled on scale-in by stopping drained
// workers.

// poolCall is one instance named in a successful start or stop request.
type poolCall struct {
	At       time.Time
	Zone     string
	Instance string
}

// poolCalls reads the fake GCE's successful requests whose path ends with
// suffix (/startInstances, /stopInstances, /deleteInstances, /resize).
func (s *stack) poolCalls(suffix string) []poolCall {
	var out []poolCall
	for _, r := range s.cloud.GCE.Requests() {
		if r.Method != "POST" || r.Status != 200 || !strings.HasSuffix(r.Path, suffix) {
			continue
		}
		var body struct {
			Instances []string `json:"instances"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		if len(body.Instances) == 0 {
			out = append(out, poolCall{At: r.Received, Zone: zoneOf(r.Path)})
		}
		for _, in := range body.Instances {
			out = append(out, poolCall{At: r.Received, Zone: zoneOf(r.Path), Instance: path.Base(in)})
		}
	}
	return out
}

// stopped returns the stopped pool members (TERMINATED, nothing pending)
// per zone.
func (s *stack) stopped() map[string][]string {
	out := map[string][]string{}
	for _, m := range s.cloud.State().MIGs {
		for _, in := range m.Instances {
			if in.Standby && in.Status == "TERMINATED" && in.CurrentAction == "NONE" {
				out[m.Zone] = append(out[m.Zone], in.Name)
			}
		}
	}
	return out
}

// firstRequest is the arrival of the first successful request whose path
// ends with suffix.
func firstRequest(reqs []fakegce.Request, suffix string) time.Time {
	for _, r := range reqs {
		if r.Status == 200 && strings.HasSuffix(r.Path, suffix) {
			return r.Received
		}
	}
	return time.Time{}
}

// A surge is served first from the pool: the stopped VMs are started
// before anything is created, and they serve well before the created ones.
func TestStandbySurgeIsServedFirstFromThePool(t *testing.T) {
	t.Parallel()
	const cold, warm = 12 * time.Second, 2 * time.Second
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: cold, warmBootTime: warm, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 60 * time.Second, StandbySize: 4},
	})
	s.waitFor("the pool holds two stopped VMs per zone", 60*time.Second, func() bool {
		st := s.stopped()
		return len(st[zoneA]) == 2 && len(st[zoneB]) == 2
	})
	pool := s.stopped()

	// 80 waiting jobs: 2 + 8 = 10 workers, 5 per zone; 4 warm, 4 cold.
	// Nothing consumes the jobs here, so once the MIGs are stable again
	// the backlog check asks for 8 more at its next evaluation: a slow
	// machine's poll can miss the moment when exactly 10 serve (a make
	// test run saw 20). What the test is about is the first 10.
	s.publishBacklog(80)
	published := time.Now()
	s.waitFor("the warm workers serve", 60*time.Second, func() bool { return s.cloud.State().ReadyWorkersTotal >= 6 })
	warmReady := time.Now()
	s.waitFor("every new worker serves", 90*time.Second, func() bool { return s.cloud.State().ReadyWorkersTotal >= 10 })
	coldReady := time.Now()

	starts := s.poolCalls("/startInstances")
	var started []string
	for _, c := range starts {
		started = append(started, c.Instance)
	}
	must.Eq(t, slices.Sorted(slices.Values(append(pool[zoneA], pool[zoneB]...))), slices.Sorted(slices.Values(started)),
		must.Sprint("every stopped VM was started"))
	reqs := s.cloud.GCE.Requests()
	startAt, resizeAt := firstRequest(reqs, "/startInstances"), firstRequest(reqs, "/resize")
	must.False(t, resizeAt.Before(startAt), must.Sprint("the pool was used before anything was created"))
	sz := s.targetSizes()
	must.Eq(t, sz[zoneA], sz[zoneB], must.Sprint("the surge is split across the zones"))
	must.GreaterEq(t, 5, sz[zoneA])

	warmServe, coldServe := warmReady.Sub(startAt), coldReady.Sub(resizeAt)
	t.Logf("surge at +0: start requested at +%s, resize at +%s; warm workers serve %s after their start, cold ones %s after their creation (simulated boots: warm %s, cold %s)",
		startAt.Sub(published).Round(100*time.Millisecond), resizeAt.Sub(published).Round(100*time.Millisecond),
		warmServe.Round(100*time.Millisecond), coldServe.Round(100*time.Millisecond), warm, cold)
	must.Less(t, coldServe, warmServe, must.Sprint("a warm start serves before a creation"))
	must.Less(t, coldReady.Sub(published), warmReady.Sub(published))
}

// A scale-in stops the drained workers into the short pool instead of
// deleting them, and the pool is then exactly those VMs: the refills the
// MIGs had started are dropped.
func TestStandbyScaleInRefillsThePoolByStoppingDrainedVMs(t *testing.T) {
	t.Parallel()
	const initial = 3
	s := newStack(t, stackOptions{
		initialPerZone: initial, bootTime: time.Second, drainDuration: time.Second,
		// Refills wait an hour before their stop: only drained workers can
		// fill the pool within the test.
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 30 * time.Second, StandbySize: 2, StandbyDelay: time.Hour},
	})
	before := s.instances()
	s.waitFor("the fleet is scaled in to min with a full pool", 90*time.Second, func() bool {
		sz, st := s.targetSizes(), s.stopped()
		return sz[zoneA] == 1 && sz[zoneB] == 1 && len(st[zoneA]) == 1 && len(st[zoneB]) == 1
	})

	drains := s.drains()
	stops := s.poolCalls("/stopInstances")
	must.Len(t, 2, stops, must.Sprint("one drained worker stopped per zone"))
	for _, c := range stops {
		d := drains[c.Instance]
		must.False(t, d.Completed.IsZero(), must.Sprintf("%s was drained", c.Instance))
		must.True(t, d.Completed.Before(c.At), must.Sprintf("%s: drain completed before its stop", c.Instance))
		must.Eq(t, before[c.Instance], c.Zone)
	}
	var stoppedNames []string
	for _, c := range stops {
		stoppedNames = append(stoppedNames, c.Instance)
	}
	pool := s.stopped()
	must.Eq(t, slices.Sorted(slices.Values(stoppedNames)), slices.Sorted(slices.Values(append(pool[zoneA], pool[zoneB]...))),
		must.Sprint("the pool is exactly the drained workers"))

	// The other drained workers were deleted, and nothing alive is left
	// drained.
	dels, shrinks := s.gceEvidence(initial)
	must.SliceEmpty(t, shrinks)
	for _, del := range dels {
		if _, wasWorker := before[del.Instance]; wasWorker {
			must.True(t, drains[del.Instance].Completed.Before(del.At), must.Sprintf("%s drained before its deletion", del.Instance))
		}
	}
	s.waitFor("the refills made unnecessary are gone", 30*time.Second, func() bool {
		for _, m := range s.cloud.State().MIGs {
			if m.Standby != 1 {
				return false
			}
		}
		return true
	})
	t.Logf("stopped into the pool: %v; deleted: %d", stoppedNames, len(dels))
}

// A start that finds no GPU is a stockout: the zone's share goes to the
// other zone, which starts its own stopped VM and then creates.
func TestStandbyStockoutOnStartFallsBackToTheOtherZone(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, warmBootTime: 500 * time.Millisecond, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 30 * time.Second, StandbySize: 2},
	})
	s.waitFor("the pool holds a stopped VM per zone", 60*time.Second, func() bool {
		st := s.stopped()
		return len(st[zoneA]) == 1 && len(st[zoneB]) == 1
	})
	s.cloud.GCE.SetStockout(zoneA, true)

	// Nothing consumes the 80 jobs here, so once the first +8 is served
	// the backlog check asks for 8 more at its next evaluation: a poll can
	// see zone-b at 9, 17 or max - 1. What the test is about is that zone-a
	// stays at its one worker and zone-b serves at least the whole surge.
	s.publishBacklog(80)
	s.waitFor("zone-b serves the whole surge", 90*time.Second, func() bool {
		sz := s.targetSizes()
		return sz[zoneA] == 1 && sz[zoneB] >= 9 && s.cloud.State().ReadyWorkers[zoneB] >= 9
	})
	zonesStarted := map[string]bool{}
	for _, c := range s.poolCalls("/startInstances") {
		zonesStarted[c.Zone] = true
	}
	must.Eq(t, []string{zoneA, zoneB}, slices.Sorted(maps.Keys(zonesStarted)), must.Sprint("both zones tried their stopped VM"))
	var stuckCode string
	for _, m := range s.cloud.State().MIGs {
		if m.Zone == zoneA {
			stuckCode = m.LastErrorCode
		}
	}
	must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", stuckCode)
}

// The agent killed (SIGKILL) while drained workers are stopping into the
// pool, and restarted: the stops finish, the pool holds exactly the drained
// workers, no node is left drained but serving, and nothing is stopped or
// deleted twice.
func TestStandbyAgentKilledMidStopIsReconciled(t *testing.T) {
	t.Parallel()
	const initial = 2
	s := newStack(t, stackOptions{
		initialPerZone: initial, bootTime: time.Second, drainDuration: time.Second, stopTime: 8 * time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 30 * time.Second, StandbySize: 2, StandbyDelay: time.Hour},
	})
	before := s.instances()
	var victim string
	s.waitFor("a drained worker is stopping", 60*time.Second, func() bool {
		for _, m := range s.cloud.State().MIGs {
			for _, in := range m.Instances {
				if _, worker := before[in.Name]; worker && in.Status == "STOPPING" && in.CurrentAction == "STOPPING" {
					victim = in.Name
					return true
				}
			}
		}
		return false
	})
	s.agent.Kill()
	killed := time.Now()
	t.Logf("agent killed while %s was stopping", victim)
	s.agent.Restart()

	s.waitFor("the fleet settles at min with the drained workers in the pool", 90*time.Second, func() bool {
		sz, st := s.targetSizes(), s.stopped()
		return sz[zoneA] == 1 && sz[zoneB] == 1 && len(st[zoneA]) == 1 && len(st[zoneB]) == 1
	})
	must.SliceContains(t, append(s.stopped()[zoneA], s.stopped()[zoneB]...), victim, must.Sprint("the VM stopping at the kill is in the pool"))

	drains := s.drains()
	stops := s.poolCalls("/stopInstances")
	seen := map[string]bool{}
	for _, c := range stops {
		must.False(t, seen[c.Instance], must.Sprintf("%s stopped once", c.Instance))
		seen[c.Instance] = true
		must.True(t, drains[c.Instance].Completed.Before(c.At), must.Sprintf("%s drained before its stop", c.Instance))
	}
	dels, _ := s.gceEvidence(initial)
	for _, del := range dels {
		must.False(t, seen[del.Instance], must.Sprintf("%s was stopped into the pool and must not be deleted", del.Instance))
	}
	alive := map[string]bool{}
	for _, m := range s.cloud.State().MIGs {
		for _, in := range m.Instances {
			if in.Status == "RUNNING" && !in.Standby {
				alive[in.Name] = true
			}
		}
	}
	for _, n := range s.cloud.State().Nodes {
		if alive[n.Name] {
			must.Eq(t, "eligible", n.Eligibility, must.Sprintf("node %s serves and must be eligible", n.Name))
		}
	}
	t.Logf("settled %s after the kill; stopped: %v", time.Since(killed).Round(100*time.Millisecond), slices.Sorted(maps.Keys(seen)))
}
