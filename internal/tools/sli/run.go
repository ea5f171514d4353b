package sli

import (
	"context"
	"strings"
	"time"
)

// Report is the SLA as delivered over a period: the scoring and what it was
// scored against. It is sli.json.
type Report struct {
	From               string  `json:"from"`
	To                 string  `json:"to"`
	TimeZone           string  `json:"time_zone"`
	BusinessHours      string  `json:"business_hours"`
	AvailabilitySLOPct float64 `json:"availability_slo_pct"`
	LatencySLOS        float64 `json:"latency_slo_s"`
	RequestsTable      string  `json:"requests_table"`
	// The rows read: created_at in [ReadFrom, ReadUntil), RFC 3339 in the
	// zone. ReadUntil is also the end of the burn-rate windows.
	ReadFrom  string `json:"read_from"`
	ReadUntil string `json:"read_until"`
	Scoring
	// With -prometheus: the period's spend (the days with data), and
	// whether it was read at all.
	SpendUSD  *float64 `json:"spend_usd,omitempty"`
	SpendRead bool     `json:"-"`

	RowsRead int64         `json:"-"` // every row in [ReadFrom, ReadUntil)
	Elapsed  time.Duration `json:"-"` // the read, connecting included
}

// Run reads the requests table and scores the period.
func Run(ctx context.Context, cfg Config, now time.Time) (*Report, error) {
	p := newPlan(cfg.From, cfg.To, cfg.Location, cfg.Hours, now)
	start := time.Now()
	res, err := newReader(cfg).read(ctx, p)
	if err != nil {
		return nil, err
	}
	rep := newReport(cfg, p, res)
	rep.Elapsed = time.Since(start)
	if cfg.Prometheus != nil {
		src := newPromSpend(cfg.Prometheus, cfg.SpendQuery, cfg.PrometheusTimeout)
		if err := addSpend(ctx, rep, src, cfg.Location, now); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// newReport sums the buckets into days and burn-rate windows and scores
// them.
func newReport(cfg Config, p plan, res readResult) *Report {
	days := make([]DayCounts, len(p.days))
	for k, d := range p.days {
		days[k] = DayCounts{Date: d, P95ms: res.p95ms[k], Partial: p.partial[k]}
	}
	var last1h, last6h Counts
	var rows int64
	for i, b := range p.buckets {
		c := res.buckets[i]
		rows += c.Requests
		if b.calendarDay >= 0 {
			days[b.calendarDay].Requests += c.Requests
		}
		if b.businessDay >= 0 {
			days[b.businessDay].Business.add(c)
		}
		if b.business && b.lastShort {
			last1h.add(c)
		}
		if b.business && b.lastLong {
			last6h.add(c)
		}
	}
	return &Report{
		From:               cfg.From.Format(time.DateOnly),
		To:                 cfg.To.Format(time.DateOnly),
		TimeZone:           cfg.Location.String(),
		BusinessHours:      cfg.Hours.String(),
		AvailabilitySLOPct: cfg.SLO.AvailabilityPct,
		LatencySLOS:        cfg.SLO.Latency.Seconds(),
		RequestsTable:      strings.Join(cfg.Table, "."),
		ReadFrom:           p.scanStart.In(cfg.Location).Format(time.RFC3339),
		ReadUntil:          p.scanEnd.In(cfg.Location).Format(time.RFC3339),
		Scoring:            Score(cfg.SLO, days, last1h, last6h),
		RowsRead:           rows,
	}
}
