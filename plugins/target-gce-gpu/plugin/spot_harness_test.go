package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// withSpot adds a Spot MIG per zone (spot-a, spot-b) of size each to the
// harness and to its policy.
func withSpot(t *testing.T, h *harness, size int, share string) {
	t.Helper()
	for _, z := range []string{zoneA, zoneB} {
		name := "spot-" + z[len(z)-1:]
		h.gce.AddMIG(z, name, size)
		must.NoError(t, h.gce.SetMIGProvisioningModel(z, name, fakegce.ProvisioningSpot))
	}
	h.policy["spot_migs"] = zoneA + "/spot-a," + zoneB + "/spot-b"
	h.policy["spot_share"] = share
}

func spotTargets(h *harness) int {
	return h.gce.MIG(zoneA, "spot-a").TargetSize + h.gce.MIG(zoneB, "spot-b").TargetSize
}

func TestSpotScaleOutFillsStandardFirstThenSpot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond})
	withSpot(t, h, 0, "0.6")
	must.NoError(t, h.scale(10))
	a, b := h.targets()
	must.Eq(t, 4, a+b) // 10 - floor(0.6 × 10)
	must.Eq(t, 6, spotTargets(h))
}

func TestSpotPreemptionWaveMovesToStandardThenDriftsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 10 * time.Millisecond})
	withSpot(t, h, 3, "0.6")
	h.policy["spot_cooldown"] = "200ms"
	poll.Until(t, 5*time.Second, func() bool { return h.status().Count == 10 }, poll.Say("the count back at 10"))

	// A wave with no Spot capacity left: at the next Status the standard
	// MIGs take the share, the count does not change.
	h.gce.SetSpotStockout(zoneA, true)
	h.gce.SetSpotStockout(zoneB, true)
	must.Eq(t, 6, h.gce.PreemptWave(""))
	st := h.status()
	must.False(t, st.Ready)
	must.Eq(t, int64(10), st.Count)
	a, b := h.targets()
	must.Eq(t, 10, a+b)
	must.Eq(t, 0, spotTargets(h))
	must.Eq(t, "6", st.Meta["tier.spot.preempted_1h"])

	// Spot back and the cooldown over: the next scale-out goes to Spot,
	// the next scale-in takes standard workers.
	h.gce.SetSpotStockout(zoneA, false)
	h.gce.SetSpotStockout(zoneB, false)
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("the policy ready"))
	poll.Until(t, 5*time.Second, func() bool {
		return h.status().Meta["spot_zones_unavailable"] == ""
	}, poll.Say("Spot capacity back"))
	must.NoError(t, h.scale(12))
	a, b = h.targets()
	must.Eq(t, 10, a+b)
	must.Eq(t, 2, spotTargets(h))
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("the policy ready again"))
	must.NoError(t, h.scale(8))
	a, b = h.targets()
	must.Eq(t, 6, a+b)
	must.Eq(t, 2, spotTargets(h))
}

// A wave that comes while a scale-out waits for the Spot VMs it added: the
// preempted VMs would keep the Spot MIGs unstable until they are recreated,
// so the Scale stops waiting for them instead of running into
// scale_timeout, and the next Status moves their share to standard.
func TestSpotPreemptionDuringScaleOutEndsTheWaitAndFallsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: time.Second})
	withSpot(t, h, 1, "0.6")
	scaled := make(chan error, 1)
	go func() { scaled <- h.scale(10) }() // 4 standard kept, Spot 2 → 6
	poll.Until(t, 5*time.Second, func() bool { return spotTargets(h) == 6 }, poll.Say("six Spot workers"))
	must.Eq(t, 2, h.gce.PreemptWave(""))
	select {
	case err := <-scaled:
		must.NoError(t, err)
	case <-time.After(8 * time.Second): // scale_timeout is 10s
		t.Fatal("the scale-out kept waiting for the preempted Spot VMs")
	}
	st := h.status()
	must.Eq(t, int64(10), st.Count)
	a, b := h.targets()
	must.Eq(t, 6, a+b, must.Sprint("the two preempted workers' share went to standard"))
	must.Eq(t, 4, spotTargets(h))
}

func TestSpotSurgeStartsTheStandardPoolBeforeCreatingSpotVMs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	withSpot(t, h, 0, "0.8")
	withPool(h, 4, "0s")
	fillPool(t, h, 2, 2)

	// A surge, 2 -> 10 (standard floor 2 of 10 at spot_share 0.8): it
	// starts the four stopped VMs and creates only the other four on Spot.
	must.NoError(t, h.scale(10))
	must.Len(t, 2, h.gceRequests("/startInstances"))
	a, b := h.targets()
	must.Eq(t, 6, a+b)
	must.Eq(t, 4, spotTargets(h))

	// The pool refills; an ordinary scale-out (10 -> 12) leaves it alone:
	// the floor is 3, standard holds 6, so both new workers are Spot.
	fillPool(t, h, 2, 2)
	starts := len(h.gceRequests("/startInstances"))
	must.NoError(t, h.scale(12))
	must.Eq(t, starts, len(h.gceRequests("/startInstances")))
	a, b = h.targets()
	must.Eq(t, 6, a+b)
	must.Eq(t, 6, spotTargets(h))
}
