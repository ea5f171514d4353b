package plugin

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// otherProcess takes the policy's writer lock as a second agent's target
// would, on the same fake Nomad, and returns its release.
func otherProcess(t *testing.T, h *harness) (release func()) {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: h.nomadURL})
	must.NoError(t, err)
	locks := nomadWriterLocks{client: client, retry: backoff{Attempts: 1}}
	path := writerLockPath(mustTarget(t, h.policy).policyKey)
	// This process releases its lock after each call has answered: the
	// other one retries, as a second agent's next call would.
	var id string
	poll.Until(t, 5*time.Second, func() bool {
		id, err = locks.Acquire(t.Context(), path)
		return err == nil
	}, poll.Say("the other process to take the writer lock"))
	return func() { must.NoError(t, locks.Release(t.Context(), path, id)) }
}

func TestAnotherProcessHoldingTheWriterLockKeepsScaleAndStatusFromChangingAnything(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("the MIGs to settle"))
	release := otherProcess(t, h)

	err := h.scale(4)
	must.ErrorContains(t, err, writerLockPath(mustTarget(t, h.policy).policyKey))
	must.ErrorContains(t, err, "held by another process")
	must.SliceEmpty(t, h.gceRequests("/resize"), must.Sprint("no change without the lock"))
	st := h.status()
	must.False(t, st.Ready, must.Sprint("another process is changing the MIGs"))
	must.StrContains(t, st.Meta[metaKeyWriter], "held by another process")
	must.Eq(t, int64(2), st.Count)

	release()
	must.NoError(t, h.scale(4))
	ta, tb := h.targets()
	must.Eq(t, 4, ta+tb)
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("ready again"))
	must.MapNotContainsKey(t, h.status().Meta, metaKeyWriter)
}

// What failed in CI (TestHASplitLeader... in test/e2e): one agent's
// scale-in had drained its node and was about to delete it when the other
// agent's Status took the marked, drained node for an interrupted scale-in
// and deleted it too. Now the Status waits for the lock.
func TestStatusDoesNotFinishAScaleInThatAnotherProcessIsRunning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 2, drainDuration: 20 * time.Millisecond})
	release := otherProcess(t, h)
	drained := interruptScaleIn(t, h)

	h.p = h.newPlugin() // the second agent's target
	st := h.status()
	must.False(t, st.Ready)
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"), must.Sprint("the other process's scale-in is its own to finish"))
	must.Eq(t, "3", st.Meta["zone.zone-a.target"])
	must.ErrorContains(t, h.scale(4), "held by another process")
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))

	// The other process died without deleting: once its lock is gone, the
	// scale-in is an interrupted one, and the next Status finishes it.
	release()
	st = h.status()
	deletes := h.gceRequests("/deleteInstances")
	must.Len(t, 1, deletes)
	must.Eq(t, []string{drained}, deletedInstances(t, deletes[0]))
	must.Eq(t, "2", st.Meta["zone.zone-a.target"])
}

// A scale-in whose lock is taken over while it drains stops before any
// delete and leaves its marked nodes to the next holder (no give-back
// either: that would undo what the new holder may be doing).
func TestScaleInThatLosesTheWriterLockStopsBeforeDeleting(t *testing.T) {
	t.Parallel()
	// The drain outlasts the first renewal.
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1, drainDuration: writerRenewEvery + 3*time.Second})
	h.policy["node_drain_deadline"] = "30s"
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("the MIGs to settle"))
	h.renewStatus.Store(http.StatusConflict)

	err := h.scale(2)
	must.ErrorContains(t, err, "writer lock lost")
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"), must.Sprint("nothing deleted after the lock was lost"))
	ta, tb := h.targets()
	must.Eq(t, 3, ta+tb)
	marked, draining := 0, 0
	for _, name := range append(h.instances(zoneA, migA), h.instances(zoneB, migB)...) {
		n := h.nodeByInstance(name)
		if parseMarker(n.Meta) != nil {
			marked++
		}
		if n.Draining {
			draining++
		}
	}
	must.Eq(t, 1, marked, must.Sprint("the node keeps its marker for the next holder"))
	must.Eq(t, 1, draining, must.Sprint("stopped at the refused renewal, while the drain still ran, not at its end"))
	must.StrContains(t, h.logs.String(), "not giving nodes back")
	must.Eq(t, 1.0, testutil.ToFloat64(h.p.tm.errors.WithLabelValues("scale", errKindLock)))
}

// The writer lock's renewal goroutine ends with its call: many Status and
// Scale calls leave no goroutine behind. A first round fills the clients'
// connection pools (each idle connection keeps goroutines on both sides);
// a leak of one goroutine per call would then add 220 in the second.
func TestTheWriterLockLeavesNoGoroutineBehind(t *testing.T) {
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: time.Millisecond, drainDuration: 10 * time.Millisecond})
	round := func() {
		for i := range 20 {
			must.NoError(t, h.scale(int64(4+i%2)))
			for range 10 {
				_ = h.status()
			}
		}
		// Give exiting goroutines a moment.
		time.Sleep(200 * time.Millisecond)
	}
	round()
	before := runtime.NumGoroutine()
	round()
	after := runtime.NumGoroutine()
	must.Less(t, 20, after-before, must.Sprintf("goroutines %d -> %d over 20 Scale and 200 Status calls", before, after))
}

// A Nomad without Variable locks (before 1.7) answers the acquisition as
// a plain write, or 404 without Variables at all: the target works without
// the lock, as before it existed, and says so, instead of never being
// ready again.
func TestANomadWithoutVariableLocksScalesWithoutTheLock(t *testing.T) {
	t.Parallel()
	for name, set := range map[string]func(h *harness){
		"a plain write":      func(h *harness) { h.noLocks.Store(true) },
		"no Variables (404)": func(h *harness) { h.varStatus.Store(http.StatusNotFound) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
			set(h)
			must.NoError(t, h.scale(4))
			ta, tb := h.targets()
			must.Eq(t, 4, ta+tb)
			poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("ready without the lock"))
			must.StrContains(t, h.logs.String(), "working without the writer lock")
			must.StrContains(t, h.logs.String(), "no Variable locks")
		})
	}
}

// A slow release of the writer lock must not hold the call's answer: the
// release runs after Status answers (a first Status past the agent's
// deadline leaves agent v0.5.0 without the policy's handler, as happened in
// the HA split test), and the next call waits for it before acquiring.
func TestASlowWriterLockReleaseDoesNotDelayTheAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	h.releaseDelay.Store(int64(2 * time.Second))
	start := time.Now()
	st := h.status()
	answered := time.Since(start)
	must.Less(t, 2*time.Second, answered, must.Sprintf("Status answered after %s, behind a 2 s release", answered))
	must.True(t, st.Ready)
	// The next call waits for that release (still sleeping on the Nomad
	// side) instead of finding its own process's lock held.
	h.releaseDelay.Store(0)
	must.NoError(t, h.scale(4))
	ta, tb := h.targets()
	must.Eq(t, 4, ta+tb)
	must.True(t, h.status().Ready, must.Sprint(h.logs.String()))
	must.StrNotContains(t, h.logs.String(), "held by another process")
}
