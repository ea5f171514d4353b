package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestCheckMemoryCountsRisesForOneLead(t *testing.T) {
	var b checkMemory
	lead := 5 * time.Minute
	at := func(m int) time.Time { return friday.Add(time.Duration(m) * time.Minute) }
	n, known := b.observeCount("c", at(0), 10, lead)
	must.Eq(t, int64(0), n)
	must.False(t, known, must.Sprint("a check first seen now has an unknown past"))
	b.observeCount("c", at(1), 10, lead)
	n, _ = b.observeCount("c", at(2), 16, lead) // six more ordered
	must.Eq(t, int64(6), n)
	n, _ = b.observeCount("c", at(3), 20, lead)
	must.Eq(t, int64(10), n)
	n, known = b.observeCount("c", at(6), 20, lead)
	must.Eq(t, int64(10), n, must.Sprint("both rises are younger than the lead"))
	must.True(t, known)
	n, _ = b.observeCount("c", at(7), 20, lead)
	must.Eq(t, int64(4), n, must.Sprint("the first rise is serving by now"))
	n, _ = b.observeCount("c", at(7).Add(10*time.Second), 12, lead)
	must.Eq(t, int64(4), n, must.Sprint("a scale-in drains serving workers; the booting keep booting"))
	n, _ = b.observeCount("c", at(7).Add(20*time.Second), 3, lead)
	must.Eq(t, int64(3), n, must.Sprint("never more than the count"))
	n, _ = b.observeCount("c", at(8), 3, lead)
	must.Eq(t, int64(0), n, must.Sprint("the second rise serves from a lead after it"))
}

func TestCheckMemoryKeepsItsHistoryThroughGapsLongerThanTheLead(t *testing.T) {
	var b checkMemory
	lead := time.Second // the demo's: evaluations come every 2 s
	b.observeCount("c", friday, 1, lead)
	n, known := b.observeCount("c", friday.Add(2*time.Second), 9, lead)
	must.True(t, known)
	must.Eq(t, int64(8), n, must.Sprint("the rise seen after the gap boots from when it is seen"))
	n, known = b.observeCount("c", friday.Add(4*time.Second), 9, lead)
	must.True(t, known)
	must.Eq(t, int64(0), n)
}

func TestCheckMemoryForgetsAfterAnHourUnseenOrAClockGoingBack(t *testing.T) {
	var b checkMemory
	lead := 5 * time.Minute
	b.observeCount("c", friday, 1, lead)
	b.observeCount("c", friday.Add(6*time.Minute), 9, lead)
	_, known := b.observeCount("c", friday.Add(6*time.Minute+forgetAfter+time.Second), 9, lead)
	must.False(t, known, must.Sprint("unseen for an hour: the agent may have lost the lock"))
	_, known = b.observeCount("c", friday, 9, lead)
	must.False(t, known)
}

func TestCheckMemoryKeepsChecksApartAndBounded(t *testing.T) {
	var b checkMemory
	lead := time.Minute
	b.observeCount("a", friday, 1, lead)
	b.observeCount("b", friday, 100, lead)
	n, _ := b.observeCount("a", friday.Add(time.Second), 5, lead)
	must.Eq(t, int64(4), n)
	for i := range maxTrackedChecks + 10 {
		b.observeCount(string(rune('0'+i%10))+time.Duration(i).String(), friday, 1, lead)
	}
	must.LessEq(t, maxTrackedChecks, len(b.checks))
}

func TestCheckMemoryMeasuresBacklogGrowthOverAMinuteOrMore(t *testing.T) {
	var b checkMemory
	at := func(s int) time.Time { return friday.Add(time.Duration(s) * time.Second) }
	_, ok := b.observeBacklog("c", at(0), 100)
	must.False(t, ok, must.Sprint("one reading has no growth"))
	_, ok = b.observeBacklog("c", at(2), 160)
	must.False(t, ok, must.Sprint("two seconds apart is single deliveries, not a rate"))
	g, ok := b.observeBacklog("c", at(60), 400)
	must.True(t, ok)
	must.InDelta(t, 300.0, g, 1e-9, must.Sprint("against the reading a minute old, not the one 58 s old"))
	g, ok = b.observeBacklog("c", at(120), 100)
	must.True(t, ok)
	must.InDelta(t, -300.0, g, 1e-9, must.Sprint("a draining queue shrinks"))
	_, ok = b.observeBacklog("c", at(120+int(maxGrowthGap/time.Second)+1), 100)
	must.False(t, ok, must.Sprint("readings older than maxGrowthGap say nothing about now"))
	_, ok = b.observeBacklog("d", at(200), 100)
	must.False(t, ok, must.Sprint("checks are kept apart"))
}

func TestCheckMemoryKeepsFewBacklogReadings(t *testing.T) {
	var b checkMemory
	for s := range 3600 { // a reading every second for an hour
		b.observeBacklog("c", friday.Add(time.Duration(s)*time.Second), float64(s))
	}
	must.LessEq(t, int(maxGrowthGap/backlogSampleEvery)+1, len(b.checks["c"].backlogs))
	g, ok := b.observeBacklog("c", friday.Add(3600*time.Second), 3600)
	must.True(t, ok)
	must.InDelta(t, 60.0, g, 1e-9)
}
