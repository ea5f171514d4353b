package demo

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/textfmt"
)

// liveLine is the line printed every few seconds.
func liveLine(s Sample, loc *time.Location, capacity, price, workerHours float64) string {
	var zones []string
	for _, z := range slices.Sorted(maps.Keys(s.Ready)) {
		zones = append(zones, fmt.Sprintf("%s=%d", shortZone(z), s.Ready[z]))
	}
	forecast := "    -"
	if !math.IsNaN(s.Demand) {
		forecast = fmt.Sprintf("%5.0f", s.Demand)
	}
	return fmt.Sprintf("%s  %5.0f req/min  backlog %6d  forecast %s/min  workers %-13s (%3d, cap %5.0f/min)  cost $%7.2f",
		s.Sim.In(loc).Format("Mon 15:04"), s.RPM, s.Backlog(), forecast, strings.Join(zones, " "),
		s.ReadyTotal(), float64(s.ReadyTotal())*capacity, workerHours*price)
}

// shortZone turns us-central1-a into a.
func shortZone(z string) string {
	if i := strings.LastIndexByte(z, '-'); i >= 0 {
		return z[i+1:]
	}
	return z
}

// writeSummary prints the end-of-run report.
func writeSummary(w io.Writer, s Summary, o Options, files []string) {
	auto, static := s.Cost()
	loc := o.Start.Location()
	fmt.Fprintf(w, "\n== %s of the NASA-HTTP trace from %s, scaled to %s requests, replayed in %s (x%g)\n",
		s.Simulated.Round(time.Minute), o.Start.Format("2006-01-02 15:04 -07:00"), textfmt.Thousands(float64(s.Generated)), s.Real.Round(time.Second), o.Compression)
	fmt.Fprintf(w, "requests    %s generated, %s served\n", textfmt.Thousands(float64(s.Generated)), textfmt.Thousands(float64(s.Served)))
	fmt.Fprintf(w, "peak        %s req/min at %s: a static fleet sized for it needs %d workers\n",
		textfmt.Thousands(s.PeakRPM), s.PeakAt.In(loc).Format("15:04"), s.StaticWorkers)
	fmt.Fprintf(w, "static      %8.1f worker-hours  $%9.2f\n", s.StaticHours, static)
	fmt.Fprintf(w, "autoscaled  %8.1f worker-hours  $%9.2f  (%.0f%% of static; %d to %d workers serving)\n",
		s.WorkerHours, auto, 100*s.WorkerHours/math.Max(s.StaticHours, 1e-9), s.MinWorkers, s.MaxWorkers)
	writeSLA(w, s, o)
	fmt.Fprintf(w, "scaling     %d MIG changes (resize or delete after drain)\n", s.ScalingActions)
	fmt.Fprintf(w, "warm pool   %d workers started from stopped VMs, serving %s after the start (a new VM: 5m0s); %d stopped VMs at the end\n",
		s.WarmStarts, demoWarmBoot, s.StandbyAtEnd)
	fmt.Fprintf(w, "tiers       %.1f of %.1f billed worker-hours on Spot VMs (%.0f%%), the rest standard; %d Spot VMs preempted\n",
		s.SpotHours, s.WorkerHours, 100*s.SpotHours/math.Max(s.WorkerHours, 1e-9), s.Preemptions)
	fmt.Fprintf(w, "files       %s\n", strings.Join(files, ", "))
}

// writeSLA prints the SLA in the backtest's words, day by day, then the
// latency measured through RabbitMQ and why the two differ.
func writeSLA(w io.Writer, s Summary, o Options) {
	r := backtestSLA
	fmt.Fprintf(w, "SLA         days met %d/%d  availability %.3f%%  worst-day p95 %s  (cmd/backtest's SLA: p95 latency <= %s from %s to %s, a business minute available when its wait <= %s)\n",
		s.SLA.DaysMet, len(s.SLA.Days), s.SLA.AvailabilityPct, s.SLA.WorstDayP95, backtest.Seconds(r.p95.Seconds()),
		clock(r.from), clock(r.to), r.requestTimeout)
	for _, d := range s.SLA.Days {
		verdict := "met"
		if !d.Met {
			verdict = "missed"
		}
		fmt.Fprintf(w, "            %s  p95 %s  %s  availability %.3f%% of %d business minutes\n", d.Date, d.P95, verdict, d.AvailabilityPct, d.BusinessMinutes)
	}
	fmt.Fprintf(w, "            scored as the backtest scores, in simulated minutes: each minute's arrivals queue for the workers measured serving in it; latency = %s of service + the wait for that queue\n",
		r.serviceTime)
	for _, d := range s.Measured {
		fmt.Fprintf(w, "measured    %s  p95 %s  (%s + the queue wait through RabbitMQ of the %s requests taken in business hours)\n",
			d.Date, d.P95, r.serviceTime, textfmt.Thousands(float64(d.Requests)))
	}
	fmt.Fprintf(w, "queue wait  whole replay, measured: p95 %s, p99 %s, max %s; max backlog %s requests\n",
		s.P95.Round(time.Second), s.P99.Round(time.Second), s.MaxWait.Round(time.Second), textfmt.Thousands(float64(s.MaxBacklog)))
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) * o.Compression) }
	fmt.Fprintf(w, "            at x%g a real millisecond is %s simulated: jobs are published every %s (%s simulated), the workers read the fleet every %s (%s)\n"+
		"            and the load generator fell up to %s (simulated) behind the clock in business hours, so measured waits include the demo's own delays and\n"+
		"            overstate what the fleet makes requests wait; the SLA line above does not\n",
		o.Compression, sim(time.Millisecond), publishTick, sim(publishTick), fleetPoll, sim(fleetPoll), s.GeneratorLag.Round(time.Second))
}

// clock formats minutes after midnight as HH:MM.
func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }
