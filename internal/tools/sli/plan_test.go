package sli

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// planRow is one bucket as a test reads it: where it starts, local, and
// where its requests count.
type planRow struct {
	start         string // RFC 3339 in the plan's zone
	calendar, biz int
	business      bool
	last1h        bool
	last6h        bool
}

func planRows(p plan, loc *time.Location) []planRow {
	rows := make([]planRow, len(p.bounds))
	for i, b := range p.buckets {
		rows[i] = planRow{p.bounds[i].In(loc).Format(time.RFC3339), b.calendarDay, b.businessDay, b.business, b.lastShort, b.lastLong}
	}
	return rows
}

func mustHours(t *testing.T, s string) BusinessHours {
	t.Helper()
	h, err := ParseBusinessHours(s)
	must.NoError(t, err)
	return h
}

func TestAPastDayIsReadFromMidnightToMidnightInBucketsAtItsWindowAndBurnWindows(t *testing.T) {
	t.Parallel()
	loc := zone(t, "Asia/Kolkata")
	p := newPlan(date(2026, 11, 2), date(2026, 11, 2), loc, mustHours(t, "08:00-22:00"), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	must.Eq(t, "2026-11-02T00:00:00+05:30", p.scanStart.In(loc).Format(time.RFC3339))
	must.Eq(t, "2026-11-03T00:00:00+05:30", p.scanEnd.In(loc).Format(time.RFC3339))
	must.Eq(t, p.scanEnd, p.burnEnd)
	must.Eq(t, []bool{false}, p.partial)
	must.Eq(t, []planRow{
		{"2026-11-02T00:00:00+05:30", 0, -1, false, false, false},
		{"2026-11-02T08:00:00+05:30", 0, 0, true, false, false},
		{"2026-11-02T18:00:00+05:30", 0, 0, true, false, true},
		{"2026-11-02T22:00:00+05:30", 0, -1, false, false, true},
		{"2026-11-02T23:00:00+05:30", 0, -1, false, true, true},
	}, planRows(p, loc))
	must.Eq(t, []int32{0, 1, 1, 0, 0}, p.businessDays())
}

func TestAWrappingWindowExtendsTheReadToTheMorningAfterTheLastDay(t *testing.T) {
	t.Parallel()
	p := newPlan(date(2026, 11, 2), date(2026, 11, 3), time.UTC, mustHours(t, "22:00-06:00"), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	must.Eq(t, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), p.scanStart)
	must.Eq(t, time.Date(2026, 11, 4, 6, 0, 0, 0, time.UTC), p.scanEnd)
	must.Eq(t, []planRow{
		// The early hours of -from belong to the window of the day before:
		// business for the burn rates, but no reported day's.
		{"2026-11-02T00:00:00Z", 0, -1, true, false, false},
		{"2026-11-02T06:00:00Z", 0, -1, false, false, false},
		{"2026-11-02T22:00:00Z", 0, 0, true, false, false},
		{"2026-11-03T00:00:00Z", 1, 0, true, false, false},
		{"2026-11-03T06:00:00Z", 1, -1, false, false, false},
		{"2026-11-03T22:00:00Z", 1, 1, true, false, false},
		// After -to's midnight: in -to's window, in no calendar day.
		{"2026-11-04T00:00:00Z", -1, 1, true, false, true},
		{"2026-11-04T05:00:00Z", -1, 1, true, true, true},
	}, planRows(p, time.UTC))
}

func TestTodayIsReadUntilNowAndTheBurnWindowsEndNow(t *testing.T) {
	t.Parallel()
	loc := zone(t, "Asia/Kolkata")
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, loc)
	p := newPlan(date(2026, 11, 2), date(2026, 11, 3), loc, mustHours(t, "08:00-22:00"), now)
	must.Eq(t, now, p.scanEnd)
	must.Eq(t, now, p.burnEnd)
	must.Eq(t, []bool{false, true}, p.partial)
	must.Eq(t, []planRow{
		{"2026-11-02T00:00:00+05:30", 0, -1, false, false, false},
		{"2026-11-02T08:00:00+05:30", 0, 0, true, false, false},
		{"2026-11-02T22:00:00+05:30", 0, -1, false, false, false},
		{"2026-11-03T00:00:00+05:30", 1, -1, false, false, false},
		{"2026-11-03T06:00:00+05:30", 1, -1, false, false, true},
		{"2026-11-03T08:00:00+05:30", 1, 1, true, false, true},
		{"2026-11-03T11:00:00+05:30", 1, 1, true, true, true},
	}, planRows(p, loc))
}

func TestABurnWindowReachingBeforeFromStartsTheReadEarlier(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)
	p := newPlan(date(2026, 11, 3), date(2026, 11, 3), time.UTC, mustHours(t, "08:00-22:00"), now)
	must.Eq(t, now.Add(-6*time.Hour), p.scanStart)
	must.Eq(t, []planRow{
		{"2026-11-02T20:00:00Z", -1, -1, true, false, true},
		{"2026-11-02T22:00:00Z", -1, -1, false, false, true},
		{"2026-11-03T00:00:00Z", 0, -1, false, false, true},
		{"2026-11-03T01:00:00Z", 0, -1, false, true, true},
	}, planRows(p, time.UTC))
}

func TestDaysFollowTheLocalClockAcrossAFallBack(t *testing.T) {
	t.Parallel()
	ny := zone(t, "America/New_York")
	// Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST. The day lasts
	// 25 hours, and a 00:00-02:00 window three.
	p := newPlan(date(2026, 11, 1), date(2026, 11, 1), ny, mustHours(t, "00:00-02:00"), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	must.Eq(t, 25*time.Hour, p.scanEnd.Sub(p.scanStart))
	must.Eq(t, []planRow{
		{"2026-11-01T00:00:00-04:00", 0, 0, true, false, false},
		{"2026-11-01T02:00:00-05:00", 0, -1, false, false, false},
		{"2026-11-01T18:00:00-05:00", 0, -1, false, false, true},
		{"2026-11-01T23:00:00-05:00", 0, -1, false, true, true},
	}, planRows(p, ny))
	must.Eq(t, 3*time.Hour, p.bounds[1].Sub(p.bounds[0]))
}

func TestAPeriodThatHasNotStartedReadsNothing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	p := newPlan(date(2026, 11, 3), date(2026, 11, 3), time.UTC, mustHours(t, "08:00-22:00"), now)
	must.Eq(t, now, p.scanEnd)
	must.Eq(t, []bool{true}, p.partial)
	// Only the six hours before now, for the burn rates.
	must.Eq(t, now.Add(-6*time.Hour), p.scanStart)
	must.NotEq(t, 0, len(p.bounds))
}
