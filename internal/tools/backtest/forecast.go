package backtest

import (
	"math"
	"time"
)

// The predictive comparison forecasts load the way AWS EC2 Auto Scaling's
// predictive scaling is documented to: hourly, from up to 14 days of the
// load metric, once at least 24 hours exist, refreshed every 6 hours, with
// daily and weekly patterns. AWS does not publish its model; this one is a
// transparent stand-in (cmd/backtest/README.md, "predictive").
const (
	forecastHistory    = 14 * 24 * time.Hour
	forecastMinHistory = 24 * time.Hour
	forecastRefresh    = 6 * time.Hour
	// forecastDays is how many past days the daily component averages.
	forecastDays = 7
	// forecastWeeks is how many past weeks the weekly component may use
	// (the 14 days of history hold two).
	forecastWeeks = 2
	hoursPerDay   = 24
	hoursPerWeek  = 7 * hoursPerDay
)

// hourlyLoad is the mean arrivals per minute of every UTC clock hour the
// trace touches; hour 0 is the clock hour of the first minute.
type hourlyLoad struct {
	traceStart time.Time
	start      time.Time
	mean       []float64
}

func newHourlyLoad(start time.Time, arrivals []float64) hourlyLoad {
	h := hourlyLoad{traceStart: start, start: start.Truncate(time.Hour)}
	skip := int(start.Sub(h.start) / time.Minute)
	n := (skip + len(arrivals) + 59) / 60
	h.mean = make([]float64, n)
	minutes := make([]int, n)
	for i, a := range arrivals {
		k := (skip + i) / 60
		h.mean[k] += a
		minutes[k]++
	}
	for k := range h.mean {
		h.mean[k] /= float64(minutes[k])
	}
	return h
}

// hourStart is the start of hour k.
func (h hourlyLoad) hourStart(k int) time.Time { return h.start.Add(time.Duration(k) * time.Hour) }

// issueFor is when the forecast that schedules hour k was made: the last
// refresh (every 6 hours from 00:00 UTC) at or before the hour's action,
// lead before it starts. ok is false when less than 24 hours of the trace
// precede that refresh.
func (h hourlyLoad) issueFor(k int, lead time.Duration) (issue time.Time, ok bool) {
	issue = h.hourStart(k).Add(-lead).Truncate(forecastRefresh)
	return issue, issue.Sub(h.traceStart) >= forecastMinHistory
}

// forecast is the load forecast for hour k made at issue, from the hours
// complete by then and at most 14 days old: the mean of the same hour on
// the last (up to) 7 days, and once a week exists, averaged half and half
// with the mean of the same hour of the same weekday in the previous (up
// to 2) weeks. ok is false without any past day.
func (h hourlyLoad) forecast(k int, issue time.Time) (load float64, ok bool) {
	complete := int(issue.Sub(h.start) / time.Hour) // hours before this one have ended
	oldest := max(0, int((issue.Add(-forecastHistory).Sub(h.start)+time.Hour-1)/time.Hour))
	usable := func(j int) bool { return j >= oldest && j < complete && j < len(h.mean) }
	var daily, weekly float64
	var nd, nw int
	for d := 1; nd < forecastDays && k-d*hoursPerDay >= oldest; d++ {
		if j := k - d*hoursPerDay; usable(j) {
			daily += h.mean[j]
			nd++
		}
	}
	for w := 1; w <= forecastWeeks; w++ {
		if j := k - w*hoursPerWeek; usable(j) {
			weekly += h.mean[j]
			nw++
		}
	}
	switch {
	case nd == 0:
		return 0, false
	case nw == 0:
		return daily / float64(nd), true
	}
	return (daily/float64(nd) + weekly/float64(nw)) / 2, true
}

// capacitySchedule is the fleet predictive scaling schedules: for every
// clock hour, the workers its forecast needs at the target utilization,
// applied lead before the hour starts (AWS's scheduling buffer).
type capacitySchedule struct {
	start time.Time
	lead  time.Duration
	// count is the workers for each hour, 0 while no forecast exists.
	count []int64
}

// newCapacitySchedule forecasts every hour from the start of the trace
// to lead past its end, each from the data its refresh could see, and
// sizes it as ceil(forecast / perWorker), perWorker being the target
// arrivals per worker per minute.
func newCapacitySchedule(start time.Time, arrivals []float64, perWorker float64, lead time.Duration) *capacitySchedule {
	h := newHourlyLoad(start, arrivals)
	end := start.Add(time.Duration(len(arrivals))*time.Minute + lead)
	n := int(end.Sub(h.start)/time.Hour) + 1
	s := &capacitySchedule{start: h.start, lead: lead, count: make([]int64, n)}
	for k := range s.count {
		issue, ok := h.issueFor(k, lead)
		if !ok {
			continue
		}
		if load, ok := h.forecast(k, issue); ok {
			s.count[k] = int64(math.Ceil(load / perWorker))
		}
	}
	return s
}

// at is the capacity scheduled at time t: that of the hour starting within
// lead after t.
func (s *capacitySchedule) at(t time.Time) int64 {
	d := t.Add(s.lead).Sub(s.start)
	if d < 0 {
		return 0
	}
	k := int(d / time.Hour)
	if k >= len(s.count) {
		return 0
	}
	return s.count[k]
}
