package plugin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

func varRequests(h *harness) int {
	n := 0
	for _, r := range h.nomad.Requests() {
		if strings.HasPrefix(r.Path, "/v1/var/") {
			n++
		}
	}
	return n
}

func TestStatusWithoutTheVariableACLLeavesOutLastEventAndWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	h.varStatus.Store(http.StatusForbidden)

	must.NoError(t, h.scale(4), must.Sprint("a scaling that cannot be recorded still happens"))
	must.StrContains(t, h.logs.String(), "cannot record last scaling time")
	must.StrContains(t, h.logs.String(), "working without the writer lock", must.Sprint("and one without the writer lock"))

	// A restarted agent has nothing cached and cannot read the variable.
	h.p = h.newPlugin()
	var st = h.status()
	poll.Until(t, 10*time.Second, func() bool { st = h.status(); return st.Ready }, poll.Say("the MIGs to settle"))
	must.Eq(t, int64(4), st.Count)
	must.MapNotContainsKey(t, st.Meta, metaKeyLastEvent)
	must.MapNotContainsKey(t, st.Meta, metaKeyError)
	must.StrContains(t, h.logs.String(), "cannot read last scaling time")
	must.StrContains(t, h.logs.String(), "403")

	// A denied read is not repeated on every evaluation.
	reads := varRequests(h)
	h.status()
	h.status()
	must.Eq(t, reads, varRequests(h))
}

func TestNomadOutageMakesStatusNotReadyInsteadOfFailing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1})
	h.policy["retry_attempts"] = "2"
	h.nomadDown.Store(true)

	// The first Status of a restarted agent: an error here would stop the
	// agent from ever creating the policy's handler.
	h.p = h.newPlugin()
	st, err := h.p.Status(h.policy)
	must.NoError(t, err)
	must.False(t, st.Ready, must.Sprint("pool readiness is unknown without Nomad"))
	must.Eq(t, int64(3), st.Count, must.Sprint("GCE still answers"))
	must.Eq(t, "2", st.Meta["zone.zone-a.target"])
	must.MapNotContainsKey(t, st.Meta, metaKeyLastEvent)
	must.StrContains(t, st.Meta[metaKeyError], "list Nomad nodes")
	must.StrNotContains(t, st.Meta[metaKeyError], "EOF")
	must.StrContains(t, h.logs.String(), "reporting not ready")
	must.StrContains(t, h.logs.String(), "cannot read last scaling time")

	h.nomadDown.Store(false)
	must.NoError(t, h.scale(4))
	h.p = h.newPlugin()
	poll.Until(t, 10*time.Second, func() bool {
		st := h.status()
		return st.Ready && st.Meta[metaKeyLastEvent] != ""
	}, poll.Say("ready with the last scaling time once Nomad is back"))
}

// nodeReads counts the Nomad requests that read one node (not its
// allocations, not a drain monitor's blocking query).
func nodeReads(h *harness) int {
	n := 0
	for _, r := range h.nomad.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/node/") &&
			strings.Count(r.Path, "/") == 3 && r.Query.Get("index") == "" {
			n++
		}
	}
	return n
}

func TestStatusRereadsOnlyTheNodesThatChangedSinceTheLastStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 2, bootTime: time.Millisecond})
	st := h.status()
	must.Eq(t, int64(5), st.Count)
	must.Eq(t, 5, nodeReads(h), must.Sprint("the first Status reads every pool node"))

	h.status()
	must.Eq(t, 5, nodeReads(h), must.Sprint("nothing changed: no node is read again"))

	// A scale-in marker left by a crashed Scale of another policy changes
	// one node's metadata (and so its ModifyIndex); Status must see it.
	id := h.nodeByInstance(h.instances(zoneA, migA)[0]).ID
	_, nodes, err := h.p.clients(t.Context(), mustTarget(t, h.policy))
	must.NoError(t, err)
	must.NoError(t, nodes.SetMarker(t.Context(), id, scaleInMarker{Policy: "other", DesiredSize: 2, MarkedAt: time.Now()}))
	before := nodeReads(h)
	h.status()
	must.Eq(t, before+1, nodeReads(h), must.Sprint("only the node whose metadata changed is read again"))
}
