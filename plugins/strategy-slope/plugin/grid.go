package plugin

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// grid is a cleaned series laid on a regular step (a minute for the
// requests_per_minute query): v[i] is slot i, the newest slot is the last,
// and a missing sample is NaN. Prefix sums over the valid values give the
// mean of any range in O(1).
type grid struct {
	v      []float64
	sum    []float64 // sum[i]: the valid values of v[:i] added up
	cnt    []float64 // cnt[i]: how many of v[:i] are valid
	step   float64   // minutes per slot
	newest float64   // Unix seconds of the newest slot
}

// maxGridSlots bounds a grid whatever the timestamps: a series with a
// few points years apart must not allocate years of slots.
const maxGridSlots = 64 * 1024

// fill lays pts (sorted, x in minutes relative to the newest) on the grid,
// reusing g's storage. newest is the newest point's Unix time in seconds.
func (g *grid) fill(pts []point, newest float64) {
	g.newest = newest
	// The usual series is evenly spaced: try its first step before
	// looking for the typical one (fillEven checks every point).
	if len(pts) >= 2 && len(pts) <= maxGridSlots {
		if s := pts[1].x - pts[0].x; s > 0 && int(math.Round(-pts[0].x/s))+1 == len(pts) {
			n := len(pts)
			g.step = s
			g.v, g.sum, g.cnt = resize(g.v, n), resize(g.sum, n+1), resize(g.cnt, n+1)
			if g.fillEven(pts) {
				return
			}
		}
	}
	g.step = typicalStep(pts)
	if g.step <= 0 {
		g.step = 1
	}
	n := 1
	if len(pts) > 0 {
		n = min(int(math.Round(-pts[0].x/g.step))+1, maxGridSlots, 4*len(pts)+16)
	}
	g.v, g.sum, g.cnt = resize(g.v, n), resize(g.sum, n+1), resize(g.cnt, n+1)
	if len(pts) == n && g.fillEven(pts) {
		return
	}
	for i := range g.v {
		g.v[i] = math.NaN()
	}
	for _, p := range pts {
		if i := n - 1 + int(math.Round(p.x/g.step)); i >= 0 {
			g.v[i] = p.y
		}
	}
	g.sum[0], g.cnt[0] = 0, 0
	for i, y := range g.v {
		g.sum[i+1], g.cnt[i+1] = g.sum[i], g.cnt[i]
		if !math.IsNaN(y) {
			g.sum[i+1] += y
			g.cnt[i+1]++
		}
	}
}

// fillMetrics lays the agent's metrics on g directly, for the usual rate
// series: at least two samples, every value demand (finite, non-negative,
// at most maxRate), timestamps rising by the same whole number of seconds.
// Then cleaning would keep every sample as it is and fill would put point i
// in slot i, so g ends exactly as cleanSeries and fill would leave it,
// without the points in between: a window of four weeks is 40,000 samples
// read at every evaluation, and each pass over them costs. It reports
// false, leaving g to be refilled, for any other series (cleanSeries then
// drops, sorts and counts what it must).
func (g *grid) fillMetrics(m sdk.TimestampedMetrics) bool {
	n := len(m)
	if n < 2 || n > maxGridSlots {
		return false
	}
	t0, t1 := m[0].Timestamp.Unix(), m[1].Timestamp.Unix()
	d := t1 - t0
	if d <= 0 || m[n-1].Timestamp.Unix() != t0+int64(n-1)*d {
		return false
	}
	last := float64(m[n-1].Timestamp.Unix())
	// The step as fill computes it from the first two points' offsets.
	g.step = (float64(t1)-last)/60 - (float64(t0)-last)/60
	g.newest = last
	g.v, g.sum, g.cnt = resize(g.v, n), resize(g.sum, n+1), resize(g.cnt, n+1)
	var sum float64
	g.sum[0], g.cnt[0] = 0, 0
	prev := t0 - d
	for i := range m {
		s := &m[i]
		v := s.Value
		t := s.Timestamp.Unix()
		// NaN fails both comparisons and +Inf the second. t > prev
		// first: a difference of timestamps at the ends of int64 could
		// wrap round to d.
		if !(v >= 0 && v <= maxRate) || t <= prev || t-prev != d {
			return false
		}
		prev = t
		g.v[i] = v
		sum += v
		g.sum[i+1], g.cnt[i+1] = sum, float64(i+1)
	}
	return true
}

// fillEven is fill for a series without gaps (the usual zero-filled
// per-minute one), where point i is slot i and the sums need no test for
// gaps. It reports false, leaving g to be refilled, when a point is off
// its slot.
func (g *grid) fillEven(pts []point) bool {
	n := len(pts)
	var sum float64
	g.sum[0], g.cnt[0] = 0, 0
	for i, p := range pts {
		if math.Abs(p.x-float64(i-n+1)*g.step) > 1e-6*g.step {
			return false
		}
		g.v[i] = p.y
		sum += p.y
		g.sum[i+1], g.cnt[i+1] = sum, float64(i+1)
	}
	return true
}

// sub is a copy of slots [lo, hi) of g, for a calibration that outlives
// the evaluation whose grid goes back to the pool. Its sums are g's own
// (means are their differences), so it calibrates as g's range does.
func (g *grid) sub(lo, hi int) *grid {
	return &grid{
		v:      slices.Clone(g.v[lo:hi]),
		sum:    slices.Clone(g.sum[lo : hi+1]),
		cnt:    slices.Clone(g.cnt[lo : hi+1]),
		step:   g.step,
		newest: g.newest - float64(g.len()-hi)*g.step*60,
	}
}

// len is the number of slots.
func (g *grid) len() int { return len(g.v) }

// mean is the mean of the valid values of slots [a, b), clipped to
// [lo, len); ok is false when none is valid.
func (g *grid) mean(a, b, lo int) (float64, bool) {
	a, b = max(a, lo, 0), min(b, len(g.v))
	if b <= a || g.cnt[b] == g.cnt[a] {
		return 0, false
	}
	return (g.sum[b] - g.sum[a]) / (g.cnt[b] - g.cnt[a]), true
}

// slots converts a duration in minutes to whole slots, at least min.
func (g *grid) slots(minutes float64, least int) int {
	return max(int(math.Round(minutes/g.step)), least)
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n, n+n/8)
	}
	return s[:n]
}

// grids recycles grid storage between Runs: every evaluation of a week-long
// window would otherwise allocate a quarter of a megabyte.
var grids = sync.Pool{New: func() any { return new(grid) }}

// typicalStep is the median spacing of the points in minutes.
func typicalStep(pts []point) float64 {
	if len(pts) < 2 {
		return 1
	}
	// Fast path for the usual evenly spaced series: when more than half the
	// steps equal the first one, that step is the median.
	first, same := pts[1].x-pts[0].x, 0
	for i := 1; i < len(pts); i++ {
		if pts[i].x-pts[i-1].x == first {
			same++
		}
	}
	if 2*same > len(pts)-1 {
		return first
	}
	steps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		steps = append(steps, pts[i].x-pts[i-1].x)
	}
	sort.Float64s(steps)
	return steps[len(steps)/2]
}

// workersFor is ceil(demand / capacity), clamped to [0, maxWorkers].
func workersFor(demand, capacity float64) int64 {
	w := math.Ceil(demand/capacity - 1e-9) // tolerate float noise at exact multiples
	switch {
	case math.IsNaN(w) || w <= 0:
		return 0
	case w >= maxWorkers:
		return maxWorkers
	}
	return int64(w)
}

// maxStaleSlots bounds how far the windows are moved for old data: data an
// hour old is an outage of the metric, not a reason to forecast an hour
// ahead.
const maxStaleSlots = 15

// staleSlots is how many whole slots lie between the newest slot's end and
// now: 0 when the newest slot is the one that just ended, 1 when the APM
// held the last minute back to let it settle.
func staleSlots(g *grid, now time.Time) int {
	if now.IsZero() || g.len() == 0 {
		return 0
	}
	stepSec := g.step * 60
	behind := (float64(now.Unix()) - g.newest - stepSec) / stepSec
	return min(max(int(math.Round(behind)), 0), maxStaleSlots)
}
