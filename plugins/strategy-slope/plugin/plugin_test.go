package plugin

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// evalOf builds what the agent hands a strategy: per-minute values ending
// one minute before now.
//
// A series of minutes or hours is a young window, which startup_headroom
// would double: these tests are of the margin's arithmetic, so evalOf
// turns it off unless cfg sets it (TestAYoungWindowKeepsTheStartup
// HeadroomAndSaysSo and the README's worked example keep the default).
func evalOf(cfg map[string]string, now time.Time, values ...float64) *sdk.ScalingCheckEvaluation {
	if _, set := cfg[keyStartup]; !set && cfg != nil {
		cfg = maps.Clone(cfg)
		cfg[keyStartup] = "0"
	}
	m := make(sdk.TimestampedMetrics, len(values))
	for i, v := range values {
		m[i] = sdk.TimestampedMetric{Timestamp: now.Add(time.Duration(i-len(values)) * time.Minute), Value: v}
	}
	return &sdk.ScalingCheckEvaluation{
		Check: &sdk.ScalingPolicyCheck{
			Name: "request-rate", Source: "ekyc", Query: "postgres:requests_per_minute",
			Strategy: &sdk.ScalingPolicyStrategy{Name: "slope", Config: cfg},
		},
		Metrics: m,
		Action:  &sdk.ScalingAction{},
	}
}

func repeat(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func newTestPlugin(t *testing.T, now time.Time) *Plugin {
	t.Helper()
	p := New(hclog.NewNullLogger())
	must.NoError(t, p.SetConfig(map[string]string{}))
	p.SetClock(func() time.Time { return now })
	return p
}

func TestPluginInfo(t *testing.T) {
	info, err := New(nil).PluginInfo()
	must.NoError(t, err)
	must.Eq(t, "strategy-slope", info.Name)
	must.Eq(t, sdk.PluginTypeStrategy, info.PluginType)
}

func TestRunReturnsAnAction(t *testing.T) {
	cases := []struct {
		name   string
		count  int64
		values []float64
		want   int64
		dir    sdk.ScaleDirection
	}{
		{"more demand than workers scales up", 5, repeat(60, 1000), 13, sdk.ScaleDirectionUp},
		{"the right count is an action with direction none, never nil", 13, repeat(60, 1000), 13, sdk.ScaleDirectionNone},
		{"a negative current count is read as zero", -3, repeat(60, 1000), 13, sdk.ScaleDirectionUp},
		{"NaN, Inf and negative samples are dropped", 13, append(repeat(60, 1000), math.NaN(), math.Inf(1), -1), 13, sdk.ScaleDirectionNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPlugin(t, friday)
			out, err := p.Run(evalOf(map[string]string{"capacity_per_worker": "100"}, friday, tc.values...), tc.count)
			must.NoError(t, err)
			must.NotNil(t, out.Action)
			must.Eq(t, tc.want, out.Action.Count)
			must.Eq(t, tc.dir, out.Action.Direction)
			must.StrNotContains(t, out.Action.Reason, "\n")
		})
	}
}

func TestRunSortsAndDeduplicatesTimestamps(t *testing.T) {
	p := newTestPlugin(t, friday)
	e := evalOf(map[string]string{"capacity_per_worker": "100"}, friday, repeat(60, 1000)...)
	e.Metrics[10], e.Metrics[40] = e.Metrics[40], e.Metrics[10]
	e.Metrics = append(e.Metrics, e.Metrics[5])
	out, err := p.Run(e, 5)
	must.NoError(t, err)
	must.Eq(t, int64(13), out.Action.Count)
	must.Eq[any](t, 1.0, out.Action.Meta["points_duplicate"])
}

func TestRunErrors(t *testing.T) {
	cfg := map[string]string{"capacity_per_worker": "100"}
	cases := []struct {
		name string
		eval *sdk.ScalingCheckEvaluation
		want string
	}{
		{"no evaluation", nil, "evaluation without a check or strategy block"},
		{"no check", &sdk.ScalingCheckEvaluation{}, "evaluation without a check"},
		{"no strategy block", &sdk.ScalingCheckEvaluation{Check: &sdk.ScalingPolicyCheck{Name: "x"}}, "strategy block"},
		{"a misspelt key names the key and the check", evalOf(map[string]string{"capacity_per_wroker": "100"}, friday, repeat(60, 1)...),
			`check "request-rate": strategy config: unknown key "capacity_per_wroker"`},
		{"a single point is too few", evalOf(cfg, friday, 5), "at least 10 valid points"},
		{"no metrics at all is too few", evalOf(cfg, friday), "got 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := newTestPlugin(t, friday).Run(tc.eval, 3)
			must.ErrorContains(t, err, tc.want)
			must.Nil(t, out)
		})
	}
}

func TestRunMetaSurvivesJSON(t *testing.T) {
	p := newTestPlugin(t, friday)
	out, err := p.Run(evalOf(map[string]string{"capacity_per_worker": "100", "floor": "2"}, friday, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	b, err := json.Marshal(out.Action.Meta)
	must.NoError(t, err)
	var back map[string]any
	must.NoError(t, json.Unmarshal(b, &back))
	must.Eq(t, out.Action.Meta, back) // numbers were float64 already
	for _, k := range []string{"mode", "current_count", "count", "forecast_up", "forecast_hold", "trend", "recent", "seasonal", "noise_sigma", "margin_units", "margin_unit", "calibration_days", "demand_up", "demand_hold", "forecast_workers", "hold_workers"} {
		must.MapContainsKey(t, back, k)
	}
}

func TestJSONSafeReplacesNonFiniteNumbers(t *testing.T) {
	m := jsonSafe(map[string]any{"a": math.NaN(), "b": math.Inf(-1), "c": 1.5, "d": "x"})
	must.Eq(t, map[string]any{"a": "NaN", "b": "-Inf", "c": 1.5, "d": "x"}, m)
}

func TestRunOverrideExpiresOnTheInjectedClock(t *testing.T) {
	cfg := map[string]string{
		"capacity_per_worker": "100", "override_count": "40",
		"override_until": "2026-11-27T13:00:00Z", "override_reason": "launch day",
	}
	now := friday
	p := newTestPlugin(t, now)
	p.SetClock(func() time.Time { return now })

	out, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 11)
	must.NoError(t, err)
	must.Eq(t, int64(40), out.Action.Count)
	must.Eq[any](t, "active", out.Action.Meta["override"])
	must.StrContains(t, out.Action.Reason, "launch day")

	now = friday.Add(time.Hour) // exactly override_until: expired
	out, err = p.Run(evalOf(cfg, now, repeat(60, 1000)...), 40)
	must.NoError(t, err)
	// Normal scaling resumes; the 29 workers the override added were
	// first seen now, so they count as booting and the fleet holds.
	must.Eq(t, int64(40), out.Action.Count)
	must.StrContains(t, out.Action.Reason, "~29 still booting")
	must.Eq[any](t, "expired", out.Action.Meta["override"])
	must.StrContains(t, out.Action.Reason, "override from policy expired at 2026-11-27T13:00:00Z")
}

func TestRunSizesABacklogCheckByTheGrowthItWatched(t *testing.T) {
	cfg := map[string]string{"capacity_per_worker": "100", "mode": "backlog", "backlog_tolerance": "100", "drain_time": "2m"}
	now := friday
	p := newTestPlugin(t, now)
	p.SetClock(func() time.Time { return now })
	run := func(count int64, backlog float64) *sdk.ScalingAction {
		t.Helper()
		out, err := p.Run(evalOf(cfg, now, backlog), count)
		must.NoError(t, err)
		return out.Action
	}
	// First seen: no growth yet, the current count plus what drains 1000
	// in two minutes.
	must.Eq(t, int64(15), run(10, 1000).Count)
	// A minute later the queue grew by 500 while the 5 ordered workers
	// boot: the 10 serving ones need 500/min more, and the backlog in 5
	// minutes, 4000, cleared in two: 10 + ceil((500 + 2000) / 100) = 35.
	now = now.Add(time.Minute)
	a := run(15, 1500)
	must.Eq(t, int64(35), a.Count)
	must.Eq[any](t, 500.0, a.Meta["backlog_growth_per_minute"])
	must.Eq[any](t, 5.0, a.Meta["booting_estimate"])
	// Another minute, 500 more: all 25 ordered still boot, so the count
	// is again sized on the 10 serving, 10 + ceil((500 + 4500 / 2) / 100)
	// = 38, not 35 plus another 28.
	now = now.Add(time.Minute)
	must.Eq(t, int64(38), run(35, 2000).Count)
}

func TestRunRefusesAnOverrideTooFarAhead(t *testing.T) {
	cfg := map[string]string{"capacity_per_worker": "100", "override_count": "4", "override_until": "2027-11-27T13:00:00Z"}
	_, err := newTestPlugin(t, friday).Run(evalOf(cfg, friday, repeat(60, 1000)...), 11)
	must.ErrorContains(t, err, `override_until "2027-11-27T13:00:00Z": more than 168h0m0s ahead (override_max_duration)`)
}

type panicReader struct{}

func (panicReader) ReadItems(context.Context, string) (map[string]string, uint64, error) {
	panic("boom")
}

func (panicReader) List(context.Context, string) ([]pluginkit.VariableVersion, error) { panic("boom") }

func TestRunTurnsAPanicIntoAnError(t *testing.T) {
	p := newTestPlugin(t, friday)
	p.vars = newVariableCache(panicReader{})
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "ops/pin"}
	out, err := p.Run(evalOf(cfg, friday, repeat(60, 1000)...), 3)
	must.ErrorContains(t, err, "strategy-slope: internal error in run (recovered from a panic: boom)")
	must.Nil(t, out)
}

func TestSetConfig(t *testing.T) {
	p := New(hclog.NewNullLogger())
	must.NoError(t, p.SetConfig(map[string]string{"nomad_address": "http://127.0.0.1:4646", "nomad_token": "secret", "_nomad_autoscaler_grpc_timeout": "5s"}))
	must.NoError(t, p.SetConfig(map[string]string{"nomad_address": "http://127.0.0.1:4647"})) // SIGHUP
	err := p.SetConfig(map[string]string{"capacity_per_worker": "100"})
	must.ErrorContains(t, err, `unknown key "capacity_per_worker" (strategy keys go in the check's strategy block)`)
	must.False(t, strings.Contains(err.Error(), "secret"))
}
