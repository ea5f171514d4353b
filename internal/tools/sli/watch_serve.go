package sli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// watchMetrics are the series watch mode serves. A ratio or rate without
// requests to measure is left out (its series deleted), never 0 or NaN.
type watchMetrics struct {
	reg           *prometheus.Registry
	burn          *prometheus.GaugeVec // slo, window
	windowReqs    *prometheus.GaugeVec // window
	todayReqs     prometheus.Gauge
	todayFailed   prometheus.Gauge
	todayAvail    *prometheus.GaugeVec // no labels: deleted when there is nothing to measure
	todayLatency  *prometheus.GaugeVec
	todayBudget   *prometheus.GaugeVec
	todayStart    prometheus.Gauge
	business      prometheus.Gauge
	lastRead      prometheus.Gauge
	readDuration  prometheus.Gauge
	readErrors    prometheus.Counter
	rowsRead      prometheus.Counter
	sloAvail      prometheus.Gauge
	sloLatency    prometheus.Gauge
	latencyBudget prometheus.Gauge
}

const metricPrefix = "fleetslope_sli_"

func newWatchMetrics(slo SLO) *watchMetrics {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: metricPrefix + name, Help: help})
	}
	opt := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + name, Help: help}, labels)
	}
	m := &watchMetrics{
		reg: prometheus.NewRegistry(),
		burn: opt("burn_rate", "Rate at which the business requests of the window spend the error budget: 1 spends it as fast as the SLO allows. slo=availability: failed share / (1 - SLO); slo=latency: share of successful requests over the latency SLO / 0.05 (what a p95 allows). Absent without requests.",
			"slo", "window"),
		windowReqs:   opt("window_business_requests", "Business requests of the window (created_at in the last window minutes, complete minutes only).", "window"),
		todayReqs:    g("today_business_requests", "Business requests of the business window that started last, so far."),
		todayFailed:  g("today_failed_requests", "Of those, the failed: a 5xx or no status at all."),
		todayAvail:   opt("today_availability_ratio", "Availability of today's business window so far: requests with status < 500 / business requests. Absent without requests."),
		todayLatency: opt("today_latency_ratio", "Share of today's successful business requests within the latency SLO so far; the day's p95 is within the SLO while this is at least 0.95. Absent without successful requests."),
		todayBudget:  opt("today_error_budget_remaining_ratio", "What is left of the availability budget of today's business requests so far: 1 - failed / ((1 - SLO) x business requests); negative when overspent. Absent without requests."),
		todayStart:   g("today_window_start_timestamp_seconds", "Start of the business window the today_* series measure (Unix seconds)."),
		business:     g("business_hours", "1 while the SLO applies (the last complete minute lies in a business window), else 0."),
		lastRead:     g("last_read_timestamp_seconds", "End of the last successful read of the requests table (Unix seconds, a whole minute)."),
		readDuration: g("read_duration_seconds", "Duration of the last successful read, connecting included."),
		readErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: metricPrefix + "read_errors_total",
			Help: "Reads of the requests table that failed; the series keep their last values meanwhile."}),
		rowsRead: prometheus.NewCounter(prometheus.CounterOpts{Name: metricPrefix + "rows_read_total",
			Help: "Rows read, minutes read again for late rows counted again."}),
		sloAvail:      g("slo_availability_ratio", "The availability SLO (-availability-slo / 100)."),
		sloLatency:    g("slo_latency_seconds", "The latency SLO a day's p95 must not exceed (-latency-slo)."),
		latencyBudget: g("latency_budget_ratio", "Share of successful requests that may exceed the latency SLO while the p95 holds (0.05)."),
	}
	m.reg.MustRegister(m.burn, m.windowReqs, m.todayReqs, m.todayFailed, m.todayAvail, m.todayLatency, m.todayBudget,
		m.todayStart, m.business, m.lastRead, m.readDuration, m.readErrors, m.rowsRead, m.sloAvail, m.sloLatency, m.latencyBudget)
	m.sloAvail.Set(slo.AvailabilityPct / 100)
	m.sloLatency.Set(slo.Latency.Seconds())
	m.latencyBudget.Set(latencyBudget)
	return m
}

// publish sets every series from a state.
func (m *watchMetrics) publish(slo SLO, st watchState, rows int64, took time.Duration) {
	set := func(v *prometheus.GaugeVec, value float64, ok bool, labels ...string) {
		if ok {
			v.WithLabelValues(labels...).Set(value)
		} else {
			v.DeleteLabelValues(labels...)
		}
	}
	for i, w := range burnWindows {
		c := st.windows[i]
		m.windowReqs.WithLabelValues(w.name).Set(float64(c.Requests))
		a, ok := availabilityBurn(slo, c)
		set(m.burn, a, ok, "availability", w.name)
		l, ok := latencyBurn(c)
		set(m.burn, l, ok, "latency", w.name)
	}
	t := st.todayCounts
	m.todayReqs.Set(float64(t.Requests))
	m.todayFailed.Set(float64(t.Failed()))
	has := t.Requests > 0
	set(m.todayAvail, float64(t.Successful())/float64(max(t.Requests, 1)), has)
	set(m.todayLatency, float64(t.WithinSLO)/float64(max(t.Successful(), 1)), t.Successful() > 0)
	budget := 0.0
	if has {
		budget = roundMicro(1 - float64(t.Failed())/allowedFailures(slo, t.Requests))
	}
	set(m.todayBudget, budget, has)
	m.todayStart.Set(float64(st.todayStart.Unix()))
	m.business.Set(0)
	if st.business {
		m.business.Set(1)
	}
	m.lastRead.Set(float64(st.end.Unix()))
	m.readDuration.Set(took.Seconds())
	m.rowsRead.Add(float64(rows))
}

// watchShutdown bounds the HTTP server's goodbye.
const watchShutdown = 5 * time.Second

// watch serves the live SLIs until ctx is cancelled. A failed read is
// reported on stderr and retried at the next interval: the exporter stays
// up, and FleetSlopeSLIStale says when its figures grow old.
func watch(ctx context.Context, cfg Config, stdout, stderr io.Writer, now func() time.Time) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("-%s %q: %w", flagListen, cfg.Listen, err)
	}
	m := newWatchMetrics(cfg.SLO)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), watchShutdown)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	r := newReader(cfg)
	fmt.Fprintf(stdout, "serving the SLIs of %s on http://%s/metrics, read every %s (business hours %s %s, SLO %.6g%%, p95 <= %s)\n",
		r.where, ln.Addr(), cfg.Interval, cfg.Hours, cfg.Location, cfg.SLO.AvailabilityPct, cfg.SLO.Latency)

	w := newWatcher(cfg, r.readCounts)
	ticker := time.NewTicker(cfg.Interval)
	defer ticker.Stop()
	for {
		start := time.Now()
		st, rows, err := w.tick(ctx, now())
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			m.readErrors.Inc()
			fmt.Fprintf(stderr, "sli: %s: %v (the series keep their last values; next read in %s)\n", now().UTC().Format(time.RFC3339), err, cfg.Interval)
		default:
			m.publish(cfg.SLO, st, rows, time.Since(start))
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve /metrics on %s: %w", ln.Addr(), err)
			}
			return nil
		case <-ticker.C:
		}
	}
}

// watchSeries are the series watch mode exports and their labels, for the
// alert rules' tests (deploy/alerts_test.go); a test holds them to the
// registry.
var watchSeries = map[string][]string{
	metricPrefix + "burn_rate":                            {"slo", "window"},
	metricPrefix + "window_business_requests":             {"window"},
	metricPrefix + "today_business_requests":              nil,
	metricPrefix + "today_failed_requests":                nil,
	metricPrefix + "today_availability_ratio":             nil,
	metricPrefix + "today_latency_ratio":                  nil,
	metricPrefix + "today_error_budget_remaining_ratio":   nil,
	metricPrefix + "today_window_start_timestamp_seconds": nil,
	metricPrefix + "business_hours":                       nil,
	metricPrefix + "last_read_timestamp_seconds":          nil,
	metricPrefix + "read_duration_seconds":                nil,
	metricPrefix + "read_errors_total":                    nil,
	metricPrefix + "rows_read_total":                      nil,
	metricPrefix + "slo_availability_ratio":               nil,
	metricPrefix + "slo_latency_seconds":                  nil,
	metricPrefix + "latency_budget_ratio":                 nil,
}

// MetricLabels maps each series watch mode (sli -listen) exports to its
// label names.
func MetricLabels() map[string][]string {
	out := make(map[string][]string, len(watchSeries))
	for name, labels := range watchSeries {
		out[name] = append([]string(nil), labels...)
	}
	return out
}
