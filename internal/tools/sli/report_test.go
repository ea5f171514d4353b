package sli

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

var slo99 = SLO{AvailabilityPct: 99, Latency: 3 * time.Second}

func TestADayIsScoredOnItsBusinessRequests(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		slo          SLO
		day          DayCounts
		availability *float64
		latency      *float64
		p95          *float64
		met          *bool
		missed       []string
	}{
		{
			name: "a day within both SLOs meets them",
			slo:  slo99,
			day:  DayCounts{Requests: 250, Business: Counts{Requests: 200, Errors: 1, Timed: 199, WithinSLO: 199}, P95ms: 1900},
			// 199 of 200; 199 of 199 within 3 s.
			availability: ptr(99.5), latency: ptr(100.0), p95: ptr(1.9), met: ptr(true),
		},
		{
			name:         "a day with too many failures misses on availability",
			slo:          slo99,
			day:          DayCounts{Requests: 100, Business: Counts{Requests: 100, Errors: 3, Timed: 97, WithinSLO: 97}, P95ms: 100},
			availability: ptr(97.0), latency: ptr(100.0), p95: ptr(0.1), met: ptr(false), missed: []string{"availability"},
		},
		{
			name:         "a day whose p95 is over the SLO misses on latency",
			slo:          slo99,
			day:          DayCounts{Requests: 100, Business: Counts{Requests: 100, Timed: 100, WithinSLO: 90}, P95ms: 4000},
			availability: ptr(100.0), latency: ptr(90.0), p95: ptr(4.0), met: ptr(false), missed: []string{"latency"},
		},
		{
			name:         "a day can miss on both",
			slo:          slo99,
			day:          DayCounts{Requests: 100, Business: Counts{Requests: 100, Errors: 50, Timed: 50, WithinSLO: 0}, P95ms: 3001},
			availability: ptr(50.0), latency: ptr(0.0), p95: ptr(3.001), met: ptr(false), missed: []string{"availability", "latency"},
		},
		{
			name:         "availability exactly at the SLO meets it, also at 99.9",
			slo:          SLO{AvailabilityPct: 99.9, Latency: 3 * time.Second},
			day:          DayCounts{Requests: 1000, Business: Counts{Requests: 1000, Errors: 1, Timed: 999, WithinSLO: 999}, P95ms: 3000},
			availability: ptr(99.9), latency: ptr(100.0), p95: ptr(3.0), met: ptr(true),
		},
		{
			name: "a day without business requests is not scored",
			slo:  slo99,
			day:  DayCounts{Requests: 40, P95ms: -1},
		},
		{
			// 3 of 10 have status < 500: the 6 without a status are not.
			name:         "requests without a status count as failed",
			slo:          slo99,
			day:          DayCounts{Requests: 10, Business: Counts{Requests: 10, Unrecorded: 6, Errors: 1, Timed: 3, WithinSLO: 3}, P95ms: 200},
			availability: ptr(30.0), latency: ptr(100.0), p95: ptr(0.2), met: ptr(false), missed: []string{"availability"},
		},
		{
			name:         "a day whose business requests all lack a status misses on availability",
			slo:          slo99,
			day:          DayCounts{Requests: 10, Business: Counts{Requests: 10, Unrecorded: 10}, P95ms: -1},
			availability: ptr(0.0), met: ptr(false), missed: []string{"availability"},
		},
		{
			name:         "successful requests without a latency have not shown the latency SLO met",
			slo:          slo99,
			day:          DayCounts{Requests: 10, Business: Counts{Requests: 10}, P95ms: -1},
			availability: ptr(100.0), latency: ptr(0.0), met: ptr(false), missed: []string{"latency"},
		},
		{
			// 18 of 20 successful requests within 3 s, 2 without a
			// latency: 90%, and the p95 (rank 19) is one of those two.
			name:         "a successful request without a latency counts against latency_pct",
			slo:          slo99,
			day:          DayCounts{Requests: 20, Business: Counts{Requests: 20, Timed: 18, WithinSLO: 18}, P95ms: -1},
			availability: ptr(100.0), latency: ptr(90.0), met: ptr(false), missed: []string{"latency"},
		},
		{
			name:         "a day whose requests all failed misses on availability alone",
			slo:          slo99,
			day:          DayCounts{Requests: 10, Business: Counts{Requests: 10, Errors: 10}, P95ms: -1},
			availability: ptr(0.0), met: ptr(false), missed: []string{"availability"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.day.Date = date(2026, 11, 2)
			d := scoreDay(tc.slo, tc.day)
			must.Eq(t, "2026-11-02", d.Date)
			must.Eq(t, tc.day.Requests, d.Requests)
			must.Eq(t, tc.day.Business.Requests, d.BusinessRequests)
			must.Eq(t, tc.availability, d.AvailabilityPct)
			must.Eq(t, tc.latency, d.LatencyPct)
			must.Eq(t, tc.p95, d.P95S)
			must.Eq(t, tc.met, d.Met)
			must.Eq(t, tc.missed, d.missed)
		})
	}
}

func TestTheErrorBudgetIsSpentDayByDayOverThePeriodsBusinessRequests(t *testing.T) {
	t.Parallel()
	days := []DayCounts{
		{Date: date(2026, 11, 2), Requests: 1200, Business: Counts{Requests: 1000, Errors: 2, Timed: 998, WithinSLO: 998}, P95ms: 100},
		{Date: date(2026, 11, 3), Requests: 10, P95ms: -1},
		{Date: date(2026, 11, 4), Requests: 3100, Business: Counts{Requests: 3000, Unrecorded: 10, Errors: 8, Timed: 2982, WithinSLO: 2982}, P95ms: 100},
	}
	s := Score(slo99, days, Counts{}, Counts{})
	// 4,000 business requests at 99% allow 40 failures; 20 were spent: 2
	// on the first day, none on the second, 8 errors and 10 requests
	// without a status on the third.
	must.InDelta(t, 100*(1-2.0/40), *s.Days[0].BudgetRemainingPct, 1e-6)
	must.InDelta(t, 100*(1-2.0/40), *s.Days[1].BudgetRemainingPct, 1e-6)
	must.InDelta(t, 50, *s.Days[2].BudgetRemainingPct, 1e-6)
	must.InDelta(t, 50, *s.ErrorBudgetRemainingPct, 1e-6)
	must.Eq(t, 2, s.DaysScored)
	must.Eq(t, 2, s.DaysMet) // 998 of 1,000 and 2,982 of 3,000
	must.Eq(t, int64(4000), s.BusinessRequests)
	must.Eq(t, int64(10), s.Unrecorded)
	must.Eq(t, int64(20), s.Failed)
}

func TestAnOverspentBudgetIsNegative(t *testing.T) {
	t.Parallel()
	days := []DayCounts{{Date: date(2026, 11, 2), Business: Counts{Requests: 100, Errors: 3}, P95ms: 10}}
	s := Score(slo99, days, Counts{}, Counts{})
	// One failure allowed, three spent: 200% overspent.
	must.InDelta(t, -200, *s.ErrorBudgetRemainingPct, 1e-6)
}

func TestAPeriodWithoutBusinessRequestsHasNoBudget(t *testing.T) {
	t.Parallel()
	s := Score(slo99, []DayCounts{{Date: date(2026, 11, 2), Requests: 5, P95ms: -1}}, Counts{}, Counts{})
	must.Nil(t, s.ErrorBudgetRemainingPct)
	must.Nil(t, s.Days[0].BudgetRemainingPct)
	must.Eq(t, 0, s.DaysScored)
}

func TestBurnRatesAreTheFailureRateOverTheAllowedOneAndNullForAnEmptyWindow(t *testing.T) {
	t.Parallel()
	s := Score(slo99, nil, Counts{Requests: 4, Unrecorded: 1, Errors: 1}, Counts{})
	// 2 of 4 failed (a 5xx and one without a status): 50% against 1% allowed.
	must.InDelta(t, 50, *s.BurnRate1h, 1e-9)
	must.Nil(t, s.BurnRate6h)
	s = Score(slo99, nil, Counts{}, Counts{Requests: 1000, Errors: 5})
	must.Nil(t, s.BurnRate1h)
	must.InDelta(t, 0.5, *s.BurnRate6h, 1e-9)
}
