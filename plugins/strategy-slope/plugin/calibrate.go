package plugin

import (
	"math"
	"time"
)

// The margin of rate mode, measured instead of assumed. A margin of m
// units (forecast.upScale) is enough when the service would have met the
// SLA with it over the days the query window holds. calibrate replays the
// point forecasts of every past decision against the demand that followed,
// runs the queue minute by minute with the capacity those decisions (plus
// m units) would have ordered, and finds the smallest m for which, on every
// past day but the worst, at most slow_share of the business-hours
// requests waited longer than max_wait.
//
// The replayed fleet follows the decision rules of decideRate: capacity
// for a slot is the largest up-window provision of the decisions whose
// workers serve it; it only falls as far as the hold-window provision; and
// a backlog adds the workers that clear it in drain_time (the backlog
// check), lead after it is seen. It ignores whole workers (a real fleet
// rounds up), so at small fleets it errs on the safe side.
//
// Everything the replay finds is measured on the traffic itself: bursts,
// the lag of the line at turns, a seasonal view that misleads on a holiday,
// counting noise that shrinks as volume grows. That is why one set of
// defaults holds across traces and volumes where a fixed confidence does
// not: the margin is whatever this traffic needed, not what one trace did.

const (
	// defaultMargin is the margin, in units, before the window holds two
	// business hours of replayable history (a new deployment, a young
	// table): about three standard deviations of the noise.
	defaultMargin = 3.0
	// maxMargin bounds the search; traffic that needs more meets the SLA
	// only with the reaction to its backlog. firstBracket is where the
	// search looks first.
	maxMargin    = 40.0
	firstBracket = 8.0
	// marginResolution is the precision of the search, in units.
	marginResolution = 0.05
	// minReplayDay is the business time a day needs in the window to be
	// judged while the window holds no whole business day yet (a young
	// table): a two-hour stub of a day says little about the next. Once
	// whole days exist, only they are judged: a stub's share of slow
	// requests is not comparable with a day's (the morning ramp alone
	// weighs more in three hours than in fourteen).
	minReplayDay = 2 * time.Hour
	// wholeDay is the share of a day's business hours that makes it whole.
	wholeDay = 0.95
)

// calibration is the result of one replay.
type calibration struct {
	margin float64 // units
	days   int     // days judged
	// share is the largest daily share of slow requests at margin, and
	// unavailable the largest daily share of business minutes whose wait
	// passed the request timeout.
	share, unavailable float64
	// offHours is how many days of the window had their busiest
	// business-length stretch mostly outside the business hours, when most
	// did (a timezone that is not the traffic's?): the replay judged each
	// day's busiest stretch instead. 0 otherwise.
	offHours int
}

// replayRules are the config's SLA and fleet rules in slots.
type replayRules struct {
	maxWait float64 // slots of queue wait allowed
	timeout float64 // slots of queue wait after which a request fails
	// unavailable is the largest share of a day's business minutes that
	// may fail (1 - availability).
	unavailable float64
	slowShare   float64
	drain       float64 // slots
	bizStart    int     // minutes after local midnight
	bizEnd      int
	step        float64 // minutes per slot
	loc         *time.Location
}

// businessSlots is the number of slots in a day's business hours.
func (r replayRules) businessSlots() int {
	minutes := r.bizEnd - r.bizStart
	if minutes <= 0 {
		minutes += 24 * 60
	}
	return int(float64(minutes) / r.step)
}

func newReplayRules(c config, g *grid) replayRules {
	loc := c.floor.loc
	if loc == nil {
		loc = time.UTC
	}
	return replayRules{
		maxWait:     c.maxWait.Minutes() / g.step,
		timeout:     c.requestTimeout.Minutes() / g.step,
		unavailable: 1 - c.availability,
		slowShare:   c.slowShare,
		drain:       math.Max(c.drainTime.Minutes()/g.step, 1e-9),
		bizStart:    c.floor.start, bizEnd: c.floor.end, loc: loc, step: g.step,
	}
}

// replayBuffers are the per-slot arrays of one calibration, recycled.
type replayBuffers struct {
	upP, upS, holdP, holdS []float64
	backlog                []float64
	day                    []int32
	biz                    []bool
}

// calibrate finds the margin for slots [lo, hi) of g. The result depends
// on nothing outside that range, so it can be cached by the range's data.
func calibrate(g *grid, lo, hi int, p forecasterParams, r replayRules, buf *replayBuffers) calibration {
	n := hi - lo
	buf.upP, buf.upS = resize(buf.upP, n), resize(buf.upS, n)
	buf.holdP, buf.holdS = resize(buf.holdP, n), resize(buf.holdS, n)
	buf.backlog = resize(buf.backlog, n)
	// The forecasts of every decision in the range, from its own past.
	f := newForecaster(p)
	for i := lo; i < hi; i++ {
		fc := f.at(g, i, lo)
		k := i - lo
		buf.upP[k], buf.upS[k], buf.holdP[k], buf.holdS[k] = fc.up, fc.upScale, fc.hold, fc.holdScale
		f.push(g.v[i])
	}
	markDays(g, lo, hi, r, buf)
	offHours := markBusiest(g.v[lo:hi], buf.day, buf.biz, r.businessSlots())
	// The lines need a few half-lives of history before their forecasts
	// are those of the running strategy. The oldest day of the window is
	// judged too, although its forecasts had no yesterday to look at: so
	// judged, it keeps a margin for a day unlike the days before it.
	first := min(n, p.horizon+p.settle)
	minDay := int(wholeDay * float64(r.businessSlots()))
	if wholeDays(buf.day[first:], buf.biz[first:], minDay) == 0 {
		minDay = int(minReplayDay.Minutes() / g.step)
	}
	judge := func(m float64) calibration {
		cal := replayDays(g.v[lo:hi], first, m, p, r, minDay, buf)
		cal.margin, cal.offHours = m, offHours
		return cal
	}
	// Most traffic needs a few units: search [0, firstBracket] first, and
	// the whole range only when that is not enough.
	best := judge(firstBracket)
	if best.days == 0 {
		return calibration{margin: defaultMargin}
	}
	low, high := 0.0, firstBracket
	if !r.met(best) {
		if best = judge(maxMargin); !r.met(best) {
			return best
		}
		high = maxMargin
	}
	for high-low > marginResolution {
		mid := (low + high) / 2
		if cal := judge(mid); r.met(cal) {
			high, best = mid, cal
		} else {
			low = mid
		}
	}
	return best
}

// met reports whether a replay meets both parts of the SLA on every day.
func (r replayRules) met(cal calibration) bool {
	return cal.share <= r.slowShare && cal.unavailable <= r.unavailable
}

// wholeDays counts the days with at least minDay business slots.
func wholeDays(day []int32, biz []bool, minDay int) int {
	days, slots := 0, 0
	for k := range day {
		if k > 0 && day[k] != day[k-1] {
			if slots >= minDay {
				days++
			}
			slots = 0
		}
		if biz[k] {
			slots++
		}
	}
	if slots >= minDay && len(day) > 0 {
		days++
	}
	return days
}

// markDays fills the local day and the business-hours flag of each slot.
// The zone offset is looked up once an hour of slots, not once a slot.
func markDays(g *grid, lo, hi int, r replayRules, buf *replayBuffers) {
	n := hi - lo
	buf.day, buf.biz = resizeInt32(buf.day, n), resizeBool(buf.biz, n)
	stepSec := int64(math.Round(g.step * 60))
	newest := int64(g.newest)
	var offset, offsetUntil int64 = 0, math.MinInt64
	for k := 0; k < n; k++ {
		t := newest - int64(g.len()-1-(lo+k))*stepSec
		if t >= offsetUntil || k == 0 {
			_, off := time.Unix(t, 0).In(r.loc).Zone()
			offset = int64(off)
			offsetUntil = t - (t % 3600) + 3600 // offsets change on the hour
		}
		local := t + offset
		buf.day[k] = int32(floorDiv(local, 86400))
		minute := int(floorMod(local, 86400) / 60)
		if r.bizStart < r.bizEnd {
			buf.biz[k] = minute >= r.bizStart && minute < r.bizEnd
		} else {
			buf.biz[k] = minute >= r.bizStart || minute < r.bizEnd
		}
	}
}

// markBusiest guards the replay against business hours set in another zone
// than the traffic's (a policy copied from a deployment elsewhere): a
// margin calibrated on a quiet night would be no margin at the peak. On
// every whole local day it finds the stretch of w slots that carries the
// most requests; when that stretch lies mostly outside the configured hours
// on most of those days, the replay judges each day's busiest stretch
// instead of the configured hours, and markBusiest returns how many days
// were so. Where the zone is right the busiest stretch lies within the
// hours (a holiday or a weekend may not) and nothing changes: it returns 0.
func markBusiest(v []float64, day []int32, biz []bool, w int) int {
	type stretch struct{ from, to, at int }
	var whole []stretch
	off := 0
	for from := 0; from < len(v); {
		to := from
		for to < len(v) && day[to] == day[from] {
			to++
		}
		// A stub of a day (the window's first or last) has no stretch of
		// a business day's length to compare.
		if best, at := busiestStretch(v[from:to], w); best > 0 && to-from >= w {
			whole = append(whole, stretch{from, to, from + at})
			outside := 0
			for k := from + at; k < from+at+w; k++ {
				if !biz[k] {
					outside++
				}
			}
			if 2*outside > w {
				off++
			}
		}
		from = to
	}
	if 2*off <= len(whole) {
		return 0
	}
	for _, s := range whole {
		clear(biz[s.from:s.to])
		for k := s.at; k < s.at+w; k++ {
			biz[k] = true
		}
	}
	return off
}

// busiestStretch returns the most requests any w consecutive slots of v
// hold (gaps count as none) and where the first such stretch starts; all
// of v when it is shorter.
func busiestStretch(v []float64, w int) (best float64, at int) {
	w = min(w, len(v))
	var sum float64
	for k, a := range v {
		if a == a { // not a gap
			sum += a
		}
		if k >= w {
			if b := v[k-w]; b == b {
				sum -= b
			}
		}
		if k >= w-1 && sum > best {
			best, at = sum, k-w+1
		}
	}
	return best, at
}

// replayDays runs the queue over arrivals with the capacity the decisions
// plus m units order, and returns, over the days with at least minDay
// business slots, the largest share of business-hours requests that waited
// longer than r.maxWait and the largest share of business slots whose
// wait passed r.timeout.
func replayDays(arrivals []float64, first int, m float64, p forecasterParams, r replayRules, minDay int, buf *replayBuffers) calibration {
	L, H := p.lead, p.horizon
	upP, upS, holdP, holdS, backlog := buf.upP, buf.upS, buf.holdP, buf.holdS, buf.backlog
	day, biz := buf.day, buf.biz
	perDrain := 1 / r.drain
	var queue, slow, total float64
	held := math.Inf(1)
	bizSlots, failed := 0, 0
	var out calibration
	clear(backlog[:first])
	closeDay := func() {
		if bizSlots >= minDay && total > 0 {
			out.days++
			out.share = fmax(out.share, slow/total)
			out.unavailable = fmax(out.unavailable, float64(failed)/float64(bizSlots))
		}
		slow, total, bizSlots, failed = 0, 0, 0, 0
	}
	for t := first; t < len(arrivals); t++ {
		if day[t] != day[t-1] {
			closeDay()
		}
		// Workers ordered by the decisions whose up window covers t, and
		// the extra ordered for the backlog those decisions saw.
		ordered, seen := 0.0, 0.0
		for d := max(t-H, 1); d <= t-L; d++ {
			if o := upP[d] + m*upS[d]; o > ordered {
				ordered = o
			}
			if b := backlog[d-1]; b > seen {
				seen = b
			}
		}
		// A scale-in goes no lower than the hold window's provision; the
		// backlog's extra is not held: it clears the queue and goes.
		if h := holdP[t] + m*holdS[t]; h < held {
			held = h
		}
		if ordered > held {
			held = ordered
		}
		capacity := held + seen*perDrain
		a := arrivals[t]
		if a != a { // a gap in the data
			backlog[t] = queue
			continue
		}
		queue += a - capacity
		if queue < 0 {
			queue = 0
		}
		backlog[t] = queue
		if biz[t] {
			bizSlots++
			total += a
			if queue > r.maxWait*capacity {
				slow += a
			}
			if queue > r.timeout*capacity {
				failed++
			}
		}
	}
	closeDay()
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func resizeInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n, n+n/8)
	}
	return s[:n]
}

func resizeBool(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n, n+n/8)
	}
	return s[:n]
}

// fmax and fmin are max and min for values that are never NaN: math.Max
// and math.Min handle NaN and signed zeros at the cost of a call, in the
// replay's innermost loop.
func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func fmin(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}
