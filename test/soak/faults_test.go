package soak

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/maintenance"
)

// faultRecord is one injected fault as soak.json reports it.
type faultRecord struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
	// At is the simulated time it began; AtRealS the real seconds since
	// the replay began.
	At      time.Time `json:"at"`
	AtRealS float64   `json:"at_real_s"`
	// Held is how long it lasted, simulated; HeldRealS in real seconds.
	Held      string  `json:"held"`
	HeldRealS float64 `json:"held_real_s"`
	Error     string  `json:"error,omitempty"`
}

// injector runs the fault schedule against one run's parts. Starts and ends
// that must fail the test on error (the agent, the proxies) run on the
// test's goroutine; the slow ones (a RabbitMQ node's restart) in their own,
// so that later faults keep their times.
type injector struct {
	r *run

	mu      sync.Mutex
	records []faultRecord
	wg      sync.WaitGroup
	// storms ends the GCE error storms that are running, by status.
	storms map[int]context.CancelFunc
	rng    *rand.Rand
}

// event is a fault's start or end on the timeline.
type event struct {
	at    time.Duration
	start bool
	spec  faultSpec
	index int
}

func timeline(faults []faultSpec) []event {
	var evs []event
	for i, f := range faults {
		evs = append(evs, event{at: f.at, start: true, spec: f, index: i})
		if f.hold > 0 {
			evs = append(evs, event{at: f.at + f.hold, spec: f, index: i})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	return evs
}

// play waits for each event's simulated time and applies it, until the
// schedule is done or ctx ends.
func (in *injector) play(ctx context.Context, faults []faultSpec) {
	starts := map[int]int{} // fault index -> record index
	for _, ev := range timeline(faults) {
		due := in.r.clock.Real(in.r.clock.SimStart.Add(ev.at))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(due)):
		}
		if ev.start {
			starts[ev.index] = in.begin(ctx, ev.spec)
		} else {
			in.end(ctx, ev.spec, starts[ev.index])
		}
	}
	in.wg.Wait()
}

func (in *injector) record(kind, detail string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := time.Now()
	in.records = append(in.records, faultRecord{Kind: kind, Detail: detail, At: in.r.clock.Sim(now).UTC(),
		AtRealS: now.Sub(in.r.clock.RealStart).Seconds()})
	return len(in.records) - 1
}

// finish closes record i now, with err if the fault's action failed.
func (in *injector) finish(i int, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	rec := &in.records[i]
	real := time.Since(in.r.clock.RealStart).Seconds() - rec.AtRealS
	rec.HeldRealS = real
	rec.Held = time.Duration(real * in.r.clock.Compression * float64(time.Second)).Round(time.Second).String()
	if err != nil {
		rec.Error = err.Error()
		in.r.t.Errorf("fault %s (%s): %v", rec.Kind, rec.Detail, err)
	}
}

func (in *injector) snapshot() []faultRecord {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]faultRecord(nil), in.records...)
}

// begin starts a fault and returns its record. Faults without a hold are
// over when begin returns.
func (in *injector) begin(ctx context.Context, f faultSpec) int {
	r := in.r
	switch f.kind {
	case faultAgentKill:
		i := in.record(f.kind, "agent and plugin processes SIGKILLed, agent started again")
		r.agent.Kill()
		r.agent.Restart()
		in.finish(i, nil)
		return i
	case faultSIGHUP:
		i := in.record(f.kind, "SIGHUP to the agent")
		r.agent.Reload()
		in.finish(i, nil)
		return i
	case faultGCE5xx, faultGCE429:
		status, _ := strconv.Atoi(f.arg)
		i := in.record(f.kind, fmt.Sprintf("the fake compute API answers %d to most requests", status))
		sctx, cancel := context.WithCancel(ctx)
		in.storms[status] = cancel
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			storm(sctx, r, status)
		}()
		return i
	case faultStockout:
		i := in.record(f.kind, "ZONE_RESOURCE_POOL_EXHAUSTED in "+f.arg)
		r.cloud.GCE.SetStockout(f.arg, true)
		return i
	case faultNomadOutage:
		i := in.record(f.kind, "the Nomad API proxy of the agent and plugins stopped")
		r.nomadProxy.Stop()
		return i
	case faultRabbitCut:
		i := in.record(f.kind, "the APM plugin's AMQP and management proxies stopped")
		for _, p := range r.rabbitProxies {
			p.Stop()
		}
		return i
	case faultPostgresCut:
		i := in.record(f.kind, "the APM plugin's PostgreSQL proxy stopped")
		r.pgProxy.Stop()
		return i
	case faultRabbitNode:
		i := in.record(f.kind, "RabbitMQ node "+f.arg+" SIGKILLed")
		if err := runScript(ctx, r.svc.script, 30*time.Second, "kill-rabbit", f.arg); err != nil {
			in.finish(i, err)
		}
		return i
	case faultPostgresRestart:
		i := in.record(f.kind, "the soak's PostgreSQL: fast shutdown, start")
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.finish(i, runScript(ctx, r.svc.script, 2*time.Minute, "restart-postgres"))
		}()
		return i
	case faultVMLoss:
		n, _ := strconv.Atoi(f.arg)
		lost := in.loseVMs(n)
		i := in.record(f.kind, fmt.Sprintf("%d serving VMs lost, recreated by their MIGs: %v", len(lost), lost))
		in.finish(i, nil)
		return i
	case faultMaintenance:
		n, _ := strconv.Atoi(f.arg)
		i := in.record(f.kind, fmt.Sprintf("%d nodes: TERMINATE_ON_HOST_MAINTENANCE to their maintenance-drain daemons", n))
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.finish(i, in.maintenance(ctx, n))
		}()
		return i
	}
	r.t.Fatalf("unknown fault kind %q", f.kind)
	return -1
}

// end ends a held fault.
func (in *injector) end(ctx context.Context, f faultSpec, i int) {
	r := in.r
	switch f.kind {
	case faultGCE5xx, faultGCE429:
		status, _ := strconv.Atoi(f.arg)
		in.storms[status]()
		r.cloud.GCE.InjectHTTPErrors(status, 0)
		in.finish(i, nil)
	case faultStockout:
		r.cloud.GCE.SetStockout(f.arg, false)
		in.finish(i, nil)
	case faultNomadOutage:
		r.nomadProxy.Restart()
		in.finish(i, nil)
	case faultRabbitCut:
		for _, p := range r.rabbitProxies {
			p.Restart()
		}
		in.finish(i, nil)
	case faultPostgresCut:
		r.pgProxy.Restart()
		in.finish(i, nil)
	case faultRabbitNode:
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.finish(i, runScript(ctx, r.svc.script, 3*time.Minute, "start-rabbit", f.arg))
		}()
	}
}

// storm makes most compute API requests fail with status until ctx ends:
// a few errors are queued every 100 ms, so requests in between succeed, as
// in a real storm of 5xx or rate limiting.
func storm(ctx context.Context, r *run, status int) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		r.cloud.GCE.InjectHTTPErrors(status, 4)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loseVMs picks n serving VMs at random and makes them die.
func (in *injector) loseVMs(n int) []string {
	st := in.r.cloud.State()
	var serving []string
	zoneOf := map[string]string{}
	for _, node := range st.Nodes {
		if node.Status == api.NodeStatusReady && node.Eligibility == api.NodeSchedulingEligible && !node.Draining && node.RunningWorkers > 0 {
			serving = append(serving, node.Name)
			zoneOf[node.Name] = node.Zone
		}
	}
	in.rng.Shuffle(len(serving), func(i, j int) { serving[i], serving[j] = serving[j], serving[i] })
	var lost []string
	for _, name := range serving[:min(n, len(serving))] {
		if err := in.r.cloud.LoseInstance(zoneOf[name], name); err == nil {
			lost = append(lost, name)
		}
	}
	return lost
}

// maintenance runs cmd/maintenance-drain's engine for n serving nodes,
// each against a fake metadata server of its own, announces a host
// maintenance to them, waits until each has drained its node, and then
// lets the host go away: the VM stops and is recreated (LoseInstance). The
// daemons' durations are real time: a 70 s notice (the daemon's least
// drain window is a minute), 2 s of serving before the drain (10 simulated
// minutes), a 5 s margin.
func (in *injector) maintenance(ctx context.Context, n int) error {
	st := in.r.cloud.State()
	type target struct{ id, name, zone string }
	var nodes []target
	for _, node := range st.Nodes {
		if node.Status == api.NodeStatusReady && node.Eligibility == api.NodeSchedulingEligible && !node.Draining && node.RunningWorkers > 0 {
			nodes = append(nodes, target{node.ID, node.Name, node.Zone})
		}
	}
	in.rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	nodes = nodes[:min(n, len(nodes))]
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var daemons sync.WaitGroup
	errs := make(chan error, len(nodes))
	for _, node := range nodes {
		md := fakemetadata.New(fakemetadata.Options{})
		srv := httptest.NewServer(md)
		defer srv.Close()
		defer md.Close()
		md.SetMaintenanceEvent("NONE")
		daemons.Add(1)
		go func() {
			defer daemons.Done()
			err := maintenance.Main(dctx, cli.Env{
				Args: []string{"-node-id", node.id, "-nomad-addr", in.r.cloudURL, "-metadata-url", srv.URL,
					"-notice", "70s", "-drain-delay", "2s", "-margin", "5s", "-poll-timeout", "5s", "-log-level", "warn"},
				Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: io.Discard,
			})
			if err != nil && dctx.Err() == nil {
				errs <- fmt.Errorf("maintenance-drain for %s: %w", node.name, err)
			}
		}()
		md.SetMaintenanceEvent("TERMINATE_ON_HOST_MAINTENANCE")
	}
	for _, node := range nodes {
		drained := poll.Wait(30*time.Second, func() bool {
			for _, s := range in.r.cloud.State().Nodes {
				if s.ID == node.id {
					return s.LastDrain == "complete"
				}
			}
			return true // gone: scaled in meanwhile
		})
		if !drained {
			cancel()
			daemons.Wait()
			return fmt.Errorf("node %s not drained by its maintenance-drain daemon within 30s", node.name)
		}
		_ = in.r.cloud.LoseInstance(node.zone, node.name) // the host goes away; gone already is fine
	}
	cancel()
	daemons.Wait()
	close(errs)
	return <-errs
}
