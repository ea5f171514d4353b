package plugin

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// sample is one metric value at a Unix time in seconds.
type sample struct {
	unix  int64
	value float64
}

func metricsOf(in []sample) sdk.TimestampedMetrics {
	m := make(sdk.TimestampedMetrics, len(in))
	for i, s := range in {
		m[i] = sdk.TimestampedMetric{Timestamp: time.Unix(s.unix, 0), Value: s.value}
	}
	return m
}

func TestCleanSeries(t *testing.T) {
	cases := []struct {
		name string
		in   []sample
		want []point
		q    seriesQuality
	}{
		{"an empty series stays empty", nil, nil, seriesQuality{}},
		{"a single point sits at x = 0", []sample{{600, 5}}, []point{{0, 5}}, seriesQuality{}},
		{"x counts minutes back from the newest point", []sample{{0, 1}, {60, 2}, {120, 3}}, []point{{-2, 1}, {-1, 2}, {0, 3}}, seriesQuality{}},
		{"unsorted samples are sorted by time", []sample{{120, 3}, {0, 1}, {60, 2}}, []point{{-2, 1}, {-1, 2}, {0, 3}}, seriesQuality{}},
		{"NaN, Inf and negative values are dropped, not read as zero demand",
			[]sample{{0, 1}, {60, math.NaN()}, {120, math.Inf(1)}, {180, -4}, {240, math.Inf(-1)}, {300, 2}},
			[]point{{-5, 1}, {0, 2}}, seriesQuality{dropped: 4}},
		{"duplicate timestamps keep the larger reading", []sample{{0, 1}, {60, 7}, {60, 3}, {120, 2}},
			[]point{{-2, 1}, {-1, 7}, {0, 2}}, seriesQuality{duplicates: 1}},
		{"enormous values are clamped to maxRate", []sample{{0, 1e300}, {60, 1}}, []point{{-1, maxRate}, {0, 1}}, seriesQuality{clamped: 1}},
		{"gaps keep their true distance", []sample{{0, 1}, {60, 1}, {3600, 1}}, []point{{-60, 1}, {-59, 1}, {0, 1}}, seriesQuality{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, q, _ := cleanSeries(metricsOf(tc.in), nil)
			must.Eq(t, tc.want, got)
			must.Eq(t, tc.q, q)
		})
	}
}

func TestCleanSeriesSurvivesExtremeTimestamps(t *testing.T) {
	got, _, _ := cleanSeries(metricsOf([]sample{{math.MinInt64, 1}, {math.MaxInt64, 2}}), nil)
	must.SliceLen(t, 2, got)
	must.Eq(t, 0.0, got[1].x)
	must.True(t, got[0].x < 0 && !math.IsInf(got[0].x, 0))
}

func TestCleanSeriesReusesTheBufferAndLeavesTheMetricsAlone(t *testing.T) {
	m := metricsOf([]sample{{120, 3}, {0, 1}, {60, 2}, {60, 5}})
	before := append(sdk.TimestampedMetrics(nil), m...)
	buf := make([]point, 0, 8)
	got, q, _ := cleanSeries(m, buf)
	must.Eq(t, []point{{-2, 1}, {-1, 5}, {0, 3}}, got)
	must.Eq(t, seriesQuality{duplicates: 1}, q)
	must.True(t, &buf[:1][0] == &got[0]) // written into the caller's storage
	must.Eq(t, before, m)

	// A recycled buffer that held a longer series leaves nothing behind.
	got, _, _ = cleanSeries(metricsOf([]sample{{0, 7}}), got)
	must.Eq(t, []point{{0, 7}}, got)
}

func TestCleanSeriesAllocatesNothingWithALargeEnoughBuffer(t *testing.T) {
	m := metricsOf([]sample{{120, 3}, {0, 1}, {60, math.NaN()}, {60, 2}, {180, 4}})
	buf := make([]point, 0, len(m))
	allocs := testing.AllocsPerRun(100, func() { buf, _, _ = cleanSeries(m, buf) })
	must.Eq(t, 0.0, allocs)
}

func TestCleanSeriesGivesTheSameInTimeOrderAndOutOfIt(t *testing.T) {
	// In time order cleanSeries takes its one-pass path (cleanSorted);
	// reversed, it sorts. Both must clean alike: values, offsets and the
	// counts of what was dropped, clamped and merged.
	r := rand.New(rand.NewPCG(3, 4))
	sortedOnly := 0 // reversed series that only the sorting path cleans
	for range 200 {
		n := 1 + r.IntN(40)
		in := make([]sample, 0, n)
		unix := int64(r.IntN(1000))
		for range n {
			v := float64(r.IntN(100))
			switch r.IntN(10) {
			case 0:
				v = math.NaN()
			case 1:
				v = -1
			case 2:
				v = 2 * maxRate
			}
			in = append(in, sample{unix, v})
			if r.IntN(4) > 0 { // else a duplicate timestamp
				unix += 60
			}
		}
		sorted, qs, ns := cleanSeries(metricsOf(in), nil)
		rev := slices.Clone(in)
		slices.Reverse(rev)
		if _, _, _, ok := cleanSorted(metricsOf(rev), nil); !ok {
			sortedOnly++
		}
		got, qr, nr := cleanSeries(metricsOf(rev), nil)
		must.Eq(t, sorted, got, must.Sprintf("in %v", in))
		must.Eq(t, qs, qr)
		must.Eq(t, ns, nr)
	}
	must.Greater(t, 100, sortedOnly)
}

func TestTheUsualSeriesGoesOntoTheGridAsCleaningWouldPutIt(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	series := func(n int, start, step int64) []sample {
		out := make([]sample, n)
		for i := range out {
			out[i] = sample{start + int64(i)*step, math.Floor(r.Float64() * 3000)}
		}
		return out
	}
	slow := func(m sdk.TimestampedMetrics) *grid {
		pts, _, newest := cleanSeries(m, nil)
		g := new(grid)
		g.fill(pts, newest)
		return g
	}
	// A minute's counts, a 10-second step (a step that is no exact
	// fraction of a minute in binary), four weeks of minutes, two points.
	for _, in := range [][]sample{series(500, 1_780_000_020, 60), series(300, 1_780_000_000, 10),
		series(28*1440, 1_780_000_020, 60), series(2, 1_780_000_020, 60)} {
		m := metricsOf(in)
		fast := new(grid)
		must.True(t, fast.fillMetrics(m), must.Sprintf("%d samples", len(in)))
		must.Eq(t, *slow(m), *fast, must.Sprintf("%d samples", len(in)))
	}
	// Any other series is left to cleaning.
	base := series(100, 1_780_000_020, 60)
	for name, edit := range map[string]func([]sample) []sample{
		"a NaN":                func(s []sample) []sample { s[40].value = math.NaN(); return s },
		"+Inf":                 func(s []sample) []sample { s[99].value = math.Inf(1); return s },
		"a negative value":     func(s []sample) []sample { s[0].value = -1; return s },
		"a value over maxRate": func(s []sample) []sample { s[7].value = 2 * maxRate; return s },
		"a gap":                func(s []sample) []sample { return slices.Delete(s, 50, 51) },
		"a duplicate":          func(s []sample) []sample { return slices.Insert(s, 50, s[50]) },
		"two samples swapped":  func(s []sample) []sample { s[20], s[21] = s[21], s[20]; return s },
		"a single sample":      func(s []sample) []sample { return s[:1] },
		"a late last sample":   func(s []sample) []sample { s[99].unix += 30; return s },
	} {
		g := new(grid)
		must.False(t, g.fillMetrics(metricsOf(edit(slices.Clone(base)))), must.Sprint(name))
	}
}
