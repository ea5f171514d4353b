package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// friday noon UTC, inside 08:00-22:00 UTC business hours.
var friday = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func flat(n int, v float64) []point { return line(n, v, 0) }

func withZeros(pts []point, zeros int) []point {
	out := make([]point, 0, len(pts)+zeros)
	for _, p := range pts {
		out = append(out, point{x: p.x - float64(zeros), y: p.y})
	}
	for i := zeros - 1; i >= 0; i-- {
		out = append(out, point{x: -float64(i), y: 0})
	}
	return out
}

func spikeAt(pts []point, minutesAgo int, v float64) []point {
	out := append([]point(nil), pts...)
	out[len(out)-1-minutesAgo].y = v
	return out
}

func mustConfig(t *testing.T, kv ...string) config {
	t.Helper()
	m := map[string]string{keyCapacity: "100"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	c, err := parseConfig(m)
	must.NoError(t, err)
	return c
}

func TestDecide(t *testing.T) {
	active := manualOverride{set: true, count: 3, until: friday.Add(time.Hour), reason: "drill", source: "policy"}
	expired := manualOverride{set: true, count: 3, until: friday.Add(-time.Minute), reason: "drill", source: "policy"}
	cases := []struct {
		name    string
		cfg     []string
		count   int64
		pts     []point
		mod     func(*input)
		want    int64
		dir     sdk.ScaleDirection
		reason  string
		metaKey string
		metaVal any
	}{
		{name: "a steady 1000/min gets the rate plus a Poisson margin: ceil((1000 + 2.33 x 31.6) / 100)",
			count: 5, pts: flat(60, 1000), want: 11, dir: sdk.ScaleDirectionUp, reason: "workers = ceil(1074 / 100) = 11"},
		{name: "scaling from zero workers works like any other count",
			count: 0, pts: flat(60, 1000), want: 11, dir: sdk.ScaleDirectionUp},
		{name: "the current count is kept with direction none",
			count: 11, pts: flat(60, 1000), want: 11, dir: sdk.ScaleDirectionNone},
		{name: "a rising trend is provisioned for its value at the horizon",
			count: 10, pts: line(60, 1000, 10), want: 20, dir: sdk.ScaleDirectionUp, metaKey: "predicted_peak", metaVal: 1840.0},
		{name: "a falling trend is provisioned for now, not for the horizon",
			count: 10, pts: line(60, 1590, -10), want: 11, dir: sdk.ScaleDirectionUp, metaKey: "predicted_peak", metaVal: 1000.0},
		{name: "headroom multiplies the demand",
			cfg: []string{keyHeadroom, "0.5"}, count: 0, pts: flat(60, 1000), want: 17, dir: sdk.ScaleDirectionUp},
		{name: "scale-in removes at most max_scale_in of the fleet per evaluation",
			count: 40, pts: flat(60, 1000), want: 30, dir: sdk.ScaleDirectionDown, metaKey: "scale_in_limited", metaVal: true},
		{name: "scale-in stops where the forecast maximum over scale_in_window still fits",
			count: 13, pts: flat(60, 1000), want: 12, dir: sdk.ScaleDirectionDown, reason: "scale-in held at 12"},
		{name: "scale-in is refused while the recent observed peak needs the fleet",
			count: 14, pts: spikeAt(flat(60, 1000), 5, 1500), want: 14, dir: sdk.ScaleDirectionNone},
		{name: "a spike older than scale_in_window no longer holds the fleet",
			cfg: []string{keyScaleInWindow, "3m"}, count: 14, pts: spikeAt(flat(60, 1000), 5, 1500), want: 13, dir: sdk.ScaleDirectionDown},
		{name: "a small fleet still steps down by one worker",
			count: 3, pts: flat(60, 10), want: 2, dir: sdk.ScaleDirectionDown},
		{name: "max_scale_in 0 disables scale-in",
			cfg: []string{keyMaxScaleIn, "0"}, count: 40, pts: flat(60, 1000), want: 40, dir: sdk.ScaleDirectionNone},
		{name: "zero traffic after traffic is held as an outage",
			count: 12, pts: withZeros(flat(50, 1000), 10), want: 12, dir: sdk.ScaleDirectionNone, metaKey: "zero_run_minutes", metaVal: 10.0},
		{name: "zero traffic longer than zero_hold is believed",
			cfg: []string{keyZeroHold, "5m"}, count: 12, pts: withZeros(flat(50, 1000), 10), want: 10, dir: sdk.ScaleDirectionDown, reason: "scale-in held at 10 (recent peak 1000 needs 10"},
		{name: "a window of nothing but zeros scales in",
			count: 8, pts: flat(60, 0), want: 6, dir: sdk.ScaleDirectionDown},
		{name: "the business-hours floor raises the count",
			cfg: []string{keyFloor, "15"}, count: 5, pts: flat(60, 1000), want: 15, dir: sdk.ScaleDirectionUp, metaKey: "floor_applied", metaVal: true, reason: "business-hours floor 15"},
		{name: "the floor sleeps outside its hours",
			cfg: []string{keyFloor, "15", keyFloorHours, "13:00-14:00"}, count: 5, pts: flat(60, 1000), want: 11, dir: sdk.ScaleDirectionUp},
		{name: "the floor follows its time zone (Kolkata is 17:30 at noon UTC)",
			cfg: []string{keyFloor, "15", keyFloorHours, "17:00-18:00", keyTimezone, "Asia/Kolkata"}, count: 5, pts: flat(60, 1000), want: 15, dir: sdk.ScaleDirectionUp},
		{name: "an active override wins over forecast and floor",
			cfg: []string{keyFloor, "15"}, count: 20, pts: flat(60, 1000), mod: func(in *input) { in.cfg.override = active },
			want: 3, dir: sdk.ScaleDirectionDown, metaKey: "override", metaVal: "active", reason: "override from policy: 3 workers until 2026-11-27T13:00:00Z (drill)"},
		{name: "an active override needs no metrics at all",
			count: 20, pts: nil, mod: func(in *input) { in.cfg.override = active }, want: 3, dir: sdk.ScaleDirectionDown},
		{name: "an active override pins a backlog check too, however large the backlog",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 3, pts: flat(1, 50000),
			mod: func(in *input) { in.cfg.override = active }, want: 3, dir: sdk.ScaleDirectionNone, metaKey: "override", metaVal: "active"},
		{name: "an active override pulls a backlog check down to the pinned count",
			cfg: []string{keyMode, modeBacklog}, count: 20, pts: flat(1, 0),
			mod: func(in *input) { in.cfg.override = active }, want: 3, dir: sdk.ScaleDirectionDown},
		{name: "an expired override lets normal scaling resume and says so",
			count: 3, pts: flat(60, 1000), mod: func(in *input) { in.cfg.override = expired },
			want: 11, dir: sdk.ScaleDirectionUp, metaKey: "override", metaVal: "expired", reason: "override from policy expired at 2026-11-27T11:59:00Z"},
		{name: "the Nomad Variable override wins over the policy override",
			count: 20, pts: flat(60, 1000), mod: func(in *input) {
				in.cfg.override = active
				in.variable = manualOverride{set: true, count: 9, until: friday.Add(time.Hour), source: "variable ops/pin"}
			}, want: 9, dir: sdk.ScaleDirectionDown, metaKey: "override_source", metaVal: "variable ops/pin"},
		{name: "an unreadable variable is reported and ignored",
			count: 11, pts: flat(60, 1000), mod: func(in *input) { in.variableErr = "connection refused" },
			want: 11, dir: sdk.ScaleDirectionNone, metaKey: "override_variable_error", metaVal: "connection refused", reason: "override variable unreadable"},
		{name: "a variable override too far ahead is reported and ignored, not fatal",
			count: 11, pts: flat(60, 1000), mod: func(in *input) {
				in.variable = manualOverride{set: true, count: 9, until: friday.Add(30 * 24 * time.Hour), source: "variable ops/pin"}
			}, want: 11, dir: sdk.ScaleDirectionNone, reason: "override variable ignored: variable ops/pin override_until"},
		{name: "a backlog within tolerance votes no change",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 100), want: 7, dir: sdk.ScaleDirectionNone},
		{name: "a backlog adds the workers that drain it in drain_time: 7 + ceil(1000 / (100 x 2))",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 1000), want: 12, dir: sdk.ScaleDirectionUp,
			reason: "workers = 7 + ceil(1000 / (100 x 2.0m)) = 12"},
		{name: "a backlog with no workers scales from zero",
			cfg: []string{keyMode, modeBacklog}, count: 0, pts: flat(1, 1), want: 1, dir: sdk.ScaleDirectionUp},
		{name: "backlog mode reads the newest point",
			cfg: []string{keyMode, modeBacklog}, count: 2, pts: append(flat(3, 5000), point{0.5, 0}), want: 2, dir: sdk.ScaleDirectionNone},
		{name: "enormous rates are clamped to the largest count, never overflow",
			count: 1, pts: flat(60, maxRate), want: workersFor(maxRate+normalQuantile(0.99)*1e6, 100), dir: sdk.ScaleDirectionUp},
		{name: "enormous rates with a tiny capacity stop at maxWorkers",
			cfg: []string{keyCapacity, "0.000001"}, count: 1, pts: flat(60, maxRate), want: maxWorkers, dir: sdk.ScaleDirectionUp},
		{name: "an absurd current count is clamped before use",
			count: 1 << 62, pts: flat(60, 1000), want: maxWorkers - maxWorkers/4, dir: sdk.ScaleDirectionDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input{now: friday, count: tc.count, pts: tc.pts, cfg: mustConfig(t, tc.cfg...)}
			if tc.mod != nil {
				tc.mod(&in)
			}
			d, err := decide(in)
			must.NoError(t, err)
			must.Eq(t, tc.want, d.count)
			must.Eq(t, tc.dir, d.direction)
			must.Eq[any](t, float64(tc.want), d.meta["count"])
			must.StrNotContains(t, d.reason, "\n")
			if tc.reason != "" {
				must.StrContains(t, d.reason, tc.reason)
			}
			if f, ok := tc.metaVal.(float64); ok {
				must.InDelta(t, f, d.meta[tc.metaKey].(float64), 1e-6)
			} else if tc.metaKey != "" {
				must.Eq[any](t, tc.metaVal, d.meta[tc.metaKey])
			}
		})
	}
}

func TestDecideErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  []string
		pts  []point
		mod  func(*input)
		want string
	}{
		{"too few points is an error, not a guess", nil, flat(9, 1000), nil, "rate mode needs at least 10 valid points (min_points), got 9"},
		{"a single point is too few for a trend", nil, flat(1, 1000), nil, "got 1"},
		{"no points at all is an error in backlog mode", []string{keyMode, modeBacklog}, nil, nil, "backlog mode needs at least one valid point"},
		{"an override beyond override_max_duration is refused", nil, flat(60, 1), func(in *input) {
			in.cfg.override = manualOverride{set: true, count: 1, until: friday.Add(8 * 24 * time.Hour), source: "policy"}
		}, `policy override_until "2026-12-05T12:00:00Z": more than 168h0m0s ahead`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input{now: friday, count: 4, pts: tc.pts, cfg: mustConfig(t, tc.cfg...)}
			if tc.mod != nil {
				tc.mod(&in)
			}
			_, err := decide(in)
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDecideReasonShowsTheArithmetic(t *testing.T) {
	d, err := decide(input{now: friday, count: 5, pts: line(60, 1000, 10), cfg: mustConfig(t)})
	must.NoError(t, err)
	for _, part := range []string{"rate 1590/min", "slope +10.0/min over 60 points", "peak 1840 in 25m", "demand", "workers = ceil("} {
		must.True(t, strings.Contains(d.reason, part), must.Sprintf("reason %q lacks %q", d.reason, part))
	}
}
