package plugin

import (
	"os"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"
)

// shippedACLPolicy is the Nomad ACL policy deploy/ tells operators to apply.
const shippedACLPolicy = "../../../deploy/nomad-autoscaler.acl.hcl"

// TestBusyNodesInAnotherNamespaceAreNotTakenForIdleOnes runs a scale-in
// with the token the shipped ACL policy gives, against a Nomad that
// enforces it: Nomad lists a node's allocations only in the namespaces
// where the token may read jobs and leaves the others out without an
// error, so a worker in a namespace the policy forgot would make its node
// look idle.
func TestBusyNodesInAnotherNamespaceAreNotTakenForIdleOnes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 0, drainDuration: 20 * time.Millisecond})
	policy, err := os.ReadFile(shippedACLPolicy)
	must.NoError(t, err)
	must.NoError(t, h.nomad.AddACLToken("autoscaler-token", string(policy)))
	h.nomadToken = "autoscaler-token"
	h.p = h.newPlugin()

	// The newer node runs a GPU worker of a job in namespace "ekyc": were it
	// invisible, both nodes would look idle and least_busy would take the
	// newer one.
	a := h.instances(zoneA, migA)
	busy := h.nodeByInstance(a[1]).ID
	must.NotEq(t, "", h.nomad.AddAllocation(busy, fakenomad.AllocSpec{JobID: "ekyc-worker", Namespace: "ekyc", GPUs: 1}))

	must.NoError(t, h.scale(1))
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{a[0]}, deletedInstances(t, deletes[0]), must.Sprint("the idle node goes"))
	n := h.nomad.Node(busy)
	must.Eq(t, api.NodeSchedulingEligible, n.SchedulingEligibility, must.Sprint("the busy node was never drained"))
	must.Eq(t, api.AllocClientStatusRunning, n.Allocations[0].ClientStatus)

	// Everything else the plugin does is allowed by the same policy: the
	// drain and the node marker (node write) above, and the last_event
	// variable.
	must.NotEq(t, "", h.status().Meta[metaKeyLastEvent])
	must.StrNotContains(t, h.logs.String(), "403")
}
