package plugin

import (
	"math"
	"testing"

	"github.com/shoenig/test/must"
)

func TestCleanSeries(t *testing.T) {
	cases := []struct {
		name string
		in   []sample
		want []point
		q    seriesQuality
	}{
		{"an empty series stays empty", nil, []point{}, seriesQuality{}},
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
			got, q := cleanSeries(tc.in)
			must.Eq(t, tc.want, got)
			must.Eq(t, tc.q, q)
		})
	}
}

func TestCleanSeriesSurvivesExtremeTimestamps(t *testing.T) {
	got, _ := cleanSeries([]sample{{math.MinInt64, 1}, {math.MaxInt64, 2}})
	must.SliceLen(t, 2, got)
	must.Eq(t, 0.0, got[1].x)
	must.True(t, got[0].x < 0 && !math.IsInf(got[0].x, 0))
}
