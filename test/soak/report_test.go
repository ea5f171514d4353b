package soak

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/demo"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// settled is the cluster once the replay is over and the fleet has come to
// rest (or the wait for it ended).
type settled struct {
	LeakedVMs           int  `json:"leaked_vms"`
	NodesLeftIneligible int  `json:"nodes_left_ineligible"`
	MIGTotal            int  `json:"mig_total"`
	Instances           int  `json:"instances"`
	ServingNodes        int  `json:"serving_nodes"`
	StrategyCount       int  `json:"strategy_count"`
	AtRest              bool `json:"at_rest"`
	QueuesDrained       bool `json:"queues_drained"`
}

// settle waits until every published request is consumed and the fleet is
// at rest (every MIG instance serving as a ready, eligible node, the MIG
// total equal to the strategy's count), then counts what leaked.
func settle(t *testing.T, r *run, led *ledger, obs *observer) settled {
	t.Helper()
	var s settled
	s.QueuesDrained = poll.Wait(2*time.Minute, func() bool { return led.nCons.Load() >= led.nPub.Load() })
	drained := s.QueuesDrained
	atRest := poll.Wait(2*time.Minute, func() bool {
		s = measureRest(r, drained)
		return s.LeakedVMs == 0 && s.NodesLeftIneligible == 0 && s.Instances == s.MIGTotal && s.ServingNodes == s.MIGTotal
	})
	s = measureRest(r, drained)
	s.AtRest = atRest
	return s
}

func measureRest(r *run, drained bool) settled {
	st := r.cloud.State()
	s := settled{QueuesDrained: drained}
	desired := promMax(r.metricsAddr, "fleetslope_strategy_desired_workers")
	s.StrategyCount = min(max(int(desired), 2), r.p.max)
	nodes := map[string]int{} // zone/name -> index
	for i, n := range st.Nodes {
		nodes[n.Zone+"/"+n.Name] = i
	}
	for _, m := range st.MIGs {
		s.MIGTotal += m.TargetSize
		for _, in := range m.Instances {
			s.Instances++
			if in.Status != "RUNNING" {
				continue
			}
			i, ok := nodes[m.Zone+"/"+in.Name]
			if !ok {
				s.LeakedVMs++ // running, billed, and no node
				continue
			}
			n := st.Nodes[i]
			switch {
			case n.Status == api.NodeStatusReady && (n.Eligibility != api.NodeSchedulingEligible || n.Draining):
				s.NodesLeftIneligible++
			case n.Status == api.NodeStatusReady && n.RunningWorkers > 0:
				s.ServingNodes++
			}
		}
	}
	s.LeakedVMs += max(0, s.MIGTotal-s.StrategyCount)
	return s
}

// scaleIns measures every scale-in from the fakes' logs: from the first
// drain of the nodes a deleteInstances names to that request, and the
// slowest drain (started to completed). The simulated cloud runs on the
// real clock with durations divided by the compression, so these are real
// seconds, as the policy's node_drain_deadline (1s) is.
func scaleIns(r *run) (maxScaleIn, slowestDrain float64, count int) {
	started := map[string]time.Time{}
	for _, e := range r.cloud.Nomad.Events() {
		switch e.Kind {
		case fakenomad.EventDrainStarted:
			started[e.NodeName] = e.Time
		case fakenomad.EventDrainCompleted:
			if s, ok := started[e.NodeName]; ok {
				slowestDrain = max(slowestDrain, e.Time.Sub(s).Seconds())
			}
		}
	}
	for _, req := range r.cloud.GCE.Requests() {
		if req.Method != "POST" || req.Status != 200 || !strings.HasSuffix(req.Path, "/deleteInstances") {
			continue
		}
		var body struct{ Instances []string }
		if json.Unmarshal([]byte(req.Body), &body) != nil {
			continue
		}
		var first time.Time
		for _, in := range body.Instances {
			if s, ok := started[path.Base(in)]; ok && (first.IsZero() || s.Before(first)) {
				first = s
			}
		}
		if !first.IsZero() {
			count++
			maxScaleIn = max(maxScaleIn, req.Time.Sub(first).Seconds())
		}
	}
	return maxScaleIn, slowestDrain, count
}

// report is soak.json.
type report struct {
	Profile     string  `json:"profile"`
	Start       string  `json:"start"`
	Simulated   string  `json:"simulated"`
	RealSeconds float64 `json:"real_seconds"`
	Compression float64 `json:"compression"`
	DailyVolume float64 `json:"daily_requests"`
	Sample      float64 `json:"sample_factor"`
	ledgerCounts
	settled
	PublisherFailovers int64 `json:"publisher_failovers"`
	WorkerRestarts     int64 `json:"worker_restarts"`
	RowInsertRetries   int64 `json:"row_insert_retries"`
	NodesPeak          int   `json:"nodes_peak"`
	MaxStatusMS        int64 `json:"max_status_ms"`
	MaxScaleMS         int64 `json:"max_scale_ms"`
	// MaxScaleInS and SlowestDrainS are real seconds (the policy's
	// durations are real time at x300); the _sim_ ones simulated.
	MaxScaleInS      float64          `json:"max_scale_in_s"`
	SlowestDrainS    float64          `json:"slowest_drain_s"`
	MaxScaleInSimS   float64          `json:"max_scale_in_sim_s"`
	SlowestDrainSimS float64          `json:"slowest_drain_sim_s"`
	ScaleIns         int              `json:"scale_ins"`
	Faults           []faultRecord    `json:"faults"`
	FaultKinds       []string         `json:"fault_kinds"`
	Plugins          []pluginGrowth   `json:"plugins"`
	SLA              []dayScore       `json:"sla_per_day"`
	samples          []sample         `json:"-"`
	minutes          []loadgen.Minute `json:"-"`
}

type pluginGrowth struct {
	Name               string       `json:"name"`
	Start              processUsage `json:"start"`
	End                processUsage `json:"end"`
	RSSGrowthPct       float64      `json:"rss_growth_pct"`
	GoroutineGrowthPct float64      `json:"goroutine_growth_pct,omitempty"`
}

type dayScore struct {
	Date            string  `json:"date"`
	P95S            float64 `json:"p95_s"`
	Met             bool    `json:"met"`
	AvailabilityPct float64 `json:"availability_pct"`
}

func buildReport(r *run, led *ledger, obs *observer, in *injector, tm *agentTimings, before, after map[string]processUsage,
	minutes []loadgen.Minute, real time.Duration, s settled) report {
	samples, readings := obs.snapshot()
	rep := report{Profile: r.p.name, Start: r.p.start, Simulated: r.p.duration.String(), RealSeconds: real.Seconds(),
		Compression: r.p.compression, DailyVolume: r.p.daily, Sample: r.p.sample,
		ledgerCounts: led.counts(), settled: s, NodesPeak: int(obs.nodesPeak.Load()),
		MaxStatusMS: tm.maxStatusMS.Load(), MaxScaleMS: tm.maxScaleMS.Load(), Faults: in.snapshot(),
		samples: samples, minutes: minutes}
	rep.MaxScaleInS, rep.SlowestDrainS, rep.ScaleIns = scaleIns(r)
	rep.MaxScaleInSimS, rep.SlowestDrainSimS = rep.MaxScaleInS*rep.Compression, rep.SlowestDrainS*rep.Compression
	seen := map[string]bool{}
	for _, f := range rep.Faults {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			rep.FaultKinds = append(rep.FaultKinds, f.Kind)
		}
	}
	for _, name := range []string{"apm-rabbitmq", "strategy-slope", "target-gce-gpu"} {
		g := pluginGrowth{Name: name, Start: before[name], End: after[name]}
		if g.Start.RSSMB > 0 {
			g.RSSGrowthPct = 100 * (g.End.RSSMB - g.Start.RSSMB) / g.Start.RSSMB
		}
		if g.Start.Goroutines > 0 {
			g.GoroutineGrowthPct = 100 * float64(g.End.Goroutines-g.Start.Goroutines) / float64(g.Start.Goroutines)
		}
		rep.Plugins = append(rep.Plugins, g)
	}
	if len(readings) > 0 {
		start, _ := time.Parse(time.RFC3339, r.p.start)
		sc := demo.ScoreFleetSLA(minutes, readings, readings[len(readings)-1].Sim, capacityPerWorker/r.p.sample, start.Location())
		for _, d := range sc.Days {
			rep.SLA = append(rep.SLA, dayScore{Date: d.Date, P95S: float64(d.P95), Met: d.Met, AvailabilityPct: d.AvailabilityPct})
		}
	}
	return rep
}

func (rep report) write(t *testing.T, dir string) {
	t.Helper()
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "soak.json"), b, 0o644); err != nil {
		t.Errorf("write soak.json: %v", err)
	}
	if err := writePlot(filepath.Join(dir, "soak.png"), rep); err != nil {
		t.Errorf("write soak.png: %v", err)
	}
	t.Logf("soak.json (%s):\n%s", dir, rep.summary())
}

func (rep report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s from %s in %.0f s real (x%g), %g requests/day, one published request stands for %g\n",
		rep.Simulated, rep.Start, rep.RealSeconds, rep.Compression, rep.DailyVolume, rep.Sample)
	fmt.Fprintf(&b, "  published %d  consumed %d  lost %d  redeliveries %d  republished %d  (publisher failovers %d, worker restarts %d, row retries %d)\n",
		rep.Published, rep.Consumed, rep.Lost, rep.Redeliveries, rep.Republished, rep.PublisherFailovers, rep.WorkerRestarts, rep.RowInsertRetries)
	fmt.Fprintf(&b, "  leaked_vms %d  nodes_left_ineligible %d  (at rest %v: MIG total %d, instances %d, serving %d, strategy %d)\n",
		rep.LeakedVMs, rep.NodesLeftIneligible, rep.AtRest, rep.MIGTotal, rep.Instances, rep.ServingNodes, rep.StrategyCount)
	fmt.Fprintf(&b, "  nodes_peak %d  max_status_ms %d  max_scale_ms %d  max_scale_in_s %.1f vs slowest drain %.1f s real (%.0f vs %.0f s simulated; %d scale-ins)\n",
		rep.NodesPeak, rep.MaxStatusMS, rep.MaxScaleMS, rep.MaxScaleInS, rep.SlowestDrainS, rep.MaxScaleInSimS, rep.SlowestDrainSimS, rep.ScaleIns)
	for _, p := range rep.Plugins {
		fmt.Fprintf(&b, "  %-15s RSS %.1f -> %.1f MB (%+.1f%%), threads %d -> %d", p.Name, p.Start.RSSMB, p.End.RSSMB, p.RSSGrowthPct, p.Start.Threads, p.End.Threads)
		if p.Start.Goroutines > 0 {
			fmt.Fprintf(&b, ", goroutines %d -> %d (%+.1f%%)", p.Start.Goroutines, p.End.Goroutines, p.GoroutineGrowthPct)
		}
		b.WriteString("\n")
	}
	for _, f := range rep.Faults {
		fmt.Fprintf(&b, "  fault %-22s at %s (+%.0fs real) for %s (%.1fs real) %s %s\n", f.Kind, f.At.Format("01-02 15:04"), f.AtRealS, f.Held, f.HeldRealS, f.Detail, f.Error)
	}
	for _, d := range rep.SLA {
		fmt.Fprintf(&b, "  SLA %s: p95 %.2f s, met %v, availability %.2f%%\n", d.Date, d.P95S, d.Met, d.AvailabilityPct)
	}
	return b.String()
}

// check asserts the acceptance: nothing lost, leaked or left
// ineligible; every scheduled fault kind injected; the plugins grew less
// than 20%.
func (rep report) check(t *testing.T) {
	t.Helper()
	if rep.Published == 0 {
		t.Errorf("nothing was published")
	}
	if rep.Lost != 0 || rep.LeakedVMs != 0 || rep.NodesLeftIneligible != 0 {
		t.Errorf("lost %d, leaked_vms %d, nodes_left_ineligible %d: want all 0", rep.Lost, rep.LeakedVMs, rep.NodesLeftIneligible)
	}
	want := map[string]bool{}
	for _, f := range selectedProfile().faults {
		want[f.kind] = true
	}
	for _, k := range rep.FaultKinds {
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("fault kinds never injected: %v", want)
	}
	for _, p := range rep.Plugins {
		if p.Start.RSSMB == 0 || p.End.RSSMB == 0 {
			t.Errorf("%s: no resource reading (start %+v, end %+v)", p.Name, p.Start, p.End)
			continue
		}
		if p.RSSGrowthPct >= 20 {
			t.Errorf("%s: RSS grew %.1f%% (%.1f -> %.1f MB): want under 20%%", p.Name, p.RSSGrowthPct, p.Start.RSSMB, p.End.RSSMB)
		}
		// target-gce-gpu's goroutines are reported, not judged: the
		// agent's SIGHUP replaces its clients, and the old compute
		// client's idle keep-alive connections (two goroutines each) live
		// until the transport's 90 s idle timeout, longer than the short
		// run. Its writer lock's goroutines are checked in its own tests.
		if p.GoroutineGrowthPct >= 20 && p.Name != "target-gce-gpu" {
			t.Errorf("%s: goroutines grew %.1f%% (%d -> %d): want under 20%%", p.Name, p.GoroutineGrowthPct, p.Start.Goroutines, p.End.Goroutines)
		}
	}
}
