package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

func TestScaleOutFillsZonesOddEven(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{bootTime: 30 * time.Millisecond})

	must.NoError(t, h.scale(5))
	a, b := h.targets()
	must.Eq(t, [2]int{3, 2}, [2]int{a, b})

	must.NoError(t, h.scale(8))
	a, b = h.targets()
	must.Eq(t, [2]int{4, 4}, [2]int{a, b})

	resizes := h.gceRequests("/resize")
	var got []string
	for _, r := range resizes {
		must.StrContains(t, r.Query.Get("requestId"), "-", must.Sprint("every resize carries a requestId"))
		got = append(got, r.Path[len(r.Path)-len("gpu-a/resize"):]+"="+r.Query.Get("size"))
	}
	must.Eq(t, []string{"gpu-a/resize=3", "gpu-b/resize=2", "gpu-a/resize=4", "gpu-b/resize=4"}, got)

	st := h.status()
	must.True(t, st.Ready)
	must.Eq(t, int64(8), st.Count)
	must.Eq(t, "4", st.Meta["zone.zone-a.target"])
	must.Eq(t, "4", st.Meta["zone.zone-b.running"])
	must.Eq(t, "", st.Meta[metaKeyStockout])
	must.NotEq(t, "", st.Meta[metaKeyLastEvent])
}

func TestScaleOutPollsTheMIGsAtThePolicysPollInterval(t *testing.T) {
	t.Parallel()
	// Instances boot for 300ms. Polling every 20ms, Scale reads the MIG
	// many times while it boots and returns soon after; at the 5s default
	// it would read it twice and hold the agent for five seconds.
	h := newHarness(t, harnessOptions{bootTime: 300 * time.Millisecond})
	h.policy["poll_interval"] = "20ms"

	must.NoError(t, h.scale(2))
	polls := len(h.gceRequests("gpu-a/listManagedInstances"))
	must.Greater(t, 4, polls, must.Sprint("the MIG is re-read at poll_interval until it is stable"))
	must.Eq(t, 1, h.gce.MIG(zoneA, migA).TargetSize)
	must.True(t, h.status().Ready)
}

func TestScaleOutMovesWorkersAwayFromAStockout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 30 * time.Millisecond})
	h.gce.SetStockout(zoneB, true)

	must.NoError(t, h.scale(6))
	a, b := h.targets()
	must.Eq(t, [2]int{4, 2}, [2]int{a, b}, must.Sprint("zone-b keeps its 2 workers, zone-a takes its share"))

	st := h.status()
	must.True(t, st.Ready, must.Sprint("a stockout must not block scaling (#839)"))
	must.Eq(t, int64(6), st.Count)
	must.StrContains(t, st.Meta[metaKeyStockout], "zone-b: ZONE_RESOURCE_POOL_EXHAUSTED")

	// During the cooldown zone-b is not even tried.
	before := len(h.gceRequests("gpu-b/resize"))
	must.NoError(t, h.scale(8))
	a, b = h.targets()
	must.Eq(t, [2]int{6, 2}, [2]int{a, b})
	must.Eq(t, before, len(h.gceRequests("gpu-b/resize")))
}

func TestTheSpreadEvensOutThroughLaterScalingOnceAStockoutEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 30 * time.Millisecond, drainDuration: 20 * time.Millisecond})
	h.gce.SetStockout(zoneA, true)
	must.NoError(t, h.scale(8))
	a, b := h.targets()
	must.Eq(t, [2]int{2, 6}, [2]int{a, b}, must.Sprint("zone-b takes zone-a's share during the stockout"))

	// The stockout ends and stockout_cooldown (1m) passes.
	h.gce.SetStockout(zoneA, false)
	h.p.now = func() time.Time { return time.Now().Add(2 * time.Minute) }

	// With the count unchanged nothing moves: running workers are not
	// replaced just to even out the zones.
	must.NoError(t, h.scale(8))
	a, b = h.targets()
	must.Eq(t, [2]int{2, 6}, [2]int{a, b})
	resizesB := len(h.gceRequests("gpu-b/resize"))

	must.NoError(t, h.scale(10))
	a, b = h.targets()
	must.Eq(t, [2]int{4, 6}, [2]int{a, b}, must.Sprint("the next scale-out fills zone-a first"))
	must.Eq(t, resizesB, len(h.gceRequests("gpu-b/resize")), must.Sprint("zone-b is not touched"))

	gaveUp := len(h.gceRequests("/deleteInstances")) // zone-a's stuck creations, during the stockout
	must.NoError(t, h.scale(8))
	a, b = h.targets()
	must.Eq(t, [2]int{4, 4}, [2]int{a, b}, must.Sprint("the next scale-in removes from zone-b first"))
	deletes := h.gceRequests("/deleteInstances")[gaveUp:]
	must.SliceNotEmpty(t, deletes)
	for _, d := range deletes {
		must.StrContains(t, d.Path, migB)
	}
	must.Eq(t, 4, len(h.instances(zoneA, migA)))
}

func TestStatusIsReadyWhileAMIGIsStuckOnQuota(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: time.Hour})
	h.gce.SetQuotaExceeded(zoneB, true)
	migs, _, err := h.p.clients(t.Context(), mustTarget(t, h.policy))
	must.NoError(t, err)
	must.NoError(t, migs.Resize(t.Context(), migRef{Project: "test-project", Zone: zoneB, Name: migB}, 2, pluginkit.NewRequestID()))
	poll.Until(t, 10*time.Second, func() bool {
		return len(h.gce.MIG(zoneB, migB).Errors) > 0
	}, poll.Say("a failed creation attempt"))
	st := h.status()
	must.True(t, st.Ready, must.Sprint("unstable only for quota: ready"))
	must.StrContains(t, st.Meta[metaKeyStockout], "QUOTA_EXCEEDED")

	// A MIG that is still booting a VM is not ready.
	must.NoError(t, migs.Resize(t.Context(), migRef{Project: "test-project", Zone: zoneA, Name: migA}, 2, pluginkit.NewRequestID()))
	must.False(t, h.status().Ready)
}

func TestScaleOutFailsOnlyWhenNoZoneHasCapacity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 30 * time.Millisecond})
	h.gce.SetStockout(zoneA, true)
	h.gce.SetQuotaExceeded(zoneB, true)

	err := h.scale(4)
	must.ErrorContains(t, err, "no zone can take 2 of 4 workers")
	must.ErrorContains(t, err, "zone-a: ZONE_RESOURCE_POOL_EXHAUSTED")
	must.ErrorContains(t, err, "zone-b: QUOTA_EXCEEDED")
	a, b := h.targets()
	must.Eq(t, [2]int{1, 1}, [2]int{a, b}, must.Sprint("the creations that cannot happen are given up"))
}

func mustTarget(t *testing.T, raw map[string]string) targetConfig {
	t.Helper()
	cfg, err := parseTargetConfig(raw)
	must.NoError(t, err)
	return cfg
}
