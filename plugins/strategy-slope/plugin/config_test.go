package plugin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(map[string]string{keyCapacity: "100"})
	must.NoError(t, err)
	must.Eq(t, 100.0, c.capacity)
	must.Eq(t, modeRate, c.mode)
	must.Eq(t, 5*time.Minute, c.lead)
	must.Eq(t, 8*time.Minute, c.horizon)
	must.Eq(t, 0.0, c.headroom)
	must.Eq(t, 10, c.minPoints)
	must.Eq(t, 30*time.Minute, c.trendHalfLife)
	must.Eq(t, 60*time.Minute, c.noiseHalfLife)
	must.True(t, c.seasonal)
	must.Eq(t, 2*time.Second, c.maxWait)
	must.Eq(t, 0.02, c.slowShare)
	must.Eq(t, 0.0, c.backlogTolerance)
	must.Eq(t, 2*time.Minute, c.drainTime)
	must.Eq(t, 0.0, c.maxScaleIn)
	must.Eq(t, 60*time.Minute, c.zeroHold)
	must.Eq(t, 8, c.worstDayIn)
	must.Eq(t, int64(0), c.floor.count)
	must.Eq(t, 8*60, c.floor.start)
	must.Eq(t, 22*60, c.floor.end)
	must.Eq(t, [7]bool{true, true, true, true, true, true, true}, c.floor.days)
	must.Eq(t, "UTC", c.floor.loc.String())
	must.False(t, c.override.set)
	must.Eq(t, 7*24*time.Hour, c.overrideMaxDuration)
	must.Eq(t, "", c.overrideVariable)
}

func TestParseConfigAcceptsEveryKey(t *testing.T) {
	c, err := parseConfig(map[string]string{
		keyCapacity: "80.5", keyMode: "backlog", keyLead: "2m", keyHorizon: "10m", keySeasonal: "false",
		keyHeadroom: "0.1", keyMinPoints: "5", keyTrendHalfLife: "10m", keyNoiseHalfLife: "2h", keyMaxWait: "1.5s",
		keySlowShare: "0.01", keyBacklogTolerance: "50", keyDrainTime: "90s", keyMaxScaleIn: "0.5",
		keyZeroHold: "0s", keyFloor: "3", keyFloorHours: "22:00-06:00", keyFloorDays: "Fri-Mon",
		keyTimezone: "Asia/Kolkata", keyOverrideCount: "7", keyOverrideUntil: "2026-12-01T18:00:00+05:30",
		keyOverrideReason: "launch", keyOverrideMaxDuration: "48h", keyOverrideVariable: "autoscaler/override",
		keyOverrideFrom: "2026-12-01T08:45:00+05:30", keyOverrideMode: "minimum", keyWorstDayIn: "0",
	})
	must.NoError(t, err)
	must.Eq(t, 0, c.worstDayIn)
	must.Eq(t, modeBacklog, c.mode)
	must.Eq(t, 80.5, c.capacity)
	must.Eq(t, 90*time.Second, c.drainTime)
	must.Eq(t, 2*time.Minute, c.lead)
	must.Eq(t, 10*time.Minute, c.horizon)
	must.False(t, c.seasonal)
	must.Eq(t, 1500*time.Millisecond, c.maxWait)
	must.Eq(t, 0.01, c.slowShare)
	must.Eq(t, [7]bool{true, true, false, false, false, true, true}, c.floor.days)
	must.Eq(t, "Asia/Kolkata", c.floor.loc.String())
	must.Eq(t, int64(7), c.override.count)
	must.Eq(t, "launch", c.override.reason)
	must.Eq(t, time.Date(2026, 12, 1, 12, 30, 0, 0, time.UTC), c.override.until.UTC())
	must.Eq(t, "autoscaler/override", c.overrideVariable)
	must.Eq(t, time.Date(2026, 12, 1, 3, 15, 0, 0, time.UTC), c.override.from.UTC())
	must.True(t, c.override.minimum)
}

func TestParseConfigRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"a typo in a key is an unknown key", map[string]string{keyCapacity: "1", "capacity_per_wroker": "100"}, `unknown key "capacity_per_wroker"`},
		{"capacity is required", map[string]string{}, "capacity_per_worker: required"},
		{"capacity must be a number", map[string]string{keyCapacity: "lots"}, `capacity_per_worker "lots": not a number`},
		{"capacity must be positive", map[string]string{keyCapacity: "0"}, `capacity_per_worker "0": must be between`},
		{"capacity must be finite", map[string]string{keyCapacity: "Inf"}, `capacity_per_worker "Inf": not a number`},
		{"mode must be rate or backlog", map[string]string{keyCapacity: "1", keyMode: "queue"}, `mode "queue": must be "rate" or "backlog"`},
		{"horizon must be a duration", map[string]string{keyCapacity: "1", keyHorizon: "25"}, `horizon "25": not a duration`},
		{"horizon must not be negative", map[string]string{keyCapacity: "1", keyHorizon: "-5m"}, `horizon "-5m": must be between`},
		{"the horizon must reach past the lead", map[string]string{keyCapacity: "1", keyLead: "10m", keyHorizon: "5m"}, `horizon "5m": must be at least lead (10m0s)`},
		{"seasonal is true or false", map[string]string{keyCapacity: "1", keySeasonal: "yes please"}, `seasonal "yes please": not true or false`},
		{"slow_share is a fraction of at most one half", map[string]string{keyCapacity: "1", keySlowShare: "0.9"}, `slow_share "0.9": must be between`},
		{"worst_day_in 1 would let every day miss", map[string]string{keyCapacity: "1", keyWorstDayIn: "1"}, `worst_day_in "1": 1 would let every day miss`},
		{"worst_day_in is a count of days", map[string]string{keyCapacity: "1", keyWorstDayIn: "-3"}, `worst_day_in "-3": must be between 0 and 1000`},
		{"max_wait must be a duration", map[string]string{keyCapacity: "1", keyMaxWait: "2"}, `max_wait "2": not a duration`},
		{"a trend half-life under a second is refused", map[string]string{keyCapacity: "1", keyTrendHalfLife: "0s"}, `trend_half_life "0s": must be between`},
		{"headroom must not be negative", map[string]string{keyCapacity: "1", keyHeadroom: "-0.1"}, `headroom "-0.1":`},
		{"min_points must be whole", map[string]string{keyCapacity: "1", keyMinPoints: "2.5"}, `min_points "2.5": not a whole number`},
		{"min_points must be at least three", map[string]string{keyCapacity: "1", keyMinPoints: "2"}, `min_points "2": must be between`},
		{"max_scale_in is a fraction", map[string]string{keyCapacity: "1", keyMaxScaleIn: "1.5"}, `max_scale_in "1.5":`},
		{"drain_time must be positive", map[string]string{keyCapacity: "1", keyDrainTime: "0s"}, `drain_time "0s":`},
		{"floor must not be negative", map[string]string{keyCapacity: "1", keyFloor: "-1"}, `floor "-1":`},
		{"floor_hours needs two clock times", map[string]string{keyCapacity: "1", keyFloorHours: "8-22"}, `floor_hours "8-22":`},
		{"floor_hours ends must differ", map[string]string{keyCapacity: "1", keyFloorHours: "08:00-08:00"}, `floor_hours "08:00-08:00":`},
		{"floor_hours minutes must exist", map[string]string{keyCapacity: "1", keyFloorHours: "08:61-09:00"}, `floor_hours "08:61-09:00":`},
		{"floor_days must be day names", map[string]string{keyCapacity: "1", keyFloorDays: "Mon-Fry"}, `floor_days "Mon-Fry":`},
		{"timezone must be IANA", map[string]string{keyCapacity: "1", keyTimezone: "Mars/Olympus"}, `timezone "Mars/Olympus":`},
		{"an override needs an expiry", map[string]string{keyCapacity: "1", keyOverrideCount: "5"}, "override_count \"5\": needs override_until"},
		{"an expiry needs a count", map[string]string{keyCapacity: "1", keyOverrideUntil: "2026-12-01T00:00:00Z"}, "override_until \"2026-12-01T00:00:00Z\": needs override_count"},
		{"override_until must be RFC 3339", map[string]string{keyCapacity: "1", keyOverrideCount: "5", keyOverrideUntil: "tomorrow"}, `override_until "tomorrow": not an RFC 3339 time`},
		{"override_count must not be negative", map[string]string{keyCapacity: "1", keyOverrideCount: "-2", keyOverrideUntil: "2026-12-01T00:00:00Z"}, `override_count "-2":`},
		{"override_from must be RFC 3339", map[string]string{keyCapacity: "1", keyOverrideCount: "5", keyOverrideUntil: "2026-12-01T18:00:00Z", keyOverrideFrom: "08:45"}, `override_from "08:45": not an RFC 3339 time`},
		{"override_from must be before override_until", map[string]string{keyCapacity: "1", keyOverrideCount: "5", keyOverrideUntil: "2026-12-01T18:00:00Z", keyOverrideFrom: "2026-12-01T18:00:00Z"}, `override_from "2026-12-01T18:00:00Z": must be before override_until 2026-12-01T18:00:00Z`},
		{"override_from needs a count", map[string]string{keyCapacity: "1", keyOverrideFrom: "2026-12-01T08:00:00Z"}, `override_from "2026-12-01T08:00:00Z": needs override_count and override_until`},
		{"override_mode is exact or minimum", map[string]string{keyCapacity: "1", keyOverrideCount: "5", keyOverrideUntil: "2026-12-01T18:00:00Z", keyOverrideMode: "floor"}, `override_mode "floor": must be "exact" (pin the count) or "minimum"`},
		{"a minimum needs a count", map[string]string{keyCapacity: "1", keyOverrideMode: "minimum"}, `override_mode "minimum": "minimum" needs override_count and override_until`},
		{"override_variable must not be blank", map[string]string{keyCapacity: "1", keyOverrideVariable: " "}, `override_variable " ":`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.cfg)
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parseConfig(map[string]string{keyCapacity: "x", keyHorizon: "y", "bogus": "1"})
	must.ErrorContains(t, err, `capacity_per_worker "x": not a number`)
	must.ErrorContains(t, err, `horizon "y": not a duration`)
	must.ErrorContains(t, err, `unknown key "bogus"`)
}

// TestErrorsNameTheValueButNeverASecret: every key's error names its value,
// cut when long; a value in a key the strategy does not know (a password in
// a misspelled key) and the Nomad token of SetConfig are never repeated, in
// errors or in log lines.
func TestErrorsNameTheValueButNeverASecret(t *testing.T) {
	const secret = "s3cr3t-P@ssw0rd"
	var logs strings.Builder
	p := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace}))
	p.SetClock(func() time.Time { return friday })
	err := p.SetConfig(map[string]string{"postgres_password": secret, "nomad_token": secret})
	must.Error(t, err)
	must.StrNotContains(t, err.Error(), secret)
	for _, key := range configTable.Names() {
		bad := "not-" + key + "-at-all-" + strings.Repeat("x", 100)
		cfg := map[string]string{keyCapacity: "100", key: bad, "pasword": secret}
		_, err := parseConfig(cfg)
		must.Error(t, err, must.Sprintf("key %s", key))
		must.StrNotContains(t, err.Error(), secret, must.Sprintf("key %s", key))
		must.StrNotContains(t, err.Error(), bad, must.Sprintf("key %s: a long value is cut", key))
		if k, _ := configTable.Key(key); k.Kind != pluginkit.Text || key == keyMode || key == keyTimezone {
			must.StrContains(t, err.Error(), fmt.Sprintf("%s %q", key, bad[:80]+"..."), must.Sprintf("key %s names its value", key))
		}
		_, err = p.Run(evalOf(cfg, friday, repeat(60, 1000)...), 3)
		must.StrNotContains(t, err.Error(), secret)
	}
	must.StrNotContains(t, logs.String(), secret)
}
