package demo

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

func TestLiveLineShowsTheNumbersAnOperatorWatches(t *testing.T) {
	edt := time.FixedZone("", -4*3600)
	s := Sample{Sim: time.Date(1995, 7, 13, 13, 49, 0, 0, time.UTC), RPM: 5512, Demand: 6010.4,
		Generated: 1500, Served: 1200, Ready: map[string]int{"us-central1-b": 30, "us-central1-a": 31}}
	got := liveLine(s, edt, 100, 0.71, 100)
	for _, want := range []string{"Thu 09:49", "5512 req/min", "backlog    300", "forecast  6010/min", "a=31 b=30", "( 61, cap  6100/min)", "cost $  71.00"} {
		must.StrContains(t, got, want)
	}
	s.Demand = math.NaN()
	must.StrContains(t, liveLine(s, edt, 100, 0.71, 0), "forecast     -/min")
}

func TestWriteSummaryComparesWithStaticSizing(t *testing.T) {
	var b bytes.Buffer
	o := Options{Start: time.Date(1995, 7, 13, 0, 0, 0, 0, time.FixedZone("", -4*3600)), Compression: 300}
	writeSummary(&b, Summary{Simulated: 24 * time.Hour, Real: 290 * time.Second, Generated: 2_000_000, Served: 1_999_000,
		PeakRPM: 6036, PeakAt: time.Date(1995, 7, 13, 13, 49, 0, 0, time.UTC), StaticWorkers: 61, StaticHours: 1464,
		WorkerHours: 512.4, MinWorkers: 3, MaxWorkers: 63, Price: 0.71, WarmStarts: 7, StandbyAtEnd: 4, SpotHours: 400.2, Preemptions: 3}, o, []string{"run/demo/demo.png"})
	for _, want := range []string{"2,000,000 generated", "6,036 req/min at 09:49", "61 workers", "1464.0 worker-hours", "512.4 worker-hours",
		"(35% of static", "run/demo/demo.png", "warm pool   7 workers started from stopped VMs, serving 1m30s after the start (a new VM: 5m0s); 4 stopped VMs at the end",
		"tiers       400.2 of 512.4 billed worker-hours on Spot VMs (78%), the rest standard; 3 Spot VMs preempted"} {
		must.StrContains(t, b.String(), want)
	}
}

// The SLA in the backtest's words (days met, availability, worst-day p95,
// met or missed per day), then the measured latency and why it is higher.
func TestWriteSummaryReportsTheSLAAsTheBacktestDoes(t *testing.T) {
	var b bytes.Buffer
	o := Options{Start: time.Date(1995, 7, 13, 0, 0, 0, 0, time.FixedZone("", -4*3600)), Compression: 300}
	writeSummary(&b, Summary{
		SLA: SLAScore{Days: []backtest.DayScore{
			{Date: "1995-07-13", P95: 1, Met: true, AvailabilityPct: 100, BusinessMinutes: 840},
			{Date: "1995-07-14", P95: 4.25, Met: false, AvailabilityPct: 99.5, BusinessMinutes: 840},
		}, DaysMet: 1, AvailabilityPct: 99.75, WorstDayP95: 4.25},
		Measured: []MeasuredDay{{Date: "1995-07-13", P95: 14.2, Requests: 1_500_000}},
		P95:      11 * time.Second, P99: 32 * time.Second, MaxWait: time.Minute, GeneratorLag: 45 * time.Second,
	}, o, nil)
	for _, want := range []string{
		"SLA         days met 1/2  availability 99.750%  worst-day p95 4.25s",
		"p95 latency <= 3.00s from 08:00 to 22:00",
		"1995-07-13  p95 1.00s  met  availability 100.000% of 840 business minutes",
		"1995-07-14  p95 4.25s  missed  availability 99.500%",
		"measured    1995-07-13  p95 14.20s  (1s + the queue wait through RabbitMQ of the 1,500,000 requests",
		"whole replay, measured: p95 11s, p99 32s, max 1m0s",
		"a real millisecond is 300ms simulated",
		"published every 100ms (30s simulated)",
		"fell up to 45s (simulated) behind the clock",
	} {
		must.StrContains(t, b.String(), want)
	}
}
