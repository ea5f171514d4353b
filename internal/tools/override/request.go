package override

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxWorkers is the largest count strategy-slope accepts.
const maxWorkers = 1_000_000_000

// request is an override to set: exactly count workers until until.
type request struct {
	count  int64
	until  time.Time
	reason string
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
	switch maxAhead, check, err := p.maxDuration(); {
	case err != nil:
		errs = append(errs, err)
	case !r.until.After(now):
		errs = append(errs, fmt.Errorf("-until %s: in the past (now %s)", until, now.UTC().Format(time.RFC3339)))
	case len(slope) > 0 && r.until.Sub(now) > maxAhead:
		errs = append(errs, fmt.Errorf("-until %s: %s ahead, more than %s %s of check %q",
			until, roughly(r.until.Sub(now)), keyMaxDuration, maxAhead, check))
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
