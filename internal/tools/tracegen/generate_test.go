package tracegen

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/shoenig/test/must"
)

// profile returns the defaults of a model with a seed, volume and zone.
func profile(name string, seed uint64, daily float64, tz string) Profile {
	p := Defaults(name)
	p.Seed, p.Daily, p.TimeZone = seed, daily, tz
	return p
}

func generate(t *testing.T, p Profile) []int64 {
	t.Helper()
	counts, start, err := Generate(p)
	must.NoError(t, err)
	must.Eq(t, p.Days*MinutesPerDay, len(counts))
	must.True(t, start.Equal(p.Start))
	return counts
}

func encode(t *testing.T, p Profile) []byte {
	t.Helper()
	var b bytes.Buffer
	must.NoError(t, Write(&b, p.Start, generate(t, p)))
	return b.Bytes()
}

func TestGenerateIsDeterministicForASeed(t *testing.T) {
	t.Parallel()
	for _, name := range []string{Business, Flashcrowd} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := profile(name, 11, 3e6, "Europe/Madrid")
			p.Days = 21
			first := encode(t, p)
			// bytes.Equal, not must.Eq: a diff of a megabyte is slow.
			must.True(t, bytes.Equal(first, encode(t, p)), must.Sprint("the same seed gives the same bytes"))
			p.Seed = 12
			must.False(t, bytes.Equal(first, encode(t, p)), must.Sprint("another seed gives another trace"))
		})
	}
}

func TestGenerateRejectsAnInvalidProfile(t *testing.T) {
	t.Parallel()
	p := Defaults(Business)
	p.Days, p.TimeZone = -1, "Nowhere"
	_, _, err := Generate(p)
	must.ErrorContains(t, err, `-days "-1"`)
	must.ErrorContains(t, err, `-tz "Nowhere"`)
}

func TestTheWrittenFileReadsBackInTheBacktest(t *testing.T) {
	t.Parallel()
	p := profile(Business, 4, 5e5, "Asia/Kolkata")
	p.Days = 3
	p.Start = time.Date(2026, 3, 1, 18, 30, 0, 0, time.UTC)
	counts, start, err := Generate(p)
	must.NoError(t, err)
	for _, name := range []string{"trace.csv", "trace.csv.gz"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), name)
			must.NoError(t, WriteFile(path, start, counts))
			tr, err := backtest.ReadTraceFile(path)
			must.NoError(t, err)
			must.Eq(t, 3*MinutesPerDay, tr.Len())
			must.Eq(t, p.Start, tr.Start)
			for i, c := range counts {
				must.Eq(t, float64(c), tr.Counts[i])
			}
		})
	}
}

// trace is a generated trace with its model, for the property checks.
type trace struct {
	p      Profile
	counts []int64
	model  model
	cal    calendar
}

func newTrace(t *testing.T, p Profile) trace {
	t.Helper()
	m, err := build(p)
	must.NoError(t, err)
	loc, err := time.LoadLocation(p.TimeZone)
	must.NoError(t, err)
	return trace{p: p, counts: m.draw(p.Seed), model: m, cal: newCalendar(m.start, len(m.rate), loc)}
}

// mean is the mean count of the minutes for which keep is true.
func (tr trace) mean(keep func(i int, lm localMinute) bool) float64 {
	var s float64
	var n int
	for i, lm := range tr.cal.minutes {
		if keep(i, lm) {
			s += float64(tr.counts[i])
			n++
		}
	}
	return s / float64(n)
}

func (tr trace) weekday(lm localMinute) bool { return !tr.cal.days[lm.day].weekend() }

// relativeNoise is the root mean square of a minute's count relative to
// its expected rate.
func (tr trace) relativeNoise() float64 {
	var ss float64
	var n int
	for i, rate := range tr.model.rate {
		if rate > 0 {
			d := (float64(tr.counts[i]) - rate) / rate
			ss += d * d
			n++
		}
	}
	return math.Sqrt(ss / float64(n))
}

// jumpsAtKickoff counts the matches whose traffic reaches twice the level
// before kick-off (the mean of minutes 15 to 6 before) within 10 minutes.
func (tr trace) jumpsAtKickoff() int {
	var jumps int
	for _, k := range tr.model.kickoffs {
		if k < 15 || k+10 > len(tr.counts) {
			continue
		}
		var before float64
		for _, c := range tr.counts[k-15 : k-5] {
			before += float64(c) / 10
		}
		for _, c := range tr.counts[k : k+10] {
			if float64(c) >= 2*before {
				jumps++
				break
			}
		}
	}
	return jumps
}

func TestGeneratedTracesHaveTheirProfilesProperties(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		profile func(seed uint64) Profile
		check   func(t *testing.T, tr trace)
	}{
		{
			"a business trace's mean per day is within 2% of -daily",
			func(seed uint64) Profile { return profile(Business, seed, 2e6, "America/New_York") },
			func(t *testing.T, tr trace) {
				must.Less(t, 0.02, math.Abs(tr.mean(func(int, localMinute) bool { return true })*MinutesPerDay/tr.p.Daily-1))
			},
		},
		{
			"a flashcrowd trace's mean per day is within 2% of -daily, even at 0.5M a day",
			func(seed uint64) Profile { return profile(Flashcrowd, seed, 5e5, "Europe/Paris") },
			func(t *testing.T, tr trace) {
				must.Less(t, 0.02, math.Abs(tr.mean(func(int, localMinute) bool { return true })*MinutesPerDay/tr.p.Daily-1))
			},
		},
		{
			"counts are non-negative",
			func(seed uint64) Profile { return profile(Flashcrowd, seed, 5e5, "Asia/Kolkata") },
			func(t *testing.T, tr trace) {
				for _, c := range tr.counts {
					must.NonNegative(t, c)
				}
			},
		},
		{
			"a business weekday's business hours carry at least 5x the night",
			func(seed uint64) Profile { return profile(Business, seed, 2e6, "Asia/Kolkata") },
			func(t *testing.T, tr trace) {
				day := tr.mean(func(_ int, lm localMinute) bool { return tr.weekday(lm) && lm.clock >= 9*60 && lm.clock < 17*60 })
				night := tr.mean(func(_ int, lm localMinute) bool { return lm.clock < 5*60 })
				must.Greater(t, 5*night, day)
			},
		},
		{
			"business weekends are quieter than weekdays",
			func(seed uint64) Profile { return profile(Business, seed, 2e6, "Europe/Madrid") },
			func(t *testing.T, tr trace) {
				weekend := tr.mean(func(_ int, lm localMinute) bool { return !tr.weekday(lm) })
				weekday := tr.mean(func(_ int, lm localMinute) bool { return tr.weekday(lm) })
				must.Less(t, weekday, weekend)
			},
		},
		{
			"a flashcrowd's last week carries at least 20x its first at growth 100",
			func(seed uint64) Profile { return profile(Flashcrowd, seed, 2e6, "Europe/Paris") },
			func(t *testing.T, tr trace) {
				week := 7 * MinutesPerDay
				n := len(tr.counts)
				first := tr.mean(func(i int, _ localMinute) bool { return i < week })
				last := tr.mean(func(i int, _ localMinute) bool { return i >= n-week })
				must.Greater(t, 20*first, last)
			},
		},
		{
			"most of a flashcrowd's many scheduled matches double the traffic within 10 minutes of kick-off",
			func(seed uint64) Profile { return profile(Flashcrowd, seed, 2e6, "America/New_York") },
			func(t *testing.T, tr trace) {
				// 35 season days have at least 35 matches; a match that
				// starts while another is on may not double the traffic.
				must.GreaterEq(t, 35, len(tr.model.kickoffs))
				must.GreaterEq(t, 3*len(tr.model.kickoffs)/4, tr.jumpsAtKickoff())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(3) {
				t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
					tc.check(t, newTrace(t, tc.profile(seed)))
				})
			}
		})
	}
}

func TestCountingNoiseShrinksRelativeToTheLevelAsVolumeGrows(t *testing.T) {
	t.Parallel()
	for _, name := range []string{Business, Flashcrowd} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			small := newTrace(t, profile(name, 5, 5e5, "UTC"))
			large := newTrace(t, profile(name, 5, 6e7, "UTC"))
			// The counting noise is what a service of that size has: at
			// 120x the volume, about a tenth as large relative to the rate.
			must.Less(t, small.relativeNoise()/5, large.relativeNoise())
		})
	}
}

func TestTheCalendarFollowsTheLocalClockAcrossADaylightSavingChange(t *testing.T) {
	t.Parallel()
	// Madrid moves its clocks forward on 2026-03-29; the shapes must see
	// 08:00 local as 08:00 on both sides of the change.
	madrid, err := time.LoadLocation("Europe/Madrid")
	must.NoError(t, err)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	n := 28 * MinutesPerDay
	cal := newCalendar(start, n, madrid)
	for i, lm := range cal.minutes {
		local := start.Add(time.Duration(i) * time.Minute).In(madrid)
		must.Eq(t, local.Hour()*60+local.Minute(), lm.clock)
		d := cal.days[lm.day]
		must.Eq(t, local.Day(), d.day)
		must.Eq(t, local.Weekday(), d.weekday)
	}
	// The trace starts at 01:00 local, so it touches 29 local dates.
	must.SliceLen(t, 29, cal.days)
	must.Eq(t, 8*60, cal.minutes[cal.index(time.Date(2026, 3, 27, 7, 0, 0, 0, time.UTC))].clock)
	must.Eq(t, 8*60, cal.minutes[cal.index(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC))].clock)
}
