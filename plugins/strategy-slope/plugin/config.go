package plugin

import (
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Strategy config keys (the strategy "slope" { ... } block of a check).
// Values always arrive as strings; defaults and bounds are in configTable.
const (
	keyCapacity  = "capacity_per_worker"
	keyMode      = "mode"
	modeRate     = "rate"
	modeBacklog  = "backlog"
	keyHeadroom  = "headroom"
	keyStartup   = "startup_headroom"
	keyMinPoints = "min_points"

	keyLead             = "lead"
	keyHorizon          = "horizon"
	keyTrendHalfLife    = "trend_half_life"
	keyNoiseHalfLife    = "noise_half_life"
	keySeasonal         = "seasonal"
	keyMaxWait          = "max_wait"
	keyOffHoursMaxWait  = "off_hours_max_wait"
	keySlowShare        = "slow_share"
	keyRequestTimeout   = "request_timeout"
	keyAvailability     = "availability"
	keyWorstDayIn       = "worst_day_in"
	keyDrainTime        = "drain_time"
	keyBacklogTolerance = "backlog_tolerance"
	keyMaxScaleIn       = "max_scale_in"
	keyZeroHold         = "zero_hold"

	keyFloor      = "floor"
	keyFloorHours = "floor_hours"
	keyFloorDays  = "floor_days"
	keyTimezone   = "timezone"

	keyOverrideCount       = "override_count"
	keyOverrideUntil       = "override_until"
	keyOverrideFrom        = "override_from"
	keyOverrideMode        = "override_mode"
	keyOverrideReason      = "override_reason"
	keyOverrideMaxDuration = "override_max_duration"
	keyOverrideVariable    = "override_variable"
)

// configTable is every strategy key with its default, bounds and meaning.
// The README's table is checked against it.
//
// Rate mode's lead and horizon are facts of the fleet, not fitted: a worker
// ordered now serves after lead; a count set now stands until a later
// decision can change it, which is one evaluation interval plus the time
// Scale blocks (about 90 s for a MIG to become stable) plus lead.
//
// The margin is calibrated on the SLA by replaying the queue over the query
// window (see calibrate.go). max_wait is the wait the latency SLO leaves
// after the service time (3 s p95 - about 1 s); the SLA lets 5% of a day's
// requests be slower, and slow_share keeps the replayed days at 2% so that a
// day burstier than the week behind it still meets it. 2% was the largest
// value that met every day of the first 14 days of the NASA trace (the
// held-out 14 are in the README). A request that waits longer than
// request_timeout fails (the API answers 5xx), and at most 1 - availability
// of a day's business minutes may see that.
var configTable = &pluginkit.Table{
	UnknownHint: "check the spelling; agent-level keys go in the agent's strategy block",
	Keys: []pluginkit.Key{
		{Name: keyCapacity, Kind: pluginkit.Float, Required: true, Min: "0.000001", Max: "1e12", Doc: "requests per minute one worker serves within the latency target"},
		{Name: keyMode, Kind: pluginkit.Text, Default: modeRate, Doc: "rate: metrics are requests per minute; backlog: waiting messages"},
		{Name: keyLead, Kind: pluginkit.Duration, Default: "5m", Min: "0s", Max: "24h", Doc: "from a scale-up decision to the new workers serving"},
		{Name: keyHorizon, Kind: pluginkit.Duration, Default: "8m", Min: "0s", Max: "24h", Doc: "how long a count set now stands; at least lead"},
		{Name: keyTrendHalfLife, Kind: pluginkit.Duration, Default: "30m", Min: "1s", Max: "24h", Doc: "half-life of a point's weight in the trend line"},
		{Name: keyNoiseHalfLife, Kind: pluginkit.Duration, Default: "60m", Min: "1s", Max: "24h", Doc: "half-life of the noise that shapes the margin's unit"},
		{Name: keySeasonal, Kind: pluginkit.Bool, Default: "true", Doc: "also forecast from yesterday and a week ago"},
		{Name: keyMaxWait, Kind: pluginkit.Duration, Default: "2s", Min: "0s", Max: "24h", Doc: "the queue wait the latency SLO allows"},
		{Name: keyOffHoursMaxWait, Kind: pluginkit.Duration, Default: "0s", Min: "0s", Max: "24h", Doc: "the wait allowed outside business hours, where the SLA does not apply; 0s: max_wait (the SLA all day)"},
		{Name: keySlowShare, Kind: pluginkit.Float, Default: "0.02", Min: "0", Max: "0.5", Doc: "most of a day's business requests that may wait longer than max_wait"},
		{Name: keyRequestTimeout, Kind: pluginkit.Duration, Default: "30s", Min: "1s", Max: "24h", Doc: "a request that waits longer fails"},
		{Name: keyAvailability, Kind: pluginkit.Float, Default: "0.99", Min: "0.5", Max: "1", Doc: "share of business minutes whose requests must not fail"},
		{Name: keyWorstDayIn, Kind: pluginkit.Int, Default: strconv.Itoa(defaultWorstDayIn), Min: "0", Max: "1000", Doc: "the margin meets what the worst day in this many replayed days needed; 0: the worst of all"},
		{Name: keyDrainTime, Kind: pluginkit.Duration, Default: "2m", Min: "1s", Max: "24h", Doc: "clear a backlog above the tolerance within this time"},
		{Name: keyBacklogTolerance, Kind: pluginkit.Float, Default: "0", Min: "0", Max: "1e12", Doc: "waiting messages ignored"},
		{Name: keyHeadroom, Kind: pluginkit.Float, Default: "0", Min: "0", Max: "10", Doc: "extra fraction on top of the computed demand"},
		{Name: keyStartup, Kind: pluginkit.Float, Default: "1", Min: "0", Max: "10", Doc: "while the window holds under two days, demand is at least the forecast times 1 + this"},
		{Name: keyMinPoints, Kind: pluginkit.Int, Default: "10", Min: "3", Max: "100000", Doc: "fewer valid points is an error, not a guess"},
		{Name: keyMaxScaleIn, Kind: pluginkit.Float, Default: "0", Min: "0", Max: "1", Doc: "most of the fleet removed per evaluation; 0: no limit"},
		{Name: keyZeroHold, Kind: pluginkit.Duration, Default: "60m", Min: "0s", Max: "24h", Doc: "hold the fleet through a traffic collapse this long"},
		{Name: keyFloor, Kind: pluginkit.Int, Default: "0", Min: "0", Max: "1000000000", Doc: "minimum workers during business hours"},
		{Name: keyFloorHours, Kind: pluginkit.Text, Default: "08:00-22:00", Doc: "business hours, HH:MM-HH:MM local time"},
		{Name: keyFloorDays, Kind: pluginkit.Text, Default: "Mon-Sun", Doc: "days of the floor, such as Mon-Fri,Sun"},
		{Name: keyTimezone, Kind: pluginkit.Text, Default: "UTC", Doc: "IANA zone of business hours and of the SLA's days"},
		{Name: keyOverrideCount, Kind: pluginkit.Int, Min: "0", Max: "1000000000", Doc: "pin the count to exactly this (override_mode exact) or at least this (minimum) until override_until"},
		{Name: keyOverrideUntil, Kind: pluginkit.Text, Doc: "RFC 3339 end of the override"},
		{Name: keyOverrideFrom, Kind: pluginkit.Text, Doc: "RFC 3339 start of the override; unset: at once"},
		{Name: keyOverrideMode, Kind: pluginkit.Text, Default: overrideExact, Doc: "exact: the count is pinned; minimum: the checks decide as usual, never below override_count"},
		{Name: keyOverrideReason, Kind: pluginkit.Text, Doc: "free text shown in the Reason and Meta"},
		{Name: keyOverrideMaxDuration, Kind: pluginkit.Duration, Default: "168h", Min: "1m", Max: "8784h", Doc: "longest allowed override"},
		{Name: keyOverrideVariable, Kind: pluginkit.Text, Doc: "path of a Nomad Variable holding a runtime override"},
	},
}

// Documented limits. Values beyond them are rejected (config) or clamped
// (metrics) so that no arithmetic can overflow.
const (
	// maxRate is the largest metric value used; larger values are clamped.
	maxRate = 1e12
	// maxWorkers is the largest count the strategy ever returns.
	maxWorkers = 1_000_000_000
	maxHorizon = 24 * time.Hour
)

// config is one check's strategy configuration, parsed and validated once.
type config struct {
	capacity float64
	mode     string
	headroom float64
	// startupHeadroom is the least headroom over the forecast while the
	// window is too young to have measured the traffic's bursts.
	startupHeadroom float64
	minPoints       int

	lead, horizon  time.Duration
	trendHalfLife  time.Duration
	noiseHalfLife  time.Duration
	seasonal       bool
	maxWait        time.Duration
	offHoursWait   time.Duration // max_wait when off_hours_max_wait is 0s
	slowShare      float64
	requestTimeout time.Duration
	availability   float64
	// worstDayIn: the margin reaches what the worst day in this many needed
	// (allowedMisses); 0: the worst day of the window.
	worstDayIn int
	drainTime  time.Duration

	backlogTolerance float64

	maxScaleIn float64
	zeroHold   time.Duration

	floor floorRule

	override            manualOverride
	overrideMaxDuration time.Duration
	overrideVariable    string
}

// CheckConfig reports what Run would refuse in a check's strategy config,
// so that a tool that loads policies (cmd/backtest) refuses a bad one
// before replaying it rather than replay a month of failed evaluations.
func CheckConfig(m map[string]string) error {
	_, err := parseConfig(m)
	return err
}

// parseConfig validates a check's strategy config. Every problem is
// reported, each naming its key and value; unknown keys are errors.
func parseConfig(m map[string]string) (config, error) {
	p := pluginkit.Parse(configTable, m)
	c := config{mode: p.Text(keyMode)}
	if c.mode != modeRate && c.mode != modeBacklog {
		p.Fail(keyMode, "must be %q or %q", modeRate, modeBacklog)
		c.mode = modeRate
	}
	c.capacity = p.Float(keyCapacity)
	if !p.Has(keyCapacity) {
		c.capacity = 1 // reported as required; keeps the arithmetic below sane
	}
	c.headroom = p.Float(keyHeadroom)
	c.startupHeadroom = p.Float(keyStartup)
	c.minPoints = int(p.Int(keyMinPoints))
	c.lead = p.Duration(keyLead)
	c.horizon = p.Duration(keyHorizon)
	if c.horizon < c.lead {
		p.Fail(keyHorizon, "must be at least %s (%s)", keyLead, c.lead)
	}
	c.trendHalfLife = p.Duration(keyTrendHalfLife)
	c.noiseHalfLife = p.Duration(keyNoiseHalfLife)
	c.seasonal = p.Bool(keySeasonal)
	c.maxWait = p.Duration(keyMaxWait)
	switch c.offHoursWait = p.Duration(keyOffHoursMaxWait); {
	case c.offHoursWait == 0:
		c.offHoursWait = c.maxWait
	case c.offHoursWait < c.maxWait:
		p.Fail(keyOffHoursMaxWait, "must be 0s or at least %s (%s)", keyMaxWait, c.maxWait)
	}
	c.slowShare = p.Float(keySlowShare)
	c.requestTimeout = p.Duration(keyRequestTimeout)
	c.availability = p.Float(keyAvailability)
	if c.worstDayIn = int(p.Int(keyWorstDayIn)); c.worstDayIn == 1 {
		p.Fail(keyWorstDayIn, "1 would let every day miss; 0 for the worst day of all, or at least 2")
		c.worstDayIn = defaultWorstDayIn
	}
	c.backlogTolerance = p.Float(keyBacklogTolerance)
	c.drainTime = p.Duration(keyDrainTime)
	c.maxScaleIn = p.Float(keyMaxScaleIn)
	c.zeroHold = p.Duration(keyZeroHold)
	c.floor = parseFloor(p)
	c.override, c.overrideMaxDuration = parseOverride(p)
	c.overrideVariable = strings.TrimSpace(p.Text(keyOverrideVariable))
	if p.Has(keyOverrideVariable) && c.overrideVariable == "" {
		p.Fail(keyOverrideVariable, "must name a Nomad Variable path")
	}
	return c, p.Err()
}
