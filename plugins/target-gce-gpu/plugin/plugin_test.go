package plugin

import (
	"context"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

func TestDryRunDoesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	action := sdk.ScalingAction{Count: 5, Direction: sdk.ScaleDirectionUp}
	action.SetDryRun()
	must.NoError(t, h.p.Scale(action, h.policy))
	must.SliceEmpty(t, h.gce.Requests())
	must.SliceEmpty(t, h.nomad.Requests())
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.policy["migs"] = "zone-a"
	h.policy["node_drain_deadline"] = "forever"
	_, err := h.p.Status(h.policy)
	must.ErrorContains(t, err, `migs entry 1 "zone-a": not "zone/name"`)
	must.ErrorContains(t, err, `node_drain_deadline "forever": not a duration`)
	must.ErrorContains(t, h.scale(3), "migs entry 1")
	must.SliceEmpty(t, h.gce.Requests())

	unconfigured := New(h.p.logger)
	_, err = unconfigured.Status(map[string]string{"project": "ml-prod", "migs": "zone-z/m", "node_pool": "gpu"})
	must.ErrorContains(t, err, "SetConfig was not called")
	must.ErrorContains(t, unconfigured.SetConfig(map[string]string{"compute_insecure": "yes"}), `compute_insecure "yes": not true or false`)
}

func TestRateLimitStormBacksOffAndRecovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	h.policy["retry_attempts"] = "10"
	// Every pause is at least a tenth of its ceiling: 5 ms here.
	h.p.timing.backoff = backoff{Initial: 50 * time.Millisecond, Max: 100 * time.Millisecond}
	h.gce.InjectHTTPErrors(http.StatusTooManyRequests, 6)

	must.NoError(t, h.scale(4))
	a, b := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{a, b})
	requests := h.gce.Requests()
	limited := 0
	for i, r := range requests {
		if r.Status != http.StatusTooManyRequests {
			continue
		}
		limited++
		// The next request for the same resource is the retry (or a later
		// call): it must come after a pause, not at once.
		for _, next := range requests[i+1:] {
			if next.Method == r.Method && next.Path == r.Path {
				must.GreaterEq(t, 5*time.Millisecond, next.Received.Sub(r.Received),
					must.Sprintf("retry of %s %s backed off", r.Method, r.Path))
				break
			}
		}
	}
	must.Eq(t, 6, limited)
	// Retried resizes reuse their requestId, so GCE runs each once.
	ids := map[string]map[string]bool{}
	for _, r := range h.gceRequests("/resize") {
		if ids[r.Path] == nil {
			ids[r.Path] = map[string]bool{}
		}
		ids[r.Path][r.Query.Get("requestId")] = true
	}
	for path, set := range ids {
		must.MapLen(t, 1, set, must.Sprintf("one requestId for %s", path))
	}
}

func TestRateLimitStormThatOutlastsTheRetriesNamesTheMIG(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	h.policy["retry_attempts"] = "2"
	h.gce.InjectHTTPErrors(http.StatusTooManyRequests, 100)
	st := h.status()
	must.False(t, st.Ready)
	must.StrContains(t, st.Meta[metaKeyError], "MIG zone-")
	must.StrContains(t, st.Meta[metaKeyError], "429")
	must.ErrorContains(t, h.scale(4), "429")
}

func TestFailedOperationIsAnErrorEvenThoughWaitSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	h.gce.FailNextOperation(zoneB, "ZONE_RESOURCE_POOL_EXHAUSTED", "no L4 left in zone-b")
	err := h.scale(4)
	must.ErrorContains(t, err, "resize MIG zone-b/gpu-b to 2")
	must.ErrorContains(t, err, "ZONE_RESOURCE_POOL_EXHAUSTED: no L4 left in zone-b")
}

func TestStatusHonoursTheAgentTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1})
	h.policy["_nomad_autoscaler_grpc_timeout"] = "100ms"
	h.gceDelay.Store(int64(5 * time.Second))
	start := time.Now()
	st := h.status()
	must.False(t, st.Ready)
	must.StrContains(t, st.Meta[metaKeyError], context.DeadlineExceeded.Error())
	// Not a timing assertion: 5 s would mean the GCE requests were awaited.
	must.Less(t, 4*time.Second, time.Since(start), must.Sprint("Status gave up at its own deadline"))
}

func TestLastEventSurvivesARestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 0, sizeB: 0})
	must.NoError(t, h.scale(2))
	first := h.status().Meta[metaKeyLastEvent]
	must.NotEq(t, "", first)

	h.p = h.newPlugin()
	must.Eq(t, first, h.status().Meta[metaKeyLastEvent])
}

func TestStatusDuringASlowScaleIsSafeAndNotReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, drainDuration: 400 * time.Millisecond})
	// Hold the deletes, so that Scale also sits between its drains and
	// its deletes, where the nodes look exactly like a crashed scale-in's.
	gate := make(chan struct{})
	h.deleteGate.Store(&gate)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	done := make(chan error, 1)
	go func() { done <- h.scale(2) }()

	// statuses calls Status four times at once and counts "not ready".
	statuses := func() int {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			notReady int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := h.p.Status(h.policy)
				must.NoError(t, err)
				mu.Lock()
				defer mu.Unlock()
				if !st.Ready {
					notReady++
				}
			}()
		}
		waited := make(chan struct{})
		go func() { wg.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			t.Fatal("Status blocked behind a held delete: it tried to delete what Scale drained")
		}
		mu.Lock()
		defer mu.Unlock()
		return notReady
	}
	poll.Until(t, 10*time.Second, func() bool { return len(drainEvents(h, "drain-started")) == 2 }, poll.Say("the drains to start"))
	must.Eq(t, 4, statuses(), must.Sprint("never ready while this plugin drains for the policy"))

	poll.Until(t, 10*time.Second, func() bool { return h.deletesHeld.Load() == 1 }, poll.Say("Scale to reach its first delete"))
	must.Eq(t, 4, statuses(), must.Sprint("never ready between the drains and the deletes"))
	must.Eq(t, int32(1), h.deletesHeld.Load(), must.Sprint("Status never deletes what Scale drained"))

	release()
	must.NoError(t, <-done)
	must.Len(t, 2, h.gceRequests("/deleteInstances"))
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("ready again"))
}

func TestCrashDuringDrainIsFinishedOnceTheDrainCompletes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 1})
	a := h.instances(zoneA, migA)
	id := h.nodeByInstance(a[1]).ID
	// The drain ends only when the test forces it below, however slowly
	// the machine runs.
	h.nomad.SetNodeDrainDuration(a[1], time.Hour)
	// What a Scale to 2 leaves behind when the agent dies mid-drain.
	cfg := mustTarget(t, h.policy)
	client, err := api.NewClient(&api.Config{Address: h.nomadURL})
	must.NoError(t, err)
	desired := "1"
	at := time.Now().UnixNano()
	_, err = client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: id, Meta: map[string]*string{
		metaPolicy: &cfg.policyKey, metaDesired: &desired, metaMarkedAt: ptr(formatInt(at)),
	}}, nil)
	must.NoError(t, err)
	_, err = client.Nodes().UpdateDrainOpts(id, &api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: time.Minute}}, nil)
	must.NoError(t, err)

	h.p = h.newPlugin()
	st := h.status()
	must.False(t, st.Ready, must.Sprint("not ready while a marked node drains"))
	must.Eq(t, "1", st.Meta[metaKeyDraining])
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"), must.Sprint("never delete before the drain is done"))
	must.False(t, h.status().Ready)
	must.SliceEmpty(t, h.gceRequests("/deleteInstances"))

	// An operator forces the drain (nomad node drain -force).
	_, err = client.Nodes().UpdateDrainOpts(id, &api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: -1}}, nil)
	must.NoError(t, err)
	poll.Until(t, 10*time.Second, func() bool {
		h.status()
		return len(h.gceRequests("/deleteInstances")) == 1
	}, poll.Say("the interrupted scale-in to finish"))
	must.Eq(t, []string{a[1]}, deletedInstances(t, h.gceRequests("/deleteInstances")[0]))
	poll.Until(t, 10*time.Second, func() bool { return h.status().Ready }, poll.Say("ready again"))
	ta, tb := h.targets()
	must.Eq(t, [2]int{1, 1}, [2]int{ta, tb})
}

func TestUnreachableAPIsDoNotRestartTheAgentsPolicyHandlers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	p := New(h.p.logger)
	p.timing = h.p.timing
	// A port nobody listens on: the dial is refused.
	must.NoError(t, p.SetConfig(map[string]string{
		"compute_endpoint": "http://127.0.0.1:1", "compute_insecure": "true", "nomad_address": "http://127.0.0.1:1",
	}))
	h.policy["retry_attempts"] = "1"
	st, err := p.Status(h.policy)
	must.NoError(t, err)
	msg := st.Meta[metaKeyError]
	must.StrNotContains(t, msg, "connection refused")
	must.StrNotContains(t, msg, "EOF")
	must.StrContains(t, msg, "connection rejected")

	err = p.Scale(scaleAction(3), h.policy)
	must.Error(t, err)
	must.StrNotContains(t, err.Error(), "connection refused")
	must.StrNotContains(t, err.Error(), "EOF")
	must.StrContains(t, err.Error(), "connection rejected")
}

func TestPanicsBecomeErrors(t *testing.T) {
	t.Parallel()
	p := New(hclogNull())
	err := func() (err error) {
		defer pluginkit.Recover(p.logger, PluginName, "scale", &err)
		panic("unexpected nil in a GCE response")
	}()
	must.ErrorContains(t, err, "target-gce-gpu: internal error in scale (recovered from a panic: unexpected nil in a GCE response)")
}

func TestSlowOperationsArePolledUntilDone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, operationTime: 300 * time.Millisecond})
	h.gce.FailNextOperation(zoneA, "QUOTA_EXCEEDED", "GPUS_ALL_REGIONS exceeded")
	err := h.scale(4)
	must.ErrorContains(t, err, "resize MIG zone-a/gpu-a to 2")
	must.ErrorContains(t, err, "QUOTA_EXCEEDED: GPUS_ALL_REGIONS exceeded")
	polls := 0
	for _, r := range h.gce.Requests() {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/operations/") {
			polls++
		}
	}
	must.Positive(t, polls, must.Sprint("a RUNNING operation is polled, not assumed done"))

	must.NoError(t, h.scale(4), must.Sprint("the next attempt succeeds once the operation does"))
	a, b := h.targets()
	must.Eq(t, [2]int{2, 2}, [2]int{a, b})
}
