package e2e

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// The Spot tier (issue 18): target-gce-gpu with spot_migs, a Spot MIG per
// zone beside the standard ones, under a steady load. spotCooldown is the
// policy's spot_cooldown, short so that the scenario sees it end.
const spotCooldown = 10 * time.Second

// tiers is a number per tier.
type tiers struct{ Standard, Spot int }

func (t tiers) String() string { return fmt.Sprintf("%d standard + %d Spot", t.Standard, t.Spot) }

// isSpotMIG reports whether the MIG named name is one of spotMIGs.
func isSpotMIG(name string) bool {
	return strings.Contains(","+spotMIGs+",", "/"+name+",")
}

// servingWorkers counts the workers that serve: on a ready, eligible,
// undrained node with a worker allocation, whose VM is RUNNING. A Spot VM
// in its preemption notice (STOPPING) keeps its Nomad node until it is
// gone, but the worker simulator does not count on it: a preempted worker
// stops serving at once, its unacknowledged jobs going back to RabbitMQ.
func servingWorkers(st simcloud.State) int {
	n := servingByTier(st)
	return n.Standard + n.Spot
}

func servingByTier(st simcloud.State) tiers {
	spot := map[string]bool{}    // zone/instance -> in a Spot MIG
	running := map[string]bool{} // zone/instance -> RUNNING
	for _, m := range st.MIGs {
		for _, in := range m.Instances {
			key := m.Zone + "/" + in.Name
			spot[key] = isSpotMIG(m.Name)
			running[key] = in.Status == "RUNNING"
		}
	}
	var out tiers
	for _, n := range st.Nodes {
		key := n.Zone + "/" + n.Name
		if n.Status != api.NodeStatusReady || n.Eligibility != api.NodeSchedulingEligible || n.Draining ||
			n.RunningWorkers == 0 || !running[key] {
			continue
		}
		if spot[key] {
			out.Spot++
		} else {
			out.Standard++
		}
	}
	return out
}

// tierTargets sums the MIGs' target sizes per tier.
func (s *stack) tierTargets() tiers {
	var out tiers
	for _, m := range s.cloud.State().MIGs {
		if isSpotMIG(m.Name) {
			out.Spot += m.TargetSize
		} else {
			out.Standard += m.TargetSize
		}
	}
	return out
}

// migChange is one successful resize or deleteInstances request.
type migChange struct {
	At        time.Time
	MIG       string
	Resize    int // the new size, -1 for a deleteInstances
	Instances []string
}

// migChanges reads the fake GCE's resizes and deleteInstances received
// after since, in order.
func (s *stack) migChanges(since time.Time) []migChange {
	var out []migChange
	for _, r := range s.cloud.GCE.Requests() {
		if r.Method != "POST" || r.Status != 200 || r.Received.Before(since) {
			continue
		}
		mig := path.Base(path.Dir(r.Path))
		switch {
		case strings.HasSuffix(r.Path, "/resize"):
			n, err := strconv.Atoi(r.Query.Get("size"))
			if err == nil {
				out = append(out, migChange{At: r.Received, MIG: mig, Resize: n})
			}
		case strings.HasSuffix(r.Path, "/deleteInstances"):
			var body struct {
				Instances []string `json:"instances"`
			}
			if json.Unmarshal([]byte(r.Body), &body) == nil {
				c := migChange{At: r.Received, MIG: mig, Resize: -1}
				for _, in := range body.Instances {
					c.Instances = append(c.Instances, path.Base(in))
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// A preemption wave under a steady load, with Spot capacity gone: the
// target moves the Spot share to the standard MIGs at its next Status
// (standard first, the count unchanged, no Scale asked), serving recovers
// within an evaluation and a boot, and no job is lost. Once Spot capacity
// is back and spot_cooldown has passed, nothing moves by itself; the next
// surge's scale-out goes to Spot and the scale-ins after it take standard
// workers, so the fleet is back at the Spot share without a Spot VM
// removed or a standard one added.
func TestSpotPreemptionWaveFallsBackToStandardAndTheFleetDriftsBackToSpot(t *testing.T) {
	t.Parallel()
	const (
		want = 5 // the policy's min: 2 standard + floor(0.6 × 5) = 3 Spot
		peak = 8 // the policy's max, which the surge reaches: 5 standard kept + 3 Spot
	)
	start := time.Now()
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: time.Second,
		workerCapacity: 120, workerFleet: servingWorkers, spot: true,
		policy: policyParams{Min: want, Max: peak, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 20 * time.Second,
			SpotShare: "0.6", SpotCooldown: spotCooldown},
	})
	// 2 jobs/s against workers that serve 2 jobs/s each: the two workers
	// left by the wave still keep up, so any job lost is the fallback's.
	stopLoad := s.steadyLoad(500 * time.Millisecond)
	state := func() string { return s.tierTargets().String() + " targeted; cloud state:\n" + s.describe() }

	// The agent scales 2 → 5 (the min): standard keeps its floor of 2,
	// Spot takes the other 3.
	s.waitFor("Spot holding its share", 45*time.Second, func() bool {
		return servingByTier(s.cloud.State()) == tiers{2, 3}
	})
	must.Eq(t, tiers{2, 3}, s.tierTargets())
	shared := time.Now()
	// The wave comes when the agent is idle: the Scale has ended and the
	// policy is evaluated again. (A wave during a scale-out's wait is
	// TestSpotPreemptionDuringScaleOutEndsTheWaitAndFallsBack, in the
	// target's package.)
	evals := strings.Count(s.agent.Log(), "calculating scaling target")
	s.waitFor("an evaluation after the scale-out", 20*time.Second, func() bool {
		return strings.Count(s.agent.Log(), "calculating scaling target") > evals
	})

	// The wave: every Spot VM preempted and no Spot capacity left.
	s.cloud.GCE.SetSpotStockout(zoneA, true)
	s.cloud.GCE.SetSpotStockout(zoneB, true)
	splits := strings.Count(s.agent.Log(), "tier split")
	wave := time.Now()
	must.Eq(t, 3, s.cloud.GCE.PreemptWave(""))
	low := want
	bound := evalInterval + time.Second + 3*time.Second // the next Status, a boot, slack for a loaded machine
	poll.Until(t, bound, func() bool {
		n := servingByTier(s.cloud.State())
		low = min(low, n.Standard+n.Spot)
		return n == tiers{want, 0}
	}, func() string { return "the standard tier serving the whole count; " + state() })
	recovered := time.Since(wave)
	must.Eq(t, tiers{want, 0}, s.tierTargets(), must.Sprint("the Spot share moved to standard, the count unchanged"))
	must.Eq(t, splits, strings.Count(s.agent.Log(), "tier split"), must.Sprint("the fallback was the target's Status, no Scale"))
	must.StrContains(t, s.agent.Log(), "moving the share of preempted or uncreatable spot instances to the standard MIGs")
	changes := s.migChanges(wave)
	must.SliceNotEmpty(t, changes)
	must.True(t, !isSpotMIG(changes[0].MIG) && changes[0].Resize > 0,
		must.Sprintf("the standard MIGs grow before the Spot VMs are given up: %+v", changes))
	t.Logf("SPOT share reached at +%s; wave of 3 preemptions at +%s: serving fell to %d, standard MIGs grown %s after the wave, the standard tier served all %d after %s (bound %s)",
		shared.Sub(start).Round(100*time.Millisecond), wave.Sub(start).Round(100*time.Millisecond), low,
		changes[0].At.Sub(wave).Round(100*time.Millisecond), want, recovered.Round(100*time.Millisecond), bound)

	// Spot capacity returns. Nothing moves by itself: no churn while the
	// count stands, through the rest of spot_cooldown and an evaluation.
	s.cloud.GCE.SetSpotStockout(zoneA, false)
	s.cloud.GCE.SetSpotStockout(zoneB, false)
	spotBack := time.Now()
	poll.Holds(t, time.Until(wave.Add(spotCooldown+evalInterval)), func() bool {
		return s.tierTargets() == tiers{want, 0} && servingWorkers(s.cloud.State()) == want
	}, func() string { return "the fleet holds while nothing asks; " + state() })

	// A surge: the backlog check asks for more workers, up to the max.
	// Spot is back and cooled down, so the scale-out goes to Spot.
	const surge = 120
	s.publishBacklog(surge)
	surged := time.Now()
	s.waitFor("a scale-out to Spot", evalInterval+managementLag+5*time.Second, func() bool { return s.tierTargets().Spot > 0 })
	toSpot := time.Since(surged)
	must.Eq(t, want, s.tierTargets().Standard, must.Sprint("the standard tier did not grow"))
	s.waitFor("the peak served", 30*time.Second, func() bool {
		return servingByTier(s.cloud.State()) == tiers{want, peak - want}
	})
	peaked := time.Now()

	// The backlog served, the scale-ins take the surplus standard workers
	// down to the floor: the fleet is back at the Spot share.
	s.waitFor("the fleet back at the Spot share", 60*time.Second, func() bool {
		return s.tierTargets() == tiers{2, 3} && servingByTier(s.cloud.State()) == tiers{2, 3}
	})
	drifted := time.Now()
	drains := s.drains()
	for _, c := range s.migChanges(spotBack) {
		if isSpotMIG(c.MIG) {
			must.Positive(t, c.Resize, must.Sprintf("after Spot came back a Spot MIG only grew: %+v", c))
			continue
		}
		must.Eq(t, -1, c.Resize, must.Sprintf("after Spot came back a standard MIG was only scaled in, worker by worker: %+v", c))
		for _, in := range c.Instances {
			d := drains[in]
			must.True(t, !d.Completed.IsZero() && d.Completed.Before(c.At), must.Sprintf("%s drained before its deletion", in))
		}
	}
	must.Len(t, 3, s.cloud.Preemptions(), must.Sprint("only the wave's preemptions"))
	t.Logf("SPOT Spot back at +%s; surge at +%s: first scale-out to Spot %s after it, peak %s served at +%s; back at %s %s after the peak (+%s)",
		spotBack.Sub(start).Round(100*time.Millisecond), surged.Sub(start).Round(100*time.Millisecond),
		toSpot.Round(100*time.Millisecond), tiers{want, peak - want}, peaked.Sub(start).Round(100*time.Millisecond),
		tiers{2, 3}, drifted.Sub(peaked).Round(100*time.Millisecond), drifted.Sub(start).Round(100*time.Millisecond))

	// No request lost: every published job is served and acknowledged.
	published := stopLoad() + surge
	s.waitFor("every published job served", 30*time.Second, func() bool { return s.workers.Stats().Jobs >= published })
	st := s.workers.Stats()
	must.Eq(t, published, st.Jobs, must.Sprintf("stats %+v", st))
	must.Zero(t, st.Rejected)
	t.Logf("SPOT %d jobs published and served; %s in all", published, time.Since(start).Round(100*time.Millisecond))
}
