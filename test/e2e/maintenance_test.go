package e2e

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/maintenance"
)

// Host maintenance (issue 15): cmd/maintenance-drain's engine runs in
// process for one node, against a fake metadata server and the simulated
// cluster's Nomad API, with the notice shortened from an hour to
// maintenanceNotice. The agent keeps the policy's count serving through
// the event with target-gce-gpu.
const (
	maintenanceNotice     = 70 * time.Second
	maintenanceDrainDelay = 8 * time.Second
	maintenanceMargin     = 2 * time.Second
)

// startDrainDaemon runs the maintenance-drain engine for nodeID until the
// returned stop is called (the VM going away stops it).
func (s *stack) startDrainDaemon(nodeID, metadataURL string) (stop func(), log *syncbuf.Buffer) {
	s.t.Helper()
	log = &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan error, 1)
	args := []string{
		"-node-id", nodeID, "-nomad-addr", s.cloudURL, "-metadata-url", metadataURL,
		"-notice", maintenanceNotice.String(), "-drain-delay", maintenanceDrainDelay.String(),
		"-margin", maintenanceMargin.String(), "-poll-timeout", "5s", "-nomad-timeout", "5s",
	}
	go func() {
		done <- maintenance.Main(ctx, cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: log, Stderr: log})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					s.t.Errorf("maintenance-drain: %v\n%s", err, log)
				}
			case <-time.After(15 * time.Second):
				s.t.Errorf("maintenance-drain did not stop within 15s\n%s", log)
			}
		})
	}
	s.t.Cleanup(stop)
	return stop, log
}

// steadyLoad publishes one single-request job every interval until the
// returned stop is called, and then returns how many it published.
func (s *stack) steadyLoad(interval time.Duration) (stop func() int64) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(s.ctx)
	var published atomic.Int64
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-tick.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.pub.PublishJobs(pctx, []loadgen.QueuedJob{{
				Queue: queues[i%len(queues)], Job: loadgen.Job{Model: "m", Requests: 1, EnqueuedAt: time.Now()},
			}})
			pcancel()
			if err != nil && ctx.Err() == nil {
				done <- err
				return
			}
			if err == nil {
				published.Add(1)
			}
		}
	}()
	return func() int64 {
		cancel()
		must.NoError(s.t, <-done, must.Sprint("publishing the steady load"))
		return published.Load()
	}
}

// nonLeavingReady counts the ready workers whose nodes carry no notice.
func (s *stack) nonLeavingReady() int {
	n := 0
	for _, node := range s.cloud.State().Nodes {
		if node.Status == api.NodeStatusReady && node.Eligibility == api.NodeSchedulingEligible && !node.Draining &&
			node.RunningWorkers > 0 && node.Meta[nodeops.KeyLeaving] == "" {
			n++
		}
	}
	return n
}

// A maintenance notice on one worker under steady load: the target orders
// a replacement at once and it serves before the daemon drains the
// leaving node, whose drain ends before the host goes away; no request is
// lost; when the host comes back the node is given back and a normal
// scale-in returns the fleet to the strategy's count (the policy's min).
func TestMaintenanceReplacementServesBeforeTheHostLeavesAndTheFleetReturnsToItsCount(t *testing.T) {
	t.Parallel()
	const want = 4
	start := time.Now()
	s := newStack(t, stackOptions{
		initialPerZone: want / 2, bootTime: time.Second, drainDuration: time.Second,
		workerCapacity: 600,
		policy: policyParams{Min: want, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)
	stopLoad := s.steadyLoad(250 * time.Millisecond)

	md := fakemetadata.New(fakemetadata.Options{})
	mdSrv := httptest.NewServer(md)
	t.Cleanup(func() {
		md.Close()
		mdSrv.Close()
	})
	leaving := s.cloud.GCE.MIG(zoneB, "gpu-b").Instances[0].Name
	nodeID, ok := s.cloud.Nomad.NodeIDByName(leaving)
	must.True(t, ok)
	stopDaemon, daemonLog := s.startDrainDaemon(nodeID, mdSrv.URL)
	poll.Until(t, 10*time.Second, func() bool { return len(md.Requests()) > 0 }, poll.Say("the daemon to poll the metadata server"))

	noticed := time.Now()
	md.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	var notice nodeops.Notice
	s.waitFor("the daemon to mark the node as leaving", 10*time.Second, func() bool {
		n, ok, err := nodeops.Leaving(s.cloud.Nomad.Node(nodeID).Meta)
		notice = n
		return ok && err == nil
	})
	leavingAt := notice.LeavingAt

	// The replacement: the strategy's count of non-leaving workers serves
	// again, next to the leaving worker that still serves too.
	s.waitFor("a replacement serving next to the leaving worker", maintenanceDrainDelay+2*evalInterval, func() bool {
		return s.nonLeavingReady() == want && s.cloud.State().ReadyWorkersTotal == want+1
	})
	replaced := time.Now()
	must.Eq(t, map[string]int{zoneA: want / 2, zoneB: want/2 + 1}, s.targetSizes(), must.Sprint("the replacement in the leaving worker's zone"))

	// The daemon drains the node after its delay; the drain ends in time.
	s.waitFor("the daemon's drain to complete", maintenanceNotice, func() bool { return !s.drains()[leaving].Completed.IsZero() })
	d := s.drains()[leaving]
	t.Logf("notice at +%s; replacement serving %s after the notice, %s before the drain and %s before the host leaves; drain %s to %s after the notice, %s before the host leaves",
		noticed.Sub(start).Round(100*time.Millisecond), replaced.Sub(noticed).Round(100*time.Millisecond),
		d.Started.Sub(replaced).Round(100*time.Millisecond), leavingAt.Sub(replaced).Round(100*time.Millisecond),
		d.Started.Sub(noticed).Round(100*time.Millisecond), d.Completed.Sub(noticed).Round(100*time.Millisecond),
		leavingAt.Sub(d.Completed).Round(100*time.Millisecond))
	must.True(t, replaced.Before(d.Started), must.Sprint("the replacement serves before the leaving node drains"))
	must.True(t, d.Completed.Before(leavingAt), must.Sprint("the drain completes before the host leaves"))
	must.False(t, d.Canceled)
	drainMeta := s.cloud.Nomad.Node(nodeID).LastDrain.Meta
	must.Eq(t, "maintenance-drain", drainMeta["drained_by"], must.Sprint("drained by the daemon, not by the target"))

	// Until the host leaves, nothing scales: the target neither counts nor
	// touches the leaving node.
	poll.Holds(t, time.Until(leavingAt), func() bool {
		return s.count() == want+1 && s.nonLeavingReady() == want
	}, func() string { return "the fleet holds want plus the leaving VM; cloud state:\n" + s.describe() })

	// The host goes away: the VM stops, and the daemon with it.
	stopDaemon()
	must.NoError(t, s.cloud.Nomad.SetNodeStatus(nodeID, api.NodeStatusDown))
	poll.Holds(t, 2*evalInterval, func() bool {
		return s.count() == want+1 && s.nonLeavingReady() == want
	}, func() string { return "the fleet holds while the host is away; cloud state:\n" + s.describe() })

	// The host comes back: its node is ready, still drained and marked,
	// and the daemon does not run there. The target gives it back and a
	// normal scale-in returns the fleet to the strategy's count.
	must.NoError(t, s.cloud.Nomad.SetNodeStatus(nodeID, api.NodeStatusReady))
	back := time.Now()
	s.waitFor("the node given back", 3*evalInterval, func() bool {
		n := s.cloud.Nomad.Node(nodeID)
		return n.SchedulingEligibility == api.NodeSchedulingEligible && n.Meta[nodeops.KeyLeaving] == ""
	})
	s.waitFor("the fleet back at the strategy's count", 60*time.Second, func() bool {
		st := s.cloud.State()
		return s.count() == want && len(s.instances()) == want && st.ReadyWorkersTotal == want
	})
	t.Logf("fleet back at %d workers %s after the host came back", want, time.Since(back).Round(100*time.Millisecond))
	must.StrContains(t, s.agent.Log(), "host is back from maintenance: giving the node back", must.Sprint("what an operator sees in the log"))
	for _, n := range s.cloud.State().Nodes {
		if n.Status == api.NodeStatusReady {
			must.Eq(t, api.NodeSchedulingEligible, n.Eligibility, must.Sprintf("node %s", n.Name))
		}
	}
	// The scale-in drained before deleting, and never the daemon's node twice.
	dels, shrinks := s.gceEvidence(want / 2)
	must.SliceEmpty(t, shrinks, must.Sprint("no resize lowered a MIG"))
	must.Len(t, 1, dels, must.Sprint("one worker removed"))
	removed := s.drains()[dels[0].Instance]
	must.True(t, !removed.Completed.IsZero() && removed.Completed.Before(dels[0].At))

	// No request lost: every published job is served and acknowledged.
	published := stopLoad()
	s.waitFor("every published job served", 30*time.Second, func() bool { return s.workers.Stats().Jobs >= published })
	st := s.workers.Stats()
	must.Eq(t, published, st.Jobs, must.Sprintf("stats %+v", st))
	must.Zero(t, st.Rejected)
	t.Logf("%d jobs published and served; daemon log:\n%s", published, daemonLog)
}
