package plugin

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// input is everything a decision depends on. Building it is the only I/O.
type input struct {
	now   time.Time
	count int64 // current target count
	// pts is valid only during the decision: Run recycles its storage,
	// so nothing derived from the decision may keep a reference to it.
	pts     []point
	quality seriesQuality
	// grid, when set, is the series already on its grid (a usual rate
	// series: Run's fillMetrics), and pts is then empty.
	grid *grid
	cfg  config
	// variable is the runtime override read from the Nomad Variable, if
	// one is configured and was readable; events are the overrides booked
	// under it (<override_variable>/<name>), sorted by path; variableErr
	// says what could not be read or was malformed.
	variable    manualOverride
	events      []manualOverride
	variableErr string
	// newest is the Unix time (seconds) of the newest point.
	newest float64
	// booting estimates the workers of count still booting; bootKnown is
	// false until the check was watched for a lead time.
	booting   int64
	bootKnown bool
	// backlogGrowth is backlog mode's growth of the backlog per minute
	// over the last minute or more; growthKnown is false when the check
	// has no reading that old (checkMemory.observeBacklog).
	backlogGrowth float64
	growthKnown   bool
	// margin calibrates rate mode's margin (calibratedMargin with a cache
	// in Run; calibrate directly in tests).
	margin func(*grid, forecasterParams, replayRules) calibration
}

// validPoints is the number of valid points of the series.
func (in input) validPoints() int {
	if in.grid != nil {
		return in.grid.len()
	}
	return len(in.pts)
}

// decision is the strategy's answer: always a count and a direction.
type decision struct {
	count     int64
	direction sdk.ScaleDirection
	reason    string
	meta      map[string]any
}

// decide is the pure decision: forecast or backlog sizing, then scale-in
// damping, then the business-hours floor, with an active override taking
// precedence over all of it.
func decide(in input) (decision, error) {
	in.count = clampCount(in.count)
	meta := make(map[string]any, 40) // room for every key, no rehashing
	meta["mode"], meta["current_count"] = in.cfg.mode, float64(in.count)
	addQuality(meta, in.quality)

	pinned, note, err := activeOverride(in, meta)
	if err != nil {
		return decision{}, err
	}
	if pinned != nil && !pinned.minimum {
		return finish(in.count, pinned.count, pinned.describe()+note, meta), nil
	}

	var want int64
	var reason string
	switch in.cfg.mode {
	case modeBacklog:
		want, reason, err = decideBacklog(in, meta)
	default:
		want, reason, err = decideRate(in, meta)
	}
	if err != nil {
		if pinned == nil {
			return decision{}, err
		}
		// A minimum holds even when the check cannot decide (too few
		// points after a restart): it is what the operator asked for.
		want, reason = in.count, fmt.Sprintf("cannot decide (%v), holding %d", err, in.count)
		meta["decision_error"] = err.Error()
	}
	if in.cfg.floor.active(in.now) && want < in.cfg.floor.count {
		want = in.cfg.floor.count
		reason += fmt.Sprintf("; business-hours floor %d", in.cfg.floor.count)
		meta["floor_applied"] = true
	}
	if pinned != nil {
		applied := want < pinned.count
		meta["override_applied"] = applied
		if applied {
			want = pinned.count
		}
		reason += "; " + pinned.describe()
		if !applied {
			reason += ": already met"
		}
	}
	return finish(in.count, want, reason+note, meta), nil
}

// decideRate sizes the fleet for the forecast demand plus the calibrated
// margin, and scales in only as far as the hold window needs and as the
// workers still booting allow.
func decideRate(in input, meta map[string]any) (int64, string, error) {
	c := in.cfg
	if n := in.validPoints(); n < c.minPoints {
		return 0, "", fmt.Errorf("rate mode needs at least %d valid points (%s), got %d", c.minPoints, keyMinPoints, n)
	}
	g := in.grid
	if g == nil {
		g = grids.Get().(*grid)
		defer grids.Put(g)
		g.fill(in.pts, in.newest)
	}
	p := newForecasterParams(c, g)
	// The APM answers settled minutes only: when the newest is older than
	// the minute before now, the windows lie that much further ahead of it.
	stale := staleSlots(g, in.now)
	p.lead, p.horizon = p.lead+stale, p.horizon+stale
	meta["stale_minutes"] = float64(stale) * g.step
	fc := forecastNow(g, p)
	cal := in.margin(g, p, newReplayRules(c, g))
	fc.withShare(cal.relative)

	// The business margin for a window that touches business hours (as
	// the replay judged them), the off-hours one for the rest.
	m, mHold := cal.margin, cal.margin
	offUp := !cal.touches(g, 1+p.lead, 1+p.horizon, c.floor.loc)
	if offUp {
		m = cal.offMargin
	}
	if !cal.touches(g, 1, 1+p.horizon, c.floor.loc) {
		mHold = cal.offMargin
	}
	upDemand := math.Min((fc.up+m*fc.upScale)*(1+c.headroom), maxRate)
	holdDemand := math.Min((fc.hold+mHold*fc.holdScale)*(1+c.headroom), maxRate)
	// A young window has not seen the traffic's bursts (nor, for a policy
	// in another zone, its business hours): its margin is not yet the
	// traffic's, so the forecast gets at least startup_headroom on top.
	marginDemand := upDemand
	startup := cal.young && (1+c.startupHeadroom)*fc.up > upDemand
	if cal.young {
		upDemand = math.Min(math.Max(upDemand, (1+c.startupHeadroom)*fc.up), maxRate)
		holdDemand = math.Min(math.Max(holdDemand, (1+c.startupHeadroom)*fc.hold), maxRate)
	}
	meta["startup_headroom_applied"] = startup
	up, hold := workersFor(upDemand, c.capacity), workersFor(holdDemand, c.capacity)
	addForecast(meta, fc, cal, upDemand, holdDemand, up, hold)
	meta["margin_units"] = m
	reason := fmt.Sprintf("forecast %.0f/min in %s-%s (trend %.0f, recent %.0f, seasonal %.0f) + margin %.2f x %.0f = %.0f",
		fc.up, c.lead, c.horizon, fc.trend, fc.recent, fc.seasonal, m, fc.upScale, marginDemand)
	if startup {
		reason += fmt.Sprintf("; the window holds under %d days, too few to have measured this traffic's bursts: at least forecast x (1 + %s %g) = %.0f",
			minProfileDays, keyStartup, c.startupHeadroom, upDemand)
	}
	reason += fmt.Sprintf("; workers = ceil(%.0f / %g) = %d", upDemand, c.capacity, up)
	if offUp && cal.offMargin < cal.margin {
		reason += fmt.Sprintf("; outside business hours %s: off-hours margin %.2f (business %.2f; %s %s)",
			cal.hours(), cal.offMargin, cal.margin, keyOffHoursMaxWait, c.offHoursWait)
	}
	reason += describeCalibration(cal, c)
	if up >= in.count {
		return up, reason, nil
	}
	if run := recentOutage(g, g.slots(c.zeroHold.Minutes(), 0), p.horizon); run > 0 {
		meta["outage_minutes"] = float64(run) * g.step
		return in.count, reason + fmt.Sprintf("; traffic collapsed below %.0f%% of the hour before for %.0fm within the last %s: treated as an outage, holding %d for the users' return",
			100*collapseShare, float64(run)*g.step, c.horizon, in.count), nil
	}
	if !in.bootKnown {
		return in.count, reason + fmt.Sprintf("; watched for less than %s (%s) since start: cannot tell which workers still boot, holding %d", keyLead, c.lead, in.count), nil
	}
	// A scale-in drains serving workers only, so the serving ones left
	// (the count minus those still booting) must carry the hold window.
	want := min(in.count, max(up, hold+in.booting))
	meta["booting_estimate"] = float64(in.booting)
	if c.maxScaleIn > 0 {
		step := max(int64(math.Floor(float64(in.count)*c.maxScaleIn)), 1)
		want = max(want, in.count-step)
	}
	if want < in.count || in.booting > 0 {
		reason += fmt.Sprintf("; scale-in to %d: the %s hold window needs %d serving (%.0f/min), ~%d still booting", want, c.horizon, hold, holdDemand, in.booting)
	}
	return want, reason, nil
}

// describeCalibration says where the margin came from.
func describeCalibration(cal calibration, c config) string {
	if cal.days == 0 {
		return fmt.Sprintf("; margin %.0f units by default (no replayable business day yet)", cal.margin)
	}
	if cal.share > c.slowShare || cal.unavailable > 1-c.availability {
		// The replay stops at the first day that misses (calibrate.go).
		return fmt.Sprintf("; even the largest margin (%.0f units) missed the SLA on a replayed day (%.2f%% of its requests waited over %s, %.2f%% of its minutes over %s): the backlog check has to carry the rest",
			cal.margin, 100*cal.share, c.maxWait, 100*cal.unavailable, c.requestTimeout)
	}
	s := fmt.Sprintf("; margin replayed on %d days: at most %.2f%% of a day's requests waited over %s (%s %g%%), %.2f%% of its minutes over %s (%s %g%%)",
		cal.days, 100*cal.share, c.maxWait, keySlowShare, 100*c.slowShare, 100*cal.unavailable, c.requestTimeout, keyAvailability, 100*c.availability)
	if cal.missed > 0 {
		s += fmt.Sprintf("; %d of the %d days missed at it: the margin reaches what the worst day in %d needed, not the worst of all",
			cal.missed, cal.days, c.worstDayIn)
	}
	if cal.moved {
		s += fmt.Sprintf("; the traffic's busiest %s (%s) lies mostly outside %s %s in %s (is %s the traffic's zone?): the replay judged those hours instead",
			c.floor.length(), cal.hours(), keyFloorHours, c.floor.hours(), c.floor.loc, keyTimezone)
	}
	return s
}

// decideBacklog sizes the fleet for the arrivals a backlog above the
// tolerance reveals, plus the workers that clear it within drain_time, or
// votes no change. Serving workers are busy while a backlog waits, so the
// arrivals are their capacity plus the backlog's growth: the count asked
// for is the serving workers plus ceil(backlogExtra / capacity), an
// absolute count that does not grow again at the next evaluation while the
// ordered workers still boot. Without a growth (the first minute after a
// start), the current count plus the workers that clear the backlog.
func decideBacklog(in input, meta map[string]any) (int64, string, error) {
	if len(in.pts) == 0 {
		return 0, "", fmt.Errorf("backlog mode needs at least one valid point")
	}
	c := in.cfg
	backlog := in.pts[len(in.pts)-1].y
	meta["backlog"] = backlog
	meta["backlog_tolerance"] = c.backlogTolerance
	if in.growthKnown {
		meta["backlog_growth_per_minute"] = in.backlogGrowth
	}
	if backlog <= c.backlogTolerance {
		return in.count, fmt.Sprintf("backlog %.0f within tolerance %.0f", backlog, c.backlogTolerance), nil
	}
	if !in.growthKnown {
		extra := workersFor(backlog, c.capacity*c.drainTime.Minutes())
		meta["backlog_extra_workers"] = float64(extra)
		want := clampCount(in.count + extra)
		return want, fmt.Sprintf("backlog %.0f > tolerance %.0f, its growth not yet measured (under %s watched); workers = %d + ceil(%.0f / (%g x %.1fm)) = %d",
			backlog, c.backlogTolerance, minGrowthGap, in.count, backlog, c.capacity, c.drainTime.Minutes(), want), nil
	}
	// The rises seen within a lead boot, whether or not the check was
	// watched for a whole lead: one unseen (before a restart) counts as
	// serving, which overstates the arrivals and errs towards more workers.
	serving := in.count - in.booting
	meta["booting_estimate"] = float64(in.booting)
	need := backlogExtra(backlog, in.backlogGrowth, c.lead.Minutes(), c.drainTime.Minutes())
	extra := workersFor(need, c.capacity)
	meta["backlog_extra_workers"] = float64(extra)
	want := clampCount(max(in.count, serving+extra))
	reason := fmt.Sprintf("backlog %.0f > tolerance %.0f, growth %+.0f/min; workers = %d serving + ceil(%.0f / %g) = %d",
		backlog, c.backlogTolerance, in.backlogGrowth, serving, need, c.capacity, serving+extra)
	if in.backlogGrowth > 0 {
		reason += fmt.Sprintf(" (the growth, and the backlog in %s cleared within %s)", c.lead, c.drainTime)
	} else {
		reason += fmt.Sprintf(" (what clears the backlog within %s beyond its own drain)", c.drainTime)
	}
	if want == in.count && serving+extra < in.count {
		reason += fmt.Sprintf("; no change: %d already ordered", in.count)
	}
	return want, reason, nil
}

// backlogExtra is the demand per time unit, beyond the serving capacity,
// that a backlog b growing by g per unit needs: the growth itself (the
// arrivals the serving workers do not take) and, for a growing backlog,
// the backlog as it will be a lead later, when ordered workers serve,
// cleared within drain. A shrinking backlog already drains by -g per unit:
// only what that does not clear within drain is asked for. The replay of
// rate mode's calibration models the backlog check with the same rule.
func backlogExtra(b, g, lead, drain float64) float64 {
	if g > 0 {
		return g + (b+g*lead)/drain
	}
	return math.Max(0, g+b/drain)
}

// activeOverride returns the override in force, if any. An override from
// a Nomad Variable wins over the policy file: it is the more recent,
// deliberate act. Among the variables' overrides in force at once (the
// override variable and the events booked under it), a pin wins over a
// minimum (the override variable's pin first, then the event that started
// last) and among minimums the largest count: the others are counted in
// Meta override_overlapping. When none is in force the next scheduled one
// is reported; an expired override variable or policy override is reported
// and otherwise ignored (an expired event is history, not news).
func activeOverride(in input, meta map[string]any) (*manualOverride, string, error) {
	var note string
	var badVariable []string
	if in.variableErr != "" {
		badVariable = append(badVariable, in.variableErr)
		note = "; override variable unreadable, ignored"
	}
	var inForce, scheduled []manualOverride
	var expired *manualOverride
	policyIdx := 1 + len(in.events)
	all := make([]manualOverride, 0, policyIdx+1)
	all = append(append(append(all, in.variable), in.events...), in.cfg.override)
	for i, o := range all {
		st, err := o.state(in.now, in.cfg.overrideMaxDuration)
		if err != nil && i != policyIdx {
			// A bad variable is runtime data, not configuration: report
			// it and decide as if it were absent.
			badVariable = append(badVariable, err.Error())
			note += "; override variable ignored: " + err.Error()
			continue
		}
		if err != nil {
			return nil, "", err
		}
		switch st {
		case overrideActive:
			inForce = append(inForce, o)
		case overrideScheduled:
			scheduled = append(scheduled, o)
		case overrideExpired:
			if expired == nil && (i == 0 || i == policyIdx) {
				expired = &all[i]
			}
		}
	}
	if len(badVariable) > 0 {
		meta["override_variable_error"] = strings.Join(badVariable, "; ")
	}
	if len(in.events) > 0 {
		meta["override_events"] = float64(len(in.events))
	}
	next := soonest(scheduled)
	if winner, ok := winningOverride(inForce); ok {
		addOverride(meta, "active", winner)
		meta["override_count"] = float64(winner.count)
		meta["override_reason"] = winner.reason
		if n := len(inForce) - 1; n > 0 {
			meta["override_overlapping"] = float64(n)
			others := "override"
			if n > 1 {
				others += "s"
			}
			note += fmt.Sprintf("; %d more %s in force, this one wins", n, others)
		}
		// What was noted of the variables (unreadable, scheduled) still
		// shows beside the override in force.
		if next != nil {
			upcoming := fmt.Sprintf("%s, from %s", next.describe(), next.from.UTC().Format(time.RFC3339))
			meta["override_next"] = upcoming
			note += "; next " + upcoming
		}
		return &winner, note, nil
	}
	switch {
	case next != nil:
		addOverride(meta, "scheduled", *next)
		meta["override_count"] = float64(next.count)
		meta["override_reason"] = next.reason
		note += fmt.Sprintf("; %s, from %s", next.describe(), next.from.UTC().Format(time.RFC3339))
	case expired != nil:
		addOverride(meta, "expired", *expired)
		note += fmt.Sprintf("; override from %s expired at %s", expired.source, expired.until.UTC().Format(time.RFC3339))
	}
	return nil, note, nil
}

// winningOverride picks among the overrides in force at once, listed
// variables first (the override variable, then the events by path), the
// policy's last: a variable's over the policy's, a pin over a minimum, the
// pin that started last (the first listed of those starting at once), the
// largest minimum.
func winningOverride(inForce []manualOverride) (manualOverride, bool) {
	if len(inForce) == 0 {
		return manualOverride{}, false
	}
	fromVariable := inForce[:0:0]
	for _, o := range inForce {
		if o.source != sourcePolicy {
			fromVariable = append(fromVariable, o)
		}
	}
	if len(fromVariable) == 0 {
		return inForce[0], true
	}
	var best manualOverride
	for _, o := range fromVariable {
		switch {
		case !best.set:
			best = o
		case best.minimum != o.minimum:
			if best.minimum { // a pin wins over a minimum
				best = o
			}
		case !o.minimum:
			if startedAfter(o, best) { // the pin that started last
				best = o
			}
		case o.count > best.count:
			best = o
		}
	}
	return best, true
}

// startedAfter reports whether a started after b. An override without a
// start began when it was written, which is later than any booked start:
// the operator's latest act.
func startedAfter(a, b manualOverride) bool {
	switch {
	case a.from.IsZero():
		return !b.from.IsZero()
	case b.from.IsZero():
		return false
	}
	return a.from.After(b.from)
}

// soonest is the scheduled override that starts first (the first listed
// of those starting at once), or nil.
func soonest(scheduled []manualOverride) *manualOverride {
	var first *manualOverride
	for i := range scheduled {
		if first == nil || scheduled[i].from.Before(first.from) {
			first = &scheduled[i]
		}
	}
	return first
}

// addOverride reports an override's state, source, mode and times in Meta.
func addOverride(meta map[string]any, state string, o manualOverride) {
	meta["override"] = state
	meta["override_source"] = o.source
	meta["override_mode"] = o.mode()
	meta["override_until"] = o.until.UTC().Format(time.RFC3339)
	if o.from.IsZero() {
		delete(meta, "override_from") // a scheduled one reported before
	} else {
		meta["override_from"] = o.from.UTC().Format(time.RFC3339)
	}
}

func finish(current, want int64, reason string, meta map[string]any) decision {
	want = clampCount(want)
	d := decision{count: want, reason: reason, meta: meta, direction: sdk.ScaleDirectionNone}
	switch {
	case want > current:
		d.direction = sdk.ScaleDirectionUp
	case want < current:
		d.direction = sdk.ScaleDirectionDown
	}
	meta["count"] = float64(want)
	return d
}

func clampCount(n int64) int64 { return min(max(n, 0), maxWorkers) }

func orDash(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func addQuality(meta map[string]any, q seriesQuality) {
	if q.dropped > 0 {
		meta["points_dropped"] = float64(q.dropped)
	}
	if q.duplicates > 0 {
		meta["points_duplicate"] = float64(q.duplicates)
	}
	if q.clamped > 0 {
		meta["points_clamped"] = float64(q.clamped)
	}
}

func addForecast(meta map[string]any, fc forecast, cal calibration, upDemand, holdDemand float64, up, hold int64) {
	meta["forecast_up"] = fc.up
	meta["forecast_hold"] = fc.hold
	meta["trend"] = fc.trend
	meta["recent"] = fc.recent
	meta["seasonal"] = fc.seasonal
	meta["noise_sigma"] = fc.sigma
	meta["margin_units_business"] = cal.margin
	meta["margin_units_off_hours"] = cal.offMargin
	meta["calibration_off_hours_slow_share"] = cal.offShare
	meta["margin_unit"] = fc.upScale
	meta["margin_unit_share"] = cal.relative
	meta["calibration_days"] = float64(cal.days)
	meta["calibration_slow_share"] = cal.share
	meta["calibration_days_missed"] = float64(cal.missed)
	meta["calibration_business_hours"] = cal.hours()
	meta["calibration_hours_moved"] = cal.moved
	meta["calibration_pending"] = cal.pending
	meta["demand_up"] = upDemand
	meta["demand_hold"] = holdDemand
	meta["forecast_workers"] = float64(up)
	meta["hold_workers"] = float64(hold)
}
