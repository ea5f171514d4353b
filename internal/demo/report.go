package demo

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
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
		s.Simulated.Round(time.Minute), o.Start.Format("2006-01-02 15:04 -07:00"), thousands(float64(s.Generated)), s.Real.Round(time.Second), o.Compression)
	fmt.Fprintf(w, "requests    %s generated, %s served\n", thousands(float64(s.Generated)), thousands(float64(s.Served)))
	fmt.Fprintf(w, "peak        %s req/min at %s: a static fleet sized for it needs %d workers\n",
		thousands(s.PeakRPM), s.PeakAt.In(loc).Format("15:04"), s.StaticWorkers)
	fmt.Fprintf(w, "static      %8.1f worker-hours  $%9.2f\n", s.StaticHours, static)
	fmt.Fprintf(w, "autoscaled  %8.1f worker-hours  $%9.2f  (%.0f%% of static; %d to %d workers serving)\n",
		s.WorkerHours, auto, 100*s.WorkerHours/math.Max(s.StaticHours, 1e-9), s.MinWorkers, s.MaxWorkers)
	fmt.Fprintf(w, "SLA         %.2f%% of requests waited at most %s in the queue; p95 %s, p99 %s, max %s; max backlog %s requests\n",
		100*s.WithinSLA, s.SLA, s.P95.Round(time.Second), s.P99.Round(time.Second), s.MaxWait.Round(time.Second), thousands(float64(s.MaxBacklog)))
	fmt.Fprintf(w, "scaling     %d MIG changes (resize or delete after drain)\n", s.ScalingActions)
	fmt.Fprintf(w, "files       %s\n", strings.Join(files, ", "))
}

// thousands formats a number with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
