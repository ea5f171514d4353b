package sli

import (
	"slices"
	"time"
)

// Burn-rate windows: the two of the SRE workbook's multiwindow alerts that
// a daily report can say something about.
const (
	shortBurnWindow = time.Hour
	longBurnWindow  = 6 * time.Hour
)

// plan is what one read covers, worked out before the read from the
// period, the zone and the business hours alone: the instants to scan and
// the buckets between them. PostgreSQL puts each request in a bucket with
// width_bucket (a binary search on instants, no time-zone conversion per
// row) and aggregates per bucket; every bucket lies within one local
// calendar day and either wholly inside or wholly outside one business
// window, so the per-day figures are sums of buckets.
type plan struct {
	days    []time.Time // the reported local dates, -from to -to, at UTC midnight
	partial []bool      // per day: its business window was not over at the read

	scanStart, scanEnd time.Time // the rows read: created_at in [scanStart, scanEnd)
	burnEnd            time.Time // end of the burn-rate windows (= scanEnd)

	bounds  []time.Time // lower bound of each bucket, ascending; bounds[0] = scanStart
	buckets []bucket    // what each bucket is, parallel to bounds
}

// bucket says where the requests of one bucket count. Days are indexes into
// plan.days, -1 for none.
type bucket struct {
	calendarDay int  // the local day the bucket lies in
	businessDay int  // the day whose business window holds the bucket
	business    bool // inside any business window, also the one that started the day before -from
	lastShort   bool // inside the short burn-rate window
	lastLong    bool // inside the long burn-rate window
}

// newPlan works out the read for the period [from, to] (dates at UTC
// midnight) at the instant now. The period ends at the later of local
// midnight after -to and the end of -to's business window (which is the
// next morning when the window wraps past midnight), or now if sooner.
func newPlan(from, to time.Time, loc *time.Location, hours BusinessHours, now time.Time) plan {
	var p plan
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		p.days = append(p.days, d)
	}
	n := len(p.days)
	midnights := make([]time.Time, n+1) // midnights[k] starts days[k]; midnights[n] ends the period's last day
	for k := range midnights {
		midnights[k] = LocalMidnight(from.AddDate(0, 0, k), loc)
	}
	// windows[k+1] is the business window of days[k]; windows[0] is the
	// day before -from's, whose requests are business requests for the
	// burn rates but belong to no reported day.
	windows := make([]window, n+1)
	for k := range windows {
		windows[k].start, windows[k].end = hours.Window(from.AddDate(0, 0, k-1), loc)
	}

	periodEnd := midnights[n]
	if last := windows[n].end; last.After(periodEnd) {
		periodEnd = last
	}
	p.scanEnd = periodEnd
	if now.Before(p.scanEnd) {
		p.scanEnd = now
	}
	p.burnEnd = p.scanEnd
	p.scanStart = midnights[0]
	if long := p.burnEnd.Add(-longBurnWindow); long.Before(p.scanStart) {
		p.scanStart = long
	}
	p.partial = make([]bool, n)
	for k := range n {
		p.partial[k] = windows[k+1].end.After(p.scanEnd)
	}

	bounds := []time.Time{p.scanStart, p.burnEnd.Add(-shortBurnWindow), p.burnEnd.Add(-longBurnWindow)}
	bounds = append(bounds, midnights...)
	for _, w := range windows {
		bounds = append(bounds, w.start, w.end)
	}
	bounds = slices.DeleteFunc(bounds, func(t time.Time) bool { return t.Before(p.scanStart) || !t.Before(p.scanEnd) })
	slices.SortFunc(bounds, func(a, b time.Time) int { return a.Compare(b) })
	p.bounds = slices.CompactFunc(bounds, time.Time.Equal)

	p.buckets = make([]bucket, len(p.bounds))
	for i, t := range p.bounds {
		p.buckets[i] = p.label(t, midnights, windows)
	}
	return p
}

// window is a business window, [start, end).
type window struct{ start, end time.Time }

// label says where the requests of the bucket starting at t count. A
// bucket lies wholly on one side of every bound, so its start decides.
func (p plan) label(t time.Time, midnights []time.Time, windows []window) bucket {
	b := bucket{calendarDay: -1, businessDay: -1}
	for k := range p.days {
		if !t.Before(midnights[k]) && t.Before(midnights[k+1]) {
			b.calendarDay = k
		}
	}
	for k, w := range windows {
		if !t.Before(w.start) && t.Before(w.end) {
			b.business = true
			b.businessDay = k - 1
		}
	}
	b.lastShort = !t.Before(p.burnEnd.Add(-shortBurnWindow))
	b.lastLong = !t.Before(p.burnEnd.Add(-longBurnWindow))
	return b
}

// businessDays is, per bucket, the 1-based index of the day whose business
// window holds it, 0 for none: the mapping the p95 query groups by.
func (p plan) businessDays() []int32 {
	out := make([]int32, len(p.buckets))
	for i, b := range p.buckets {
		out[i] = int32(b.businessDay + 1)
	}
	return out
}
