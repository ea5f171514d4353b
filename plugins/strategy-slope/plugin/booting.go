package plugin

import (
	"sync"
	"time"
)

// bootTracker estimates, per check, how many workers of the current count
// still boot. target-gce-gpu drains only serving workers on a scale-in (a
// booting VM has no Nomad node to drain), so a scale-in soon after a
// scale-up removes serving capacity while the new workers are not yet
// there: the count looks right, the capacity is not. The agent passes
// only the count, so the tracker remembers its recent increases: an
// increase seen less than lead ago is assumed still booting.
//
// The memory is an estimate, lost on restart; until a check has been
// watched for lead, the tracker says it does not know, and decideRate then
// holds the count rather than scale in blind.
type bootTracker struct {
	mu     sync.Mutex
	checks map[string]*countHistory
}

// maxTrackedChecks bounds the tracker; checks unseen for longest go first.
const maxTrackedChecks = 1024

type countHistory struct {
	since, lastSeen time.Time
	last            int64
	rises           []countRise
}

// countRise is an increase of the count first seen at a time.
type countRise struct {
	at time.Time
	n  int64
}

// forgetAfter is how long a check may go unseen before its history is
// started over: the agent lost the lock, the policy was removed, the clock
// jumped. Shorter gaps (a Scale that blocks through a long drain, a slow
// evaluation interval) lose nothing: an increase made meanwhile is seen
// in the next count and counted as booting from then, which errs on the
// safe side.
const forgetAfter = time.Hour

// observe records that check key has count at now and returns the workers
// estimated to boot, and whether the check was watched for at least lead.
// A gap of more than forgetAfter between calls, or a clock going back,
// starts the history over.
func (b *bootTracker) observe(key string, now time.Time, count int64, lead time.Duration) (booting int64, known bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.checks == nil {
		b.checks = make(map[string]*countHistory)
	}
	h, ok := b.checks[key]
	if !ok || now.Before(h.lastSeen) || now.Sub(h.lastSeen) > forgetAfter {
		if !ok && len(b.checks) >= maxTrackedChecks {
			b.evictOldest()
		}
		h = &countHistory{since: now, last: count}
		b.checks[key] = h
	}
	if count > h.last {
		h.rises = append(h.rises, countRise{at: now, n: count - h.last})
	}
	h.last, h.lastSeen = count, now
	kept := h.rises[:0]
	for _, r := range h.rises {
		if now.Sub(r.at) < lead {
			kept = append(kept, r)
			booting += r.n
		}
	}
	h.rises = kept
	return min(booting, count), now.Sub(h.since) >= lead
}

func (b *bootTracker) evictOldest() {
	var oldest string
	var at time.Time
	for k, h := range b.checks {
		if oldest == "" || h.lastSeen.Before(at) {
			oldest, at = k, h.lastSeen
		}
	}
	delete(b.checks, oldest)
}
