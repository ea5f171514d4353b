package plugin

import (
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// interruptScaleIn leaves what a Scale from 5 to 4 leaves when the agent
// dies between the drain and the delete: zone-a at 3 with its newest node
// drained and marked for a size of 2. It returns that node's instance.
func interruptScaleIn(t *testing.T, h *harness) string {
	t.Helper()
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[2]).ID
	cfg := mustTarget(t, h.policy)
	_, nodes, err := h.p.clients(t.Context(), cfg)
	must.NoError(t, err)
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: cfg.policyKey, DesiredSize: 2, MarkedAt: time.Now()}))
	must.NoError(t, nodes.Drain(t.Context(), id, drainOptions{Deadline: time.Second}))
	return a[2]
}

func TestScaleToTheCountAStatusReconciledToSucceedsAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 2, drainDuration: 20 * time.Millisecond})
	drained := interruptScaleIn(t, h)

	// The restarted agent's first Status finishes the scale-in.
	h.p = h.newPlugin()
	st := h.status()
	must.Eq(t, int64(4), st.Count, must.Sprint("Status reports the count after its own reconcile"))
	must.Eq(t, "2", st.Meta["zone.zone-a.target"])
	must.False(t, st.Ready, must.Sprint("not ready in the tick that changed the MIG"))
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{drained}, deletedInstances(t, deletes[0]))

	// The agent asks for the count it computed from an earlier Status (5 -> 4).
	must.NoError(t, h.scale(4), must.Sprint("the MIGs already sum to 4: success, nothing to do"))
	must.NoError(t, h.scale(4), must.Sprint("and again"))
	must.Len(t, 1, h.gceRequests("/deleteInstances"), must.Sprint("nothing more deleted"))
	must.SliceEmpty(t, h.gceRequests("/resize"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{ta, tb})
}

func TestScaleThatFinishesAnInterruptedScaleInToItsCountSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 2, drainDuration: 20 * time.Millisecond})
	drained := interruptScaleIn(t, h)

	// The agent's count (5) came from a Status taken before the node was
	// drained; Scale itself finishes the scale-in and lands on 4.
	h.p = h.newPlugin()
	must.NoError(t, h.scale(4))
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{drained}, deletedInstances(t, deletes[0]))
	must.SliceEmpty(t, h.gceRequests("/resize"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{ta, tb})
	poll.Until(t, 10*time.Second, func() bool { st := h.status(); return st.Ready && st.Count == 4 }, poll.Say("ready with the new count"))
	must.Eq(t, api.NodeStatusDown, h.nodeByInstance(drained).Status)
}

func TestScaleToTheCurrentCountSucceedsWithoutChangingAnything(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	must.NoError(t, h.scale(2))
	must.SliceEmpty(t, h.gceRequests("/resize"))
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))
	must.MapNotContainsKey(t, h.status().Meta, metaKeyLastEvent, must.Sprint("no scaling happened"))
}
