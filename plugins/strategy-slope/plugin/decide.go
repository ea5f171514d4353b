package plugin

import (
	"fmt"
	"math"
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
	cfg     config
	// variable is the runtime override read from the Nomad Variable, if
	// one is configured and was readable; variableErr says why not.
	variable    manualOverride
	variableErr string
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
	meta := make(map[string]any, 24) // room for every key, no rehashing
	meta["mode"], meta["current_count"] = in.cfg.mode, float64(in.count)
	addQuality(meta, in.quality)

	pinned, note, err := activeOverride(in, meta)
	if err != nil {
		return decision{}, err
	}
	if pinned != nil {
		reason := fmt.Sprintf("override from %s: %d workers until %s (%s)", pinned.source, pinned.count,
			pinned.until.UTC().Format(time.RFC3339), orDash(pinned.reason))
		return finish(in.count, pinned.count, reason, meta), nil
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
		return decision{}, err
	}
	if in.cfg.floor.active(in.now) && want < in.cfg.floor.count {
		want = in.cfg.floor.count
		reason += fmt.Sprintf("; business-hours floor %d", in.cfg.floor.count)
		meta["floor_applied"] = true
	}
	return finish(in.count, want, reason+note, meta), nil
}

// decideRate forecasts demand and damps scale-in.
func decideRate(in input, meta map[string]any) (int64, string, error) {
	c := in.cfg
	f, err := forecastRate(in.pts, c)
	if err != nil {
		return 0, "", err
	}
	addForecast(meta, f)
	reason := fmt.Sprintf("rate %.0f/min, slope %+.1f/min over %d points; peak %.0f in %.0fm + margin %.0f (z %.2f x sqrt(max(noise %.0f, persistent %.0f)^2 + fit se %.0f^2)) = demand %.0f; workers = ceil(%.0f / %g) = %d",
		f.observed, f.slope, f.points, f.peak, f.peakAt, f.margin, f.z, f.sigma, f.persistent, f.fitSE, f.demand, f.demand, c.capacity, f.workers)
	want := f.workers
	if run := trailingZeroMinutes(in.pts); want < in.count && run > 0 && run <= c.zeroHold.Minutes() {
		meta["zero_run_minutes"] = run
		return in.count, reason + fmt.Sprintf("; no requests for the last %.0fm after traffic: treated as an outage, holding %d", run, in.count), nil
	}
	if want >= in.count {
		return want, reason, nil
	}
	// Scale in only as far as the recent observed peak still fits, and by
	// a bounded step, so that a quiet minute or two never sheds capacity
	// the next burst needs.
	peakWorkers := workersFor(f.recentPeak*(1+c.headroom), c.capacity)
	step := int64(math.Floor(float64(in.count) * c.maxScaleIn))
	if c.maxScaleIn > 0 && step < 1 {
		step = 1
	}
	limited := max(want, peakWorkers, f.holdWorkers, in.count-step)
	meta["scale_in_peak_workers"] = float64(peakWorkers)
	meta["scale_in_forecast_workers"] = float64(f.holdWorkers)
	if limited != want {
		reason += fmt.Sprintf("; scale-in held at %d (recent peak %.0f needs %d, step at most %d)", limited, f.recentPeak, peakWorkers, step)
		meta["scale_in_limited"] = true
	}
	return min(limited, in.count), reason, nil
}

// trailingZeroMinutes is how long the series has been exactly zero at its
// end, after earlier non-zero traffic (0 when the newest value is not zero
// or the whole window is zero). At the volumes this strategy serves, a
// minute without a single request is an outage of the service or of the
// metric, not a drop in demand: the users come back when it ends, often all
// at once, and the fleet must still be there.
func trailingZeroMinutes(pts []point) float64 {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].y != 0 {
			if i == len(pts)-1 {
				return 0
			}
			// pts[i+1] is the first zero point; x of the newest point is 0.
			return -pts[i+1].x + typicalStep(pts)
		}
	}
	return 0
}

// decideBacklog adds the workers that clear the waiting messages within
// drain_time on top of the current count, or votes no change.
func decideBacklog(in input, meta map[string]any) (int64, string, error) {
	if len(in.pts) == 0 {
		return 0, "", fmt.Errorf("backlog mode needs at least one valid point")
	}
	c := in.cfg
	backlog := in.pts[len(in.pts)-1].y
	meta["backlog"] = backlog
	meta["backlog_tolerance"] = c.backlogTolerance
	if backlog <= c.backlogTolerance {
		return in.count, fmt.Sprintf("backlog %.0f within tolerance %.0f", backlog, c.backlogTolerance), nil
	}
	extra := workersFor(backlog, c.capacity*c.drainTime.Minutes())
	meta["backlog_extra_workers"] = float64(extra)
	want := clampCount(in.count + extra)
	return want, fmt.Sprintf("backlog %.0f > tolerance %.0f; workers = %d + ceil(%.0f / (%g x %.1fm)) = %d",
		backlog, c.backlogTolerance, in.count, backlog, c.capacity, c.drainTime.Minutes(), want), nil
}

// activeOverride returns the override in force, if any. The Nomad Variable
// wins over the policy file: it is the more recent, deliberate act. An
// expired override is reported in Meta and the Reason and otherwise ignored.
func activeOverride(in input, meta map[string]any) (*manualOverride, string, error) {
	var note string
	if in.variableErr != "" {
		meta["override_variable_error"] = in.variableErr
		note = "; override variable unreadable, ignored"
	}
	for i, o := range []manualOverride{in.variable, in.cfg.override} {
		st, err := o.state(in.now, in.cfg.overrideMaxDuration)
		if err != nil && i == 0 {
			// A bad variable is runtime data, not configuration: report
			// it and decide as if it were absent.
			meta["override_variable_error"] = err.Error()
			note += "; override variable ignored: " + err.Error()
			continue
		}
		if err != nil {
			return nil, "", err
		}
		switch st {
		case overrideActive:
			meta["override"] = "active"
			meta["override_source"] = o.source
			meta["override_count"] = float64(o.count)
			meta["override_until"] = o.until.UTC().Format(time.RFC3339)
			meta["override_reason"] = o.reason
			return &o, "", nil
		case overrideExpired:
			if _, seen := meta["override"]; !seen {
				meta["override"] = "expired"
				meta["override_source"] = o.source
				meta["override_until"] = o.until.UTC().Format(time.RFC3339)
				note += fmt.Sprintf("; override from %s expired at %s", o.source, o.until.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil, note, nil
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

func addForecast(meta map[string]any, f rateForecast) {
	meta["points"] = float64(f.points)
	meta["observed_rate"] = f.observed
	meta["fitted_rate"] = f.level
	meta["slope_per_min"] = f.slope
	meta["predicted_peak"] = f.peak
	meta["noise_sigma"] = f.sigma
	meta["persistent_sigma"] = f.persistent
	meta["dispersion"] = f.noise.dispersion
	meta["fit_se"] = f.fitSE
	meta["z"] = f.z
	meta["margin"] = f.margin
	meta["demand"] = f.demand
	meta["forecast_workers"] = float64(f.workers)
	meta["recent_peak"] = f.recentPeak
}
