package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/demo"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// sample is the run at one moment, for the chart.
type sample struct {
	Sim       time.Time
	Published int64 // sampled requests confirmed so far
	Consumed  int64
	Serving   int // ready, eligible, not draining, running a worker
	Nodes     int // Nomad nodes
	Instances int // MIG instances, any state
	Target    int // sum of the MIG target sizes
}

// observer reads the simulated cloud every sampleEvery: the worker
// simulator's fleet, the chart's samples, the SLA's fleet readings and the
// peak node count. Reading simcloud's State at a thousand nodes costs
// milliseconds, so it is read once here and shared.
type observer struct {
	cloud  *simcloud.Cluster
	clock  loadgen.Clock
	ledger *ledger

	serving   atomic.Int64
	nodesPeak atomic.Int64

	mu       sync.Mutex
	samples  []sample
	readings []demo.FleetReading
	last     simcloud.State
}

const sampleEvery = 250 * time.Millisecond

func (o *observer) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		o.observe()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (o *observer) observe() {
	st := o.cloud.State()
	s := sample{Sim: o.clock.Sim(time.Now()), Published: o.ledger.nPub.Load(), Consumed: o.ledger.nCons.Load(),
		Serving: st.ReadyWorkersTotal, Nodes: len(st.Nodes)}
	for _, m := range st.MIGs {
		s.Instances += len(m.Instances)
		s.Target += m.TargetSize
	}
	o.serving.Store(int64(st.ReadyWorkersTotal))
	if int64(s.Nodes) > o.nodesPeak.Load() {
		o.nodesPeak.Store(int64(s.Nodes))
	}
	o.mu.Lock()
	o.samples = append(o.samples, s)
	o.readings = append(o.readings, demo.FleetReading{Sim: s.Sim, Workers: st.ReadyWorkersTotal})
	o.last = st
	o.mu.Unlock()
}

// Workers implements workersim.Fleet from the last reading.
func (o *observer) Workers(context.Context) (int, error) { return int(o.serving.Load()), nil }

func (o *observer) snapshot() ([]sample, []demo.FleetReading) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sample(nil), o.samples...), append([]demo.FleetReading(nil), o.readings...)
}

// processUsage is one plugin process's resources at one moment.
type processUsage struct {
	PID        int     `json:"pid"`
	RSSMB      float64 `json:"rss_mb"`
	Threads    int     `json:"threads"`
	Goroutines int     `json:"goroutines,omitempty"` // from its Prometheus metrics, when it serves them
}

// goroutineAddrs are the metrics endpoints of the plugins whose
// goroutines the soak follows, by plugin.
func (r *run) goroutineAddrs() map[string]string {
	return map[string]string{"strategy-slope": r.metricsAddr, "target-gce-gpu": r.targetMetricsAddr}
}

// pluginUsage reads every plugin process started from pluginDir, from
// /proc, plus go_goroutines from the metrics endpoints in addrs.
func pluginUsage(pluginDir string, addrs map[string]string) map[string]processUsage {
	out := map[string]processUsage{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || filepath.Dir(exe) != pluginDir {
			continue
		}
		u := processUsage{PID: pid}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			fields := strings.Fields(v)
			if len(fields) == 0 {
				continue
			}
			n, _ := strconv.Atoi(fields[0])
			switch k {
			case "VmRSS":
				u.RSSMB = float64(n) / 1024
			case "Threads":
				u.Threads = n
			}
		}
		f.Close()
		out[filepath.Base(exe)] = u
	}
	for name, addr := range addrs {
		if u, ok := out[name]; ok {
			u.Goroutines = int(promGauge(addr, "go_goroutines"))
			out[name] = u
		}
	}
	return out
}

// promGauge reads one unlabelled series of a Prometheus text endpoint; -1
// when it cannot.
func promGauge(addr, name string) float64 {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// promMax returns the largest value of the labelled series name (e.g. the
// strategy's desired workers per check); -1 when there is none.
func promMax(addr, name string) float64 {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	best := -1.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil && f > best {
			best = f
		}
	}
	return best
}

// agentTimings polls the agent's telemetry (/v1/metrics, go-metrics'
// in-memory sink: each interval's max) for the longest target Status and
// Scale calls seen.
type agentTimings struct {
	maxStatusMS atomic.Int64
	maxScaleMS  atomic.Int64
}

func (a *agentTimings) run(ctx context.Context, addr func() string) {
	client := &http.Client{Timeout: 3 * time.Second}
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		resp, err := client.Get("http://" + addr() + "/v1/metrics")
		if err != nil {
			continue
		}
		var m struct {
			Samples []struct {
				Name string
				Max  float64
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil {
			continue
		}
		for _, s := range m.Samples {
			switch {
			case strings.Contains(s.Name, "plugin.target.status.invoke_ms"):
				raise(&a.maxStatusMS, int64(s.Max))
			case strings.Contains(s.Name, "plugin.target.scale.invoke_ms"):
				raise(&a.maxScaleMS, int64(s.Max))
			}
		}
	}
}

func raise(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}
