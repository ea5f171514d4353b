package plugin

import (
	"math"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// benchmarkRun measures one evaluation with n per-minute points of a noisy
// diurnal-like series, the policy's full config (floor, time zone) included.
func benchmarkRun(b *testing.B, n int) {
	values := make([]float64, n)
	for i := range values {
		values[i] = 2000 + 800*math.Sin(float64(i)/200) + float64((i*7919)%300)
	}
	cfg := map[string]string{
		"capacity_per_worker": "100", "horizon": "25m", "confidence": "0.99",
		"scale_in_window": "6m", "floor": "2", "floor_hours": "08:00-22:00", "timezone": "America/New_York",
	}
	p := New(hclog.NewNullLogger())
	if err := p.SetConfig(map[string]string{}); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	p.SetClock(func() time.Time { return now })
	e := evalOf(cfg, now, values...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Run(e, 20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRun60(b *testing.B)   { benchmarkRun(b, 60) }
func BenchmarkRun180(b *testing.B)  { benchmarkRun(b, 180) }
func BenchmarkRun1440(b *testing.B) { benchmarkRun(b, 1440) }

// benchConfig is the strategy block of the policy's rate check.
var benchConfig = map[string]string{
	"capacity_per_worker": "100", "mode": "rate", "horizon": "25m", "confidence": "0.99",
	"trend_half_life": "30m", "noise_half_life": "60m", "persistence_window": "15m",
	"scale_in_window": "6m", "max_scale_in": "0.25", "floor": "2", "floor_hours": "08:00-22:00",
	"floor_days": "Mon-Sun", "timezone": "America/New_York",
}

// BenchmarkParseConfig is what every Run paid before the config cache.
func BenchmarkParseConfig(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseConfig(benchConfig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConfigCacheHit is what a Run pays for its config now.
func BenchmarkConfigCacheHit(b *testing.B) {
	c := newConfigCache()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.parse(benchConfig); err != nil {
			b.Fatal(err)
		}
	}
}
