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

func mustConfig(t *testing.T, kv ...string) config {
	t.Helper()
	// startup_headroom off unless set, as in evalOf.
	m := map[string]string{keyCapacity: "100", keyStartup: "0"}
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
	minimum := func(n int64) manualOverride {
		return manualOverride{set: true, count: n, until: friday.Add(3 * time.Hour), minimum: true, reason: "launch", source: "variable ops/pin"}
	}
	// Scheduled: from an hour ahead, so decided as usual now.
	scheduled := manualOverride{set: true, count: 40, from: friday.Add(time.Hour), until: friday.Add(4 * time.Hour), minimum: true, reason: "launch", source: "variable ops/pin"}
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
		{name: "a steady 1000/min without a replayable day gets the default margin: ceil((1000 + 3 x (sqrt(1000) + 50)) / 100)",
			count: 5, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionUp, reason: "workers = ceil(1245 / 100) = 13",
			metaKey: "margin_units", metaVal: defaultMargin},
		{name: "scaling from zero workers works like any other count",
			count: 0, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionUp},
		{name: "the current count is kept with direction none",
			count: 13, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionNone},
		{name: "a rising trend is provisioned for the end of the up window",
			count: 10, pts: line(60, 1000, 10), want: 21, dir: sdk.ScaleDirectionUp, metaKey: "forecast_up", metaVal: 1680.0},
		{name: "a falling trend is provisioned for the recent minutes, not for the horizon",
			count: 10, pts: line(60, 1590, -10), want: 13, dir: sdk.ScaleDirectionUp, metaKey: "forecast_up", metaVal: 1010.0},
		{name: "headroom multiplies the demand",
			cfg: []string{keyHeadroom, "0.5"}, count: 0, pts: flat(60, 1000), want: 19, dir: sdk.ScaleDirectionUp},
		{name: "scale-in goes straight to what the hold window needs",
			count: 40, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionDown, reason: "scale-in to 13"},
		{name: "max_scale_in bounds the step of a scale-in",
			cfg: []string{keyMaxScaleIn, "0.25"}, count: 40, pts: flat(60, 1000), want: 30, dir: sdk.ScaleDirectionDown},
		{name: "workers still booting are not counted as serving the hold window",
			count: 40, pts: flat(60, 1000), mod: func(in *input) { in.booting = 30 }, want: 40, dir: sdk.ScaleDirectionNone,
			metaKey: "booting_estimate", metaVal: 30.0},
		{name: "a scale-in leaves the booting workers and enough serving ones",
			count: 40, pts: flat(60, 1000), mod: func(in *input) { in.booting = 20 }, want: 33, dir: sdk.ScaleDirectionDown},
		{name: "without a lead of history the plugin cannot tell what boots and holds",
			count: 40, pts: flat(60, 1000), mod: func(in *input) { in.bootKnown = false }, want: 40, dir: sdk.ScaleDirectionNone,
			reason: "cannot tell which workers still boot"},
		{name: "a scale-up needs no history of the count",
			count: 4, pts: flat(60, 1000), mod: func(in *input) { in.bootKnown = false }, want: 13, dir: sdk.ScaleDirectionUp},
		{name: "zero traffic after traffic is held as an outage",
			count: 12, pts: withZeros(flat(50, 1000), 10), want: 12, dir: sdk.ScaleDirectionNone, metaKey: "outage_minutes", metaVal: 10.0},
		{name: "zero traffic longer than zero_hold is believed",
			cfg: []string{keyZeroHold, "5m"}, count: 12, pts: withZeros(flat(50, 1000), 10), want: 7, dir: sdk.ScaleDirectionDown},
		{name: "a window of nothing but zeros scales in to nothing",
			count: 8, pts: flat(60, 0), want: 0, dir: sdk.ScaleDirectionDown},
		{name: "the business-hours floor raises the count",
			cfg: []string{keyFloor, "15"}, count: 5, pts: flat(60, 1000), want: 15, dir: sdk.ScaleDirectionUp, metaKey: "floor_applied", metaVal: true, reason: "business-hours floor 15"},
		{name: "the floor sleeps outside its hours",
			cfg: []string{keyFloor, "15", keyFloorHours, "13:00-14:00"}, count: 5, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionUp},
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
			want: 13, dir: sdk.ScaleDirectionUp, metaKey: "override", metaVal: "expired", reason: "override from policy expired at 2026-11-27T11:59:00Z"},
		{name: "the Nomad Variable override wins over the policy override",
			count: 20, pts: flat(60, 1000), mod: func(in *input) {
				in.cfg.override = active
				in.variable = manualOverride{set: true, count: 9, until: friday.Add(time.Hour), source: "variable ops/pin"}
			}, want: 9, dir: sdk.ScaleDirectionDown, metaKey: "override_source", metaVal: "variable ops/pin"},
		{name: "a minimum override raises a decision below it",
			count: 5, pts: flat(60, 1000), mod: func(in *input) { in.variable = minimum(20) }, want: 20, dir: sdk.ScaleDirectionUp,
			metaKey: "override_applied", metaVal: true, reason: "no replayable business day yet); override from variable ops/pin: at least 20 workers until 2026-11-27T15:00:00Z (launch)"},
		{name: "a minimum override already met leaves the decision as it is",
			count: 5, pts: flat(60, 1000), mod: func(in *input) { in.variable = minimum(4) }, want: 13, dir: sdk.ScaleDirectionUp,
			metaKey: "override_applied", metaVal: false, reason: "at least 4 workers until 2026-11-27T15:00:00Z (launch): already met"},
		{name: "a minimum override is reported with its mode",
			count: 5, pts: flat(60, 1000), mod: func(in *input) { in.variable = minimum(4) }, want: 13, dir: sdk.ScaleDirectionUp,
			metaKey: "override_mode", metaVal: "minimum"},
		{name: "a minimum override holds when the check cannot decide, at the current count above it",
			count: 25, pts: flat(3, 1000), mod: func(in *input) { in.variable = minimum(20) }, want: 25, dir: sdk.ScaleDirectionNone,
			reason: "cannot decide (rate mode needs at least 10 valid points (min_points), got 3), holding 25"},
		{name: "a minimum override holds when the check cannot decide, at the minimum above the count",
			count: 10, pts: nil, mod: func(in *input) { in.variable = minimum(20) }, want: 20, dir: sdk.ScaleDirectionUp,
			metaKey: "override_applied", metaVal: true},
		{name: "a minimum override lets a backlog add workers on top of it",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 20, pts: flat(1, 10000),
			mod: func(in *input) { in.variable = minimum(20) }, want: 70, dir: sdk.ScaleDirectionUp, metaKey: "override_applied", metaVal: false},
		{name: "a minimum override lifts a backlog check's no-change vote to it",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 0),
			mod: func(in *input) { in.variable = minimum(20) }, want: 20, dir: sdk.ScaleDirectionUp},
		{name: "a scheduled override is reported, not applied, before its start",
			count: 5, pts: flat(60, 1000), mod: func(in *input) { in.variable = scheduled }, want: 13, dir: sdk.ScaleDirectionUp,
			metaKey: "override", metaVal: "scheduled", reason: "at least 40 workers until 2026-11-27T16:00:00Z (launch), from 2026-11-27T13:00:00Z"},
		{name: "a scheduled override applies from its start",
			count: 5, pts: flat(60, 1000), mod: func(in *input) { in.variable, in.now = scheduled, friday.Add(time.Hour) }, want: 40, dir: sdk.ScaleDirectionUp,
			metaKey: "override_from", metaVal: "2026-11-27T13:00:00Z"},
		{name: "a scheduled variable does not hide an active policy override",
			count: 20, pts: flat(60, 1000), mod: func(in *input) { in.cfg.override, in.variable = active, scheduled }, want: 3, dir: sdk.ScaleDirectionDown,
			metaKey: "override_source", metaVal: "policy", reason: "at least 40 workers until 2026-11-27T16:00:00Z (launch), from 2026-11-27T13:00:00Z"},
		{name: "the active override's Meta keeps no start of a scheduled one",
			count: 20, pts: flat(60, 1000), mod: func(in *input) { in.cfg.override, in.variable = active, scheduled }, want: 3, dir: sdk.ScaleDirectionDown,
			metaKey: "override_from", metaVal: nil},
		{name: "a scheduled exact override pins from its start",
			count: 20, pts: flat(60, 1000), mod: func(in *input) {
				in.variable, in.now = scheduled, friday.Add(90*time.Minute)
				in.variable.minimum = false
			}, want: 40, dir: sdk.ScaleDirectionUp, reason: "override from variable ops/pin: 40 workers until"},
		{name: "a scheduled override a month ahead, short once started, is not too far ahead",
			count: 5, pts: flat(60, 1000), mod: func(in *input) {
				in.variable = manualOverride{set: true, count: 40, from: friday.Add(30 * 24 * time.Hour), until: friday.Add(30*24*time.Hour + 3*time.Hour), source: "variable ops/pin"}
			}, want: 13, dir: sdk.ScaleDirectionUp, metaKey: "override", metaVal: "scheduled"},
		{name: "an unreadable variable is reported and ignored",
			count: 13, pts: flat(60, 1000), mod: func(in *input) { in.variableErr = "connection refused" },
			want: 13, dir: sdk.ScaleDirectionNone, metaKey: "override_variable_error", metaVal: "connection refused", reason: "override variable unreadable"},
		{name: "a variable override too far ahead is reported and ignored, not fatal",
			count: 13, pts: flat(60, 1000), mod: func(in *input) {
				in.variable = manualOverride{set: true, count: 9, until: friday.Add(30 * 24 * time.Hour), source: "variable ops/pin"}
			}, want: 13, dir: sdk.ScaleDirectionNone, reason: "override variable ignored: variable ops/pin override_until"},
		{name: "a backlog within tolerance votes no change",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 100), want: 7, dir: sdk.ScaleDirectionNone},
		{name: "a backlog adds the workers that drain it in drain_time: 7 + ceil(1000 / (100 x 2))",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 1000), want: 12, dir: sdk.ScaleDirectionUp,
			reason: "workers = 7 + ceil(1000 / (100 x 2.0m)) = 12"},
		{name: "a growing backlog asks for its growth and for itself a lead later, cleared within drain_time: 7 + ceil((200 + (1000 + 5 x 200) / 2) / 100)",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 1000),
			mod: func(in *input) { in.backlogGrowth, in.growthKnown = 200, true }, want: 19, dir: sdk.ScaleDirectionUp,
			reason: "growth +200/min; workers = 7 serving + ceil(1200 / 100) = 19", metaKey: "backlog_growth_per_minute", metaVal: 200.0},
		{name: "the workers a growing backlog ordered are not asked for again while they boot",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 19, pts: flat(1, 1000),
			mod: func(in *input) { in.backlogGrowth, in.growthKnown, in.booting = 200, true, 12 }, want: 19, dir: sdk.ScaleDirectionNone},
		{name: "the rises seen boot even before a lead of history (an unseen one would count as serving: more workers, not fewer)",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 19, pts: flat(1, 1000),
			mod: func(in *input) { in.backlogGrowth, in.growthKnown, in.booting, in.bootKnown = 200, true, 12, false }, want: 19, dir: sdk.ScaleDirectionNone},
		{name: "a backlog that drains within drain_time on its own adds nothing",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 1000),
			mod: func(in *input) { in.backlogGrowth, in.growthKnown = -600, true }, want: 7, dir: sdk.ScaleDirectionNone,
			reason: "growth -600/min; workers = 7 serving + ceil(0 / 100) = 7"},
		{name: "a backlog that drains too slowly gets what clears the rest: 7 + ceil((1000 / 2 - 100) / 100)",
			cfg: []string{keyMode, modeBacklog, keyBacklogTolerance, "100"}, count: 7, pts: flat(1, 1000),
			mod: func(in *input) { in.backlogGrowth, in.growthKnown = -100, true }, want: 11, dir: sdk.ScaleDirectionUp},
		{name: "a backlog with no workers scales from zero",
			cfg: []string{keyMode, modeBacklog}, count: 0, pts: flat(1, 1), want: 1, dir: sdk.ScaleDirectionUp},
		{name: "backlog mode reads the newest point",
			cfg: []string{keyMode, modeBacklog}, count: 2, pts: append(flat(3, 5000), point{0.5, 0}), want: 2, dir: sdk.ScaleDirectionNone},
		{name: "enormous rates are clamped to the largest count, never overflow",
			count: 1, pts: flat(60, maxRate), want: maxWorkers, dir: sdk.ScaleDirectionUp},
		{name: "enormous rates with a tiny capacity stop at maxWorkers",
			cfg: []string{keyCapacity, "0.000001"}, count: 1, pts: flat(60, maxRate), want: maxWorkers, dir: sdk.ScaleDirectionUp},
		{name: "an absurd current count is clamped before use",
			count: 1 << 62, pts: flat(60, 1000), want: 13, dir: sdk.ScaleDirectionDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(t, tc.count, tc.pts, tc.cfg...)
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
		{"a scheduled override longer than override_max_duration from its start is refused", nil, flat(60, 1), func(in *input) {
			in.cfg.override = manualOverride{set: true, count: 1, from: friday.Add(24 * time.Hour), until: friday.Add(9 * 24 * time.Hour), source: "policy"}
		}, `policy override_until "2026-12-06T12:00:00Z": more than 168h0m0s after override_from 2026-11-28T12:00:00Z`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(t, 4, tc.pts, tc.cfg...)
			if tc.mod != nil {
				tc.mod(&in)
			}
			_, err := decide(in)
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDecideReasonShowsTheArithmetic(t *testing.T) {
	d, err := decide(testInput(t, 5, line(60, 1000, 10)))
	must.NoError(t, err)
	for _, part := range []string{"forecast 1680/min in 5m0s-8m0s", "trend 1680", "recent 1580", "margin 3.00 x 125", "workers = ceil(2055 / 100) = 21",
		"margin 3 units by default"} {
		must.True(t, strings.Contains(d.reason, part), must.Sprintf("reason %q lacks %q", d.reason, part))
	}
}

// testInput is a decision on a Friday noon with a known count history and
// the margin calibrated on the points themselves.
func testInput(t *testing.T, count int64, pts []point, kv ...string) input {
	return input{now: friday, count: count, pts: pts, cfg: mustConfig(t, kv...), newest: fridayUnix, bootKnown: true,
		margin: func(g *grid, p forecasterParams, r replayRules) calibration {
			return newMarginCache().calibratedMargin("test", g, p, r)
		}}
}

func TestANightDecisionUsesTheOffHoursMarginAndSaysSo(t *testing.T) {
	// The same history cut at 03:00: a decision whose windows lie wholly
	// outside 08:00-22:00.
	pts := history(4, 1.8, 2*60, 4*60, 12*60, 15*60)
	pts = pts[:len(pts)-9*60]
	for i := range pts {
		pts[i].x = float64(i - (len(pts) - 1))
	}
	night := func(kv ...string) decision {
		in := testInput(t, 1, pts, kv...)
		in.now, in.newest = friday.Add(-9*time.Hour), fridayUnix-9*3600
		d, err := decide(in)
		must.NoError(t, err)
		return d
	}
	sla, relaxed := night(), night(keyOffHoursMaxWait, "30s")
	must.Eq(t, sla.meta["margin_units_business"], relaxed.meta["margin_units_business"])
	must.Eq(t, relaxed.meta["margin_units_off_hours"], relaxed.meta["margin_units"])
	must.Less(t, sla.meta["margin_units"].(float64), relaxed.meta["margin_units"].(float64))
	must.StrContains(t, relaxed.reason, "outside business hours 08:00-22:00: off-hours margin")
	must.StrNotContains(t, sla.reason, "outside business hours")
	// Less demand (a night of 2-3 workers can round both to one count).
	must.Greater(t, relaxed.meta["demand_up"].(float64), sla.meta["demand_up"].(float64))
	must.GreaterEq(t, relaxed.count, sla.count)

	// At noon the business margin applies whatever the off-hours wait.
	d, err := decide(testInput(t, 1, history(4, 1.8, 2*60, 4*60, 12*60, 15*60), keyOffHoursMaxWait, "30s"))
	must.NoError(t, err)
	must.Eq(t, d.meta["margin_units_business"], d.meta["margin_units"])
}

func TestAReasonSaysWhenNoMarginWouldHaveMetTheSLA(t *testing.T) {
	pts := history(3, 1)
	// One Wednesday hour at fifty times the level: no margin covers it.
	for i := 24*60 + 12*60; i < 24*60+13*60; i++ {
		pts[i].y *= 50
	}
	d, err := decide(testInput(t, 1, pts))
	must.NoError(t, err)
	must.StrContains(t, d.reason, "even the largest margin (40 units) missed the SLA on a replayed day")
	must.Eq(t, maxMargin, d.meta["margin_units_business"])
}

func TestAYoungWindowKeepsTheStartupHeadroomAndSaysSo(t *testing.T) {
	// A day and a half of history: the margin is replayed on one day, too
	// few to have seen the traffic's bursts.
	young := history(1, 1)
	d, err := decide(testInput(t, 1, young, keyStartup, "1")) // the default
	must.NoError(t, err)
	must.True(t, d.meta["startup_headroom_applied"].(bool))
	must.GreaterEq(t, 2*d.meta["forecast_up"].(float64), d.meta["demand_up"].(float64))
	must.Eq(t, workersFor(d.meta["demand_up"].(float64), 100), d.count)
	must.StrContains(t, d.reason, "the window holds under 2 days, too few to have measured this traffic's bursts: at least forecast x (1 + startup_headroom 1)")
	// An hour of history, too short to replay at all, is young too.
	hour, err := decide(testInput(t, 1, young[len(young)-60:], keyStartup, "1"))
	must.NoError(t, err)
	must.True(t, hour.meta["startup_headroom_applied"].(bool))

	off, err := decide(testInput(t, 1, young, keyStartup, "0"))
	must.NoError(t, err)
	must.False(t, off.meta["startup_headroom_applied"].(bool))
	must.Less(t, d.count, off.count)
	must.StrNotContains(t, off.reason, keyStartup)

	// Two days and more: the calibrated margin alone.
	old, err := decide(testInput(t, 1, history(2, 1), keyStartup, "1"))
	must.NoError(t, err)
	must.False(t, old.meta["startup_headroom_applied"].(bool))
	must.Less(t, 2*old.meta["forecast_up"].(float64), old.meta["demand_up"].(float64))
}

// Events booked under the override variable: a calendar of overrides, each
// in force only between its from and until, several possibly at once.
func TestDecideWithBookedEvents(t *testing.T) {
	event := func(name string, count int64, from, until time.Duration, minimum bool) manualOverride {
		o := manualOverride{set: true, count: count, until: friday.Add(until), minimum: minimum, reason: name, source: "variable ops/pin/" + name}
		if from != 0 {
			o.from = friday.Add(from)
		}
		return o
	}
	monday := event("monday", 40, 72*time.Hour, 75*time.Hour, true)
	cases := []struct {
		name      string
		count     int64
		mod       func(*input)
		want      int64
		reason    string
		meta      map[string]any
		notInMeta []string
	}{
		{name: "an event in force applies like the override variable",
			count: 5, mod: func(in *input) { in.events = []manualOverride{event("launch", 30, -time.Hour, time.Hour, true)} },
			want: 30, reason: "override from variable ops/pin/launch: at least 30 workers",
			meta: map[string]any{"override": "active", "override_source": "variable ops/pin/launch", "override_events": 1.0, "override_applied": true}},
		{name: "among minimums in force the largest wins; the others are counted",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{event("bank", 30, -time.Hour, time.Hour, true), event("telco", 50, -time.Minute, 2*time.Hour, true)}
				in.variable = event("", 20, 0, time.Hour, true)
				in.variable.source = "variable ops/pin"
			},
			want: 50, reason: "2 more overrides in force, this one wins", meta: map[string]any{"override_source": "variable ops/pin/telco", "override_overlapping": 2.0, "override_events": 2.0}},
		{name: "a pin wins over a larger minimum",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{event("bank", 30, -time.Hour, time.Hour, true), event("freeze", 8, -time.Minute, time.Hour, false)}
			},
			want: 8, meta: map[string]any{"override_source": "variable ops/pin/freeze", "override_mode": "exact", "override_overlapping": 1.0}},
		{name: "of two pinned events the one that started last wins",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{event("a", 9, -time.Minute, time.Hour, false), event("b", 7, -time.Hour, time.Hour, false)}
			},
			want: 9, meta: map[string]any{"override_source": "variable ops/pin/a"}},
		{name: "the override variable's pin, set without a start, wins over a pinned event",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{event("a", 9, -time.Minute, time.Hour, false)}
				in.variable = manualOverride{set: true, count: 4, until: friday.Add(time.Hour), source: "variable ops/pin"}
			},
			want: 4, meta: map[string]any{"override_source": "variable ops/pin"}},
		{name: "an event wins over the policy's override",
			count: 5, mod: func(in *input) {
				in.cfg.override = manualOverride{set: true, count: 3, until: friday.Add(time.Hour), source: sourcePolicy}
				in.events = []manualOverride{event("launch", 30, -time.Hour, time.Hour, true)}
			},
			want: 30, reason: "1 more override in force", meta: map[string]any{"override_source": "variable ops/pin/launch", "override_overlapping": 1.0}},
		{name: "with nothing in force the soonest booked event is reported, not applied",
			count: 13, mod: func(in *input) {
				in.events = []manualOverride{monday, event("tomorrow", 60, 24*time.Hour, 26*time.Hour, true)}
			},
			want: 13, reason: "at least 60 workers until 2026-11-28T14:00:00Z (tomorrow), from 2026-11-28T12:00:00Z",
			meta: map[string]any{"override": "scheduled", "override_source": "variable ops/pin/tomorrow", "override_from": "2026-11-28T12:00:00Z"}},
		{name: "the next booked event shows beside the override in force",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{monday, event("now", 30, -time.Hour, time.Hour, true)}
			},
			want: 30, reason: "; next override from variable ops/pin/monday: at least 40 workers",
			meta: map[string]any{"override": "active", "override_next": "override from variable ops/pin/monday: at least 40 workers until 2026-11-30T15:00:00Z (monday), from 2026-11-30T12:00:00Z"}},
		{name: "an event that ended is history: decided as usual, not reported as expired",
			count: 13, mod: func(in *input) {
				in.events = []manualOverride{event("last-week", 30, -170*time.Hour, -168*time.Hour, true)}
			},
			want: 13, meta: map[string]any{"override_events": 1.0}, notInMeta: []string{"override", "override_source"}},
		{name: "an event too long is reported and ignored; the others still apply",
			count: 5, mod: func(in *input) {
				in.events = []manualOverride{event("typo", 99, -time.Hour, 30*24*time.Hour, false), event("launch", 30, -time.Hour, time.Hour, true)}
			},
			want: 30, reason: "override variable ignored: variable ops/pin/typo override_until",
			meta: map[string]any{"override_source": "variable ops/pin/launch"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(t, tc.count, flat(60, 1000))
			tc.mod(&in)
			d, err := decide(in)
			must.NoError(t, err)
			must.Eq(t, tc.want, d.count)
			if tc.reason != "" {
				must.StrContains(t, d.reason, tc.reason)
			}
			for k, v := range tc.meta {
				must.Eq(t, v, d.meta[k], must.Sprintf("Meta %s", k))
			}
			for _, k := range tc.notInMeta {
				must.MapNotContainsKey(t, d.meta, k)
			}
		})
	}
}
