package maintenance

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// rig is one GPU node: a fake metadata server for its VM and a fake Nomad
// that knows the node.
type rig struct {
	md       *fakemetadata.Server
	mdURL    string
	nomad    *fakenomad.Server
	nomadURL string
	nodeID   string
	logs     *syncbuf.Buffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{md: fakemetadata.New(fakemetadata.Options{}), nomad: fakenomad.New(fakenomad.Options{}), logs: &syncbuf.Buffer{}}
	mdSrv, nomadSrv := httptest.NewServer(r.md), httptest.NewServer(r.nomad)
	t.Cleanup(nomadSrv.Close)
	t.Cleanup(mdSrv.Close)
	t.Cleanup(r.nomad.Close)
	t.Cleanup(r.md.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("daemon log:\n" + r.logs.String())
		}
	})
	r.mdURL, r.nomadURL = mdSrv.URL, nomadSrv.URL
	r.nodeID = r.nomad.AddNode(fakenomad.NodeSpec{Name: "ekyc-gpu-a-7k2p", NodeClass: "gpu-l4", GPUs: 1})
	r.nomad.AddAllocation(r.nodeID, fakenomad.AllocSpec{JobID: "ml-worker", JobType: "system", GPUs: 1})
	return r
}

// daemon is one run of the daemon for the rig's node.
type daemon struct {
	done <-chan struct{} // closed when run returns
	err  error           // what run returned, once done is closed
	logs *syncbuf.Buffer
	stop func() error // cancels the run and returns what it returned
}

// start runs a daemon for the rig's node until the test ends.
func (r *rig) start(t *testing.T, tm timing) *daemon {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: r.nomadURL})
	must.NoError(t, err)
	c := config{nodeID: r.nodeID, timing: tm, pollTimeout: 30 * time.Second, nomadTimeout: 2 * time.Second}
	logs := &syncbuf.Buffer{}
	log := hclog.New(&hclog.LoggerOptions{Output: io.MultiWriter(logs, r.logs), Level: hclog.Debug})
	e := newEngine(c, nomadNodes{client: client, timeout: c.nomadTimeout}, newMetadataClient(r.mdURL), log)
	e.retry = backoff{base: 20 * time.Millisecond, max: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	d := &daemon{done: finished, logs: logs}
	go func() { d.err = e.run(ctx); close(finished) }()
	d.stop = func() error {
		cancel()
		<-finished
		return d.err
	}
	t.Cleanup(func() { _ = d.stop() })
	return d
}

// settled waits until a daemon has decided on both keys' first values
// and found nothing to do.
func (d *daemon) settled(t *testing.T) {
	t.Helper()
	poll.Until(t, waitLimit, func() bool { return strings.Contains(d.logs.String(), "nothing to do") }, poll.Say(`the daemon logs "nothing to do"`))
}

// watching waits until the daemon's two watchers are waiting for changes.
func (r *rig) watching(t *testing.T) {
	t.Helper()
	poll.Until(t, waitLimit, func() bool { return r.md.Waiting() == 2 }, poll.Say("both watchers wait for a change"))
}

// waitLimit bounds every wait for the daemon; at testTiming its slowest
// step, the delayed drain, takes 1.5 s.
const waitLimit = 10 * time.Second

// drainRequest is one drain request Nomad received, with when it arrived.
type drainRequest struct {
	at   time.Time
	spec api.NodeUpdateDrainRequest
}

func (r *rig) drains(t *testing.T) []drainRequest {
	t.Helper()
	var out []drainRequest
	for _, req := range r.nomad.Requests() {
		if req.Method == "POST" && req.Path == "/v1/node/"+r.nodeID+"/drain" || req.Method == "PUT" && req.Path == "/v1/node/"+r.nodeID+"/drain" {
			var d api.NodeUpdateDrainRequest
			must.NoError(t, json.Unmarshal([]byte(req.Body), &d))
			out = append(out, drainRequest{at: req.Received, spec: d})
		}
	}
	return out
}

func (r *rig) notice(t *testing.T) (nodeops.Notice, bool) {
	t.Helper()
	n, ok, err := nodeops.Leaving(r.nomad.Node(r.nodeID).Meta)
	must.NoError(t, err)
	return n, ok
}

// testTiming has a drain delay over a second because the notice is stored
// to the second: the delay counts from the stored time.
var testTiming = timing{notice: time.Hour, margin: 5 * time.Minute, drainDelay: 1500 * time.Millisecond, preemptDeadline: 20 * time.Second}

func TestAMaintenanceNoticeMarksTheNodeThenDrainsItToEndBeforeTheHostLeaves(t *testing.T) {
	r := newRig(t)
	r.nomad.SetDrainDuration(time.Hour) // the node stays draining
	r.start(t, testTiming)
	r.watching(t)

	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	poll.Until(t, waitLimit, func() bool { _, ok := r.notice(t); return ok }, poll.Say("the node carries a notice"))
	n, _ := r.notice(t)
	must.Eq(t, nodeops.KindMaintenance, n.Kind)
	must.Eq(t, time.Hour, n.LeavingAt.Sub(n.NoticedAt), must.Sprint("the GPU notice is an hour"))
	must.SliceEmpty(t, r.drains(t), must.Sprint("the node serves while a replacement comes up"))

	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 1 }, poll.Say("one drain request"))
	d := r.drains(t)[0]
	// The notice is stored to the second, and the delay counts from it.
	must.GreaterEq(t, testTiming.drainDelay, d.at.Sub(n.NoticedAt))
	must.False(t, d.spec.DrainSpec.IgnoreSystemJobs, must.Sprint("the GPU workers are a system job"))
	force := d.at.Add(d.spec.DrainSpec.Deadline)
	must.Less(t, time.Second, absDuration(force.Sub(n.LeavingAt.Add(-testTiming.margin))),
		must.Sprintf("the drain ends the margin before the host leaves: %s vs %s", force, n.LeavingAt))
	must.Eq(t, "maintenance-drain", d.spec.Meta["drained_by"])
	must.True(t, r.nomad.Node(r.nodeID).Draining)
}

func TestARestartDuringTheDrainDoesNotDrainTwice(t *testing.T) {
	r := newRig(t)
	r.nomad.SetDrainDuration(time.Hour)
	first := r.start(t, testTiming)
	r.watching(t)
	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 1 }, poll.Say("one drain request"))
	before, _ := r.notice(t)
	must.NoError(t, first.stop())

	r.start(t, testTiming).settled(t)
	must.Len(t, 1, r.drains(t))
	after, _ := r.notice(t)
	must.Eq(t, before, after, must.Sprint("the notice keeps the time it was first seen"))
}

func TestAPreemptionDrainsAtOnceAndARestartAfterwardsDoesNothing(t *testing.T) {
	r := newRig(t)
	r.nomad.SetDrainDuration(100 * time.Millisecond)
	first := r.start(t, testTiming)
	r.watching(t)

	r.md.SetPreempted(true)
	set := time.Now()
	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 1 }, poll.Say("one drain request"))
	d := r.drains(t)[0]
	must.Less(t, 2*time.Second, d.at.Sub(set))
	must.Eq(t, 20*time.Second, d.spec.DrainSpec.Deadline)
	n, ok := r.notice(t)
	must.True(t, ok)
	must.Eq(t, nodeops.KindPreemption, n.Kind)
	must.Eq(t, 30*time.Second, n.LeavingAt.Sub(n.NoticedAt))

	poll.Until(t, waitLimit, func() bool { return !r.nomad.Node(r.nodeID).Draining }, poll.Say("the drain completes"))
	must.NoError(t, first.stop())
	r.start(t, testTiming).settled(t)
	must.Len(t, 1, r.drains(t), must.Sprint("a completed drain for this notice is not repeated"))
}

func TestAPreemptionShortensAMaintenanceDrain(t *testing.T) {
	r := newRig(t)
	r.nomad.SetDrainDuration(time.Hour)
	tm := testTiming
	tm.drainDelay = 0
	r.start(t, tm)
	r.watching(t)
	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 1 }, poll.Say("one drain request"))
	must.Greater(t, 50*time.Minute, r.drains(t)[0].spec.DrainSpec.Deadline)

	r.md.SetPreempted(true)
	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 2 }, poll.Say("a second drain request"))
	must.Eq(t, 20*time.Second, r.drains(t)[1].spec.DrainSpec.Deadline)
	n, _ := r.notice(t)
	must.Eq(t, nodeops.KindPreemption, n.Kind)
}

func TestAWithdrawnNoticeIsClearedWithoutADrain(t *testing.T) {
	r := newRig(t)
	tm := testTiming
	tm.drainDelay = 30 * time.Minute
	r.start(t, tm)
	r.watching(t)
	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	poll.Until(t, waitLimit, func() bool { _, ok := r.notice(t); return ok }, poll.Say("the node carries a notice"))
	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceNone)
	poll.Until(t, waitLimit, func() bool { _, ok := r.notice(t); return !ok }, poll.Say("the notice is withdrawn"))
	must.SliceEmpty(t, r.drains(t))
}

func TestNomadErrorsAreRetried(t *testing.T) {
	r := newRig(t)
	r.start(t, testTiming)
	r.watching(t)
	r.nomad.InjectHTTPErrors(503, 3)
	r.md.SetPreempted(true)
	poll.Until(t, waitLimit, func() bool { return len(r.drains(t)) == 1 }, poll.Say("one drain request"))
	_, ok := r.notice(t)
	must.True(t, ok)
}

func TestTheMetadataServerDownAtStartDelaysNothingOnceItAnswers(t *testing.T) {
	r := newRig(t)
	r.md.Inject(fakemetadata.Fault{Kind: fakemetadata.FaultDrop}, 0)
	r.md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	r.start(t, testTiming)
	r.md.ClearFaults()
	poll.Until(t, waitLimit, func() bool { _, ok := r.notice(t); return ok }, poll.Say("the node carries a notice"))
}

func TestAWrongNodeIDStopsTheDaemon(t *testing.T) {
	r := newRig(t)
	r.nodeID = "6f0e3c1a-0000-0000-0000-000000000000"
	d := r.start(t, testTiming)
	select {
	case <-d.done:
		must.ErrorContains(t, d.err, `-node-id "6f0e3c1a-0000-0000-0000-000000000000"`)
		must.ErrorIs(t, d.err, errNodeNotFound)
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon runs for a node that does not exist")
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
