package override

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// when renders an instant in UTC, in the operator's zone and from now.
func when(t, now time.Time, loc *time.Location) string {
	var rel string
	if d := t.Sub(now); d >= 0 {
		rel = "in " + roughly(d)
	} else {
		rel = roughly(-d) + " ago"
	}
	return fmt.Sprintf("%s (%s, %s)", t.UTC().Format(time.RFC3339), t.In(loc).Format("Mon 15:04 MST"), rel)
}

// roughly renders a duration for a person: 45s, 12m, 3h05m.
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	default:
		m := int(d.Round(time.Minute) / time.Minute)
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
}

// next says what the policy's checks will make the agent do at its next
// evaluation, and until when. The agent picks among the checks' votes
// (plugins/strategy-slope/README.md, "Pinning a policy with several
// checks"): a pinned check votes exactly its count, so the policy is pinned
// only when every check is; otherwise the count is at least the override's.
func (pv policyView) next(now time.Time, loc *time.Location) string {
	var pinned, free, minima []checkView
	var scheduled string
	for _, v := range pv.checks {
		switch {
		case v.state == statePinned:
			pinned = append(pinned, v)
		case v.state == stateMinimum:
			minima = append(minima, v)
			free = append(free, v)
		default:
			free = append(free, v)
		}
		if v.state == stateScheduled && scheduled == "" {
			scheduled = fmt.Sprintf("; scheduled: %s from %s until %s", v.amount(), when(v.from, now, loc), when(v.until, now, loc))
		}
	}
	if len(pinned) == 0 && len(minima) > 0 {
		earliest, top := minima[0].until, minima[0].count
		for _, v := range minima[1:] {
			earliest, top = minTime(earliest, v.until), max(top, v.count)
		}
		return fmt.Sprintf("at least %d until %s: the checks decide from their metrics, never below it%s", top, when(earliest, now, loc), scheduled)
	}
	if len(pinned) == 0 {
		if len(pv.policy.slopeChecks()) == 0 {
			return "no check uses strategy-slope: no override applies"
		}
		return "no active override: the checks decide from their metrics" + scheduled
	}
	earliest, top := pinned[0].until, pinned[0].count
	same := true
	for _, v := range pinned[1:] {
		if v.until.Before(earliest) {
			earliest = v.until
		}
		same = same && v.count == top
		top = max(top, v.count)
	}
	var s string
	switch {
	case len(free) > 0:
		var names []string
		for _, v := range free {
			names = append(names, fmt.Sprintf("%q", v.check))
		}
		s = fmt.Sprintf("at least %d until %s: check %s not pinned, may add workers on top (pin every check to pin the policy)",
			top, when(earliest, now, loc), strings.Join(names, ", "))
	case same:
		s = fmt.Sprintf("pinned at %d until %s", top, when(earliest, now, loc))
	default:
		s = fmt.Sprintf("pinned at %d, the largest of its checks' overrides, until %s", top, when(earliest, now, loc))
	}
	switch p := pv.policy; {
	case top > p.max:
		s += fmt.Sprintf("; the agent caps it at max %d", p.max)
	case top < p.min:
		s += fmt.Sprintf("; the agent raises it to min %d", p.min)
	}
	return s
}

// amount is an override's count in words: "40" pinned, "at least 40".
func (v checkView) amount() string {
	if v.minimum {
		return fmt.Sprintf("at least %d", v.count)
	}
	return fmt.Sprintf("pinned at %d", v.count)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// describe is one check's line.
func (v checkView) describe(now time.Time, loc *time.Location) string {
	var s string
	switch v.state {
	case statePinned:
		s = fmt.Sprintf("pinned at %d until %s by %s: %q", v.count, when(v.until, now, loc), v.source, v.reason)
	case stateMinimum:
		s = fmt.Sprintf("at least %d until %s by %s: %q", v.count, when(v.until, now, loc), v.source, v.reason)
	case stateScheduled:
		s = fmt.Sprintf("no override yet: %s from %s until %s by %s: %q", v.amount(), when(v.from, now, loc), when(v.until, now, loc), v.source, v.reason)
	case stateExpired:
		s = fmt.Sprintf("no override: the one from %s expired at %s", v.source, v.until.UTC().Format(time.RFC3339))
	case stateNone:
		s = "no override"
	case stateOther:
		return fmt.Sprintf("strategy %q is not strategy-slope: no override applies", v.strategy)
	case stateError:
		return "the strategy refuses this check's config: " + v.note
	}
	if v.note != "" {
		s += "; " + v.note
	}
	return s
}

// render writes the views of every policy.
func render(w io.Writer, views []policyView, now time.Time, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, pv := range views {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		p := pv.policy
		fmt.Fprintf(tw, "policy %q in %s (min %d, max %d)\n", p.name, p.file, p.min, p.max)
		fmt.Fprintf(tw, "  next:\t%s\n", pv.next(now, loc))
		for _, v := range pv.checks {
			fmt.Fprintf(tw, "  check %q:\t%s\n", v.check, v.describe(now, loc))
		}
		if pv.calendarPath != "" {
			renderCalendar(tw, pv.calendarPath, pv.events, pv.calendarErr, now, loc)
		}
	}
	return tw.Flush()
}
