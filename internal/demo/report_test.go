package demo

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
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

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 2000000: "2,000,000", -12345: "-12,345"} {
		must.Eq(t, want, thousands(in))
	}
}

func TestWriteSummaryComparesWithStaticSizing(t *testing.T) {
	var b bytes.Buffer
	o := Options{Start: time.Date(1995, 7, 13, 0, 0, 0, 0, time.FixedZone("", -4*3600)), Compression: 300}
	writeSummary(&b, Summary{Simulated: 24 * time.Hour, Real: 290 * time.Second, Generated: 2_000_000, Served: 1_999_000,
		PeakRPM: 6036, PeakAt: time.Date(1995, 7, 13, 13, 49, 0, 0, time.UTC), StaticWorkers: 61, StaticHours: 1464,
		WorkerHours: 512.4, MinWorkers: 3, MaxWorkers: 63, SLA: time.Minute, WithinSLA: 0.9912, Price: 0.71}, o, []string{"run/demo/demo.png"})
	for _, want := range []string{"2,000,000 generated", "6,036 req/min at 09:49", "61 workers", "1464.0 worker-hours", "512.4 worker-hours",
		"(35% of static", "99.12% of requests", "run/demo/demo.png"} {
		must.StrContains(t, b.String(), want)
	}
}
