package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// manualOverride pins the count until a deadline. Expiry is mandatory:
// forgotten overrides are the classic failure of manual pinning.
//
// An override may start later (from: a launch, a campaign, a deadline the
// business knows about, set a week ahead instead of by someone awake at
// 08:45) and may be a minimum instead of an exact count: the checks then
// decide as usual and never ask for fewer than count, so a crowd larger
// than the operator guessed still gets its workers.
type manualOverride struct {
	set     bool
	count   int64
	from    time.Time // zero: from now
	until   time.Time
	minimum bool // at least count workers; false: exactly count
	reason  string
	source  string // "policy" or "variable <path>"
}

// sourcePolicy is the source of an override set in the policy file.
const sourcePolicy = "policy"

// Override modes, the values of override_mode and of the variable's mode.
const (
	overrideExact   = "exact"
	overrideMinimum = "minimum"
)

func (o manualOverride) mode() string {
	if o.minimum {
		return overrideMinimum
	}
	return overrideExact
}

// describe is the override as the Reason shows it.
func (o manualOverride) describe() string {
	n := fmt.Sprintf("%d workers", o.count)
	if o.minimum {
		n = "at least " + n
	}
	return fmt.Sprintf("override from %s: %s until %s (%s)", o.source, n, o.until.UTC().Format(time.RFC3339), orDash(o.reason))
}

// overrideState is what an override means at one instant.
type overrideState int

const (
	overrideNone overrideState = iota
	overrideScheduled
	overrideActive
	overrideExpired
)

// state reports whether o applies at now. An override that would stay in
// force longer than maxAhead (from now, or from its start when that is
// later) is an error: a typo in the year must not pin the fleet for a
// decade.
func (o manualOverride) state(now time.Time, maxAhead time.Duration) (overrideState, error) {
	if !o.set {
		return overrideNone, nil
	}
	if !now.Before(o.until) {
		return overrideExpired, nil
	}
	start := now
	if o.from.After(now) {
		start = o.from
	}
	if o.until.Sub(start) > maxAhead {
		after := "ahead"
		if start.After(now) {
			after = "after override_from " + o.from.UTC().Format(time.RFC3339)
		}
		return overrideNone, fmt.Errorf("%s override_until %q: more than %s %s (override_max_duration)",
			o.source, o.until.Format(time.RFC3339), maxAhead, after)
	}
	if o.from.After(now) {
		return overrideScheduled, nil
	}
	return overrideActive, nil
}

// parseMode reads an override mode; ok is false for anything else.
func parseMode(v string) (minimum, ok bool) {
	switch strings.TrimSpace(v) {
	case "", overrideExact:
		return false, true
	case overrideMinimum:
		return true, true
	}
	return false, false
}

func parseOverride(p *pluginkit.Parser) (manualOverride, time.Duration) {
	maxDur := p.Duration(keyOverrideMaxDuration)
	o := manualOverride{source: sourcePolicy, reason: strings.TrimSpace(p.Text(keyOverrideReason))}
	hasCount, hasUntil := p.Has(keyOverrideCount), p.Has(keyOverrideUntil)
	switch {
	case hasCount && !hasUntil:
		p.Fail(keyOverrideCount, "needs %s (overrides must expire)", keyOverrideUntil)
	case hasUntil && !hasCount:
		p.Fail(keyOverrideUntil, "needs %s", keyOverrideCount)
	case hasCount && hasUntil:
		o.count = p.Int(keyOverrideCount)
		until, err := time.Parse(time.RFC3339, strings.TrimSpace(p.Text(keyOverrideUntil)))
		if err != nil {
			p.Fail(keyOverrideUntil, "not an RFC 3339 time such as 2026-12-01T18:00:00Z")
		}
		o.until, o.set = until, err == nil
	}
	if p.Has(keyOverrideFrom) && !hasCount {
		p.Fail(keyOverrideFrom, "needs %s and %s", keyOverrideCount, keyOverrideUntil)
	}
	if p.Has(keyOverrideFrom) {
		from, err := time.Parse(time.RFC3339, strings.TrimSpace(p.Text(keyOverrideFrom)))
		switch {
		case err != nil:
			p.Fail(keyOverrideFrom, "not an RFC 3339 time such as 2026-12-01T08:45:00Z")
		case o.set && !from.Before(o.until):
			p.Fail(keyOverrideFrom, "must be before %s %s", keyOverrideUntil, o.until.Format(time.RFC3339))
		}
		o.from = from
	}
	minimum, ok := parseMode(p.Text(keyOverrideMode))
	switch {
	case !ok:
		p.Fail(keyOverrideMode, "must be %q (pin the count) or %q (decide as usual, never below the count)", overrideExact, overrideMinimum)
	case minimum && !hasCount:
		p.Fail(keyOverrideMode, "%q needs %s and %s", overrideMinimum, keyOverrideCount, keyOverrideUntil)
	}
	o.minimum = minimum
	return o, maxDur
}

// Override is a runtime override as a Nomad Variable's items describe it,
// for tools that show them (cmd/override's calendar).
type Override struct {
	Count   int64
	From    time.Time // zero: from when it was written
	Until   time.Time
	Minimum bool // at least Count; false: exactly Count
	Reason  string
}

// OverrideFromItems reads a Variable's items as the plugin does; the error
// is the one the plugin reports (in Meta override_variable_error) when it
// ignores them.
func OverrideFromItems(path string, items map[string]string) (Override, error) {
	o, err := overrideFromItems(path, items)
	if err != nil {
		return Override{}, err
	}
	return Override{Count: o.count, From: o.from, Until: o.until, Minimum: o.minimum, Reason: o.reason}, nil
}

// overrideFromItems builds an override from a Nomad Variable's items
// (count, until, reason; optional from and mode). Problems name the
// variable path and the item.
func overrideFromItems(path string, items map[string]string) (manualOverride, error) {
	o := manualOverride{source: "variable " + path, reason: strings.TrimSpace(items["reason"])}
	c, err := strconv.ParseInt(strings.TrimSpace(items["count"]), 10, 64)
	if err != nil || c < 0 || c > maxWorkers {
		return o, fmt.Errorf("variable %s item count %q: must be a whole number from 0 to %d", path, items["count"], maxWorkers)
	}
	until, err := time.Parse(time.RFC3339, strings.TrimSpace(items["until"]))
	if err != nil {
		return o, fmt.Errorf("variable %s item until %q: not an RFC 3339 time (overrides must expire)", path, items["until"])
	}
	if v, ok := items["from"]; ok && strings.TrimSpace(v) != "" {
		from, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
		if err != nil {
			return o, fmt.Errorf("variable %s item from %q: not an RFC 3339 time", path, v)
		}
		if !from.Before(until) {
			return o, fmt.Errorf("variable %s item from %q: must be before until %q", path, v, items["until"])
		}
		o.from = from
	}
	minimum, ok := parseMode(items["mode"])
	if !ok {
		return o, fmt.Errorf("variable %s item mode %q: must be %q or %q", path, items["mode"], overrideExact, overrideMinimum)
	}
	o.count, o.until, o.minimum, o.set = c, until, minimum, true
	return o, nil
}
