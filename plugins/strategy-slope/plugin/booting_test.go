package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestBootTrackerCountsRisesForOneLead(t *testing.T) {
	var b bootTracker
	lead := 5 * time.Minute
	at := func(m int) time.Time { return friday.Add(time.Duration(m) * time.Minute) }
	n, known := b.observe("c", at(0), 10, lead)
	must.Eq(t, int64(0), n)
	must.False(t, known, must.Sprint("a check first seen now has an unknown past"))
	b.observe("c", at(1), 10, lead)
	n, _ = b.observe("c", at(2), 16, lead) // six more ordered
	must.Eq(t, int64(6), n)
	n, _ = b.observe("c", at(3), 20, lead)
	must.Eq(t, int64(10), n)
	n, known = b.observe("c", at(6), 20, lead)
	must.Eq(t, int64(10), n, must.Sprint("both rises are younger than the lead"))
	must.True(t, known)
	n, _ = b.observe("c", at(7), 20, lead)
	must.Eq(t, int64(4), n, must.Sprint("the first rise is serving by now"))
	n, _ = b.observe("c", at(7).Add(10*time.Second), 12, lead)
	must.Eq(t, int64(4), n, must.Sprint("a scale-in drains serving workers; the booting keep booting"))
	n, _ = b.observe("c", at(7).Add(20*time.Second), 3, lead)
	must.Eq(t, int64(3), n, must.Sprint("never more than the count"))
	n, _ = b.observe("c", at(8), 3, lead)
	must.Eq(t, int64(0), n, must.Sprint("the second rise serves from a lead after it"))
}

func TestBootTrackerKeepsItsHistoryThroughGapsLongerThanTheLead(t *testing.T) {
	var b bootTracker
	lead := time.Second // the demo's: evaluations come every 2 s
	b.observe("c", friday, 1, lead)
	n, known := b.observe("c", friday.Add(2*time.Second), 9, lead)
	must.True(t, known)
	must.Eq(t, int64(8), n, must.Sprint("the rise seen after the gap boots from when it is seen"))
	n, known = b.observe("c", friday.Add(4*time.Second), 9, lead)
	must.True(t, known)
	must.Eq(t, int64(0), n)
}

func TestBootTrackerForgetsAfterAnHourUnseenOrAClockGoingBack(t *testing.T) {
	var b bootTracker
	lead := 5 * time.Minute
	b.observe("c", friday, 1, lead)
	b.observe("c", friday.Add(6*time.Minute), 9, lead)
	_, known := b.observe("c", friday.Add(6*time.Minute+forgetAfter+time.Second), 9, lead)
	must.False(t, known, must.Sprint("unseen for an hour: the agent may have lost the lock"))
	_, known = b.observe("c", friday, 9, lead)
	must.False(t, known)
}

func TestBootTrackerKeepsChecksApartAndBounded(t *testing.T) {
	var b bootTracker
	lead := time.Minute
	b.observe("a", friday, 1, lead)
	b.observe("b", friday, 100, lead)
	n, _ := b.observe("a", friday.Add(time.Second), 5, lead)
	must.Eq(t, int64(4), n)
	for i := range maxTrackedChecks + 10 {
		b.observe(string(rune('0'+i%10))+time.Duration(i).String(), friday, 1, lead)
	}
	must.LessEq(t, maxTrackedChecks, len(b.checks))
}
