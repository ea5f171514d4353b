package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestFloorActive(t *testing.T) {
	kolkata, err := loadLocation("Asia/Kolkata")
	must.NoError(t, err)
	weekdays, _ := parseDays("Mon-Fri")
	all, _ := parseDays("Mon-Sun")
	// 2026-11-27 is a Friday.
	cases := []struct {
		name string
		rule floorRule
		at   time.Time
		want bool
	}{
		{"inside business hours in the floor's time zone", floorRule{count: 2, start: 8 * 60, end: 22 * 60, days: all, loc: kolkata}, time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), true},
		{"before opening in the floor's time zone although UTC says afternoon", floorRule{count: 2, start: 8 * 60, end: 22 * 60, days: all, loc: kolkata}, time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC), false},
		{"the end minute is outside", floorRule{count: 2, start: 8 * 60, end: 22 * 60, days: all, loc: time.UTC}, time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC), false},
		{"the start minute is inside", floorRule{count: 2, start: 8 * 60, end: 22 * 60, days: all, loc: time.UTC}, time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), true},
		{"a weekday-only floor is off on Saturday", floorRule{count: 2, start: 8 * 60, end: 22 * 60, days: weekdays, loc: time.UTC}, time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), false},
		{"a night window wraps past midnight", floorRule{count: 2, start: 22 * 60, end: 6 * 60, days: weekdays, loc: time.UTC}, time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC), true},
		{"after midnight the night belongs to the previous day", floorRule{count: 2, start: 22 * 60, end: 6 * 60, days: weekdays, loc: time.UTC}, time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC), true},
		{"Monday early morning belongs to Sunday night", floorRule{count: 2, start: 22 * 60, end: 6 * 60, days: weekdays, loc: time.UTC}, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC), false},
		{"a zero floor is never active", floorRule{count: 0, start: 0, end: 24 * 60, days: all, loc: time.UTC}, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, tc.rule.active(tc.at))
		})
	}
}

func TestParseDays(t *testing.T) {
	cases := []struct {
		in   string
		want [7]bool // Sun..Sat
		ok   bool
	}{
		{"Mon-Fri", [7]bool{false, true, true, true, true, true, false}, true},
		{"sat,sun", [7]bool{true, false, false, false, false, false, true}, true},
		{"Fri-Mon", [7]bool{true, true, false, false, false, true, true}, true},
		{"Mon-Fri, Sun", [7]bool{true, true, true, true, true, true, false}, true},
		{"Monday", [7]bool{}, false},
		{"", [7]bool{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseDays(tc.in)
			must.Eq(t, tc.ok, ok)
			if ok {
				must.Eq(t, tc.want, got)
			}
		})
	}
}
