package sli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BusinessHours is a daily window of local wall-clock time, [Start, End)
// in minutes after midnight. End <= Start means the window wraps past
// midnight: it belongs to the day on which it starts and ends the next day.
type BusinessHours struct {
	Start, End int
}

// ParseBusinessHours reads "HH:MM-HH:MM": "08:00-22:00", "22:00-06:00"
// (wraps past midnight), "00:00-24:00" (the whole day).
func ParseBusinessHours(s string) (BusinessHours, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return BusinessHours{}, fmt.Errorf("want HH:MM-HH:MM")
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	switch {
	case err1 != nil || err2 != nil:
		return BusinessHours{}, fmt.Errorf("want HH:MM-HH:MM")
	case start == 24*60:
		return BusinessHours{}, fmt.Errorf("a window cannot start at 24:00")
	case start == end:
		return BusinessHours{}, fmt.Errorf("start and end are equal: say 00:00-24:00 for the whole day")
	}
	return BusinessHours{Start: start, End: end}, nil
}

// parseClock reads HH:MM, 00:00 to 24:00, into minutes after midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) != 2 || len(m) != 2 ||
		hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	return hh*60 + mm, nil
}

// Wraps says whether the window ends on the day after it starts.
func (b BusinessHours) Wraps() bool { return b.End <= b.Start }

// String is the HH:MM-HH:MM form.
func (b BusinessHours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", b.Start/60, b.Start%60, b.End/60, b.End%60)
}

// Window is the business window of the local day d (a date at UTC
// midnight) as instants [start, end): from the first instant the local
// clock reads the start time to the first instant after it that the clock
// reads the end time. On a day when clocks jump forward over a boundary the
// boundary is the first instant after the jump (02:30 is 03:00 EDT on the
// spring-forward day in New York); when they fall back, it is the first of
// the two instants that read it.
func (b BusinessHours) Window(d time.Time, loc *time.Location) (start, end time.Time) {
	start = FirstInstant(d, b.Start, loc)
	endDay := d
	if b.Wraps() {
		endDay = d.AddDate(0, 0, 1)
	}
	return start, FirstInstant(endDay, b.End, loc)
}

// LocalMidnight is the first instant of the local day d (a date at UTC
// midnight).
func LocalMidnight(d time.Time, loc *time.Location) time.Time {
	return FirstInstant(d, 0, loc)
}

// FirstInstant is the earliest instant at which the local wall clock of loc
// reads minute (0 to 1440) of the date d, or a later time of that date:
// time.Date does not say which instant it returns for a wall-clock time
// that a transition skips or repeats, and the SLA's days and windows must
// not depend on that.
//
// It walks the zone periods (constant UTC offsets) around the date in time
// order; in a period [s, e) with offset o the wall clock reads x+o at
// instant x, so the first instant reading at least target there is
// max(s, target-o), when that is before e.
func FirstInstant(d time.Time, minute int, loc *time.Location) time.Time {
	// target is the wall-clock time written as if it were UTC.
	target := time.Date(d.Year(), d.Month(), d.Day(), 0, minute, 0, 0, time.UTC)
	// No zone has ever been more than 26 hours from UTC, and transitions
	// move clocks by at most a day (Samoa, 2011).
	x := target.Add(-50 * time.Hour)
	limit := target.Add(50 * time.Hour)
	for x.Before(limit) {
		t := x.In(loc)
		_, offset := t.Zone()
		s, e := t.ZoneBounds()
		candidate := target.Add(-time.Duration(offset) * time.Second)
		if !s.IsZero() && candidate.Before(s) {
			candidate = s
		}
		// The candidate is never before x: in the first period the offset
		// is less than the 50 hours of margin, and every later period
		// starts at x.
		if e.IsZero() || candidate.Before(e) {
			return candidate
		}
		x = e
	}
	// Unreachable with the tz database; fall back to time.Date's choice.
	return time.Date(d.Year(), d.Month(), d.Day(), 0, minute, 0, 0, loc)
}
