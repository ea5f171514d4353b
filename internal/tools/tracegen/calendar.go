package tracegen

import "time"

// localDay is one local calendar date the trace touches.
type localDay struct {
	year    int
	month   time.Month
	day     int
	weekday time.Weekday
}

func (d localDay) weekend() bool {
	return d.weekday == time.Saturday || d.weekday == time.Sunday
}

// at returns the instant of a local clock time (minutes after midnight) on
// the day; at a daylight-saving gap it moves forward, as time.Date does.
func (d localDay) at(clock int, loc *time.Location) time.Time {
	return time.Date(d.year, d.month, d.day, clock/60, clock%60, 0, 0, loc)
}

// localMinute is where one minute of the trace falls on the local calendar.
type localMinute struct {
	day   int // index into calendar.days
	clock int // minutes after local midnight, 0 to 1439
}

// dayPos is the minute's position in days from local noon of the first
// day, the anchor of the per-day values.
func (m localMinute) dayPos() float64 {
	return float64(m.day) + float64(m.clock-720)/1440
}

// calendar maps every minute of the trace to its local date and clock
// time. It is computed once because the shapes and events all need it.
type calendar struct {
	start   time.Time
	loc     *time.Location
	minutes []localMinute
	days    []localDay
}

func newCalendar(start time.Time, n int, loc *time.Location) calendar {
	c := calendar{start: start, loc: loc, minutes: make([]localMinute, n)}
	for i := range n {
		t := start.Add(time.Duration(i) * time.Minute).In(loc)
		y, m, d := t.Date()
		if k := len(c.days) - 1; k < 0 || c.days[k].day != d || c.days[k].month != m || c.days[k].year != y {
			c.days = append(c.days, localDay{year: y, month: m, day: d, weekday: t.Weekday()})
		}
		c.minutes[i] = localMinute{day: len(c.days) - 1, clock: t.Hour()*60 + t.Minute()}
	}
	return c
}

// index returns the trace minute of an instant, which may lie outside the
// trace.
func (c calendar) index(t time.Time) int {
	return int(t.Sub(c.start) / time.Minute)
}

// atNoon interpolates per-day values anchored at local noon, so that a
// change of level from one day to the next happens smoothly overnight, as
// it does in real traffic, and not as a step at midnight.
func atNoon(values []float64, pos float64) float64 {
	last := len(values) - 1
	switch {
	case pos <= 0:
		return values[0]
	case pos >= float64(last):
		return values[last]
	}
	k := int(pos)
	f := pos - float64(k)
	return values[k]*(1-f) + values[k+1]*f
}
