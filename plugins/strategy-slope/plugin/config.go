package plugin

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Strategy config keys (the strategy "slope" { ... } block of a check) and
// their defaults. Values always arrive as strings.
const (
	keyCapacity  = "capacity_per_worker" // required
	keyMode      = "mode"
	defaultMode  = modeRate
	modeRate     = "rate"
	modeBacklog  = "backlog"
	keyHorizon   = "horizon"
	keyConfid    = "confidence"
	keyHeadroom  = "headroom"
	keyMinPoints = "min_points"

	keyTrendHalfLife     = "trend_half_life"
	keyNoiseHalfLife     = "noise_half_life"
	keyPersistenceWindow = "persistence_window"

	defaultHorizon       = 25 * time.Minute
	defaultConfidence    = 0.99
	defaultTrendHalfLife = 30 * time.Minute
	defaultNoiseHalfLife = 60 * time.Minute
	// defaultPersistence: a 5% shortfall that lasts 15 minutes queues 45 s
	// of work, far past any latency target; shorter blips the queue absorbs.
	defaultPersistence = 15 * time.Minute
	defaultHeadroom    = 0.0
	defaultMinPoints   = 10

	keyBacklogTolerance     = "backlog_tolerance"
	keyDrainTime            = "drain_time"
	defaultBacklogTolerance = 0.0
	defaultDrainTime        = 2 * time.Minute

	keyScaleInWindow     = "scale_in_window"
	keyMaxScaleIn        = "max_scale_in"
	defaultScaleInWindow = 20 * time.Minute
	defaultMaxScaleIn    = 0.25

	keyZeroHold     = "zero_hold"
	defaultZeroHold = 60 * time.Minute

	keyFloor          = "floor"
	keyFloorHours     = "floor_hours"
	keyFloorDays      = "floor_days"
	keyTimezone       = "timezone"
	defaultFloorHours = "08:00-22:00"
	defaultFloorDays  = "Mon-Sun"
	defaultTimezone   = "UTC"

	keyOverrideCount       = "override_count"
	keyOverrideUntil       = "override_until"
	keyOverrideReason      = "override_reason"
	keyOverrideMaxDuration = "override_max_duration"
	keyOverrideVariable    = "override_variable"
	defaultOverrideMaxDur  = 7 * 24 * time.Hour
)

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
	capacity   float64
	mode       string
	horizon    time.Duration
	confidence float64
	headroom   float64
	minPoints  int

	trendHalfLife     time.Duration
	noiseHalfLife     time.Duration
	persistenceWindow time.Duration

	backlogTolerance float64
	drainTime        time.Duration

	scaleInWindow time.Duration
	maxScaleIn    float64
	zeroHold      time.Duration

	floor floorRule

	override            manualOverride
	overrideMaxDuration time.Duration
	overrideVariable    string
}

// knownKeys lists every accepted strategy key; anything else is a typo.
var knownKeys = map[string]bool{
	keyCapacity: true, keyMode: true, keyHorizon: true, keyConfid: true, keyHeadroom: true,
	keyMinPoints: true, keyTrendHalfLife: true, keyNoiseHalfLife: true, keyPersistenceWindow: true, keyBacklogTolerance: true, keyDrainTime: true, keyScaleInWindow: true,
	keyMaxScaleIn: true, keyZeroHold: true, keyFloor: true, keyFloorHours: true, keyFloorDays: true, keyTimezone: true,
	keyOverrideCount: true, keyOverrideUntil: true, keyOverrideReason: true,
	keyOverrideMaxDuration: true, keyOverrideVariable: true,
}

// parser collects every problem of a config map so they are reported together.
type parser struct {
	m    map[string]string
	errs []error
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %q: "+format, append([]any{key, p.m[key]}, args...)...))
}

// bounded parses key with parse and checks it lies within [lo, hi]; a
// missing key yields def. what names the expected form in the error.
func bounded[T int64 | float64 | time.Duration](p *parser, key string, def, lo, hi T, parse func(string) (T, bool), what string) T {
	s, ok := p.m[key]
	if !ok {
		return def
	}
	v, ok := parse(strings.TrimSpace(s))
	if !ok {
		p.fail(key, "not %s", what)
		return def
	}
	if v < lo || v > hi {
		p.fail(key, "must be between %v and %v", lo, hi)
		return def
	}
	return v
}

// float parses key as a finite number within [lo, hi].
func (p *parser) float(key string, def, lo, hi float64) float64 {
	return bounded(p, key, def, lo, hi, func(s string) (float64, bool) {
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
	}, "a number")
}

// integer parses key as a whole number within [lo, hi].
func (p *parser) integer(key string, def, lo, hi int64) int64 {
	return bounded(p, key, def, lo, hi, func(s string) (int64, bool) {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}, "a whole number")
}

// duration parses key as a Go duration within [lo, hi].
func (p *parser) duration(key string, def, lo, hi time.Duration) time.Duration {
	return bounded(p, key, def, lo, hi, func(s string) (time.Duration, bool) {
		v, err := time.ParseDuration(s)
		return v, err == nil
	}, "a duration such as 25m")
}

// parseConfig validates a check's strategy config. Every problem is
// reported, each naming its key and value; unknown keys are errors.
func parseConfig(m map[string]string) (config, error) {
	p := &parser{m: m}
	var unknown []string
	for k := range m {
		if !knownKeys[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.fail(k, "unknown key")
	}

	c := config{mode: defaultMode}
	if _, ok := m[keyCapacity]; !ok {
		p.errs = append(p.errs, fmt.Errorf("%s: required", keyCapacity))
	}
	c.capacity = p.float(keyCapacity, 1, 1e-6, maxRate)
	if s, ok := m[keyMode]; ok {
		switch s {
		case modeRate, modeBacklog:
			c.mode = s
		default:
			p.fail(keyMode, "must be %q or %q", modeRate, modeBacklog)
		}
	}
	c.horizon = p.duration(keyHorizon, defaultHorizon, 0, maxHorizon)
	c.confidence = p.float(keyConfid, defaultConfidence, 0.5, 0.999999)
	c.headroom = p.float(keyHeadroom, defaultHeadroom, 0, 10)
	c.minPoints = int(p.integer(keyMinPoints, defaultMinPoints, 3, 100_000))
	c.trendHalfLife = p.duration(keyTrendHalfLife, defaultTrendHalfLife, 0, maxHorizon)
	c.noiseHalfLife = p.duration(keyNoiseHalfLife, defaultNoiseHalfLife, 0, maxHorizon)
	c.persistenceWindow = p.duration(keyPersistenceWindow, defaultPersistence, 0, maxHorizon)
	c.backlogTolerance = p.float(keyBacklogTolerance, defaultBacklogTolerance, 0, maxRate)
	c.drainTime = p.duration(keyDrainTime, defaultDrainTime, time.Second, maxHorizon)
	c.scaleInWindow = p.duration(keyScaleInWindow, defaultScaleInWindow, 0, maxHorizon)
	c.maxScaleIn = p.float(keyMaxScaleIn, defaultMaxScaleIn, 0, 1)
	c.zeroHold = p.duration(keyZeroHold, defaultZeroHold, 0, maxHorizon)
	c.floor = parseFloor(p)
	c.override, c.overrideMaxDuration = parseOverride(p)
	c.overrideVariable = strings.TrimSpace(m[keyOverrideVariable])
	if _, ok := m[keyOverrideVariable]; ok && c.overrideVariable == "" {
		p.fail(keyOverrideVariable, "must name a Nomad Variable path")
	}
	return c, errors.Join(p.errs...)
}
