package backtest

import (
	"math"
	"slices"
	"time"
)

// slaParams are the scoring parameters of the model.
type slaParams struct {
	capacity       float64       // requests per minute one worker serves
	serviceTime    time.Duration // latency of a request that does not wait
	requestTimeout time.Duration // a minute whose wait exceeds it counts as unavailable
	slaP95         time.Duration // a day meets the SLA when its p95 latency is at most this
}

// DayScore is the SLA result of one local calendar day.
type DayScore struct {
	Date string  `json:"date"`
	P95  Seconds `json:"p95_s"`
	Met  bool    `json:"met"`
	// AvailabilityPct is the share of the day's scored business minutes
	// whose wait is within the request timeout, as Score's total is
	// computed; BusinessMinutes is how many there were, so that days can
	// be added up into the availability of any part of the trace.
	AvailabilityPct float64 `json:"availability_pct"`
	BusinessMinutes int     `json:"business_minutes"`
}

// Score is how one strategy did over the scored minutes.
type Score struct {
	WorkerHours     float64 // serving
	Days            int
	DaysMet         int
	AvailabilityPct float64
	WorstDayP95     Seconds
	PerDay          []DayScore
}

// stepBacklog is the queue model for one minute: what was waiting, plus
// what arrived, minus what the serving workers can do, never below zero.
func stepBacklog(prev, arrivals float64, workers int64, capacity float64) float64 {
	return max(0, prev+arrivals-float64(workers)*capacity)
}

// waitMinutes is how long the backlog takes to clear at the current
// service rate: infinite when nobody serves a non-empty queue.
func waitMinutes(backlog float64, workers int64, capacity float64) float64 {
	if backlog == 0 {
		return 0
	}
	if workers == 0 {
		return math.Inf(1)
	}
	return backlog / (float64(workers) * capacity)
}

// WeightedLatency is one minute's latency and the requests that saw it.
type WeightedLatency struct {
	Seconds float64 // latency
	Weight  float64 // arrivals
}

// scorer scores strategies over one scored period; its scratch space is
// reused across days and strategies.
type scorer struct {
	arrivals []float64 // scored minutes
	cal      calendar
	p        slaParams
	scratch  []WeightedLatency
	// dayOK counts the business minutes of the current day within the
	// request timeout (len(scratch) is the day's business minutes).
	dayOK int
}

// score replays the queue for a worker series and scores it.
func (s *scorer) score(workers []int64) Score { return s.scoreWith(workers, nil) }

// scoreWith is score with requeued[i] requests returned to the queue in
// minute i besides its arrivals (work held by preempted workers; nil for
// none). They wait like any backlog but weigh nothing in the p95, which
// counts each request once, at its arrival.
func (s *scorer) scoreWith(workers []int64, requeued []float64) Score {
	var sc Score
	var backlog float64
	var workerMinutes float64
	var bizMinutes, okMinutes int
	s.scratch, s.dayOK = s.scratch[:0], 0
	service := s.p.serviceTime.Seconds()
	timeout := s.p.requestTimeout.Minutes()
	for i, a := range s.arrivals {
		if i > 0 && s.cal.day[i] != s.cal.day[i-1] {
			s.closeDay(&sc, s.cal.days[s.cal.day[i-1]])
		}
		w := workers[i]
		workerMinutes += float64(w)
		if requeued != nil {
			backlog = stepBacklog(backlog, a+requeued[i], w, s.p.capacity)
		} else {
			backlog = stepBacklog(backlog, a, w, s.p.capacity)
		}
		if !s.cal.business[i] {
			continue
		}
		wait := waitMinutes(backlog, w, s.p.capacity)
		bizMinutes++
		if wait <= timeout {
			okMinutes++
			s.dayOK++
		}
		s.scratch = append(s.scratch, WeightedLatency{Seconds: service + wait*60, Weight: a})
	}
	if len(s.arrivals) > 0 {
		s.closeDay(&sc, s.cal.days[s.cal.day[len(s.arrivals)-1]])
	}
	sc.WorkerHours = workerMinutes / 60
	sc.AvailabilityPct = 100
	if bizMinutes > 0 {
		sc.AvailabilityPct = 100 * float64(okMinutes) / float64(bizMinutes)
	}
	return sc
}

// closeDay scores the business minutes collected for one day; a day
// without business minutes in the scored period is not a day of the SLA.
func (s *scorer) closeDay(sc *Score, date string) {
	business, ok := len(s.scratch), s.dayOK
	s.dayOK = 0
	if business == 0 {
		return
	}
	p95 := WeightedP95(s.scratch, s.p.serviceTime.Seconds())
	s.scratch = s.scratch[:0]
	met := p95 <= s.p.slaP95.Seconds()
	sc.Days++
	if met {
		sc.DaysMet++
	}
	sc.WorstDayP95 = max(sc.WorstDayP95, Seconds(p95))
	sc.PerDay = append(sc.PerDay, DayScore{Date: date, P95: Seconds(p95), Met: met,
		AvailabilityPct: 100 * float64(ok) / float64(business), BusinessMinutes: business})
}

// WeightedP95 is the arrival-weighted 95th percentile: sort the minutes by
// latency and take the first latency at which the cumulative arrivals reach
// 95% of the day's. A day without arrivals had no request wait: its p95 is
// the service time. The entries are sorted in place.
func WeightedP95(es []WeightedLatency, serviceTime float64) float64 {
	var total float64
	for _, e := range es {
		total += e.Weight
	}
	if total == 0 {
		return serviceTime
	}
	slices.SortFunc(es, func(a, b WeightedLatency) int {
		switch {
		case a.Seconds < b.Seconds:
			return -1
		case a.Seconds > b.Seconds:
			return 1
		}
		return 0
	})
	// A relative tolerance keeps 19 of 20 equal minutes at exactly 95%
	// despite floating-point sums.
	goal := 0.95 * total * (1 - 1e-12)
	var cum float64
	for _, e := range es {
		cum += e.Weight
		if e.Weight > 0 && cum >= goal {
			return e.Seconds
		}
	}
	return es[len(es)-1].Seconds
}
