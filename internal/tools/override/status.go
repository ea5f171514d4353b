package override

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// What a check's strategy will do about an override at its next evaluation.
const (
	statePinned    = "pinned"    // an override is active: the check votes exactly its count
	stateMinimum   = "minimum"   // a minimum is active: the check votes at least its count
	stateScheduled = "scheduled" // an override starts later: until then the check decides from its metrics
	stateExpired   = "expired"   // an override ended: the check decides from its metrics
	stateNone      = "none"      // no override: the check decides from its metrics
	stateOther     = "other"     // not strategy-slope: no override applies
	stateError     = "error"     // the strategy refuses the check's config
)

// checkView is one check's answer.
type checkView struct {
	check    string
	strategy string
	state    string
	source   string // "policy" or "variable <path>"
	count    int64
	from     time.Time // zero: no later start
	until    time.Time
	minimum  bool
	reason   string
	// note is what the strategy reported beside its decision: an
	// unreadable override Variable, or its config error.
	note string
}

// strategy asks strategy-slope itself what it would do with a check, so
// the answer follows the plugin's own rules: the Variable wins over the
// policy file, an expired override is ignored, an override too far ahead
// is refused, an unreadable Variable is reported and ignored.
type strategy struct {
	plugin *slope.Plugin
}

// newStrategy returns the plugin at now, reading Variables with the given
// nomad_* connection keys as the agent's plugin would.
func newStrategy(now time.Time, nomadConfig map[string]string) (*strategy, error) {
	p := slope.New(hclog.NewNullLogger())
	p.SetClock(func() time.Time { return now })
	if err := p.SetConfig(nomadConfig); err != nil {
		return nil, fmt.Errorf("strategy-slope configuration: %w", err)
	}
	return &strategy{plugin: p}, nil
}

// view runs the check's strategy on a quiet series (the override decides
// before any metric is read; the series only keeps rate mode from asking
// for more points) and reads the override from its Meta.
func (s *strategy) view(c check, now time.Time) checkView {
	v := checkView{check: c.name, strategy: c.strategy, state: stateOther}
	if !c.slope {
		return v
	}
	eval := &sdk.ScalingCheckEvaluation{
		Check: &sdk.ScalingPolicyCheck{
			Name: c.name, Source: c.source, Query: c.query,
			Strategy: &sdk.ScalingPolicyStrategy{Name: c.strategy, Config: maps.Clone(c.config)},
		},
		Metrics: quietSeries(c.config, now),
	}
	out, err := s.plugin.Run(eval, 0)
	if err != nil {
		v.state, v.note = stateError, err.Error()
		return v
	}
	meta := out.Action.Meta
	if e, ok := meta["override_variable_error"].(string); ok {
		v.note = "override variable ignored: " + e
	}
	v.source, _ = meta["override_source"].(string)
	v.reason, _ = meta["override_reason"].(string)
	if u, ok := meta["override_until"].(string); ok {
		v.until, _ = time.Parse(time.RFC3339, u)
	}
	if f, ok := meta["override_from"].(string); ok {
		v.from, _ = time.Parse(time.RFC3339, f)
	}
	v.minimum = meta["override_mode"] == modeMinimum
	if n, ok := meta["override_count"].(float64); ok {
		v.count = int64(n)
	}
	switch meta["override"] {
	case "active":
		v.state = statePinned
		if v.minimum {
			v.state = stateMinimum
		}
	case "scheduled":
		v.state = stateScheduled
	case "expired":
		v.state = stateExpired
	default:
		v.state = stateNone
	}
	return v
}

// overriding reports whether an override, active or scheduled, is read.
func (v checkView) overriding() bool {
	return v.state == statePinned || v.state == stateMinimum || v.state == stateScheduled
}

// quietSeries is one point a minute for the last min_points (+1) minutes.
func quietSeries(cfg map[string]string, now time.Time) sdk.TimestampedMetrics {
	n := 10
	if v, err := strconv.Atoi(cfg["min_points"]); err == nil && v > 0 {
		n = min(v, 10_000)
	}
	out := make(sdk.TimestampedMetrics, n+1)
	for i := range out {
		out[i] = sdk.TimestampedMetric{Timestamp: now.Add(time.Duration(i-n-1) * time.Minute), Value: 1}
	}
	return out
}

// policyView is a policy with the view of each of its checks.
type policyView struct {
	policy policy
	checks []checkView
	// calendarPath is the override_variable whose booked events are shown
	// (empty: none), events what was read under it, calendarErr why not.
	calendarPath string
	events       []bookedEvent
	calendarErr  error
}

func (s *strategy) policyView(p policy, now time.Time) policyView {
	pv := policyView{policy: p}
	for _, c := range p.checks {
		pv.checks = append(pv.checks, s.view(c, now))
	}
	return pv
}
