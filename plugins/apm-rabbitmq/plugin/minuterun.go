package plugin

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// This file holds the pure arithmetic of the per-minute cache: runs of
// minutes, what a window still needs to read, how reads merge into what is
// kept, and how the answer is put together. No locks, no I/O, no clock.

// minuteRun is a contiguous run of per-minute counts: counts[i] belongs to
// the minute starting at start + i minutes. The counts of a run held by the
// cache are never modified, only replaced, so a run can be read after the
// cache's lock is released.
type minuteRun struct {
	start  time.Time
	counts []float64
}

// end is the end of the run's last minute.
func (r minuteRun) end() time.Time { return r.start.Add(time.Duration(len(r.counts)) * time.Minute) }

// empty reports whether the run holds no minute.
func (r minuteRun) empty() bool { return len(r.counts) == 0 }

// within returns the minutes of r inside [from, to), sharing r's counts.
func (r minuteRun) within(from, to time.Time) minuteRun {
	lo := max(minutesBetween(r.start, from), 0)
	hi := min(minutesBetween(r.start, to), len(r.counts))
	if lo >= hi {
		return minuteRun{}
	}
	return minuteRun{start: r.start.Add(time.Duration(lo) * time.Minute), counts: r.counts[lo:hi]}
}

// minutesBetween is the number of whole minutes from a to b, negative when b
// is before a. Both are on minute boundaries wherever it is used.
func minutesBetween(a, b time.Time) int { return int(b.Sub(a) / time.Minute) }

// minutes is the number of minutes in w.
func (w minuteWindow) minutes() int { return minutesBetween(w.start, w.end) }

// settledEnd is the end of the minutes that are settled at now: a minute is
// final once it ended at least settle ago, and only final minutes may be
// cached. The minutes from settledEnd on are read again on every query.
func settledEnd(now time.Time, settle time.Duration) time.Time {
	return now.Add(-settle).Truncate(time.Minute).UTC()
}

// readPlan lists the ranges of w to read from the database, given cached,
// the part of w the cache can serve (within w, possibly empty). The newest
// minutes missing are read forward from the end of the cached run, the
// older ones backward from its start, each in chunks of at most chunk
// minutes: every chunk read is adjacent to what is cached by then, so it can
// be kept at once, and a query that times out on a long cold window still
// leaves the newest part cached for the next one.
func readPlan(cached minuteRun, w minuteWindow, chunk int) []minuteWindow {
	if cached.empty() {
		return chunksBackward(w, chunk)
	}
	var plan []minuteWindow
	if end := cached.end(); end.Before(w.end) {
		plan = append(plan, chunksForward(minuteWindow{start: end, end: w.end}, chunk)...)
	}
	if w.start.Before(cached.start) {
		plan = append(plan, chunksBackward(minuteWindow{start: w.start, end: cached.start}, chunk)...)
	}
	return plan
}

// chunksForward splits w into chunks of at most n minutes, oldest first.
func chunksForward(w minuteWindow, n int) []minuteWindow {
	var out []minuteWindow
	for s := w.start; s.Before(w.end); {
		e := s.Add(time.Duration(n) * time.Minute)
		if e.After(w.end) {
			e = w.end
		}
		out = append(out, minuteWindow{start: s, end: e})
		s = e
	}
	return out
}

// chunksBackward splits w into chunks of at most n minutes, newest first.
func chunksBackward(w minuteWindow, n int) []minuteWindow {
	var out []minuteWindow
	for e := w.end; e.After(w.start); {
		s := e.Add(-time.Duration(n) * time.Minute)
		if s.Before(w.start) {
			s = w.start
		}
		out = append(out, minuteWindow{start: s, end: e})
		e = s
	}
	return out
}

// runOf checks that series holds exactly the minutes of w, in order, and
// returns them as a run. Anything else would leave a hole or a misplaced
// count in the answer, or in the cache for every later query.
func runOf(w minuteWindow, series sdk.TimestampedMetrics) (minuteRun, error) {
	if len(series) != w.minutes() {
		return minuteRun{}, fmt.Errorf("the database returned %d minutes for the %d from %s to %s",
			len(series), w.minutes(), w.start.Format(time.RFC3339), w.end.Format(time.RFC3339))
	}
	run := minuteRun{start: w.start, counts: make([]float64, len(series))}
	for i, m := range series {
		if want := w.start.Add(time.Duration(i) * time.Minute); !m.Timestamp.Equal(want) {
			return minuteRun{}, fmt.Errorf("the database returned minute %s where %s was expected",
				m.Timestamp.UTC().Format(time.RFC3339), want.Format(time.RFC3339))
		}
		run.counts[i] = m.Value
	}
	return run, nil
}

// mergeRuns joins runs into the one run worth keeping. Minutes before
// keepFrom are dropped first. Of the groups of runs that touch or overlap,
// the longest is kept (of two as long, the newer): a sliding window's run
// only ever grows at its newer end and stays the longest, and when a window
// is asked that does not touch it, keeping the longer of the two means the
// one that is cheaper to read again is the one read again. Then the oldest
// minutes beyond maxMinutes go. Where runs overlap, the later one in the
// argument list wins; both hold the same settled counts. The result has
// counts of its own, never shared with an argument.
func mergeRuns(runs []minuteRun, keepFrom time.Time, maxMinutes int) minuteRun {
	from := keepFrom.Truncate(time.Minute)
	var kept []minuteRun
	for _, r := range runs {
		if r = r.within(from, r.end()); !r.empty() {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 || maxMinutes <= 0 {
		return minuteRun{}
	}
	byStart := slices.Clone(kept)
	sort.Slice(byStart, func(i, j int) bool { return byStart[i].start.Before(byStart[j].start) })
	var best, group minuteWindow
	for i, r := range byStart {
		if i > 0 && !r.start.After(group.end) {
			if r.end().After(group.end) {
				group.end = r.end()
			}
			continue
		}
		if i > 0 && group.minutes() >= best.minutes() {
			best = group
		}
		group = minuteWindow{start: r.start, end: r.end()}
	}
	if group.minutes() >= best.minutes() {
		best = group
	}
	if capStart := best.end.Add(-time.Duration(maxMinutes) * time.Minute); capStart.After(best.start) {
		best.start = capStart
	}
	out := minuteRun{start: best.start, counts: make([]float64, best.minutes())}
	for _, r := range kept {
		if part := r.within(best.start, best.end); !part.empty() {
			copy(out.counts[minutesBetween(best.start, part.start):], part.counts)
		}
	}
	return out
}

// assemble builds the answer for w from disjoint runs that together cover
// it: one point per minute, stamped at the minute's start, in time order.
func assemble(w minuteWindow, runs []minuteRun) (sdk.TimestampedMetrics, error) {
	out := make(sdk.TimestampedMetrics, w.minutes())
	for i := range out {
		out[i].Timestamp = w.start.Add(time.Duration(i) * time.Minute)
	}
	filled := 0
	for _, r := range runs {
		part := r.within(w.start, w.end)
		if part.empty() {
			continue
		}
		at := minutesBetween(w.start, part.start)
		for i, v := range part.counts {
			out[at+i].Value = v
		}
		filled += len(part.counts)
	}
	if filled != len(out) {
		// Not reachable when readPlan and the cache agree; refuse rather
		// than answer with a hole read as zero traffic.
		return nil, fmt.Errorf("internal error: %d of the %d minutes of the window were read", filled, len(out))
	}
	return out, nil
}
