package plugin

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// deletedInstances decodes the instance names of a deleteInstances request.
func deletedInstances(t *testing.T, r fakegce.Request) []string {
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

// drainEvents returns, per node name, when its first event of the kind
// happened (real time, comparable with the GCE fake's requests).
func drainEvents(h *harness, kind fakenomad.EventKind) map[string]time.Time {
	out := map[string]time.Time{}
	for _, e := range h.nomad.Events() {
		if _, seen := out[e.NodeName]; e.Kind == kind && !seen {
			out[e.NodeName] = e.Received
		}
	}
	return out
}

func TestScaleInDrainsThenDeletesExactlyTheDrainedInstances(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 3})
	a, b := h.instances(zoneA, migA), h.instances(zoneB, migB)
	// Leave one idle node per zone: those are the ones to go.
	h.busy(a[0])
	h.busy(a[1])
	h.busy(b[1])
	h.busy(b[2])
	// Their drains end only when forced below, so that they overlap by
	// construction when the plugin drains in parallel, however slowly the
	// machine runs, and never when it drains one after the other.
	h.nomad.SetNodeDrainDuration(a[2], time.Hour)
	h.nomad.SetNodeDrainDuration(b[0], time.Hour)

	done := make(chan error, 1)
	go func() { done <- h.scale(4) }()
	poll.Until(t, 10*time.Second, func() bool { return len(drainEvents(h, fakenomad.EventDrainStarted)) == 2 }, poll.Say("both drains to start"))
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"), must.Sprint("nothing deleted while draining"))
	client, err := api.NewClient(&api.Config{Address: h.nomadURL})
	must.NoError(t, err)
	for _, inst := range []string{a[2], b[0]} {
		_, err := client.Nodes().UpdateDrainOpts(h.nodeByInstance(inst).ID,
			&api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: -1}}, nil)
		must.NoError(t, err)
	}
	must.NoError(t, <-done)
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{ta, tb})

	started := drainEvents(h, fakenomad.EventDrainStarted)
	completed := drainEvents(h, fakenomad.EventDrainCompleted)
	must.MapLen(t, 2, started)
	must.MapContainsKeys(t, completed, []string{a[2], b[0]})

	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 2, deletes)
	for _, d := range deletes {
		names := deletedInstances(t, d)
		must.Len(t, 1, names)
		want := a[2]
		if strings.Contains(d.Path, migB) {
			want = b[0]
		}
		must.Eq(t, []string{want}, names, must.Sprint("only the drained instance, in its own MIG"))
		must.True(t, d.Received.After(completed[want]), must.Sprint("deleted only after its drain completed"))
	}
	// The drains ran in parallel: both started before either completed.
	lastStart := started[a[2]]
	if started[b[0]].After(lastStart) {
		lastStart = started[b[0]]
	}
	must.True(t, lastStart.Before(completed[a[2]]) && lastStart.Before(completed[b[0]]),
		must.Sprintf("drains overlap: started %v completed %v", started, completed))
	// Busy nodes were never touched.
	for _, busy := range []string{a[0], a[1], b[1], b[2]} {
		must.Eq(t, api.NodeSchedulingEligible, h.nodeByInstance(busy).SchedulingEligibility)
	}
	must.NotEq(t, "", h.status().Meta[metaKeyLastEvent])
}

func TestScaleInPrefersNodesWithoutGPUWork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 0, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	h.busy(a[0])
	h.busy(a[2])
	// Two system allocations are cheaper to lose than one GPU job.
	sys := h.nodeByInstance(a[1]).ID
	h.nomad.AddAllocation(sys, fakenomad.AllocSpec{JobID: "logs", JobType: "system"})
	h.nomad.AddAllocation(sys, fakenomad.AllocSpec{JobID: "metrics", JobType: "system"})

	must.NoError(t, h.scale(2))
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{a[1]}, deletedInstances(t, deletes[0]))
}

func TestDrainFailureGivesEveryNodeBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, drainDuration: 20 * time.Millisecond})
	a, b := h.instances(zoneA, migA), h.instances(zoneB, migB)
	h.busy(a[0])
	h.busy(b[0])
	h.nomad.FailDrain(b[1], "node lost contact with its allocations")

	err := h.scale(2)
	must.ErrorContains(t, err, "drain node "+b[1])
	must.ErrorContains(t, err, "zone zone-b")
	must.Len(t, 0, h.gceRequests("/deleteInstances"), must.Sprint("nothing is deleted after a failed drain"))
	for _, inst := range []string{a[1], b[1]} {
		n := h.nodeByInstance(inst)
		must.Eq(t, api.NodeSchedulingEligible, n.SchedulingEligibility, must.Sprintf("node %s eligible again", inst))
		must.False(t, n.Draining)
		must.MapNotContainsKey(t, n.Meta, metaPolicy)
	}
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{ta, tb})
}

func TestFailedDeleteIsFinishedByTheNextPluginInstance(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	h.busy(a[0])
	for _, inst := range h.instances(zoneB, migB) {
		h.busy(inst)
	}
	h.gce.FailNextOperation(zoneA, "RESOURCE_NOT_READY", "the instance is being modified")

	err := h.scale(3)
	must.ErrorContains(t, err, "RESOURCE_NOT_READY")
	must.ErrorContains(t, err, "zone-a/gpu-a")
	must.ErrorContains(t, err, a[1])
	n := h.nodeByInstance(a[1])
	must.Eq(t, api.NodeSchedulingIneligible, n.SchedulingEligibility, must.Sprint("the drained node stays out of scheduling"))
	must.Eq(t, "1", n.Meta[metaDesired])

	// The agent restarts: a new plugin finds the marker and deletes the
	// drained instance on its first Status.
	h.p = h.newPlugin()
	st := h.status()
	must.False(t, st.Ready, must.Sprint("not ready in the tick that changed the MIG"))
	deletes := h.gceRequests("/deleteInstances")
	must.Eq(t, []string{a[1]}, deletedInstances(t, deletes[len(deletes)-1]))
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("the MIG to settle"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{1, 2}, [2]int{ta, tb})
}

func TestMarkedNodeIsGivenBackWhenTheMIGNoLongerNeedsToShrink(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[1]).ID
	// A crash right after draining a node for a scale-in to 2 in zone-a
	// that another Scale has since made moot (the MIG is at 2).
	cfg := mustTarget(t, h.policy)
	_, nodes, err := h.p.clients(t.Context(), cfg)
	must.NoError(t, err)
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: cfg.policyKey, DesiredSize: 2, MarkedAt: time.Now()}))
	must.NoError(t, nodes.Drain(t.Context(), id, drainOptions{Deadline: time.Second}))

	h.p = h.newPlugin()
	h.status()
	n := h.nodeByInstance(a[1])
	must.Eq(t, api.NodeSchedulingEligible, n.SchedulingEligibility)
	must.MapNotContainsKey(t, n.Meta, metaPolicy)
	must.Len(t, 0, h.gceRequests("/deleteInstances"))
}

func TestScaleInNeverGoesBelowZero(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, drainDuration: 20 * time.Millisecond})
	must.NoError(t, h.scale(0))
	ta, tb := h.targets()
	must.Eq(t, [2]int{0, 0}, [2]int{ta, tb})
	must.MapLen(t, 2, drainEvents(h, fakenomad.EventDrainCompleted))
	must.ErrorContains(t, h.p.Scale(scaleAction(-2), h.policy), "refusing to scale to -2")
}

func TestScaleInRemovesStuckCreationsWithoutDrainingAnything(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: 20 * time.Millisecond})
	h.gce.SetStockout(zoneB, true)
	migs, _, err := h.p.clients(t.Context(), mustTarget(t, h.policy))
	must.NoError(t, err)
	must.NoError(t, migs.Resize(t.Context(), migRef{Project: "test-project", Zone: zoneB, Name: migB}, 2, pluginkit.NewRequestID()))
	poll.Until(t, 10*time.Second, func() bool { return len(h.gce.MIG(zoneB, migB).Errors) > 0 }, poll.Say("a failed creation attempt"))
	var stuck string
	for _, in := range h.gce.MIG(zoneB, migB).Instances {
		if in.Status == "" {
			stuck = in.Name
		}
	}

	must.NoError(t, h.scale(3))
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{stuck}, deletedInstances(t, deletes[0]))
	must.MapEmpty(t, drainEvents(h, fakenomad.EventDrainStarted))
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 1}, [2]int{ta, tb})
}

func TestScaleInWithNothingRemovableIsANoOp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	h.policy["node_selector"] = "empty"
	h.busy(h.instances(zoneA, migA)[0])
	h.busy(h.instances(zoneB, migB)[0])
	err := h.scale(1)
	var noop *sdk.TargetScalingNoOpError
	must.True(t, errors.As(err, &noop), must.Sprintf("got %v", err))
	must.MapEmpty(t, drainEvents(h, fakenomad.EventDrainStarted))
}

func TestScaleInPurgesTheDeletedNodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, drainDuration: 20 * time.Millisecond})
	h.policy["node_purge"] = "true"
	must.NoError(t, h.scale(2))
	var purged []string
	for _, r := range h.nomad.Requests() {
		if strings.HasSuffix(r.Path, "/purge") {
			purged = append(purged, r.Path)
		}
	}
	must.Len(t, 2, purged)
	must.Len(t, 2, h.nomad.Nodes(), must.Sprint("only the two remaining workers are left in Nomad"))
}

func TestCrashBetweenMarkerAndDrainNeverDeletes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1})
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[1]).ID
	cfg := mustTarget(t, h.policy)
	_, nodes, err := h.p.clients(t.Context(), cfg)
	must.NoError(t, err)
	// The MIG (2) is above the marker's desired size (1), but the node was
	// never drained: it must come back, not go.
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: cfg.policyKey, DesiredSize: 1, MarkedAt: time.Now()}))

	h.p = h.newPlugin()
	h.status()
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))
	n := h.nodeByInstance(a[1])
	must.MapNotContainsKey(t, n.Meta, metaPolicy)
	must.Eq(t, api.NodeSchedulingEligible, n.SchedulingEligibility)
}

func TestAnInstanceThatVanishedBeforeItsDeleteDoesNotFailTheOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 0, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	gate := make(chan struct{})
	h.deleteGate.Store(&gate)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	done := make(chan error, 1)
	go func() { done <- h.scale(1) }()
	poll.Until(t, 10*time.Second, func() bool { return h.deletesHeld.Load() == 1 }, poll.Say("the drained instances' delete"))

	// Meanwhile one of them goes (an operator, a preemption, a repair).
	oob := httptest.NewServer(h.gce) // not held by the gate
	t.Cleanup(oob.Close)
	client, err := compute.NewInstanceGroupManagersRESTClient(t.Context(), option.WithEndpoint(oob.URL), option.WithoutAuthentication())
	must.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	op, err := client.DeleteInstances(t.Context(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: "test-project", Zone: zoneA, InstanceGroupManager: migA,
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
			Instances: []string{"zones/" + zoneA + "/instances/" + a[2]},
		},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(t.Context()))
	poll.Until(t, 10*time.Second, func() bool { return !slices.Contains(h.instances(zoneA, migA), a[2]) }, poll.Say("the instance to be gone"))

	release()
	must.NoError(t, <-done, must.Sprint("the other instance is deleted, the vanished one skipped"))
	must.Eq(t, []string{a[0]}, h.instances(zoneA, migA))
	must.Eq(t, 1, h.gce.MIG(zoneA, migA).TargetSize)
	var body struct {
		SkipInstancesOnValidationError bool `json:"skipInstancesOnValidationError"`
	}
	deletes := h.gceRequests("/deleteInstances") // the out-of-band one, then the plugin's
	must.NoError(t, json.Unmarshal([]byte(deletes[len(deletes)-1].Body), &body))
	must.True(t, body.SkipInstancesOnValidationError)
}

func TestALargeScaleInStartsEveryDrainButKeepsItsNomadRequestsInFlightBounded(t *testing.T) {
	t.Parallel()
	const size, keep = 40, 10 // 70 drains, more than the bound
	h := newHarness(t, harnessOptions{sizeA: size, sizeB: size})
	h.policy["scale_timeout"] = "30s"
	for _, zm := range [][2]string{{zoneA, migA}, {zoneB, migB}} {
		for _, in := range h.instances(zm[0], zm[1]) {
			// Held until forced below, so that every drain is in progress at
			// once and its monitor keeps asking.
			h.nomad.SetNodeDrainDuration(in, time.Hour)
		}
	}
	done := make(chan error, 1)
	go func() { done <- h.scale(keep) }()
	poll.Until(t, 20*time.Second, func() bool { return len(drainEvents(h, fakenomad.EventDrainStarted)) == 2*size-keep },
		poll.Say("every drain to start while the others are still draining"))
	// Let the monitors go round a few times before ending the drains.
	poll.Until(t, 10*time.Second, func() bool {
		return len(h.nomad.Requests()) > 4*(2*size-keep)
	}, poll.Say("the drain monitors to ask again"))
	client, err := api.NewClient(&api.Config{Address: h.nomadURL})
	must.NoError(t, err)
	for _, id := range slices.Sorted(maps.Keys(drainEvents(h, fakenomad.EventDrainStarted))) {
		_, err := client.Nodes().UpdateDrainOpts(h.nodeByInstance(id).ID,
			&api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: -1}}, nil)
		must.NoError(t, err)
	}
	must.NoError(t, <-done)
	ta, tb := h.targets()
	must.Eq(t, keep, ta+tb)
	// The starts end before the watches begin; forcing the drains above
	// added one request at a time. Without the bound there were about 60.
	limit := int32(max(drainStartsInFlight, drainWatchesInFlight) + 1)
	must.LessEq(t, limit, h.nomadMaxInFlight.Load(),
		must.Sprintf("at most %d Nomad requests in flight during a scale-in of %d", limit, 2*size-keep))
}
