package demo

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/textfmt"
)

// replay runs the load generator and the workers, samples the system, prints
// the live lines and, at the end, the summary and the files.
func replay(ctx context.Context, o Options, p runParts) (Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workersDone := make(chan error, 1)
	go func() { workersDone <- p.workers.Run(ctx) }()
	genDone := make(chan error, 1)
	started := time.Now()
	// The generator maps real time to simulated time from the moment Run
	// starts; the fleet track uses the same mapping from here (the two
	// differ by the goroutine's start, well under a simulated second).
	first, end := p.minutes[0].Start, p.minutes[len(p.minutes)-1].Start.Add(time.Minute)
	track := newFleetTrack(loadgen.Clock{RealStart: started, SimStart: first, Compression: o.Compression}, end, o.Start.Location(), backtestSLA)
	go func() { genDone <- p.gen.Run(ctx) }()
	fmt.Fprintf(o.Out, "demo: replaying %s from %s at x%g: one line every %s\n",
		o.Duration, o.Start.Format("2006-01-02 15:04 -07:00"), o.Compression, o.Every)

	samples := []Sample{p.sample(ctx, nil)} // the start of the replayed day
	sampleTick := time.NewTicker(sampleEvery)
	defer sampleTick.Stop()
	trackTick := time.NewTicker(trackEvery)
	defer trackTick.Stop()
	observe := func() {
		track.observe(time.Now(), p.cloud.State().ReadyWorkersTotal, p.gen.Stats().SimTime, p.workers.Waits)
	}
	observe()
	lastLine := time.Now()
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
			break loop
		case err := <-workersDone:
			runErr = fmt.Errorf("worker simulator: %w", err)
			break loop
		case err := <-genDone:
			if err != nil {
				runErr = fmt.Errorf("load generator: %w", err)
			}
			samples = append(samples, p.sample(ctx, samples))
			observe()
			break loop
		case <-trackTick.C:
			observe()
		case <-sampleTick.C:
			if p.agent.exited() {
				runErr = fmt.Errorf("%w: see %s", errAgentDied, filepath.Join(o.OutDir, "agent.log"))
				break loop
			}
			samples = append(samples, p.sample(ctx, samples))
			if time.Since(lastLine) >= o.Every {
				s := summarize(samples, p.minutes, o.Capacity, p.workers.Waits())
				fmt.Fprintln(o.Out, liveLine(samples[len(samples)-1], o.Start.Location(), o.Capacity, o.Price, s.WorkerHours))
				lastLine = time.Now()
			}
		}
	}
	if len(samples) < 2 {
		return Summary{}, runErr
	}
	waits := p.workers.Waits()
	track.finish(waits)
	s := summarize(samples, p.minutes, o.Capacity, waits)
	s.Real, s.Price, s.ScalingActions = time.Since(started), o.Price, p.scalingActions()
	s.WarmStarts, s.StandbyAtEnd = p.warmStarts(), p.standby()
	s.Preemptions = len(p.cloud.Preemptions())
	s.SLA, s.Measured = scoreRun(track, p.minutes, samples[len(samples)-1].Sim, o.Capacity, o.Start.Location())
	s.GeneratorLag = track.maxLag
	files, err := writeFiles(o, samples, s)
	writeSummary(o.Out, s, o, files)
	if runErr != nil {
		fmt.Fprintf(o.Out, "demo: stopped early: %v\n", runErr)
		return s, runErr
	}
	if err != nil {
		return s, err
	}
	if err := reportSLI(ctx, o, p); err != nil {
		return s, err
	}
	return s, reportShapes(ctx, o)
}

// sample reads the state of every part of the run.
func (p runParts) sample(ctx context.Context, prev []Sample) Sample {
	g, w := p.gen.Stats(), p.workers.Stats()
	st := p.cloud.State()
	s := Sample{Sim: g.SimTime, Generated: g.Requests, Served: w.Requests, Ready: st.ReadyWorkers}
	target := 0
	for _, m := range st.MIGs {
		s.Instances += len(m.Instances)
		if strings.Contains(","+demoSpotMIGs+",", ","+m.Zone+"/"+m.Name+",") {
			s.SpotInstances += len(m.Instances)
		}
		target += m.TargetSize
	}
	s.Demand = p.forecast.demand(ctx, target)
	s.RPM = rate(append(prev, s), rpmWindow)
	return s
}

// rpmWindow is the simulated time over which the live line's request rate
// is measured: the trace is noisy minute to minute.
const rpmWindow = 10 * time.Minute

// rate returns requests per simulated minute over the last window of samples.
func rate(samples []Sample, window time.Duration) float64 {
	n := len(samples)
	if n < 2 {
		return math.NaN()
	}
	last := samples[n-1]
	i := n - 2
	for i > 0 && last.Sim.Sub(samples[i].Sim) < window {
		i--
	}
	mins := last.Sim.Sub(samples[i].Sim).Minutes()
	if mins <= 0 {
		return math.NaN()
	}
	return float64(last.Generated-samples[i].Generated) / mins
}

// scalingActions counts the MIG changes the target made.
func (p runParts) scalingActions() int {
	n := 0
	for _, r := range p.cloud.GCE.Requests() {
		if r.Method == "POST" && r.Status == 200 && (strings.HasSuffix(r.Path, "/resize") || strings.HasSuffix(r.Path, "/deleteInstances")) {
			n++
		}
	}
	return n
}

// warmStarts counts the VMs the target started from the standby pool.
func (p runParts) warmStarts() int {
	n := 0
	for _, r := range p.cloud.GCE.Requests() {
		if r.Method != "POST" || r.Status != 200 || !strings.HasSuffix(r.Path, "/startInstances") {
			continue
		}
		var body struct {
			Instances []string `json:"instances"`
		}
		if json.Unmarshal([]byte(r.Body), &body) == nil {
			n += len(body.Instances)
		}
	}
	return n
}

// standby counts the pool's members now.
func (p runParts) standby() int {
	n := 0
	for _, m := range p.cloud.State().MIGs {
		n += m.Standby
	}
	return n
}

func writeFiles(o Options, samples []Sample, s Summary) ([]string, error) {
	png := filepath.Join(o.OutDir, "demo.png")
	csvPath := filepath.Join(o.OutDir, "samples.csv")
	title := fmt.Sprintf("nomad-gpu-autoscaler demo: %s from %s, %s requests, %.0f of %.0f static worker-hours, SLA days met %d/%d (worst-day p95 %s)",
		s.Simulated.Round(time.Minute), o.Start.Format("2006-01-02 15:04 -07:00"), textfmt.Thousands(float64(s.Generated)), s.WorkerHours, s.StaticHours,
		s.SLA.DaysMet, len(s.SLA.Days), s.SLA.WorstDayP95)
	if err := writePlot(png, samples, o.Capacity, title, o.Start.Location()); err != nil {
		return nil, err
	}
	if err := writeSamplesCSV(csvPath, samples); err != nil {
		return nil, err
	}
	return []string{png, csvPath, filepath.Join(o.OutDir, "agent.log")}, nil
}

func writeSamplesCSV(path string, samples []Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"sim_time", "requests_per_min", "forecast_per_min", "backlog", "workers_serving", "vms_billed", "generated", "served"})
	num := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	for _, s := range samples {
		_ = w.Write([]string{s.Sim.Format(time.RFC3339), num(s.RPM), num(s.Demand), strconv.FormatInt(s.Backlog(), 10),
			strconv.Itoa(s.ReadyTotal()), strconv.Itoa(s.Instances), strconv.FormatInt(s.Generated, 10), strconv.FormatInt(s.Served, 10)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
