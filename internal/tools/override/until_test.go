package override

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestUntilAcceptsAClockTimeAnInstantOrADuration(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	must.NoError(t, err)
	// 14:30 in New York on a Tuesday.
	now := time.Date(2026, 12, 1, 19, 30, 15, 0, time.UTC)
	cases := []struct {
		name, in string
		loc      *time.Location
		want     time.Time
	}{
		{"a clock time later today is today", "18:00", ny, time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)},
		{"a clock time already past is tomorrow", "09:15", ny, time.Date(2026, 12, 2, 14, 15, 0, 0, time.UTC)},
		{"the current minute is tomorrow, never now", "14:30", ny, time.Date(2026, 12, 2, 19, 30, 0, 0, time.UTC)},
		{"a clock time is read in the given zone", "18:00", time.UTC, time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC).AddDate(0, 0, 1)},
		{"an RFC 3339 instant is taken as written", "2026-12-01T18:00:00-05:00", ny, time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)},
		{"fractions of a second are dropped", "2026-12-01T23:00:00.75Z", ny, time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)},
		{"a duration counts from now, to the second", "+90m", ny, time.Date(2026, 12, 1, 21, 0, 15, 0, time.UTC)},
		{"spaces around are ignored", " +2h ", ny, time.Date(2026, 12, 1, 21, 30, 15, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseUntil(tc.in, now, tc.loc)
			must.NoError(t, err)
			must.Eq(t, tc.want, got.UTC())
		})
	}
}

func TestUntilAcrossADaylightSavingChangeKeepsTheWallClock(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	must.NoError(t, err)
	// Saturday 7 March 2026, 20:00 EST; clocks go forward that night.
	now := time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC)
	got, err := parseUntil("18:00", now, ny)
	must.NoError(t, err)
	must.Eq(t, "2026-03-08T18:00:00-04:00", got.Format(time.RFC3339))
}

func TestUntilRefusesWhatIsNotATime(t *testing.T) {
	now := time.Date(2026, 12, 1, 19, 30, 0, 0, time.UTC)
	for _, in := range []string{"", "6pm", "25:00", "18:60", "+-1h", "+0s", "+soon", "tomorrow", "2026-12-01 18:00", "2026-12-01"} {
		t.Run(in, func(t *testing.T) {
			_, err := parseUntil(in, now, time.UTC)
			must.Error(t, err)
			must.StrContains(t, err.Error(), "\""+in+"\"", must.Sprint("the error repeats the value"))
		})
	}
}
