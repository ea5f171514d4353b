package override

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxWorkers is the largest count strategy-slope accepts.
const maxWorkers = 1_000_000_000

// request is an override to set: exactly count workers (at least count,
// with minimum) until until, from from when it is set.
type request struct {
	count   int64
	from    time.Time // zero: at once
	until   time.Time
	minimum bool
	reason  string
}

// scheduled reports whether the override starts after now.
func (r request) scheduled(now time.Time) bool { return r.from.After(now) }

// describe is the override in words: "at least 300 workers from ... until ...".
func (r request) describe(now time.Time, loc *time.Location) string {
	s := fmt.Sprintf("%d workers", r.count)
	if r.minimum {
		s = "at least " + s
	}
	if r.scheduled(now) {
		s += " from " + when(r.from, now, loc)
	}
	return s + " until " + when(r.until, now, loc)
}

// validate checks the request against the policy at now. Every problem is
// reported, each naming the flag and the policy setting it breaks; nothing
// is written when any is found.
func (r request) validate(p policy, now time.Time) error {
	var errs []error
	slope := p.slopeChecks()
	if len(slope) == 0 {
		errs = append(errs, noSlopeChecks(p))
	}
	if r.count < 0 || r.count > maxWorkers {
		errs = append(errs, fmt.Errorf("-count %d: must be from 0 to %d", r.count, maxWorkers))
	} else if r.count < p.min || r.count > p.max {
		errs = append(errs, fmt.Errorf("-count %d: outside policy %q's min %d and max %d (the agent would cap the count there)", r.count, p.name, p.min, p.max))
	}
	until := r.until.UTC().Format(time.RFC3339)
	// The strategy's guard counts from the start when that is later.
	start, after := now, "ahead"
	if r.scheduled(now) {
		start, after = r.from, "after -from"
	}
	switch maxAhead, check, err := p.maxDuration(); {
	case err != nil:
		errs = append(errs, err)
	case !r.until.After(now):
		errs = append(errs, fmt.Errorf("-until %s: in the past (now %s)", until, now.UTC().Format(time.RFC3339)))
	case !r.from.IsZero() && !r.from.Before(r.until):
		errs = append(errs, fmt.Errorf("-from %s: not before -until %s", r.from.UTC().Format(time.RFC3339), until))
	case len(slope) > 0 && r.until.Sub(start) > maxAhead:
		errs = append(errs, fmt.Errorf("-until %s: %s %s, more than %s %s of check %q",
			until, roughly(r.until.Sub(start)), after, keyMaxDuration, maxAhead, check))
	}
	if strings.TrimSpace(r.reason) == "" {
		errs = append(errs, errors.New("-reason: required: who asked and why (an incident or change number), shown in every decision the agent logs"))
	}
	return errors.Join(errs...)
}

// noSlopeChecks is the error for a policy no override can pin.
func noSlopeChecks(p policy) error {
	return fmt.Errorf("policy %q in %s: no check uses the strategy-slope block label (-strategy): nothing reads an override", p.name, p.file)
}
