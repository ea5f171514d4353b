package plugin

import (
	"testing"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
)

func TestReasonClassNamesWhatDroveTheDecision(t *testing.T) {
	cases := []struct {
		name string
		d    decision
		want string
	}{
		{"an active override wins over everything", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{"override": "active", "floor_applied": true}}, "override"},
		{"a minimum that raised the count", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{"override": "active", "override_applied": true}}, "override"},
		{"a minimum already met is the check's own decision", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{"override": "active", "override_applied": false}}, "scale_up"},
		{"a scheduled override does not count yet", decision{direction: sdk.ScaleDirectionDown, meta: map[string]any{"override": "scheduled"}}, "scale_in"},
		{"an expired override does not count", decision{direction: sdk.ScaleDirectionDown, meta: map[string]any{"override": "expired"}}, "scale_in"},
		{"the floor", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{"floor_applied": true}}, "floor"},
		{"an outage hold", decision{meta: map[string]any{"outage_minutes": 12.0}}, "outage_hold"},
		{"a backlog that adds workers", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{"backlog_extra_workers": 3.0}}, "backlog"},
		{"a backlog within tolerance is not the reason", decision{meta: map[string]any{"backlog_extra_workers": 0.0}}, "steady"},
		{"a forecast up", decision{direction: sdk.ScaleDirectionUp, meta: map[string]any{}}, "scale_up"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { must.Eq(t, tc.want, reasonClass(tc.d)) })
	}
}

func TestTheMetricsEndpointServesTheLastDecision(t *testing.T) {
	p := newTestPlugin(t, friday)
	must.NoError(t, p.SetConfig(map[string]string{"metrics_address": "127.0.0.1:0"}))
	t.Cleanup(p.metrics.Close)
	_, err := p.Run(evalOf(map[string]string{keyCapacity: "100"}, friday, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	_, err = p.Run(evalOf(map[string]string{keyCapacity: "100", "colour": "blue"}, friday, repeat(60, 1000)...), 5)
	must.Error(t, err)

	body := promtest.Scrape(t, p.metrics.Addr())
	for _, want := range []string{
		`fleetslope_strategy_desired_workers{check="request-rate"} 13`,
		`fleetslope_strategy_current_workers{check="request-rate"} 5`,
		`fleetslope_strategy_decisions_total{check="request-rate",reason_class="scale_up"} 1`,
		`fleetslope_strategy_errors_total{kind="config"} 1`,
		`fleetslope_strategy_errors_total{kind="panic"} 0`,
		`fleetslope_strategy_run_duration_seconds_count 2`,
		"fleetslope_strategy_forecast_requests_per_minute{check=\"request-rate\"} ",
		"fleetslope_strategy_margin_requests_per_minute{check=\"request-rate\"} ",
		"go_goroutines ",
	} {
		must.StrContains(t, body, want)
	}
}

func TestAMetricsAddressThatCannotBeServedFailsSetConfigByName(t *testing.T) {
	p := New(nil)
	err := p.SetConfig(map[string]string{"metrics_address": "no-port"})
	must.ErrorContains(t, err, "metrics_address: want host:port")
}
