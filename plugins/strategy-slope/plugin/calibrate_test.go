package plugin

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// history is days of a business-hours service in UTC, ending just before
// friday noon: 200/min at night, rising over two hours from 08:00 to
// 2,000/min until 20:00, with Poisson-like noise, and bursts of burst x the
// level for three minutes at each of the given minutes of each day.
func history(days int, burst float64, burstMinutes ...int) []point {
	r := rand.New(rand.NewPCG(7, 9))
	n := days*24*60 + 11*60 + 59 // days, then midnight to 11:58 of friday
	pts := make([]point, n)
	for i := range pts {
		minute := (i) % (24 * 60)
		level := 200.0
		switch {
		case minute >= 8*60 && minute < 10*60:
			level = 200 + 1800*float64(minute-8*60)/120
		case minute >= 10*60 && minute < 20*60:
			level = 2000
		}
		for _, b := range burstMinutes {
			if minute >= b && minute < b+3 {
				level *= burst
			}
		}
		pts[i] = point{x: float64(i - (n - 1)), y: math.Max(0, level+math.Sqrt(level)*r.NormFloat64())}
	}
	return pts
}

func calibrateAll(t *testing.T, pts []point, kv ...string) calibration {
	t.Helper()
	g := filled(pts)
	c := mustConfig(t, kv...)
	return newMarginCache().calibratedMargin("t", g, newForecasterParams(c, g), newReplayRules(c, g))
}

func TestCalibrationWithoutABusinessDayUsesTheDefault(t *testing.T) {
	cal := calibrateAll(t, flat(90, 1000))
	must.Eq(t, calibration{margin: defaultMargin, offMargin: defaultMargin, relative: relativeScale, young: true}, cal)
}

func TestCalibrationGivesBurstyHistoryAWiderMargin(t *testing.T) {
	// Without the seasonal view every day is forecast alike (the first has
	// no yesterday), so the bursts are the only difference.
	calm := calibrateAll(t, history(3, 1), keySeasonal, "false")
	bursty := calibrateAll(t, history(3, 2, 12*60, 15*60, 17*60), keySeasonal, "false")
	must.Eq(t, 3, calm.days, must.Sprint("three whole business days; Friday morning is a stub"))
	// In requests per minute at the plateau (2,000/min, Poisson noise):
	// the units differ in shape, so their counts alone do not compare.
	calmRate, burstyRate := marginAt(calm, 2000), marginAt(bursty, 2000)
	must.Greater(t, 1.5*calmRate, burstyRate, must.Sprintf("calm %.0f/min, bursty %.0f/min", calmRate, burstyRate))
	must.LessEq(t, 0.02, bursty.share)
	must.LessEq(t, 0.02, calm.share)
}

// marginAt is the margin of cal in requests per minute at a forecast of d
// with Poisson noise.
func marginAt(cal calibration, d float64) float64 {
	return cal.margin * unit(noiseAt(d, 0, 1), d, cal.relative)
}

func TestTheUnitsShapeFollowsTheErrors(t *testing.T) {
	// Bursts that scale with the level want a unit that grows with the
	// forecast; the same level with its counting noise only does not.
	calm := calibrateAll(t, history(3, 1), keySeasonal, "false")
	bursty := calibrateAll(t, history(3, 1.5, 12*60, 15*60, 17*60), keySeasonal, "false")
	must.Greater(t, calm.relative, bursty.relative, must.Sprintf("calm share %.2f, bursty %.2f", calm.relative, bursty.relative))

	// The chosen shape orders no more than the default one would have.
	g := filled(history(3, 1.5, 12*60, 15*60, 17*60))
	c := mustConfig(t, keySeasonal, "false")
	p, r := newForecasterParams(c, g), newReplayRules(c, g)
	lo, hi := blockRange(g)
	buf := new(replayBuffers)
	cal := calibrate(g, lo, hi, p, r, buf)
	first := p.horizon + p.settle
	minDay := int(wholeDay * float64(r.businessSlots()))
	m := 0.0 // the default shape's smallest sufficient margin
	for !r.met(replayDays(g.v[lo:hi], first, m, m, relativeScale, p, r, minDay, buf)) {
		m += marginResolution
		must.Less(t, maxMargin, m)
	}
	must.LessEq(t, (1-minShapeGain)*marginCost(buf, first, m, relativeScale), marginCost(buf, first, cal.margin, cal.relative),
		must.Sprint("the chosen shape saves at least minShapeGain"))
}

func TestCalibrationFindsTheSmallestSufficientMargin(t *testing.T) {
	pts := history(3, 1.6, 10*60, 13*60, 16*60)
	g := filled(pts)
	c := mustConfig(t)
	p, r := newForecasterParams(c, g), newReplayRules(c, g)
	lo, hi := blockRange(g)
	buf := new(replayBuffers)
	cal := calibrate(g, lo, hi, p, r, buf)
	must.True(t, r.met(cal))
	worse := replayDays(g.v[lo:hi], p.horizon+p.settle, cal.margin-2*marginResolution, cal.margin-2*marginResolution, cal.relative, p, r, int(wholeDay*float64(r.businessSlots())), buf)
	must.False(t, r.met(worse), must.Sprint("a slightly smaller margin lets too many requests wait"))
}

func TestOneExtraordinaryDayWidensTheMarginForTheWholeWindow(t *testing.T) {
	pts := history(5, 1)
	// One Tuesday morning: for an hour, bursts at three times the level,
	// three minutes every fifteen: each is over before workers ordered for
	// it serve, so only a standing margin carries them (a step that lasts
	// is the backlog check's to follow).
	day := 24 * 60
	for i := 2*day + 9*60; i < 2*day+10*60; i++ {
		if (i-2*day-9*60)%15 < 3 {
			pts[i].y *= 3
		}
	}
	withOutlier := calibrateAll(t, pts)
	must.Eq(t, 5, withOutlier.days)
	must.Greater(t, calibrateAll(t, history(5, 1)).margin+1, withOutlier.margin,
		must.Sprint("every day of the window must meet the SLA: a day like it may come again"))
}

func TestTheMarginReachesTheWorstDayInEight(t *testing.T) {
	for _, c := range []struct{ days, allowed int }{{0, 0}, {7, 0}, {8, 0}, {14, 0}, {15, 1}, {22, 1}, {23, 2}, {28, 2}, {31, 3}} {
		must.Eq(t, c.allowed, allowedMisses(c.days, defaultWorstDayIn), must.Sprintf("%d days", c.days))
	}
	// worst_day_in: 0 lets no day miss, 14 the worst in 14 (one of 28).
	for _, c := range []struct{ days, in, allowed int }{{28, 0, 0}, {365, 0, 0}, {28, 14, 1}, {27, 14, 1}, {13, 14, 0}, {28, 2, 13}} {
		must.Eq(t, c.allowed, allowedMisses(c.days, c.in), must.Sprintf("%d days, worst in %d", c.days, c.in))
	}
	// One extraordinary Tuesday morning (as above) in 16 days: the worst
	// day in eight is an ordinary one, so the margin is the calm days';
	// the Reason and Meta say that a day missed at it.
	outlier := func(pts []point, day int) {
		for i := day*24*60 + 9*60; i < day*24*60+10*60; i++ {
			if (i-day*24*60-9*60)%15 < 3 {
				pts[i].y *= 3
			}
		}
	}
	calm := calibrateAll(t, history(16, 1))
	pts := history(16, 1)
	outlier(pts, 9)
	one := calibrateAll(t, pts)
	must.Eq(t, 16, one.days)
	must.Eq(t, 1, one.missed)
	must.InDelta(t, calm.margin, one.margin, 0.5, must.Sprintf("calm %.2f, with one outlier %.2f", calm.margin, one.margin))
	must.StrContains(t, describeCalibration(one, mustConfig(t)), "1 of the 16 days missed at it")
	// A second such day in the same 16 is more than one in eight: the
	// margin carries them again.
	outlier(pts, 12)
	two := calibrateAll(t, pts)
	must.Eq(t, 1, two.missed)
	must.Greater(t, calm.margin+1, two.margin)
	// The same single outlier in a window of 8 days is its worst day in
	// eight: the margin carries it.
	short := calibrateAll(t, pts[len(pts)-(8*24*60+12*60):])
	must.Eq(t, 0, short.missed)
	must.Greater(t, calm.margin+1, short.margin)
	// worst_day_in = 0: the worst day of all decides, whatever the window.
	all := calibrateAll(t, pts, keyWorstDayIn, "0")
	must.Eq(t, 0, all.missed)
	must.Greater(t, calm.margin+1, all.margin)
	// worst_day_in = 5: in 16 days the third worst decides, so both
	// outliers are let miss and the margin is the calm days' again.
	five := calibrateAll(t, pts, keyWorstDayIn, "5")
	must.Eq(t, 2, five.missed)
	must.InDelta(t, calm.margin, five.margin, 0.5)
	must.StrContains(t, describeCalibration(five, mustConfig(t, keyWorstDayIn, "5")), "the worst day in 5 needed")
}

func TestAvailabilityIsTheSecondPartOfTheSLA(t *testing.T) {
	pts := history(3, 1)
	// The morning ramp fails requests (waits beyond 30 s) on a few minutes
	// of a day without a yesterday: availability 99.9% asks more margin
	// than the SLA's 99%.
	sla := calibrateAll(t, pts)
	strict := calibrateAll(t, pts, keyAvailability, "0.999")
	must.Greater(t, sla.margin, strict.margin)
	must.LessEq(t, 0.01, sla.unavailable)
	must.LessEq(t, 0.001, strict.unavailable)
}

func TestTheReplayedQueueAddsUpByHand(t *testing.T) {
	// Four business slots in one day served by 100 a slot, from the hold
	// window only (lead 1, horizon 1): arrivals 100, 150, 150 leave a
	// backlog of 0, 50, 100. With half a slot of wait allowed, the third
	// slot's 150 requests (backlog 100 > 50) are the slow ones. The
	// backlog check saw the backlog of 50 grow by 50 before the third
	// decision: it asked for the growth and for the backlog a lead later
	// (50 + 50) cleared within drain (2 slots), 50 + 100 / 2 = 100 more,
	// which serve the fourth slot: 100 + 50 - 200 leaves no backlog.
	buf := &replayBuffers{
		upP: []float64{0, 0, 0, 0, 0}, upS: make([]float64, 5),
		holdP: []float64{100, 100, 100, 100, 100}, holdS: make([]float64, 5),
		backlog: make([]float64, 5), day: make([]int32, 5), biz: []bool{true, true, true, true, true},
		upBiz: []bool{true, true, true, true, true}, holdBiz: []bool{true, true, true, true, true},
	}
	r := replayRules{maxWait: 0.5, timeout: 0.9, slowShare: 0.02, drain: 2, step: 1, perWorker: 100}
	cal := replayDays([]float64{0, 100, 150, 150, 50}, 1, 0, 0, 0, forecasterParams{lead: 1, horizon: 1}, r, 1, buf)
	must.Eq(t, 1, cal.days)
	must.InDelta(t, 150.0/450, cal.share, 1e-12)
	must.InDelta(t, 1.0/4, cal.unavailable, 1e-12, must.Sprint("one slot of four waited past the timeout"))
	must.Eq(t, []float64{0, 0, 50, 100, 0}, buf.backlog)
}

func TestTheReplayActsOnlyWhenTheAgentIsFree(t *testing.T) {
	// A ramp whose every decision asks for one more worker (100 a slot).
	// With lead 1 and horizon 3 a count change stands for horizon - lead
	// = 2 slots (the Scale call and its cooldown), so every other decision
	// is not acted on and the workers arrive a slot late: at slot 3 the
	// fleet is slot 1's 200, not slot 2's 300.
	replay := func(horizon int) *replayBuffers {
		const n = 8
		up, arrivals := make([]float64, n), make([]float64, n)
		for i := range up {
			up[i] = 100 * float64(i+1)
			if i >= 2 {
				arrivals[i] = 100 * float64(i)
			}
		}
		all := func() []bool { return []bool{true, true, true, true, true, true, true, true} }
		buf := &replayBuffers{
			upP: up, upS: make([]float64, n), holdP: make([]float64, n), holdS: make([]float64, n),
			backlog: make([]float64, n), day: make([]int32, n), biz: all(), upBiz: all(), holdBiz: all(),
		}
		r := replayRules{maxWait: 0.5, timeout: 0.9, slowShare: 1, unavailable: 1, drain: math.Inf(1), step: 1, perWorker: 100}
		replayDays(arrivals, 1, 0, 0, 0, forecasterParams{lead: 1, horizon: horizon}, r, 1, buf)
		return buf
	}
	blocked := replay(3)
	must.Eq(t, []bool{true, true, false, true, false, true, false, true}, blocked.acted)
	must.Eq(t, []float64{0, 0, 0, 100, 100, 200, 200, 300}, blocked.backlog)
	// horizon = lead + 1: the agent is free every slot and keeps up.
	free := replay(2)
	must.Eq(t, []bool{true, true, true, true, true, true, true, true}, free.acted)
	must.Eq(t, make([]float64, 8), free.backlog)
}

func TestBusinessHoursAndDaysFollowTheZone(t *testing.T) {
	g := filled(flat(24*60, 1))
	kolkata, err := loadLocation("Asia/Kolkata")
	must.NoError(t, err)
	buf := new(replayBuffers)
	markLocal(g, 0, g.len(), kolkata, buf)
	markHours(buf, 8*60, 22*60)
	// The newest slot is 11:59 UTC, 17:29 in Kolkata: business hours.
	must.True(t, buf.biz[g.len()-1])
	// 16:29 UTC is 21:59 in Kolkata, 16:30 UTC is 22:00.
	first := time.Unix(int64(fridayUnix), 0).Add(-time.Duration(g.len()-1) * time.Minute)
	k := int(time.Date(2026, 11, 26, 16, 29, 0, 0, time.UTC).Sub(first).Minutes())
	must.True(t, buf.biz[k])
	must.False(t, buf.biz[k+1])
	// A day starts with its business hours: 08:00 in Kolkata, 02:30 UTC.
	m := int(time.Date(2026, 11, 27, 2, 30, 0, 0, time.UTC).Sub(first).Minutes())
	must.NotEq(t, buf.day[m-1], buf.day[m])
	must.Eq(t, buf.day[m], buf.day[m+1])
	must.Eq(t, buf.day[k], buf.day[k+600], must.Sprint("22:00 to 08:00 belongs to the day before"))
}

func TestHoursThatWrapPastMidnightAreOneDay(t *testing.T) {
	g := filled(flat(3*24*60, 1))
	buf := new(replayBuffers)
	markLocal(g, 0, g.len(), time.UTC, buf)
	markHours(buf, 22*60, 6*60)
	first := time.Unix(int64(fridayUnix), 0).Add(-time.Duration(g.len()-1) * time.Minute)
	at := func(h, m int) int { return int(time.Date(2026, 11, 26, h, m, 0, 0, time.UTC).Sub(first).Minutes()) }
	must.True(t, buf.biz[at(23, 0)])
	must.Eq(t, buf.day[at(22, 0)], buf.day[at(22, 0)+7*60+59], must.Sprint("22:00 to 05:59 is one day"))
	must.NotEq(t, buf.day[at(21, 59)], buf.day[at(22, 0)])
}

func TestTheBusiestHoursOfTheLocalDayWrapPastMidnight(t *testing.T) {
	// Two days of six-hour slots, local midnight first: the traffic lives
	// from 18:00 to 06:00. Business hours 06:00-18:00 hold none of it.
	local := []int64{0, 6 * 3600, 12 * 3600, 18 * 3600, 24 * 3600, 30 * 3600, 36 * 3600, 42 * 3600}
	v := []float64{9, 1, 1, 9, 9, 1, math.NaN(), 9}
	from, outside := busiestHours(v, local, 360, 6*60, 18*60, new([]float64))
	must.Eq(t, 18*60, from)
	must.Eq(t, 2, outside)
	// With business hours 00:00-12:00, one of the two slots is outside.
	_, outside = busiestHours(v, local, 360, 0, 12*60, new([]float64))
	must.Eq(t, 1, outside)
}

func TestAPolicyWhoseZoneIsNotTheTrafficsStillCalibratesOnItsPeak(t *testing.T) {
	// The traffic is busy 08:00-20:00 UTC, with bursts at noon and 15:00.
	// A policy set up for UTC+14 has its 08:00-22:00 at 18:00-08:00 UTC,
	// quiet hours but for the plateau's last two: judged on those alone,
	// the bursts would need no margin.
	pts := history(4, 1.8, 12*60, 15*60)
	right := calibrateAll(t, pts)
	wrong := calibrateAll(t, pts, keyTimezone, "Etc/GMT-14")
	must.False(t, right.moved)
	must.True(t, wrong.moved)
	must.Less(t, 1.0, math.Abs(right.margin-wrong.margin),
		must.Sprintf("margin %.2f in the traffic's zone, %.2f in the policy's", right.margin, wrong.margin))
	// A day and a half of history is no profile of a day: its hours stay.
	must.False(t, calibrateAll(t, history(1, 1.8, 12*60, 15*60), keyTimezone, "Etc/GMT-14").moved)
	c := mustConfig(t, keyTimezone, "Etc/GMT-14")
	must.StrContains(t, describeCalibration(wrong, c), "the traffic's busiest 14h0m0s (")
	must.StrContains(t, describeCalibration(wrong, c), ") lies mostly outside floor_hours 08:00-22:00 in Etc/GMT-14 (is timezone the traffic's zone?): the replay judged those hours instead")
}

func TestARelaxedOffHoursWaitGetsASmallerMarginOutsideBusinessHoursOnly(t *testing.T) {
	// Bursts at night (02:00, 04:00) and in business hours (12:00, 15:00).
	pts := history(4, 1.8, 2*60, 4*60, 12*60, 15*60)
	sla := calibrateAll(t, pts)
	relaxed := calibrateAll(t, pts, keyOffHoursMaxWait, "30s")
	must.Eq(t, sla.margin, sla.offMargin, must.Sprint("0s: the SLA all day"))
	must.Eq(t, sla.margin, relaxed.margin, must.Sprint("business hours keep their margin"))
	must.Less(t, relaxed.margin, relaxed.offMargin)
	must.LessEq(t, 0.02, relaxed.offShare)

	// Less than two days of history cannot say where the traffic's day
	// lies: nothing is relaxed.
	young := calibrateAll(t, history(1, 1.8, 2*60, 4*60, 12*60, 15*60), keyOffHoursMaxWait, "30s")
	must.Eq(t, young.margin, young.offMargin)

	// The replay with both margins still meets every business day: a
	// night that ends with a queue is a morning that starts with one.
	g := filled(pts)
	c := mustConfig(t, keyOffHoursMaxWait, "30s")
	p, r := newForecasterParams(c, g), newReplayRules(c, g)
	lo, hi := blockRange(g)
	buf := new(replayBuffers)
	cal := calibrate(g, lo, hi, p, r, buf)
	must.Eq(t, relaxed, cal)
	must.True(t, r.met(cal))
	less := replayDays(g.v[lo:hi], p.horizon+p.settle, cal.margin, cal.offMargin-2*marginResolution, cal.relative, p, r, int(wholeDay*float64(r.businessSlots())), buf)
	must.False(t, r.met(less) && less.offShare <= r.slowShare && less.offUnavailable <= r.unavailable,
		must.Sprint("the off-hours margin is the smallest that holds"))
}

func TestAnOffHoursWaitShorterThanMaxWaitIsAnError(t *testing.T) {
	_, err := parseConfig(map[string]string{keyCapacity: "100", keyMaxWait: "5s", keyOffHoursMaxWait: "3s"})
	must.ErrorContains(t, err, `off_hours_max_wait`)
	must.ErrorContains(t, err, "must be 0s or at least max_wait (5s)")
}

func TestWindowsTouchBusinessHoursFromTheirFirstToTheirLastSlot(t *testing.T) {
	buf := &replayBuffers{biz: []bool{false, false, false, true, true, false, false, false}}
	markWindows(buf, forecasterParams{lead: 1, horizon: 2})
	// hold [k, k+2], up [k+1, k+2]; past the end the last slot (off) stands.
	must.Eq(t, []bool{false, true, true, true, true, false, false, false}, buf.holdBiz)
	must.Eq(t, []bool{false, true, true, true, false, false, false, false}, buf.upBiz)
}

func TestTheHourlyRecalibrationStartsWhereTheLastEnded(t *testing.T) {
	pts := history(4, 1.6, 10*60, 13*60, 16*60)
	c := mustConfig(t)
	buf := new(replayBuffers)
	calibrateAt := func(g *grid, hints searchHints) (calibration, searchHints) {
		lo, hi := blockRange(g)
		return calibrateHinted(g, lo, hi, newForecasterParams(c, g), newReplayRules(c, g), buf, hints)
	}
	// An hour ago: the window without its newest hour.
	before, hints := calibrateAt(filled(pts[:len(pts)-60]), searchHints{})
	must.Greater(t, 0, hints.replays)
	g := filled(pts)
	cold, coldHints := calibrateAt(g, searchHints{})
	warm, warmHints := calibrateAt(g, hints)
	t.Logf("margin an hour ago %.3f; now %.3f from nothing in %d replays, %.3f from the last brackets in %d",
		before.margin, cold.margin, coldHints.replays, warm.margin, warmHints.replays)
	must.Less(t, coldHints.replays, warmHints.replays)
	lo, hi := blockRange(g)
	r := newReplayRules(c, g)
	p := newForecasterParams(c, g)
	minDay := int(wholeDay * float64(r.businessSlots()))
	must.True(t, r.met(replayDays(g.v[lo:hi], p.horizon+p.settle, warm.margin, warm.margin, warm.relative, p, r, minDay, buf)),
		must.Sprint("the margin found from the hints meets on its own replay"))
	// From its own brackets, a calibration of the same window finds
	// exactly what it found, with at most two replays per shape.
	again, againHints := calibrateAt(g, coldHints)
	must.Eq(t, cold, again)
	must.Eq(t, coldHints.shapes, againHints.shapes)
	must.LessEq(t, 2*len(relativeScales), againHints.replays)
	must.Less(t, coldHints.replays, againHints.replays)
}
