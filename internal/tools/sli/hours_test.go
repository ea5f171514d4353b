package sli

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestBusinessHoursParseAndSayWhetherTheyWrap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		want  BusinessHours
		wraps bool
	}{
		{"08:00-22:00", BusinessHours{8 * 60, 22 * 60}, false},
		{"22:00-06:00", BusinessHours{22 * 60, 6 * 60}, true},
		{"00:00-24:00", BusinessHours{0, 24 * 60}, false},
		{"09:30-00:00", BusinessHours{9*60 + 30, 0}, true},
	}
	for _, tc := range cases {
		got, err := ParseBusinessHours(tc.in)
		must.NoError(t, err)
		must.Eq(t, tc.want, got)
		must.Eq(t, tc.wraps, got.Wraps())
		must.Eq(t, tc.in, got.String())
	}
}

func TestBadBusinessHoursSayWhatIsWanted(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"8-22":        "want HH:MM-HH:MM",
		"08:00":       "want HH:MM-HH:MM",
		"8:00-22:00":  "want HH:MM-HH:MM",
		"08:00-25:00": "want HH:MM-HH:MM",
		"08:60-22:00": "want HH:MM-HH:MM",
		"24:00-06:00": "cannot start at 24:00",
		"08:00-08:00": "say 00:00-24:00 for the whole day",
		"":            "want HH:MM-HH:MM",
	}
	for in, want := range cases {
		_, err := ParseBusinessHours(in)
		must.ErrorContains(t, err, want, must.Sprintf("input %q", in))
	}
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	must.NoError(t, err)
	return loc
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestFirstInstantIsTheFirstTimeTheClockReadsTheTimeAcrossDSTChanges(t *testing.T) {
	t.Parallel()
	ny := zone(t, "America/New_York")
	santiago := zone(t, "America/Santiago")
	cases := []struct {
		name   string
		day    time.Time
		minute int
		loc    *time.Location
		want   time.Time
	}{
		{"an ordinary morning in Kolkata", date(2026, 11, 2), 8 * 60, zone(t, "Asia/Kolkata"), time.Date(2026, 11, 2, 2, 30, 0, 0, time.UTC)},
		{"midnight in UTC", date(2026, 11, 2), 0, time.UTC, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
		{"24:00 is the next midnight", date(2026, 11, 2), 24 * 60, time.UTC, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)},
		{"a time skipped by spring-forward is the instant after the jump", date(2026, 3, 8), 2*60 + 30, ny, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"the time after the jump is itself", date(2026, 3, 8), 3 * 60, ny, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"a time repeated by fall-back is its first occurrence (EDT)", date(2026, 11, 1), 60 + 30, ny, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		{"the time after the repeated hour is in EST", date(2026, 11, 1), 2*60 + 30, ny, time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC)},
		{"a skipped midnight starts the day at 01:00", date(2026, 9, 6), 0, santiago, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FirstInstant(tc.day, tc.minute, tc.loc)
			must.Eq(t, tc.want, got.UTC())
		})
	}
}

// wallClock is t's local date and time written as if it were UTC, so that
// wall-clock readings compare as instants do.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// FuzzFirstInstant checks the definition itself: at the instant returned
// the clock reads the time or later, and a second before it read earlier.
func FuzzFirstInstant(f *testing.F) {
	zones := []string{"UTC", "Asia/Kolkata", "America/New_York", "Europe/London", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia", "America/Havana"}
	f.Add(uint8(2), uint16(0), uint16(150))
	f.Add(uint8(2), uint16(66), uint16(90))
	f.Add(uint8(4), uint16(248), uint16(0))
	f.Add(uint8(6), uint16(2190), uint16(0))
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		locs[i] = zone(f, z)
	}
	f.Fuzz(func(t *testing.T, z uint8, dayOffset uint16, minute uint16) {
		loc := locs[int(z)%len(locs)]
		day := date(2026, 1, 1).AddDate(0, 0, int(dayOffset)%12000-6000)
		m := int(minute) % (24*60 + 1)
		target := day.Add(time.Duration(m) * time.Minute)
		got := FirstInstant(day, m, loc)
		must.False(t, wallClock(got, loc).Before(target), must.Sprintf("%s in %s: the clock reads %s at %s", target, loc, wallClock(got, loc), got))
		// Earlier, even before a fall-back, the clock read less.
		for _, back := range []time.Duration{time.Second, 30 * time.Minute, time.Hour, 2 * time.Hour} {
			before := wallClock(got.Add(-back), loc)
			must.True(t, before.Before(target), must.Sprintf("%s in %s: the clock already read %s %s before %s", target, loc, before, back, got))
		}
	})
}

func TestAWrappingWindowBelongsToTheDayItStarts(t *testing.T) {
	t.Parallel()
	h, err := ParseBusinessHours("22:00-06:00")
	must.NoError(t, err)
	start, end := h.Window(date(2026, 11, 2), time.UTC)
	must.Eq(t, time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC), start)
	must.Eq(t, time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC), end)
}
