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
type manualOverride struct {
	set    bool
	count  int64
	until  time.Time
	reason string
	source string // "policy" or "variable <path>"
}

// overrideState is what an override means at one instant.
type overrideState int

const (
	overrideNone overrideState = iota
	overrideActive
	overrideExpired
)

// state reports whether o applies at now. An override whose deadline lies
// further ahead than maxAhead is an error: a typo in the year must not pin
// the fleet for a decade.
func (o manualOverride) state(now time.Time, maxAhead time.Duration) (overrideState, error) {
	if !o.set {
		return overrideNone, nil
	}
	if !now.Before(o.until) {
		return overrideExpired, nil
	}
	if o.until.Sub(now) > maxAhead {
		return overrideNone, fmt.Errorf("%s override_until %q: more than %s ahead (override_max_duration)",
			o.source, o.until.Format(time.RFC3339), maxAhead)
	}
	return overrideActive, nil
}

func parseOverride(p *pluginkit.Parser) (manualOverride, time.Duration) {
	maxDur := p.Duration(keyOverrideMaxDuration)
	o := manualOverride{source: "policy", reason: strings.TrimSpace(p.Text(keyOverrideReason))}
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
	return o, maxDur
}

// overrideFromItems builds an override from a Nomad Variable's items
// (count, until, reason). Problems name the variable path and the item.
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
	o.count, o.until, o.set = c, until, true
	return o, nil
}
