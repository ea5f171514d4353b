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
	must.Eq(t, calibration{margin: defaultMargin}, cal)
}

func TestCalibrationGivesBurstyHistoryAWiderMargin(t *testing.T) {
	// Without the seasonal view every day is forecast alike (the first has
	// no yesterday), so the bursts are the only difference.
	calm := calibrateAll(t, history(3, 1), keySeasonal, "false")
	bursty := calibrateAll(t, history(3, 2, 12*60, 15*60, 17*60), keySeasonal, "false")
	must.Eq(t, 3, calm.days, must.Sprint("three whole business days; Friday morning is a stub"))
	must.Greater(t, calm.margin+1, bursty.margin, must.Sprintf("calm %.2f, bursty %.2f", calm.margin, bursty.margin))
	must.LessEq(t, 0.02, bursty.share)
	must.LessEq(t, 0.02, calm.share)
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
	worse := replayDays(g.v[lo:hi], p.horizon+p.settle, cal.margin-2*marginResolution, p, r, int(wholeDay*float64(r.businessSlots())), buf)
	must.False(t, r.met(worse), must.Sprint("a slightly smaller margin lets too many requests wait"))
}

func TestOneExtraordinaryDayWidensTheMarginForTheWholeWindow(t *testing.T) {
	pts := history(5, 1)
	// One Tuesday morning: an hour at three times the level.
	day := 24 * 60
	for i := 2*day + 9*60; i < 2*day+10*60; i++ {
		pts[i].y *= 3
	}
	withOutlier := calibrateAll(t, pts)
	must.Eq(t, 5, withOutlier.days)
	must.Greater(t, calibrateAll(t, history(5, 1)).margin+1, withOutlier.margin,
		must.Sprint("every day of the window must meet the SLA: a day like it may come again"))
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
	// window only (lead 0, horizon 0): arrivals 100, 150, 150, 50 leave a
	// backlog of 0, 50, 100, 50. With half a slot of wait allowed, the third
	// slot's 150 requests (backlog 100 > 50) are the slow ones.
	buf := &replayBuffers{
		upP: []float64{0, 0, 0, 0, 0}, upS: make([]float64, 5),
		holdP: []float64{100, 100, 100, 100, 100}, holdS: make([]float64, 5),
		backlog: make([]float64, 5), day: make([]int32, 5), biz: []bool{true, true, true, true, true},
	}
	r := replayRules{maxWait: 0.5, timeout: 0.9, slowShare: 0.02, drain: math.Inf(1), step: 1}
	cal := replayDays([]float64{0, 100, 150, 150, 50}, 1, 0, forecasterParams{}, r, 1, buf)
	must.Eq(t, 1, cal.days)
	must.InDelta(t, 150.0/450, cal.share, 1e-12)
	must.InDelta(t, 1.0/4, cal.unavailable, 1e-12, must.Sprint("one slot of four waited past the timeout"))
	must.Eq(t, []float64{0, 0, 50, 100, 50}, buf.backlog)
}

func TestBusinessHoursAndDaysFollowTheZone(t *testing.T) {
	g := filled(flat(24*60, 1))
	kolkata, err := loadLocation("Asia/Kolkata")
	must.NoError(t, err)
	buf := new(replayBuffers)
	markDays(g, 0, g.len(), replayRules{bizStart: 8 * 60, bizEnd: 22 * 60, loc: kolkata}, buf)
	// The newest slot is 11:59 UTC, 17:29 in Kolkata: business hours.
	must.True(t, buf.biz[g.len()-1])
	// 16:29 UTC is 21:59 in Kolkata, 16:30 UTC is 22:00.
	first := time.Unix(int64(fridayUnix), 0).Add(-time.Duration(g.len()-1) * time.Minute)
	k := int(time.Date(2026, 11, 26, 16, 29, 0, 0, time.UTC).Sub(first).Minutes())
	must.True(t, buf.biz[k])
	must.False(t, buf.biz[k+1])
	// Local midnight (18:30 UTC) starts a new day.
	m := int(time.Date(2026, 11, 26, 18, 30, 0, 0, time.UTC).Sub(first).Minutes())
	must.NotEq(t, buf.day[m-1], buf.day[m])
	must.Eq(t, buf.day[m], buf.day[m+1])
}

func TestTheBusiestStretchOfADayIsFoundAndGapsCountAsNone(t *testing.T) {
	nan := math.NaN()
	best, at := busiestStretch([]float64{1, 5, nan, 4, 4, 1, 0}, 3)
	must.Eq(t, 9.0, best)
	must.Eq(t, 1, at, must.Sprint("5, the gap and 4: the first of the two stretches of 9"))
	best, at = busiestStretch([]float64{2, 3}, 5)
	must.Eq(t, 5.0, best, must.Sprint("a stub of a day is all of its stretch"))
	must.Eq(t, 0, at)
}

func TestAPolicyWhoseZoneIsNotTheTrafficsStillCalibratesOnItsPeak(t *testing.T) {
	// The traffic is busy 08:00-20:00 UTC, with bursts at noon and 15:00.
	// A policy set up for UTC+14 has its 08:00-22:00 at 18:00-08:00 UTC,
	// quiet hours but for the plateau's last two: judged on those alone,
	// the bursts would need no margin.
	pts := history(4, 1.8, 12*60, 15*60)
	right := calibrateAll(t, pts)
	wrong := calibrateAll(t, pts, keyTimezone, "Etc/GMT-14")
	must.Eq(t, 0, right.offHours)
	must.Positive(t, wrong.offHours)
	must.Less(t, 1.0, math.Abs(right.margin-wrong.margin),
		must.Sprintf("margin %.2f in the traffic's zone, %.2f in the policy's", right.margin, wrong.margin))
	c := mustConfig(t, keyTimezone, "Etc/GMT-14")
	must.StrContains(t, describeCalibration(wrong, c), "the busiest 14h0m0s lay mostly outside floor_hours 08:00-22:00 in Etc/GMT-14 (is timezone the traffic's zone?): each day's busiest 14h0m0s was judged instead")
}

func TestTheBusiestStretchReplacesTheHoursOnlyWhenMostDaysPeakOutsideThem(t *testing.T) {
	// Three days of four slots; the configured hours are each day's first
	// two slots; w = 2.
	day := []int32{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}
	hours := func() []bool {
		b := make([]bool, 12)
		for _, k := range []int{0, 1, 4, 5, 8, 9} {
			b[k] = true
		}
		return b
	}
	// One day of three peaks late (a holiday, say): nothing changes.
	biz := hours()
	must.Eq(t, 0, markBusiest([]float64{9, 9, 1, 1, 9, 9, 1, 1, 1, 1, 9, 9}, day, biz, 2))
	must.Eq(t, hours(), biz)
	// Two of three: every day is judged on its own busiest stretch.
	biz = hours()
	must.Eq(t, 2, markBusiest([]float64{1, 1, 9, 9, 9, 9, 1, 1, 1, 1, 9, 9}, day, biz, 2))
	must.Eq(t, []bool{false, false, true, true, true, true, false, false, false, false, true, true}, biz)
}
