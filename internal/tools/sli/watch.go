package sli

import (
	"context"
	"time"
)

// Watch mode (-listen): the SLIs of the last minutes and of today's
// business window, kept up to date from the requests table and served as
// Prometheus metrics, for burn-rate alerts on what the customers get
// (deploy/prometheus-alerts.yml) instead of a report after the fact.
//
// It reads incrementally: per-minute counts of complete minutes are kept in
// memory, and each read covers only the minutes since the last one plus
// -settle minutes re-read for rows written late (a request is recorded
// when it is answered, up to the API's timeout after it arrived). The first
// read covers the retention: the longest burn-rate window or today's
// business window so far, whichever starts earlier.

// watchWindow is a burn-rate window, named as its label value.
type watchWindow struct {
	name string
	d    time.Duration
}

// burnWindows are the SRE workbook's multiwindow pairs: a long window that
// says the budget is burning, a short one that says it still is.
var burnWindows = []watchWindow{{"5m", 5 * time.Minute}, {"30m", 30 * time.Minute}, {"1h", time.Hour}, {"6h", 6 * time.Hour}}

// latencyBudget is the share of a day's successful business requests that
// may exceed the latency SLO while its p95 stays within it (nearest rank:
// the p95 is within L when at least 95% are).
const latencyBudget = 0.05

// watchState is what the SLIs are at the end of a read: per window the
// business requests' counts, and today's business window so far.
type watchState struct {
	end     time.Time // the read's end: a whole minute
	windows []Counts  // parallel to burnWindows
	// today is the business window that started last at or before end,
	// [todayStart, todayEnd); todayCounts its requests until end.
	todayStart, todayEnd time.Time
	todayCounts          Counts
	business             bool // end - 1 minute lies in a business window
}

// watcher keeps the per-minute counts between reads.
type watcher struct {
	cfg       Config
	read      func(context.Context, plan) (readResult, error)
	minutes   map[int64]Counts // by Unix minute
	readUntil time.Time        // end of the last successful read; zero before it
}

func newWatcher(cfg Config, read func(context.Context, plan) (readResult, error)) *watcher {
	return &watcher{cfg: cfg, read: read, minutes: map[int64]Counts{}}
}

// tick reads the minutes that are new or may still change at now and
// returns the state after it, and how many rows it read. On an error the
// counts stay as they were.
func (w *watcher) tick(ctx context.Context, now time.Time) (watchState, int64, error) {
	end := now.Truncate(time.Minute)
	keep := w.retainFrom(end)
	start := keep
	if !w.readUntil.IsZero() {
		start = minTime(w.readUntil, end).Add(-w.cfg.Settle)
		if start.Before(keep) {
			start = keep
		}
	}
	var rows int64
	if start.Before(end) {
		p := minutePlan(start, end)
		res, err := w.read(ctx, p)
		if err != nil {
			return watchState{}, 0, err
		}
		for i, b := range p.bounds {
			w.minutes[unixMinute(b)] = res.buckets[i]
			rows += res.buckets[i].Requests
		}
	}
	for m := range w.minutes {
		if m < unixMinute(keep) {
			delete(w.minutes, m)
		}
	}
	w.readUntil = end
	return w.state(end), rows, nil
}

// retainFrom is the first minute any SLI at end needs.
func (w *watcher) retainFrom(end time.Time) time.Time {
	keep := end.Add(-burnWindows[len(burnWindows)-1].d)
	if start, _ := w.today(end); start.Before(keep) {
		keep = start
	}
	return keep
}

// today is the business window that started last at or before end (the
// minute before it included).
func (w *watcher) today(end time.Time) (start, stop time.Time) {
	y, m, d := end.In(w.cfg.Location).Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for _, day := range []time.Time{date, date.AddDate(0, 0, -1), date.AddDate(0, 0, -2)} {
		s, e := w.cfg.Hours.Window(day, w.cfg.Location)
		if s.Before(end) {
			return s, e
		}
	}
	return end, end // not reached: a window starts at most a day and a bit before
}

// windowsAround are the business windows that may hold a minute between
// from and end.
func (w *watcher) windowsAround(from, end time.Time) []window {
	y, m, d := from.In(w.cfg.Location).Date()
	var out []window
	for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1); ; day = day.AddDate(0, 0, 1) {
		s, e := w.cfg.Hours.Window(day, w.cfg.Location)
		if !s.Before(end) {
			return out
		}
		out = append(out, window{start: s, end: e})
	}
}

// state sums the kept minutes into the windows ending at end.
func (w *watcher) state(end time.Time) watchState {
	st := watchState{end: end, windows: make([]Counts, len(burnWindows))}
	st.todayStart, st.todayEnd = w.today(end)
	keep := w.retainFrom(end)
	business := w.windowsAround(keep, end)
	inBusiness := func(t time.Time) bool {
		for _, b := range business {
			if !t.Before(b.start) && t.Before(b.end) {
				return true
			}
		}
		return false
	}
	st.business = inBusiness(end.Add(-time.Minute))
	for t := keep; t.Before(end); t = t.Add(time.Minute) {
		c, ok := w.minutes[unixMinute(t)]
		if !ok || !inBusiness(t) {
			continue
		}
		for i, bw := range burnWindows {
			if !t.Before(end.Add(-bw.d)) {
				st.windows[i].add(c)
			}
		}
		if !t.Before(st.todayStart) && t.Before(st.todayEnd) {
			st.todayCounts.add(c)
		}
	}
	return st
}

// minutePlan is a read of [start, end) in one-minute buckets, for
// reader.readCounts (countsSQL: the counts only, no p95).
func minutePlan(start, end time.Time) plan {
	p := plan{scanStart: start, scanEnd: end, burnEnd: end}
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		p.bounds = append(p.bounds, t)
		p.buckets = append(p.buckets, bucket{calendarDay: -1, businessDay: -1})
	}
	return p
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// availabilityBurn is the rate at which c spends the availability budget:
// 1 spends it exactly as fast as the SLO allows; ok is false without
// requests.
func availabilityBurn(slo SLO, c Counts) (float64, bool) {
	if r := burnRate(slo, c); r != nil {
		return *r, true
	}
	return 0, false
}

// latencyBurn is the rate at which c spends the latency budget: the share
// of successful requests over the latency SLO against the 5% a p95 allows.
func latencyBurn(c Counts) (float64, bool) {
	ok := c.Successful()
	if ok <= 0 {
		return 0, false
	}
	return roundMicro(float64(ok-c.WithinSLO) / (latencyBudget * float64(ok))), true
}
