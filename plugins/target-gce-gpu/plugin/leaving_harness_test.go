package plugin

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// Host maintenance through the real plugin against the simulated cluster:
// the notice and the drain are written as cmd/maintenance-drain writes
// them, through the Nomad API.

func (h *harness) nomadClient() *api.Client {
	h.t.Helper()
	c, err := api.NewClient(&api.Config{Address: h.nomadURL})
	must.NoError(h.t, err)
	return c
}

// announce marks the instance's node as leaving, as the daemon does on a
// maintenance notice seen at noticed.
func (h *harness) announce(instance string, noticed time.Time) {
	h.t.Helper()
	n := nodeops.NewNotice(nodeops.KindMaintenance, noticed, time.Hour)
	_, err := h.nomadClient().Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: h.nodeByInstance(instance).ID, Meta: n.Meta()}, nil)
	must.NoError(h.t, err)
}

// daemonDrain drains the instance's node as the daemon does.
func (h *harness) daemonDrain(instance string) {
	h.t.Helper()
	_, err := h.nomadClient().Nodes().UpdateDrainOpts(h.nodeByInstance(instance).ID, &api.DrainOptions{
		DrainSpec: &api.DrainSpec{Deadline: 45 * time.Minute},
		Meta:      map[string]string{"drained_by": "maintenance-drain"},
	}, nil)
	must.NoError(h.t, err)
}

// drainedNodes lists the nodes whose drain started, in order.
func drainedNodes(h *harness) []string {
	var out []string
	for _, e := range h.nomad.Events() {
		if e.Kind == fakenomad.EventDrainStarted {
			out = append(out, e.NodeName)
		}
	}
	return out
}

func TestLeavingWorkerIsReplacedInItsOwnZoneAndNeverTouched(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 50 * time.Millisecond})
	b := h.instances(zoneB, migB)
	// Zone B: round-robin alone would put a fifth worker in zone A.
	h.announce(b[0], time.Now())

	st := h.status()
	must.True(t, st.Ready)
	must.Eq(t, int64(3), st.Count, must.Sprint("the leaving worker is not capacity"))
	must.Eq(t, "1", st.Meta[metaKeyZoneLeaving(zoneB)])
	must.Eq(t, "0", st.Meta[metaKeyZoneLeaving(zoneA)])

	// The strategy still wants 4: the replacement goes to the leaving
	// worker's zone.
	must.NoError(t, h.scale(4))
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 3}, [2]int{ta, tb})
	poll.Until(t, 10*time.Second, func() bool { return h.status().Count == 4 && h.status().Ready }, poll.Say("the replacement to serve"))

	// The daemon's drain of the leaving node does not hold the policy.
	h.nomad.SetNodeDrainDuration(b[0], time.Hour)
	h.daemonDrain(b[0])
	st = h.status()
	must.True(t, st.Ready, must.Sprintf("ready while the daemon drains: %v", st.Meta))
	must.Eq(t, int64(4), st.Count)

	// A scale-in during the event removes a worker that stays, never the
	// leaving one, and keeps the leaving one in its MIG.
	must.NoError(t, h.scale(3))
	drained := drainedNodes(h)
	must.Len(t, 2, drained, must.Sprintf("the daemon's drain and one of ours: %v", drained))
	must.Eq(t, b[0], drained[0])
	must.NotEq(t, b[0], drained[1])
	for _, d := range h.gceRequests("/deleteInstances") {
		must.SliceNotContains(t, deletedInstances(t, d), b[0])
	}
	ta, tb = h.targets()
	must.Eq(t, 4, ta+tb, must.Sprint("three that stay plus the leaving one"))
	must.Eq(t, int64(3), h.status().Count)
}

func TestLeavingHostBackIsGivenBackThenScaledInNormally(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 50 * time.Millisecond, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	// The plugin lives 70 minutes after the notice: leaving_at passed 10
	// minutes ago.
	noticedAt := time.Now()
	h.p.now = func() time.Time { return time.Now().Add(70 * time.Minute) }
	h.announce(a[0], noticedAt)
	h.daemonDrain(a[0])
	poll.Until(t, 10*time.Second, func() bool { return !h.nodeByInstance(a[0]).Draining }, poll.Say("the daemon's drain to complete"))

	// Drained and still ready after leaving_at: the maintenance is late,
	// the node is not given back.
	st := h.status()
	must.Eq(t, int64(3), st.Count)
	must.NoError(t, h.scale(4))
	must.Eq(t, api.NodeSchedulingIneligible, h.nodeByInstance(a[0]).SchedulingEligibility)

	// The host goes away and comes back: the daemon does not run on the
	// ineligible node, the notice is still there.
	id := h.nodeByInstance(a[0]).ID
	must.NoError(t, h.nomad.SetNodeStatus(id, api.NodeStatusDown))
	must.Eq(t, int64(4), h.status().Count, must.Sprint("away: still not counted"))
	// Nomad's StatusUpdatedAt is in seconds, as the notice's times are.
	poll.Until(t, 3*time.Second, func() bool { return time.Now().Unix() > noticedAt.Unix() }, poll.Say("the next second"))
	must.NoError(t, h.nomad.SetNodeStatus(id, api.NodeStatusReady))

	st = h.status()
	node := h.nomad.Node(id)
	must.Eq(t, api.NodeSchedulingEligible, node.SchedulingEligibility, must.Sprint("given back"))
	must.MapNotContainsKey(t, node.Meta, nodeops.KeyLeaving, must.Sprint("notice cleared"))
	must.False(t, st.Ready, must.Sprint("the count changed under the agent: not ready this tick"))
	st = h.status()
	must.Eq(t, int64(5), st.Count, must.Sprint("one more than the strategy asked for"))
	must.Eq(t, "0", st.Meta[metaKeyZoneLeaving(zoneA)])

	// The strategy's next scale-in returns the fleet to its count.
	must.NoError(t, h.scale(4))
	ta, tb := h.targets()
	must.Eq(t, 4, ta+tb)
	must.Eq(t, int64(4), h.status().Count)
}

func TestLeavingNodeWithOurScaleInMarkerIsLeftToTheDaemon(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: 20 * time.Millisecond})
	a := h.instances(zoneA, migA)
	cfg, _, err := h.p.target(h.policy)
	must.NoError(t, err)
	// A scale-in marked a[0] (heading for 1 in zone A) and crashed; then
	// the daemon announced and drained it.
	id := h.nodeByInstance(a[0]).ID
	at := strconv.FormatInt(time.Now().Add(-time.Minute).UnixNano(), 10)
	desired := "1"
	_, err = h.nomadClient().Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: id, Meta: map[string]*string{
		metaPolicy: &cfg.policyKey, metaDesired: &desired, metaMarkedAt: &at,
	}}, nil)
	must.NoError(t, err)
	h.announce(a[0], time.Now())
	h.daemonDrain(a[0])
	poll.Until(t, 10*time.Second, func() bool { return !h.nodeByInstance(a[0]).Draining }, poll.Say("the daemon's drain to complete"))

	st := h.status()
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"), must.Sprint("the scale-in is not finished on a leaving node"))
	node := h.nomad.Node(id)
	must.Eq(t, api.NodeSchedulingIneligible, node.SchedulingEligibility, must.Sprint("nor undone"))
	must.MapNotContainsKey(t, node.Meta, metaPolicy, must.Sprint("only our marker goes"))
	must.Eq(t, "maintenance", node.Meta[nodeops.KeyLeaving])
	must.Eq(t, int64(2), st.Count)
	must.True(t, slices.Contains(h.instances(zoneA, migA), a[0]))
}
