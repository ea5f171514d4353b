package plugin

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// targetMetrics are the fleet's state and the plugin's work as time series,
// served on the agent block's metrics_address. Per-MIG series are labelled
// mig="zone/name"; per-policy ones policy=<the policy key of the node
// markers>, since the agent sends a target no policy ID.
type targetMetrics struct {
	workers    *prometheus.GaugeVec
	stockout   *prometheus.GaugeVec
	ready      *prometheus.GaugeVec
	lastStatus *prometheus.GaugeVec
	scale      *prometheus.HistogramVec
	drain      prometheus.Histogram
	errors     *prometheus.CounterVec
	// The spend estimate, with price_per_hour (spend.go).
	spendRate *prometheus.GaugeVec
	spent     *prometheus.CounterVec
	budget    *prometheus.GaugeVec
	spendMu   sync.Mutex
	spendLast map[string]spendSample // by policy
}

// Worker states of fleetslope_target_workers.
const (
	stateTarget   = "target"   // the MIG's targetSize: serving and booting
	stateServing  = "serving"  // RUNNING with no pending action
	stateBooting  = "booting"  // in the target but not yet serving
	stateDraining = "draining" // nodes this policy is draining
	stateStandby  = "standby"  // stopped VMs of the warm pool
)

// Error kinds of fleetslope_target_errors_total.
const (
	errKindConfig  = "config"  // the policy's target block is invalid
	errKindObserve = "observe" // GCE or Nomad could not be read (Status reports not ready)
	errKindTimeout = "timeout" // the call's deadline passed
	errKindAPI     = "api"     // any other GCE or Nomad failure
	// the policy's writer lock is held by another process, was lost, or
	// could not be taken (writer.go)
	errKindLock = "lock"
)

func newTargetMetrics(reg *pluginkit.Metrics) *targetMetrics {
	m := &targetMetrics{
		workers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "workers",
			Help: "Workers per MIG by state: target, serving, booting, draining, standby."}, []string{"mig", "state"}),
		stockout: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "mig_stockout",
			Help: "1 while the MIG's zone is in stockout or over quota (within stockout_cooldown)."}, []string{"mig"}),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "ready",
			Help: "1 when the last Status reported ready."}, []string{"policy"}),
		lastStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "last_status_timestamp_seconds",
			Help: "Unix time of the policy's last Status: only the agent holding the HA lock calls it, so the other gauges of a process whose last Status is old are stale."}, []string{"policy"}),
		scale: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "fleetslope", Subsystem: "target", Name: "scale_duration_seconds",
			Help: "Time of one Scale call, by the action's direction.", Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)}, []string{"direction"}),
		drain: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "fleetslope", Subsystem: "target", Name: "drain_duration_seconds",
			Help: "Time from a node's drain request to the drain's end.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "fleetslope", Subsystem: "target", Name: "errors_total",
			Help: "Failed Status and Scale calls by operation and kind: config, observe, timeout, api, lock."}, []string{"op", "kind"}),
		spendRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "spend_dollars_per_hour",
			Help: "What the policy's VMs cost per hour at the policy's list prices, as of its last Status (price_per_hour)."}, []string{"policy"}),
		spent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "fleetslope", Subsystem: "target", Name: "spend_dollars_total",
			Help: "What the policy's VMs cost while this process answered its Status calls, at the policy's list prices."}, []string{"policy"}),
		budget: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "fleetslope", Subsystem: "target", Name: "monthly_budget_dollars",
			Help: "The policy's monthly_budget."}, []string{"policy"}),
		spendLast: map[string]spendSample{},
	}
	reg.Register(m.workers, m.stockout, m.ready, m.lastStatus, m.scale, m.drain, m.errors, m.spendRate, m.spent, m.budget)
	for _, op := range []string{"status", "scale"} {
		for _, k := range []string{errKindConfig, errKindObserve, errKindTimeout, errKindAPI, errKindLock} {
			m.errors.WithLabelValues(op, k) // present at 0, so rate() works from the start
		}
	}
	return m
}

// observeStatus records what a Status saw of the standard MIGs.
func (m *targetMetrics) observeStatus(policy string, obs observation, ready bool) {
	m.observeMIGs(obs.Zones, obs.Nodes)
	r := 0.0
	if ready {
		r = 1
	}
	m.ready.WithLabelValues(policy).Set(r)
	m.lastStatus.WithLabelValues(policy).SetToCurrentTime()
}

// observeMIGs records the workers of each MIG by state. A worker is
// draining when its node drains, whoever asked (a scale-in, the
// maintenance daemon).
func (m *targetMetrics) observeMIGs(zones []zoneView, nodes []nomadNode) {
	draining := map[string]bool{}
	for _, n := range nodes {
		if n.Draining {
			draining[n.Zone+"/"+n.Instance] = true
		}
	}
	for _, z := range zones {
		mig := z.Ref.Zone + "/" + z.Ref.Name
		serving := z.running()
		drains := 0
		for _, in := range z.Instances {
			if draining[z.Ref.Zone+"/"+in.Name] {
				drains++
			}
		}
		m.workers.WithLabelValues(mig, stateTarget).Set(float64(z.State.TargetSize))
		m.workers.WithLabelValues(mig, stateServing).Set(float64(serving))
		m.workers.WithLabelValues(mig, stateBooting).Set(float64(max(z.State.TargetSize-serving, 0)))
		m.workers.WithLabelValues(mig, stateDraining).Set(float64(drains))
		m.workers.WithLabelValues(mig, stateStandby).Set(float64(len(z.pooledNames())))
		stockout := 0.0
		if z.Stockout {
			stockout = 1
		}
		m.stockout.WithLabelValues(mig).Set(stockout)
	}
}

// failed counts a failed call of op.
func (m *targetMetrics) failed(op, kind string) { m.errors.WithLabelValues(op, kind).Inc() }

// errorKind classifies a Scale error.
func errorKind(err error) string {
	if errors.Is(err, errWriterBusy) || errors.Is(err, errWriterLost) {
		return errKindLock
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errKindTimeout
	}
	return errKindAPI
}

// timeScale records a Scale's duration.
func (m *targetMetrics) timeScale(direction string, start time.Time) {
	m.scale.WithLabelValues(direction).Observe(time.Since(start).Seconds())
}

// spendGapMax is the longest gap between two Status calls that the spend
// counter bridges at the earlier call's rate. The agent asks for Status at
// every evaluation (a minute in the shipped policy); a longer gap is an
// agent that did not evaluate (a restart, the other HA agent took over),
// and what was spent meanwhile is not known here.
const spendGapMax = 10 * time.Minute

// spendSample is the rate a policy's last Status saw, and when.
type spendSample struct {
	rate float64
	at   time.Time
}

// observeSpend records a Status's spend rate and adds what the fleet cost
// since the policy's previous Status, at that Status's rate, to the spend
// counter (at most spendGapMax of it).
func (m *targetMetrics) observeSpend(policy string, c spendConfig, rate float64, now time.Time) {
	if !c.enabled() {
		return
	}
	m.spendRate.WithLabelValues(policy).Set(rate)
	if c.budget > 0 {
		m.budget.WithLabelValues(policy).Set(c.budget)
	}
	counter := m.spent.WithLabelValues(policy)
	m.spendMu.Lock()
	defer m.spendMu.Unlock()
	if last, ok := m.spendLast[policy]; ok && now.After(last.at) {
		counter.Add(last.rate * min(now.Sub(last.at), spendGapMax).Hours())
	}
	m.spendLast[policy] = spendSample{rate: rate, at: now}
}
