package plugin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// withPool turns the harness's policy into one with a warm pool of size
// VMs, and makes a start from the pool as quick as a boot (simcloud's
// default warm boot is 90s).
func withPool(h *harness, size int, initialDelay string) {
	h.policy["standby_size"] = fmt.Sprint(size)
	h.policy["standby_initial_delay"] = initialDelay
	h.gce.SetStartTime(20 * time.Millisecond)
}

// pooled lists a MIG's stopped pool members.
func pooled(h *harness, zone, mig string) []string {
	var out []string
	for _, in := range h.gce.MIG(zone, mig).Instances {
		if in.Standby && in.Status == "TERMINATED" && in.CurrentAction == "NONE" {
			out = append(out, in.Name)
		}
	}
	return out
}

// fillPool lets a Status set the pool up and waits until both zones hold
// their share of it, stopped.
func fillPool(t *testing.T, h *harness, a, b int) {
	t.Helper()
	h.status()
	poll.Until(t, 10*time.Second, func() bool {
		h.status()
		return len(pooled(h, zoneA, migA)) == a && len(pooled(h, zoneB, migB)) == b
	}, func() string { return fmt.Sprintf("pools of %d and %d: %+v", a, b, h.gce.MIGs()) })
}

// requestInstances decodes the instance names of a start or stop request.
func requestInstances(t *testing.T, r fakegce.Request) []string {
	t.Helper()
	var body struct{ Instances []string }
	must.NoError(t, json.Unmarshal([]byte(r.Body), &body))
	var out []string
	for _, u := range body.Instances {
		out = append(out, lastSegment(u))
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestStandbyWithoutAPoolMakesNoStandbyCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 20 * time.Millisecond, drainDuration: 20 * time.Millisecond})
	must.NoError(t, h.scale(6))
	must.NoError(t, h.p.Scale(scaleAction(2), h.policy))
	h.status()
	for _, r := range h.gce.Requests() {
		must.False(t, r.Method == "PATCH" || strings.HasSuffix(r.Path, "/startInstances") ||
			strings.HasSuffix(r.Path, "/stopInstances") || strings.Contains(r.Path, "/instances/"),
			must.Sprintf("no standby call without standby_size: %s %s", r.Method, r.Path))
	}
	must.Eq(t, "0", h.status().Meta["zone.zone-a.standby"])
}

func TestStandbyPoolIsSplitLikeTheWorkersAndNeverCounted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withPool(h, 3, "0s")
	fillPool(t, h, 2, 1)

	patches := h.gceRequests("/instanceGroupManagers/" + migA)
	var body struct {
		TargetStoppedSize int
		StandbyPolicy     struct {
			Mode            string
			InitialDelaySec int
		}
	}
	var patched bool
	for _, r := range patches {
		if r.Method == "PATCH" {
			must.NoError(t, json.Unmarshal([]byte(r.Body), &body))
			must.StrContains(t, r.Query.Get("requestId"), "-")
			patched = true
		}
	}
	must.True(t, patched)
	must.Eq(t, 2, body.TargetStoppedSize)
	must.Eq(t, "MANUAL", body.StandbyPolicy.Mode)

	st := h.status()
	must.Eq(t, int64(2), st.Count, must.Sprint("the pool is never counted"))
	must.True(t, st.Ready)
	must.Eq(t, "2", st.Meta["zone.zone-a.standby"])
	must.Eq(t, "1", st.Meta["zone.zone-b.standby"])
}

func TestStandbyRefillingPoolKeepsThePolicyReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	// Refills wait an hour before they stop: the MIGs stay unstable.
	withPool(h, 2, "1h")
	h.status()
	poll.Until(t, 5*time.Second, func() bool {
		return !h.gce.MIG(zoneA, migA).Stable && h.status().Ready
	}, poll.Say("ready while the pool refills"))
	must.NoError(t, h.scale(4), must.Sprint("a scale-out does not wait for the pool"))
}

func TestStandbyScaleOutStartsStoppedVMsFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withPool(h, 4, "0s")
	fillPool(t, h, 2, 2)
	poolA, poolB := pooled(h, zoneA, migA), pooled(h, zoneB, migB)

	// 2 -> 5: three warm workers, round-robin (a takes the extra one).
	must.NoError(t, h.scale(5))
	starts := h.gceRequests("/startInstances")
	must.Len(t, 2, starts)
	must.Eq(t, sorted(poolA), requestInstances(t, starts[0]))
	must.Eq(t, poolB[:1], requestInstances(t, starts[1]))
	must.SliceEmpty(t, h.gceRequests("/resize"), must.Sprint("nothing created while stopped VMs were left"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{3, 2}, [2]int{ta, tb})
	st := h.status()
	must.Eq(t, int64(5), st.Count)

	// The pool is set back to its share and refills.
	fillPool(t, h, 2, 2)

	// 5 -> 10: four warm, one created (zone-a gets the remainder).
	must.NoError(t, h.scale(10))
	ta, tb = h.targets()
	must.Eq(t, [2]int{5, 5}, [2]int{ta, tb})
	resizes := h.gceRequests("/resize")
	must.Len(t, 1, resizes)
	must.Eq(t, "5", resizes[0].Query.Get("size"))
	must.StrContains(t, resizes[0].Path, migB)
}

func TestStandbyStartInAStockoutFallsBackToTheOtherZoneThenCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withPool(h, 2, "0s")
	fillPool(t, h, 1, 1)
	h.gce.SetStockout(zoneA, true)

	must.NoError(t, h.scale(5))
	starts := h.gceRequests("/startInstances")
	must.Len(t, 2, starts, must.Sprint("both zones start their stopped VM"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{1, 4}, [2]int{ta, tb}, must.Sprint("zone-a's share went to zone-b: its stopped VM, then creations"))
	poll.Until(t, 5*time.Second, func() bool { st := h.status(); return st.Ready && st.Count == 5 },
		poll.Say("ready at 5 with zone-a in stockout"))
	st := h.status()
	must.StrContains(t, st.Meta[metaKeyStockout], "zone-a")
}

func TestStandbyScaleInStopsDrainedWorkersUntilThePoolIsFull(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 3, bootTime: 20 * time.Millisecond, drainDuration: 20 * time.Millisecond})
	withPool(h, 2, "1h")

	// 6 -> 4: one drained worker per zone fills the zone's pool.
	must.NoError(t, h.p.Scale(scaleAction(4), h.policy))
	stops := h.gceRequests("/stopInstances")
	must.Len(t, 2, stops)
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))
	drained := drainEvents(h, "drain-completed")
	var stopped []string
	for _, r := range stops {
		names := requestInstances(t, r)
		stopped = append(stopped, names...)
		for _, name := range names {
			at, ok := drained[name]
			must.True(t, ok && at.Before(r.Received), must.Sprintf("%s drained before its stop", name))
		}
	}
	for _, name := range stopped {
		n := h.nodeByInstance(name)
		must.Eq(t, "true", n.Meta[metaStandby], must.Sprintf("%s carries a standby marker", name))
	}
	must.Eq(t, 2, len(pooled(h, zoneA, migA))+len(pooled(h, zoneB, migB)), must.Sprint("the stops finished before Scale returned"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{ta, tb})

	// 4 -> 2: the pool is full, so the drained workers are deleted.
	must.NoError(t, h.p.Scale(scaleAction(2), h.policy))
	must.Len(t, 2, h.gceRequests("/stopInstances"))
	must.Len(t, 2, h.gceRequests("/deleteInstances"))
	must.Eq(t, 1, h.gce.MIG(zoneA, migA).TargetStoppedSize)
	st := h.status()
	must.Eq(t, int64(2), st.Count)
	must.Eq(t, "1", st.Meta["zone.zone-a.standby"])
}

func TestStandbyCrashBetweenDrainAndStopIsFinishedIntoThePool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: 20 * time.Millisecond})
	withPool(h, 2, "1h")
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[1]).ID
	// A crash right after draining a node for a scale-in to 1 in zone-a.
	cfg := mustTarget(t, h.policy)
	_, nodes, err := h.p.clients(t.Context(), cfg)
	must.NoError(t, err)
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: cfg.policyKey, DesiredSize: 1, MarkedAt: time.Now()}))
	must.NoError(t, nodes.Drain(t.Context(), id, drainOptions{Deadline: time.Second}))

	h.p = h.newPlugin()
	h.status()
	stops := h.gceRequests("/stopInstances")
	must.Len(t, 1, stops)
	must.Eq(t, []string{a[1]}, requestInstances(t, stops[0]))
	must.Eq(t, "true", h.nodeByInstance(a[1]).Meta[metaStandby])
	ta, _ := h.targets()
	must.Eq(t, 1, ta)

	// Later calls keep the standby marker of the VM in the pool.
	poll.Until(t, 5*time.Second, func() bool { return len(pooled(h, zoneA, migA)) == 1 }, poll.Say("the VM stopped"))
	h.status()
	must.Eq(t, "true", h.nodeByInstance(a[1]).Meta[metaStandby])
	must.Len(t, 1, h.gceRequests("/stopInstances"))
}

func TestStandbyNodeOfARunningVMIsGivenBack(t *testing.T) {
	t.Parallel()
	// What a started VM's node looks like on real Nomad (drained,
	// ineligible, standby marker), or a crash between the standby marker
	// and the stop.
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: 20 * time.Millisecond})
	withPool(h, 2, "1h")
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[1]).ID
	cfg := mustTarget(t, h.policy)
	_, nodes, err := h.p.clients(t.Context(), cfg)
	must.NoError(t, err)
	must.NoError(t, nodes.Drain(t.Context(), id, drainOptions{Deadline: time.Second}))
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: cfg.policyKey, Standby: true, MarkedAt: time.Now()}))

	h.p = h.newPlugin()
	h.status()
	n := h.nodeByInstance(a[1])
	must.Eq(t, api.NodeSchedulingEligible, n.SchedulingEligibility)
	must.MapNotContainsKey(t, n.Meta, metaStandby)
	must.SliceEmpty(t, h.gceRequests("/stopInstances"))
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))
}

func TestStandbyRecyclesVMsStoppedLongerThanMaxAge(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withPool(h, 2, "0s")
	h.policy["standby_max_age"] = "24h"
	fillPool(t, h, 1, 1)
	old := pooled(h, zoneA, migA)

	// Two days later.
	h.p.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	h.status()
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 2, deletes, must.Sprint("one stopped VM per zone"))
	must.Eq(t, old, deletedInstances(t, deletes[0]))
	must.Len(t, 1, h.gceRequests("/instances/"+old[0]), must.Sprint("stop times read once per VM and cached"))
	poll.Until(t, 5*time.Second, func() bool {
		p := pooled(h, zoneA, migA)
		return len(p) == 1 && p[0] != old[0]
	}, poll.Say("a fresh VM in zone-a's pool"))
}

func TestStandbyRefillDelayLetsScaleInsRefillThePoolBeforeAnyCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond, drainDuration: 20 * time.Millisecond})
	withPool(h, 2, "0s")
	fillPool(t, h, 1, 1)
	h.policy["standby_refill_delay"] = "30m"
	start := time.Now()
	h.p.now = func() time.Time { return start }

	// 2 -> 4 takes both stopped VMs; the pool is short and stays so.
	must.NoError(t, h.scale(4))
	must.Len(t, 2, h.gceRequests("/startInstances"))
	for range 3 {
		h.status()
	}
	must.Eq(t, 0, h.gce.MIG(zoneA, migA).TargetStoppedSize+h.gce.MIG(zoneB, migB).TargetStoppedSize,
		must.Sprint("no VM created for the pool within standby_refill_delay"))
	must.SliceEmpty(t, h.gceRequests("/resize"))
	st := h.status()
	must.Eq(t, start.Add(30*time.Minute).UTC().Format(time.RFC3339), st.Meta["zone.zone-a.standby_refill_at"])

	// 4 -> 3: the drained worker is stopped into the short pool, for free.
	must.NoError(t, h.p.Scale(scaleAction(3), h.policy))
	must.Len(t, 1, h.gceRequests("/stopInstances"))
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))
	h.status()
	must.Eq(t, 1, len(pooled(h, zoneA, migA))+len(pooled(h, zoneB, migB)))

	// Half an hour on, the zone still short gets its VM created.
	h.p.now = func() time.Time { return start.Add(31 * time.Minute) }
	h.status()
	must.Eq(t, 2, h.gce.MIG(zoneA, migA).TargetStoppedSize+h.gce.MIG(zoneB, migB).TargetStoppedSize)
	poll.Until(t, 5*time.Second, func() bool {
		h.status()
		return len(pooled(h, zoneA, migA)) == 1 && len(pooled(h, zoneB, migB)) == 1
	}, func() string { return fmt.Sprintf("the pool refilled: %+v", h.gce.MIGs()) })
	st = h.status()
	must.Eq(t, int64(3), st.Count, must.Sprint("the pool is never counted"))
	must.MapNotContainsKey(t, st.Meta, "zone.zone-a.standby_refill_at", must.Sprint("a full pool waits for nothing"))
}

func TestStandbyRefillDelaySetAgainStartsAfresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withPool(h, 2, "0s")
	fillPool(t, h, 1, 1)
	start := time.Now()
	h.p.now = func() time.Time { return start }
	h.policy["standby_refill_delay"] = "30m"
	must.NoError(t, h.scale(4)) // the pool is seen short at start

	// Without a delay the pool refills at once, and the old shortage is
	// forgotten.
	h.policy["standby_refill_delay"] = "0s"
	fillPool(t, h, 1, 1)

	// Half an hour later the delay is set again: a new shortage waits for
	// it in full, not from the old one's start.
	h.p.now = func() time.Time { return start.Add(31 * time.Minute) }
	h.policy["standby_refill_delay"] = "30m"
	must.NoError(t, h.scale(6))
	h.status()
	must.Eq(t, 0, h.gce.MIG(zoneA, migA).TargetStoppedSize+h.gce.MIG(zoneB, migB).TargetStoppedSize,
		must.Sprint("no creation before the new delay"))
}
