package sli

import (
	"math"
	"time"
)

// Counts are what PostgreSQL aggregates over a set of requests.
type Counts struct {
	Requests   int64 // every row
	Unrecorded int64 // status IS NULL: no answer was ever written
	Errors     int64 // status >= 500 (a request the API timed out is recorded as a 5xx)
	Timed      int64 // status < 500 with a latency_ms
	WithinSLO  int64 // status < 500 and latency_ms <= the latency SLO
}

// Successful is the number of requests with status < 500: the numerator
// of availability, whose denominator is every request.
func (c Counts) Successful() int64 { return c.Requests - c.Unrecorded - c.Errors }

// Failed is the number of requests without status < 500: a 5xx, or no
// status at all. They spend the error budget.
func (c Counts) Failed() int64 { return c.Requests - c.Successful() }

func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.Unrecorded += o.Unrecorded
	c.Errors += o.Errors
	c.Timed += o.Timed
	c.WithinSLO += o.WithinSLO
}

// DayCounts are one local day's aggregates, as read from PostgreSQL.
type DayCounts struct {
	Date     time.Time // the local date, at UTC midnight
	Requests int64     // every request of the local calendar day
	Business Counts    // the requests of the day's business window
	P95ms    int64     // nearest-rank p95 of the window's successful requests; -1 when there are none or it is a missing latency
	Partial  bool      // the window was not over when the table was read
}

// SLO is the promise the days are scored against.
type SLO struct {
	AvailabilityPct float64       // in (0, 100)
	Latency         time.Duration // whole milliseconds
}

// Day is one row of the report. Pointers are null in JSON when there is
// nothing to measure: no business requests, no successful ones.
type Day struct {
	Date               string   `json:"date"`
	Requests           int64    `json:"requests"`
	BusinessRequests   int64    `json:"business_requests"`
	Failed             int64    `json:"failed"`     // business requests without status < 500
	Unrecorded         int64    `json:"unrecorded"` // of which without any status
	AvailabilityPct    *float64 `json:"availability_pct"`
	LatencyPct         *float64 `json:"latency_pct"`
	P95S               *float64 `json:"p95_s"`
	Met                *bool    `json:"met"`
	BudgetRemainingPct *float64 `json:"budget_remaining_pct"`
	Partial            bool     `json:"partial,omitempty"`
	// With -prometheus: what the GPU fleet cost that day, and per 1,000 of
	// the day's requests (spend.go); null without data.
	SpendUSD   *float64 `json:"spend_usd,omitempty"`
	SpendPer1k *float64 `json:"spend_per_1k_requests,omitempty"`

	// Why a scored day missed, for the table: "availability", "latency" or both.
	missed []string
}

// Scoring is the period's scoring: the days and what they add up to.
type Scoring struct {
	Days       []Day `json:"days"`
	DaysScored int   `json:"days_scored"`
	DaysMet    int   `json:"days_met"`

	BusinessRequests int64 `json:"business_requests"`
	Failed           int64 `json:"failed"`
	Unrecorded       int64 `json:"unrecorded"`

	ErrorBudgetRemainingPct *float64 `json:"error_budget_remaining_pct"`
	BurnRate1h              *float64 `json:"burn_rate_1h"`
	BurnRate6h              *float64 `json:"burn_rate_6h"`
}

// Score applies the definitions of the README to the days' aggregates and
// to the business requests of the last hour and the last six hours.
func Score(slo SLO, days []DayCounts, last1h, last6h Counts) Scoring {
	var s Scoring
	var total Counts
	for _, d := range days {
		total.add(d.Business)
	}
	s.BusinessRequests, s.Failed, s.Unrecorded = total.Requests, total.Failed(), total.Unrecorded
	// The budget is the failures the SLO allows over the whole period's
	// business requests; each day spends from it.
	allowed := allowedFailures(slo, total.Requests)
	remaining := func(failed int64) *float64 {
		if total.Requests == 0 {
			return nil
		}
		return ptr(roundMicro(100 * (allowed - float64(failed)) / allowed))
	}
	var spent int64
	for _, dc := range days {
		d := scoreDay(slo, dc)
		spent += dc.Business.Failed()
		d.BudgetRemainingPct = remaining(spent)
		if d.Met != nil {
			s.DaysScored++
			if *d.Met {
				s.DaysMet++
			}
		}
		s.Days = append(s.Days, d)
	}
	s.ErrorBudgetRemainingPct = remaining(total.Failed())
	s.BurnRate1h = burnRate(slo, last1h)
	s.BurnRate6h = burnRate(slo, last6h)
	return s
}

// scoreDay is one day's SLIs and whether it met the SLO.
func scoreDay(slo SLO, dc DayCounts) Day {
	b := dc.Business
	d := Day{
		Date:             dc.Date.Format(time.DateOnly),
		Requests:         dc.Requests,
		BusinessRequests: b.Requests,
		Failed:           b.Failed(),
		Unrecorded:       b.Unrecorded,
		Partial:          dc.Partial,
	}
	if b.Requests > 0 {
		// 100*n/d rather than n/d*100: the division is the only rounding,
		// so 999 of 1000 is exactly the float64 nearest 99.9, the same
		// number as -availability-slo 99.9, and compares equal to it.
		d.AvailabilityPct = ptr(100 * float64(b.Successful()) / float64(b.Requests))
	}
	if b.Successful() > 0 {
		// A successful request without a latency_ms has not shown that
		// it was fast enough: it counts in the denominator only.
		d.LatencyPct = ptr(100 * float64(b.WithinSLO) / float64(b.Successful()))
	}
	if dc.P95ms >= 0 {
		d.P95S = ptr(float64(dc.P95ms) / 1000)
	}
	if d.AvailabilityPct == nil {
		return d // nothing was delivered in business hours: not scored
	}
	if *d.AvailabilityPct < slo.AvailabilityPct {
		d.missed = append(d.missed, "availability")
	}
	// A day whose p95 falls on a successful request without a latency
	// has not shown that it met the latency SLO; a day without successful
	// requests missed on availability alone.
	if (dc.P95ms < 0 && b.Successful() > 0) || time.Duration(dc.P95ms)*time.Millisecond > slo.Latency {
		d.missed = append(d.missed, "latency")
	}
	d.Met = ptr(len(d.missed) == 0)
	return d
}

// burnRate is how many times faster than the SLO allows the window's
// business requests spent the budget; nil for a window without any.
func burnRate(slo SLO, c Counts) *float64 {
	if c.Requests == 0 {
		return nil
	}
	return ptr(roundMicro(float64(c.Failed()) / allowedFailures(slo, c.Requests)))
}

// allowedFailures is how many of n requests the SLO allows to fail,
// computed as (100 - SLO) x n / 100 so that a whole-number SLO gives an
// exact figure (1 - 0.99 is not 0.01 in floating point).
func allowedFailures(slo SLO, n int64) float64 {
	return (100 - slo.AvailabilityPct) * float64(n) / 100
}

// roundMicro rounds to six decimals, which drops the floating-point noise
// of an SLO such as 99.9 (100 - 99.9 is 0.0999999999999943) and keeps more
// precision than any report shows.
func roundMicro(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func ptr[T any](v T) *T { return &v }
