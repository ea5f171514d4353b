package tracegen

import (
	"math"
	"math/rand/v2"
)

// addBursts adds the spikes of batch clients: a Poisson process of
// perDay bursts a day on average, about five times as likely at the peak
// of business hours as at night, each raising the level by 30% to 150% for
// 1 to 6 minutes. A minute too short to scale for, they test that the
// policy neither chases them nor misses the SLA because of them.
func addBursts(r *rand.Rand, fx effects, shape []float64, perDay float64) {
	// weight keeps some bursts at night: batch jobs run then too.
	weight := func(s float64) float64 { return 0.2 + s }
	var total float64
	for _, s := range shape {
		total += weight(s)
	}
	perWeight := perDay * float64(len(shape)) / 1440 / total
	for i, s := range shape {
		// A minute's chance is well below 1, so a Bernoulli draw per minute
		// is the Poisson process.
		if r.Float64() >= perWeight*weight(s) {
			continue
		}
		amp := uniform(r, 0.3, 1.5)
		for j := range 1 + r.IntN(6) {
			fx.add(i+j, amp)
		}
	}
}

// incidentBlock is the mean time between incidents: about one a month.
const incidentBlock = 30 * 1440

// addIncidents adds about one incident a month: 5 to 20 minutes at 0% to
// 10% of the level (an upstream outage), then a catch-up surge of 1.5x to
// 2.5x for about as long, as clients retry and queued work arrives. Each
// 30-day block of the trace has one with probability its length over 30
// days; its time is drawn in proportion to the traffic, so incidents
// happen when they matter, mostly in business hours.
func addIncidents(r *rand.Rand, fx effects, shape []float64) {
	n := len(shape)
	for from := 0; from < n; from += incidentBlock {
		to := min(from+incidentBlock, n)
		if r.Float64() >= float64(to-from)/incidentBlock {
			continue
		}
		at := from + weightedIndex(r, shape[from:to])
		down := 5 + r.IntN(16)
		fx.scale(at, down, uniform(r, 0, 0.10))
		surge := max(1, int(math.Round(float64(down)*uniform(r, 0.8, 1.25))))
		fx.scale(at+down, surge, uniform(r, 1.5, 2.5))
	}
}

// drawHolidays marks one or two working days in every 30 days of the trace
// as public holidays (a partial block gets its share, rounded), two of them
// in different halves of the block, as holidays are spread over a year. A
// holiday looks like a weekend on a weekday, which a policy that learned
// only the weekly cycle gets wrong.
func drawHolidays(r *rand.Rand, days []localDay) []bool {
	holiday := make([]bool, len(days))
	for from := 0; from < len(days); from += 30 {
		to := min(from+30, len(days))
		want := int(math.Round(float64(1+r.IntN(2)) * float64(to-from) / 30))
		for part := range want {
			var workdays []int
			for k := from + (to-from)*part/want; k < from+(to-from)*(part+1)/want; k++ {
				if !days[k].weekend() {
					workdays = append(workdays, k)
				}
			}
			if len(workdays) > 0 {
				holiday[workdays[r.IntN(len(workdays))]] = true
			}
		}
	}
	return holiday
}
