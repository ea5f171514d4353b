package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// at is a time on the test day, "15:04" or "15:04:05".
func at(t *testing.T, clock string) time.Time {
	t.Helper()
	layout := "15:04"
	if len(clock) > 5 {
		layout = "15:04:05"
	}
	ts, err := time.Parse(layout, clock)
	must.NoError(t, err)
	return time.Date(2026, 11, 27, ts.Hour(), ts.Minute(), ts.Second(), 0, time.UTC)
}

func win(t *testing.T, from, to string) minuteWindow {
	return minuteWindow{start: at(t, from), end: at(t, to)}
}

func runAt(t *testing.T, start string, counts ...float64) minuteRun {
	if len(counts) == 0 {
		return minuteRun{}
	}
	return minuteRun{start: at(t, start), counts: counts}
}

// ramp is a run of n minutes from start whose counts are 1, 2, 3...
func ramp(t *testing.T, start string, n int) minuteRun {
	r := minuteRun{start: at(t, start), counts: make([]float64, n)}
	for i := range r.counts {
		r.counts[i] = float64(i + 1)
	}
	return r
}

func TestSettledEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		now    string
		settle time.Duration
		want   string
	}{
		{"a minute that ended 29 s ago is not settled", "10:05:29", 30 * time.Second, "10:04"},
		{"a minute that ended 30 s ago is settled", "10:05:30", 30 * time.Second, "10:05"},
		{"on a minute boundary the minute just over is not settled", "10:05:00", 30 * time.Second, "10:04"},
		{"without a delay every minute over is settled", "10:05:00", 0, "10:05"},
		{"without a delay the minute in progress is not", "10:05:59", 0, "10:05"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, at(t, tc.want), settledEnd(at(t, tc.now), tc.settle))
		})
	}
}

func TestReadPlan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		cached minuteRun
		w      minuteWindow
		want   []minuteWindow
	}{
		{"a cold cache reads the whole window, newest chunk first", minuteRun{}, win(t, "10:00", "10:07"),
			[]minuteWindow{win(t, "10:04", "10:07"), win(t, "10:01", "10:04"), win(t, "10:00", "10:01")}},
		{"a window the cache covers reads nothing", ramp(t, "10:00", 5), win(t, "10:00", "10:05"), nil},
		{"a window moved by a minute reads only the new minute", ramp(t, "10:01", 4), win(t, "10:01", "10:06"),
			[]minuteWindow{win(t, "10:05", "10:06")}},
		{"newer minutes are read oldest first, so each chunk touches the cached run", ramp(t, "10:00", 1), win(t, "10:00", "10:08"),
			[]minuteWindow{win(t, "10:01", "10:04"), win(t, "10:04", "10:07"), win(t, "10:07", "10:08")}},
		{"a longer window also reads the older minutes, newest first", ramp(t, "10:03", 2), win(t, "09:57", "10:06"),
			[]minuteWindow{win(t, "10:05", "10:06"), win(t, "10:00", "10:03"), win(t, "09:57", "10:00")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, readPlan(tc.cached, tc.w, 3))
		})
	}
}

func TestMergeRuns(t *testing.T) {
	t.Parallel()
	early := at(t, "00:00")
	cases := []struct {
		name       string
		runs       []minuteRun
		keepFrom   time.Time
		maxMinutes int
		want       minuteRun
	}{
		{"adjacent runs join", []minuteRun{runAt(t, "10:00", 1, 2), runAt(t, "10:02", 3)}, early, 100,
			runAt(t, "10:00", 1, 2, 3)},
		{"overlapping runs join and the later argument wins the overlap", []minuteRun{runAt(t, "10:00", 1, 2, 3), runAt(t, "10:01", 7, 8, 9)}, early, 100,
			runAt(t, "10:00", 1, 7, 8, 9)},
		{"across a gap the longer run is kept", []minuteRun{runAt(t, "10:00", 1, 2), runAt(t, "10:05", 5)}, early, 100,
			runAt(t, "10:00", 1, 2)},
		{"across a gap the longer run is kept whatever the argument order", []minuteRun{runAt(t, "10:05", 5, 6, 7), runAt(t, "10:00", 1, 2)}, early, 100,
			runAt(t, "10:05", 5, 6, 7)},
		{"across a gap the newer of two runs as long is kept", []minuteRun{runAt(t, "10:05", 5), runAt(t, "10:00", 1)}, early, 100,
			runAt(t, "10:05", 5)},
		{"the length across a gap counts only minutes after keepFrom", []minuteRun{runAt(t, "10:00", 1, 2, 3), runAt(t, "10:05", 5, 6)}, at(t, "10:02"), 100,
			runAt(t, "10:05", 5, 6)},
		{"minutes before keepFrom are dropped", []minuteRun{runAt(t, "10:00", 1, 2, 3, 4)}, at(t, "10:02:30"), 100,
			runAt(t, "10:02", 3, 4)},
		{"the oldest minutes beyond the cap are dropped", []minuteRun{runAt(t, "10:00", 1, 2, 3, 4)}, early, 3,
			runAt(t, "10:01", 2, 3, 4)},
		{"empty runs are ignored", []minuteRun{{}, runAt(t, "10:00", 1), {}}, early, 100,
			runAt(t, "10:00", 1)},
		{"nothing to merge gives an empty run", []minuteRun{{}}, early, 100, minuteRun{}},
		{"keepFrom after every minute gives an empty run", []minuteRun{runAt(t, "10:00", 1)}, at(t, "11:00"), 100, minuteRun{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, mergeRuns(tc.runs, tc.keepFrom, tc.maxMinutes))
		})
	}
}

func TestMergeRunsNeverSharesTheCountsOfItsArguments(t *testing.T) {
	t.Parallel()
	in := runAt(t, "10:00", 1, 2)
	out := mergeRuns([]minuteRun{in}, at(t, "00:00"), 100)
	in.counts[0] = 99
	must.Eq(t, []float64{1, 2}, out.counts)
}

func TestRunOf(t *testing.T) {
	t.Parallel()
	w := win(t, "10:00", "10:02")
	run, err := runOf(w, seriesOf(at(t, "10:00"), 4, 0))
	must.NoError(t, err)
	must.Eq(t, runAt(t, "10:00", 4, 0), run)

	_, err = runOf(w, seriesOf(at(t, "10:00"), 4))
	must.ErrorContains(t, err, "the database returned 1 minutes for the 2 from 2026-11-27T10:00:00Z to 2026-11-27T10:02:00Z")
	_, err = runOf(w, seriesOf(at(t, "10:01"), 4, 0))
	must.ErrorContains(t, err, "returned minute 2026-11-27T10:01:00Z where 2026-11-27T10:00:00Z was expected")
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	w := win(t, "10:00", "10:04")
	got, err := assemble(w, []minuteRun{runAt(t, "09:58", 8, 9, 1, 2), runAt(t, "10:02", 3, 0)})
	must.NoError(t, err)
	must.Eq(t, seriesOf(at(t, "10:00"), 1, 2, 3, 0), got)
	// In UTC, as pgRates stamps them: the agent's trace logs show them.
	must.Eq(t, time.UTC, got[0].Timestamp.Location())

	_, err = assemble(w, []minuteRun{runAt(t, "10:00", 1, 2), runAt(t, "10:03", 4)})
	must.ErrorContains(t, err, "internal error: 3 of the 4 minutes of the window were read")
}

// FuzzReadPlan checks, whatever part of the window the cache holds, that
// the cached minutes and the plan cover the window exactly once, that no
// chunk is longer than asked, and that every chunk touches what is cached
// by the time it is read, so that it can be kept at once.
func FuzzReadPlan(f *testing.F) {
	f.Add(uint16(0), uint16(0), uint16(60), uint16(7))
	f.Add(uint16(10), uint16(5), uint16(60), uint16(7))
	f.Add(uint16(0), uint16(60), uint16(60), uint16(1))
	f.Fuzz(func(t *testing.T, cachedFrom, cachedLen, windowLen, chunk uint16) {
		n := int(windowLen)%20000 + 1
		size := int(chunk)%1000 + 1
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		w := minuteWindow{start: base, end: base.Add(time.Duration(n) * time.Minute)}
		from := int(cachedFrom) % n
		cached := minuteRun{start: base.Add(time.Duration(from) * time.Minute), counts: make([]float64, int(cachedLen)%(n-from+1))}
		if cached.empty() {
			cached = minuteRun{}
		}

		times := make([]int, n)
		held := minuteWindow{start: cached.start, end: cached.end()}
		for i := range cached.counts {
			times[from+i]++
		}
		for _, part := range readPlan(cached, w, size) {
			must.Positive(t, part.minutes())
			must.LessEq(t, size, part.minutes())
			switch {
			case held.minutes() == 0:
				must.Eq(t, w.end, part.end, must.Sprint("a cold read starts with the newest minutes"))
				held = part
			case part.start.Equal(held.end):
				held.end = part.end
			case part.end.Equal(held.start):
				held.start = part.start
			default:
				t.Fatalf("chunk %v does not touch the cached %v", part, held)
			}
			for m := minutesBetween(base, part.start); m < minutesBetween(base, part.end); m++ {
				times[m]++
			}
		}
		for m, k := range times {
			must.Eq(t, 1, k, must.Sprintf("minute %d is covered %d times", m, k))
		}
	})
}
