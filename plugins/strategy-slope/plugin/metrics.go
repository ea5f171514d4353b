package plugin

import (
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// strategyMetrics are the decisions as time series, served on the agent
// block's metrics_address. Labels are the check's name: the agent sends a
// strategy no policy ID (two policies' checks of the same name share a
// series; name checks per policy to tell them apart).
type strategyMetrics struct {
	forecast  *prometheus.GaugeVec
	margin    *prometheus.GaugeVec
	demand    *prometheus.GaugeVec
	desired   *prometheus.GaugeVec
	current   *prometheus.GaugeVec
	booting   *prometheus.GaugeVec
	decisions *prometheus.CounterVec
	errors    *prometheus.CounterVec
	duration  prometheus.Histogram
}

// Error kinds of fleetslope_strategy_errors_total.
const (
	errKindInput    = "input"    // an evaluation without a check or strategy block
	errKindConfig   = "config"   // the check's strategy block is invalid
	errKindDecision = "decision" // too few points, or another refusal to guess
	errKindPanic    = "panic"    // recovered; a bug
)

func newStrategyMetrics(reg *pluginkit.Metrics) *strategyMetrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "strategy", Name: name, Help: help}, []string{"check"})
	}
	m := &strategyMetrics{
		forecast: gauge("forecast_requests_per_minute", "Point forecast of the request rate over the lead-to-horizon window (rate mode)."),
		margin:   gauge("margin_requests_per_minute", "Calibrated margin added to the forecast (rate mode)."),
		demand:   gauge("demand_requests_per_minute", "Forecast plus margin and headroom: the rate the fleet is sized for (rate mode)."),
		desired:  gauge("desired_workers", "Count the last decision returned."),
		current:  gauge("current_workers", "Count the target reported to the last decision."),
		booting:  gauge("booting_workers", "Workers the strategy estimates are still booting (rate mode)."),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "fleetslope", Subsystem: "strategy", Name: "decisions_total",
			Help: "Decisions by what drove them: scale_up, scale_in, steady, backlog, floor, outage_hold, override."}, []string{"check", "reason_class"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "fleetslope", Subsystem: "strategy", Name: "errors_total",
			Help: "Run calls that returned an error, by kind: input, config, decision, panic."}, []string{"kind"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "fleetslope", Subsystem: "strategy", Name: "run_duration_seconds",
			Help: "Time of one Run, calibration included.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8)}),
	}
	reg.Register(m.forecast, m.margin, m.demand, m.desired, m.current, m.booting, m.decisions, m.errors, m.duration)
	for _, k := range []string{errKindInput, errKindConfig, errKindDecision, errKindPanic} {
		m.errors.WithLabelValues(k) // present at 0, so rate() works from the start
	}
	return m
}

// observe records one decision.
func (m *strategyMetrics) observe(check string, current int64, d decision) {
	m.desired.WithLabelValues(check).Set(float64(d.count))
	m.current.WithLabelValues(check).Set(float64(current))
	setIf := func(g *prometheus.GaugeVec, keys ...string) {
		v, ok := 1.0, true
		for _, k := range keys {
			f, isFloat := d.meta[k].(float64)
			ok = ok && isFloat
			v *= f
		}
		if ok {
			g.WithLabelValues(check).Set(v)
		}
	}
	setIf(m.forecast, "forecast_up")
	setIf(m.margin, "margin_units", "margin_unit")
	setIf(m.demand, "demand_up")
	setIf(m.booting, "booting_estimate")
	m.decisions.WithLabelValues(check, reasonClass(d)).Inc()
}

// reasonClass names what drove a decision, the most specific first.
func reasonClass(d decision) string {
	switch {
	case d.meta["override"] == "active" && d.meta["override_applied"] != false:
		// An exact override, or a minimum that raised the count; a
		// minimum already met is the check's own decision.
		return "override"
	case d.meta["floor_applied"] == true:
		return "floor"
	case d.meta["outage_minutes"] != nil:
		return "outage_hold"
	}
	if extra, _ := d.meta["backlog_extra_workers"].(float64); extra > 0 {
		return "backlog"
	}
	switch d.direction {
	case sdk.ScaleDirectionUp:
		return "scale_up"
	case sdk.ScaleDirectionDown:
		return "scale_in"
	}
	return "steady"
}

// timeRun records a Run's duration and, when it failed, its error kind;
// an error without a kind was a recovered panic.
func (m *strategyMetrics) timeRun(start time.Time, err error, kind string) {
	m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		if kind == "" {
			kind = errKindPanic
		}
		m.errors.WithLabelValues(kind).Inc()
	}
}
