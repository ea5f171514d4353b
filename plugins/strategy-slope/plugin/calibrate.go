package plugin

import (
	"fmt"
	"math"
	"time"
)

// The margin of rate mode, measured instead of assumed. A margin of m
// units (forecast.upScale) is enough when the service would have met the
// SLA with it over the days the query window holds. calibrate replays the
// point forecasts of every past decision against the demand that followed,
// runs the queue minute by minute with the capacity those decisions (plus
// m units) would have ordered, and finds the smallest m for which, on every
// whole past day but one in worst_day_in (see allowedMisses), at most
// slow_share of the business-hours requests waited longer than max_wait
// and at most 1 - availability of its business minutes waited longer than
// request_timeout.
//
// Business hours are floor_hours in timezone, unless the traffic's busiest
// stretch of that length lies mostly outside them (busiestHours): then the
// replay judges that stretch, and decisions use it too. With
// off_hours_max_wait longer than max_wait, a second search finds the
// smaller margin of decisions whose windows lie wholly outside business
// hours: the relaxed wait and availability hold there, and every business
// day stays met.
//
// The replayed fleet follows the decision rules of decideRate: capacity
// for a slot is the largest up-window provision of the decisions whose
// workers serve it; it only falls as far as the hold-window provision; and
// a backlog adds what the backlog check asks for (backlogExtra: its growth
// and the workers that clear it in drain_time), lead after it is seen. The
// agent acts on a decision only when it is free: one that changes the
// count (in whole workers) blocks those after it for horizon - lead, the
// time a Scale call and its cooldown take, as the agent does (a replay
// that acted every minute was kinder than the agent, and short leads lost
// days to it). The capacity itself ignores
// whole workers (a real fleet rounds up), so at small fleets it errs on
// the safe side.
//
// Everything the replay finds is measured on the traffic itself: bursts,
// the lag of the line at turns, a seasonal view that misleads on a holiday,
// counting noise that shrinks as volume grows. That is why one set of
// defaults holds across traces and volumes where a fixed confidence does
// not: the margin is whatever this traffic needed, not what one trace did.

// relativeScales are the unit shapes the calibration tries, the default
// first; another is chosen only when its margin costs at least
// minShapeGain less capacity than the default's: a shape is fitted on the
// very days it is judged on, and a small gain there is as likely luck as a
// better fit (with no such bound, the NASA trace lost 1-3 days of 28 at
// 2M-60M/day; 5%, 10% and 20% all kept every day). The shares double
// from noise-shaped (0.05: the noise part dominates) to nearly proportional
// (1.6: a unit is mostly the forecast itself); 0.8 and 1.6 were added when
// 0.4, then the widest, won most calibrations on the synthetic traces: they
// cut the flash-crowd trace's worker-hours by 5-6% and the business traces'
// by 0.7-1%, and changed nothing on the NASA trace (the same days met).
var relativeScales = [...]float64{relativeScale, 0.1, 0.2, 0.4, 0.8, 1.6}

const minShapeGain = 0.10

// defaultWorstDayIn (worst_day_in) sets how high the margin reaches among
// the days replayed: what the day that one in defaultWorstDayIn of them
// needed. Up to 14 days that is the worst day (an 8-day window judges 7 or
// 8); from 15 the second worst, from 23 the third: the same quantile of the
// days' needs (about the 88th percentile), estimated from more days. The
// worst of one week swings with that week: after a week of big crowds the
// margin carried six times the traffic, after a calm one three and a half,
// and the days missed were crowds in the calm weeks. Over four weeks, the
// third worst of 28 days is steadier (allowedMisses).
const defaultWorstDayIn = 8

// allowedMisses is how many of days judged days may miss the SLA at the
// margin found when it reaches the worst day in worstIn (0: none may).
func allowedMisses(days, worstIn int) int {
	if worstIn <= 0 {
		return 0
	}
	return max(1, (days+1)/worstIn) - 1
}

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
	// marginResolution is the precision of the search, in units, and
	// marginPrecision its share of the margin: a margin of 20 units needs
	// no 0.05 (the precision of the few units most traffic needs), and
	// each halving is a replay of the whole window.
	marginResolution = 0.05
	marginPrecision  = 0.01
	// minReplayDay is the business time a day needs in the window to be
	// judged while the window holds no whole business day yet (a young
	// table): a two-hour stub of a day says little about the next. Once
	// whole days exist, only they are judged: a stub's share of slow
	// requests is not comparable with a day's (the morning ramp alone
	// weighs more in three hours than in fourteen).
	minReplayDay = 2 * time.Hour
	// wholeDay is the share of a day's business hours that makes it whole.
	wholeDay = 0.95
	// minProfileDays is the history the busiest hours of the day are
	// looked for in (see busiestHours).
	minProfileDays = 2
)

// young reports whether slots slots of step minutes hold less than
// minProfileDays of history.
func young(slots int, step float64) bool { return float64(slots)*step < minProfileDays*24*60 }

// calibration is the result of one replay.
type calibration struct {
	margin float64 // units
	days   int     // days judged
	// share is the largest daily share of slow requests at margin, and
	// unavailable the largest daily share of business minutes whose wait
	// passed the request timeout.
	share, unavailable float64
	// moved: the traffic's busiest stretch of business-hours length lay
	// mostly outside floor_hours in timezone (a policy set up in another
	// zone than its traffic's?), and the replay judged that stretch.
	moved bool
	// missed is the number of days judged that missed the SLA at margin:
	// at most allowedMisses(days). share and unavailable are those of the
	// days that met.
	missed int
	// relative is the unit's share of the forecast (see unit) the margin
	// is counted in.
	relative float64
	// offMargin is the margin, in units, of decisions whose windows lie
	// wholly outside business hours: the smallest that meets the relaxed
	// wait there (off_hours_max_wait) and keeps every business day met.
	// It is margin when the wait is not relaxed.
	offMargin float64
	// offShare and offUnavailable are share and unavailable outside
	// business hours, at offMargin.
	offShare, offUnavailable float64
	// bizStart and bizEnd are the business hours the replay judged, in
	// minutes after local midnight: floor_hours, or the traffic's busiest
	// stretch (moved). Decisions use the same.
	bizStart, bizEnd int
	// young: the window holds less than minProfileDays of history, too
	// little to have seen the traffic's days and their bursts, or to tell
	// where its business hours lie (startup_headroom applies).
	young bool
	// pending: this is the check's last calibration, and one of newer data
	// runs in the background (calcache.go).
	pending bool
}

// replayRules are the config's SLA and fleet rules in slots.
type replayRules struct {
	maxWait float64 // slots of queue wait allowed
	// offWait is the wait allowed outside business hours (>= maxWait).
	offWait float64
	timeout float64 // slots of queue wait after which a request fails
	// unavailable is the largest share of a day's business minutes that
	// may fail (1 - availability).
	unavailable float64
	slowShare   float64
	drain       float64 // slots
	perWorker   float64 // capacity_per_worker: a count change is in whole workers
	bizStart    int     // minutes after local midnight
	bizEnd      int
	// allowed is how many of the days judged may miss (allowedMisses, of
	// worstIn: worst_day_in).
	allowed int
	worstIn int
	step    float64 // minutes per slot
	loc     *time.Location
}

// businessSlots is the number of slots in a day's business hours.
func (r replayRules) businessSlots() int {
	return int(float64(hoursLength(r.bizStart, r.bizEnd)) / r.step)
}

func newReplayRules(c config, g *grid) replayRules {
	loc := c.floor.loc
	if loc == nil {
		loc = time.UTC
	}
	return replayRules{
		maxWait:     c.maxWait.Minutes() / g.step,
		offWait:     c.offHoursWait.Minutes() / g.step,
		timeout:     c.requestTimeout.Minutes() / g.step,
		unavailable: 1 - c.availability,
		slowShare:   c.slowShare,
		drain:       math.Max(c.drainTime.Minutes()/g.step, 1e-9),
		perWorker:   c.capacity,
		worstIn:     c.worstDayIn,
		bizStart:    c.floor.start, bizEnd: c.floor.end, loc: loc, step: g.step,
	}
}

// replayBuffers are the per-slot arrays of one calibration, recycled.
type replayBuffers struct {
	// upS and holdS are the noise parts of the units (forecast.upNoise).
	upP, upS, holdP, holdS []float64
	backlog                []float64
	prov, hold             []float64 // up- and hold-window provisions of one replay
	local                  []int64   // local time, seconds
	profile                []float64
	day                    []int32
	biz                    []bool
	// upBiz and holdBiz: the decision before slot k has business slots
	// in its up window [k+lead, k+horizon] or its hold window [k, k+horizon].
	upBiz, holdBiz []bool
	next           []int32
	acted          []bool // the decisions the agent acted on
	// ringOrd and ringExtra: per slot of the next H+1, the largest
	// provision and backlog extra of the acted decisions that serve it.
	ringOrd, ringExtra []float64
}

// calibrate finds the margin for slots [lo, hi) of g. The result depends
// on nothing outside that range, so it can be cached by the range's data.
func calibrate(g *grid, lo, hi int, p forecasterParams, r replayRules, buf *replayBuffers) calibration {
	cal, _ := calibrateHinted(g, lo, hi, p, r, buf, searchHints{})
	return cal
}

// calibrateHinted is calibrate that starts each shape's search where the
// check's last calibration, hints, ended (search.go), and returns where
// this one ended. Where the replay's verdict grows with the margin, the
// margin is the one calibrate finds; search.go says when it may not be.
func calibrateHinted(g *grid, lo, hi int, p forecasterParams, r replayRules, buf *replayBuffers, hints searchHints) (calibration, searchHints) {
	n := hi - lo
	buf.upP, buf.upS = resize(buf.upP, n), resize(buf.upS, n)
	buf.holdP, buf.holdS = resize(buf.holdP, n), resize(buf.holdS, n)
	buf.backlog = resize(buf.backlog, n)
	// The forecasts of every decision in the range, from its own past.
	f := newForecaster(p)
	for i := lo; i < hi; i++ {
		fc := f.at(g, i, lo)
		k := i - lo
		buf.upP[k], buf.upS[k], buf.holdP[k], buf.holdS[k] = fc.up, fc.upNoise, fc.hold, fc.holdNoise
		f.push(g.v[i])
	}
	markLocal(g, lo, hi, r.loc, buf)
	markHours(buf, r.bizStart, r.bizEnd)
	start, outside := busiestHours(g.v[lo:hi], buf.local, g.step, r.bizStart, r.bizEnd, &buf.profile)
	// Less than two days of history is no profile of a day: hours from
	// 00:00 to 10:00 alone would make their own stretch look busiest.
	profiled := !young(n, g.step)
	moved := profiled && 2*outside > r.businessSlots()
	if moved {
		r.bizStart, r.bizEnd = start, (start+hoursLength(r.bizStart, r.bizEnd))%(24*60)
		markHours(buf, r.bizStart, r.bizEnd)
	}
	markWindows(buf, p)
	// The lines need a few half-lives of history before their forecasts
	// are those of the running strategy. The oldest day of the window is
	// judged too, although its forecasts had no yesterday to look at: so
	// judged, it keeps a margin for a day unlike the days before it.
	first := min(n, p.horizon+p.settle)
	minDay := int(wholeDay * float64(r.businessSlots()))
	// Without a whole day, partial days are judged: too few for any to
	// be let miss.
	days := judgedDays(g.v[lo:hi], buf.day, buf.biz, first, minDay)
	if days == 0 {
		minDay = int(minReplayDay.Minutes() / g.step)
	}
	r.allowed = allowedMisses(days, r.worstIn)
	var found searchHints
	finish := func(cal calibration) (calibration, searchHints) {
		cal.young = !profiled
		cal.moved, cal.bizStart, cal.bizEnd = moved, r.bizStart, r.bizEnd
		return cal, found
	}
	// The unit's shape: of the shares of the forecast in relativeScales,
	// the one whose smallest sufficient margin orders the least capacity.
	// Noise that grows with the square root of the traffic wants a small
	// share; bursts and ramps that grow with the traffic itself, a large one.
	judge := func(rel float64) func(float64) calibration {
		return func(m float64) calibration {
			cal := replayDays(g.v[lo:hi], first, m, m, rel, p, r, minDay, buf)
			cal.margin, cal.offMargin, cal.relative = m, m, rel
			return cal
		}
	}
	shape := func(i int) *probes { return newProbes(judge(relativeScales[i]), r.met) }
	// A shape that was not searched keeps its last bracket.
	done := func(i int, pr *probes) {
		found.shapes[i] = hints.shapes[i]
		if pr.found.set {
			found.shapes[i] = pr.found
		}
		found.replays += pr.replays
	}
	def := shape(0)
	def.seed(hints.shapes[0], maxMargin)
	best, ok := search(def)
	done(0, def)
	if best.days == 0 {
		return finish(calibration{margin: defaultMargin, offMargin: defaultMargin, relative: relativeScale})
	}
	// Another shape is chosen only when its margin costs at least
	// minShapeGain less than the default's, and then only the cheapest:
	// bound is the cost to beat. The cost is linear in the margin, so a
	// shape can beat it only with a margin below bound / its unit cost; one
	// replay there tells whether it can at all.
	// When even the default's largest margin misses, that margin's
	// capacity is the bound: "the largest margin" is one amount of
	// capacity whatever the shape (40 units of the widest would be 64
	// times the forecast).
	bound := marginCost(buf, first, maxMargin, relativeScales[0])
	if ok {
		bound = (1 - minShapeGain) * marginCost(buf, first, best.margin, relativeScales[0])
	}
	// The widest shape first: on traffic where one of them wins it is
	// usually the widest, and once its cost is the bound, one replay each
	// rules the others out.
	for i := len(relativeScales) - 1; i > 0; i-- {
		rel := relativeScales[i]
		perUnit := marginCost(buf, first, 1, rel)
		var cal calibration
		var met bool
		if mcap := bound / perUnit; mcap > 0 {
			pr := shape(i)
			if pr.verdict(mcap) {
				pr.seed(hints.shapes[i], mcap)
				cal, met = bisect(pr, 0, mcap), true
			}
			done(i, pr)
		}
		if met && cal.margin*perUnit < bound {
			best, ok, bound = cal, true, cal.margin*perUnit
		}
	}
	// Nor are the hours relaxed before the history can say where the
	// traffic's day lies (a policy in another zone, on a young table).
	if !ok || r.offWait <= r.maxWait || best.margin == 0 || !profiled {
		return finish(best)
	}
	// Outside business hours only the relaxed wait and availability hold,
	// and the business days must stay met: a night that ends with a queue
	// is a morning that starts with one. No more of them may miss than at
	// the business margin alone.
	mb := best.margin
	r.allowed = best.missed
	judgeOff := func(m float64) calibration {
		cal := replayDays(g.v[lo:hi], first, mb, m, best.relative, p, r, minDay, buf)
		cal.margin, cal.offMargin, cal.relative = mb, m, best.relative
		return cal
	}
	metAll := func(cal calibration) bool {
		return r.met(cal) && cal.offShare <= r.slowShare && cal.offUnavailable <= r.unavailable
	}
	off := newProbes(judgeOff, metAll)
	if off.verdict(mb) {
		best = bisect(off, 0, mb)
	}
	found.replays += off.replays
	return finish(best)
}

// marginCost is the capacity a margin of m units of share rel adds to the
// up-window provisions of slots [first, n): what the choice of the unit's
// shape compares.
func marginCost(buf *replayBuffers, first int, m, rel float64) float64 {
	var sum float64
	for k := first; k < len(buf.upP); k++ {
		sum += unit(buf.upS[k], buf.upP[k], rel)
	}
	return m * sum
}

// markWindows fills upBiz and holdBiz from biz: whether the up window
// [k+lead, k+horizon] and the hold window [k, k+horizon] of the decision
// before slot k hold a business slot. Past the range's end its last slot
// stands for the rest.
func markWindows(buf *replayBuffers, p forecasterParams) {
	n := len(buf.biz)
	buf.upBiz, buf.holdBiz = resizeBool(buf.upBiz, n), resizeBool(buf.holdBiz, n)
	buf.next = resizeInt32(buf.next, n)
	if n == 0 {
		return
	}
	// next[k]: the first business slot at or after k; MaxInt32 when none.
	next := int32(math.MaxInt32)
	for k := n - 1; k >= 0; k-- {
		if buf.biz[k] {
			next = int32(k)
		}
		buf.next[k] = next
	}
	for k := range n {
		end := k + p.horizon
		buf.holdBiz[k] = int(buf.next[k]) <= end
		buf.upBiz[k] = int(buf.next[min(k+p.lead, n-1)]) <= end
	}
}

// touches reports whether any of the slots from to through to after the
// newest slot of g lies in the business hours the calibration judged
// (bizStart-bizEnd in loc). Before any replay (days == 0) every slot does.
func (cal calibration) touches(g *grid, from, to int, loc *time.Location) bool {
	if cal.days == 0 || cal.bizStart == cal.bizEnd {
		return true
	}
	if loc == nil {
		loc = time.UTC
	}
	stepSec := int64(math.Round(g.step * 60))
	for j := from; j <= to; j++ {
		t := time.Unix(int64(g.newest)+int64(j)*stepSec, 0).In(loc)
		if inHours(t.Hour()*60+t.Minute(), cal.bizStart, cal.bizEnd) {
			return true
		}
	}
	return false
}

// hours is the judged business hours, HH:MM-HH:MM.
func (cal calibration) hours() string { return formatHours(cal.bizStart, cal.bizEnd) }

// formatHours writes hours [start, end) (minutes after local midnight) as
// HH:MM-HH:MM.
func formatHours(start, end int) string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", start/60, start%60, end/60, end%60)
}

// hoursLength is the length of hours [start, end) in minutes; end <= start
// wraps past midnight.
func hoursLength(start, end int) int {
	if m := end - start; m > 0 {
		return m
	}
	return end - start + 24*60
}

// inHours reports whether minute (after local midnight) lies in
// [start, end), which wraps past midnight when end <= start.
func inHours(minute, start, end int) bool {
	if start < end {
		return minute >= start && minute < end
	}
	return minute >= start || minute < end
}

// met reports whether a replay meets both parts of the SLA on every day it
// does not count as missed, and misses no more than allowed.
func (r replayRules) met(cal calibration) bool {
	return r.dayMet(cal.share, cal.unavailable) && cal.missed <= r.allowed
}

// dayMet reports whether a day with these figures met the SLA.
func (r replayRules) dayMet(share, unavailable float64) bool {
	return share <= r.slowShare && unavailable <= r.unavailable
}

// judgedDays counts the days replayDays judges from slot first: those with
// at least minDay business slots that have data, and some traffic in them
// (a day of an outage's gap is not judged).
func judgedDays(arrivals []float64, day []int32, biz []bool, first, minDay int) int {
	days, slots, total := 0, 0, 0.0
	for k := first; k < len(arrivals); k++ {
		if k > first && day[k] != day[k-1] {
			if slots >= minDay && total > 0 {
				days++
			}
			slots, total = 0, 0
		}
		if a := arrivals[k]; biz[k] && a == a {
			slots++
			total += a
		}
	}
	if slots >= minDay && total > 0 {
		days++
	}
	return days
}

// markLocal fills the local time of each slot, in seconds (Unix time plus
// the zone's offset). The offset is looked up once an hour of slots, not
// once a slot.
func markLocal(g *grid, lo, hi int, loc *time.Location, buf *replayBuffers) {
	n := hi - lo
	buf.local = resizeInt64(buf.local, n)
	stepSec := int64(math.Round(g.step * 60))
	newest := int64(g.newest)
	var offset, offsetUntil int64 = 0, math.MinInt64
	for k := 0; k < n; k++ {
		t := newest - int64(g.len()-1-(lo+k))*stepSec
		if t >= offsetUntil || k == 0 {
			_, off := time.Unix(t, 0).In(loc).Zone()
			offset = int64(off)
			offsetUntil = t - (t % 3600) + 3600 // offsets change on the hour
		}
		buf.local[k] = t + offset
	}
}

// markHours fills the day and the business-hours flag of each slot for
// business hours [start, end) (minutes after local midnight; end <= start
// wraps past midnight). A day starts when its business hours do, so hours
// that wrap past midnight are judged as one day.
func markHours(buf *replayBuffers, start, end int) {
	n := len(buf.local)
	buf.day, buf.biz = resizeInt32(buf.day, n), resizeBool(buf.biz, n)
	shift := int64(start) * 60
	for k, local := range buf.local {
		buf.day[k] = int32(floorDiv(local-shift, 86400))
		buf.biz[k] = inHours(int(floorMod(local, 86400)/60), start, end)
	}
}

// busiestHours guards the replay against business hours set in another zone
// than the traffic's (a policy copied from a deployment elsewhere): a margin
// calibrated on a quiet night would be no margin at the peak. It adds up
// the requests of v by minute of the local day over the whole range and
// returns where the stretch as long as the business hours [start, end)
// (wrapping past midnight) that carries the most starts, and how many of
// its slots lie outside those hours. buf is reused for the profile.
func busiestHours(v []float64, local []int64, step float64, start, end int, buf *[]float64) (from, outside int) {
	length := hoursLength(start, end)
	buckets := max(int(math.Round(24*60/step)), 1)
	*buf = resize(*buf, buckets)
	profile := *buf
	clear(profile)
	for k, a := range v {
		if a == a { // not a gap
			profile[int(float64(floorMod(local[k], 86400))/60/step)%buckets] += a
		}
	}
	w := min(max(int(math.Round(float64(length)/step)), 1), buckets)
	var sum, best float64
	for b := range w {
		sum += profile[b]
	}
	best, at := sum, 0
	for b := 1; b < buckets; b++ {
		sum += profile[(b+w-1)%buckets] - profile[b-1]
		if sum > best {
			best, at = sum, b
		}
	}
	from = int(math.Round(float64(at)*step)) % (24 * 60)
	for b := at; b < at+w; b++ {
		if !inHours(int(float64(b%buckets)*step), start, end) {
			outside++
		}
	}
	return from, outside
}

// replayDays runs the queue over arrivals with the capacity the decisions
// order, m units of margin for those whose windows touch business hours and
// mOff for the rest (a unit being the noise part plus rel of the forecast),
// and returns, over the days with at least minDay business slots (but up
// to r.allowed that missed, which it counts), the largest share of business-hours requests that waited
// longer than r.maxWait and the largest share of business slots whose
// wait passed r.timeout; and the same outside business hours, with
// r.offWait for r.maxWait. It stops at the first day that misses the SLA
// (r.met), whose figures it then returns.
func replayDays(arrivals []float64, first int, m, mOff, rel float64, p forecasterParams, r replayRules, minDay int, buf *replayBuffers) calibration {
	L, H := p.lead, p.horizon
	upP, upS, holdP, holdS, backlog := buf.upP, buf.upS, buf.holdP, buf.holdS, buf.backlog
	day, biz, upBiz, holdBiz := buf.day, buf.biz, buf.upBiz, buf.holdBiz
	margin := func(inBiz bool) float64 {
		if inBiz {
			return m
		}
		return mOff
	}
	// Each decision's up-window and hold-window provisions, once: the
	// queue loop below takes the largest of the few that serve each slot.
	buf.prov, buf.hold = resize(buf.prov, len(arrivals)), resize(buf.hold, len(arrivals))
	prov, hold := buf.prov, buf.hold
	for d := range prov {
		prov[d] = upP[d] + margin(upBiz[d])*unit(upS[d], upP[d], rel)
		hold[d] = holdP[d] + margin(holdBiz[d])*unit(holdS[d], holdP[d], rel)
	}
	// The agent acts on a decision only when it is free: a decision that
	// changes the count (in whole workers) blocks those after it for
	// horizon - lead, the Scale call and its cooldown (see configTable:
	// a count set now stands for horizon). Decisions before first count
	// as acted, as the warm-up's fleet.
	buf.acted = resizeBool(buf.acted, len(arrivals))
	acted := buf.acted
	for d := range acted[:first] {
		acted[d] = true
	}
	block := max(H-L, 1)
	// Each acted decision adds its provision and the backlog it saw to
	// the slots of its up window [d+L, d+H], kept in a ring of H+1 slots
	// that each slot reads and clears: the largest of the decisions that
	// serve it, without looking back over them.
	ring := H + 1
	buf.ringOrd, buf.ringExtra = resize(buf.ringOrd, ring), resize(buf.ringExtra, ring)
	ringOrd, ringExtra := buf.ringOrd, buf.ringExtra
	clear(ringOrd)
	clear(ringExtra)
	for d := max(first-H, 1); d < first; d++ { // the warm-up's, which saw no backlog
		for u := max(d+L, first); u <= d+H; u++ {
			ringOrd[u%ring] = fmax(ringOrd[u%ring], prov[d])
		}
	}
	next, target, targetWorkers := first, math.Inf(-1), math.Inf(-1)
	perWorker := 1 / r.perWorker
	var queue float64
	held := math.Inf(1)
	// Per day, business hours [0] and the rest [1].
	var slow, total [2]float64
	var slots, failed [2]int
	var out calibration
	clear(backlog[:first])
	closeDay := func() {
		if slots[0] >= minDay && total[0] > 0 {
			out.days++
			// A day that misses is one of those the quantile lets miss
			// while there are any left (its figures are not the met
			// days'); one more decides the replay below.
			if out.missed < r.allowed && !r.dayMet(slow[0]/total[0], float64(failed[0])/float64(slots[0])) {
				out.missed++
				slow, total, slots, failed = [2]float64{}, [2]float64{}, [2]int{}, [2]int{}
				return
			}
			out.share = fmax(out.share, slow[0]/total[0])
			out.unavailable = fmax(out.unavailable, float64(failed[0])/float64(slots[0]))
			if total[1] > 0 {
				out.offShare = fmax(out.offShare, slow[1]/total[1])
				out.offUnavailable = fmax(out.offUnavailable, float64(failed[1])/float64(slots[1]))
			}
		}
		slow, total, slots, failed = [2]float64{}, [2]float64{}, [2]int{}, [2]int{}
	}
	for t := first; t < len(arrivals); t++ {
		if day[t] != day[t-1] {
			closeDay()
			// A day that misses the SLA decides the replay: the search
			// only asks met or not, and keeps full figures of replays
			// that met.
			if !r.met(out) {
				return out
			}
		}
		// Decision t, on what was seen until t-1: the count it asks for
		// (decideRate: up to the up-window provision and the backlog's
		// extra; down no lower than the hold window's provision).
		h := hold[t]
		acted[t] = t >= next
		if acted[t] {
			// The backlog check's extra (decideBacklog): the backlog it
			// saw and that backlog's growth over the slot before.
			var before float64 // the warm-up saw no backlog
			if t >= 2 {
				before = backlog[t-2]
			}
			extra := backlogExtra(backlog[t-1], backlog[t-1]-before, float64(L), r.drain)
			ask := prov[t] + extra
			if ask < target {
				ask = fmax(ask, fmin(target, h))
			}
			if w := math.Ceil(ask*perWorker - 1e-9); w != targetWorkers {
				next, targetWorkers = t+block, w
			}
			target = ask
			// Its workers serve the slots of its up window.
			o, b := prov[t], extra
			for u := t + L; u <= t+H; u++ {
				i := u % ring
				ringOrd[i], ringExtra[i] = fmax(ringOrd[i], o), fmax(ringExtra[i], b)
			}
		}
		// Workers ordered by the acted decisions whose up window covers
		// t, and the extra they ordered for the backlog they saw.
		i := t % ring
		ordered, forBacklog := ringOrd[i], ringExtra[i]
		ringOrd[i], ringExtra[i] = 0, 0
		// A scale-in (an acted decision) goes no lower than the hold
		// window's provision; the backlog's extra is not held: it clears
		// the queue and goes.
		if acted[t] && h < held {
			held = h
		}
		if ordered > held {
			held = ordered
		}
		capacity := held + forBacklog
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
		part, wait := 0, r.maxWait
		if !biz[t] {
			part, wait = 1, r.offWait
		}
		slots[part]++
		total[part] += a
		if queue > wait*capacity {
			slow[part] += a
		}
		if queue > r.timeout*capacity {
			failed[part]++
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

func resizeInt64(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n, n+n/8)
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
