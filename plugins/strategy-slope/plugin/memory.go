package plugin

import (
	"sync"
	"time"
)

// checkMemory is what the strategy remembers between Runs, per check. The
// agent passes only the current count and the check's metrics, so two
// things a decision needs are kept here:
//
//   - the recent increases of the count, to estimate how many workers
//     still boot. target-gce-gpu drains only serving workers on a scale-in
//     (a booting VM has no Nomad node to drain), so a scale-in soon after a
//     scale-up removes serving capacity while the new workers are not yet
//     there: the count looks right, the capacity is not. An increase seen
//     less than lead ago is assumed still booting.
//   - recent backlog readings, so backlog mode can tell a queue that grows
//     (arrivals above the serving capacity) from one that drains.
//
// The memory is an estimate, lost on restart: until a check has been
// watched for lead, observeCount says it does not know, and decideRate then
// holds the count rather than scale in blind; until a backlog reading is a
// minute old, backlog mode uses its rule for an unknown growth.
type checkMemory struct {
	mu     sync.Mutex
	checks map[string]*checkHistory
}

// maxTrackedChecks bounds the memory; checks unseen for longest go first.
const maxTrackedChecks = 1024

type checkHistory struct {
	since, lastSeen time.Time
	last            int64
	rises           []countRise
	// backlogs are readings kept for growth: at most one per
	// backlogSampleEvery, none older than maxGrowthGap.
	backlogs []backlogReading
}

// countRise is an increase of the count first seen at a time.
type countRise struct {
	at time.Time
	n  int64
}

type backlogReading struct {
	at      time.Time
	backlog float64
}

const (
	// forgetAfter is how long a check may go unseen before its history is
	// started over: the agent lost the lock, the policy was removed, the
	// clock jumped. Shorter gaps (a Scale that blocks through a long drain,
	// a slow evaluation interval) lose nothing: an increase made meanwhile
	// is seen in the next count and counted as booting from then, which
	// errs on the safe side.
	forgetAfter = time.Hour
	// minGrowthGap is the shortest span a backlog growth is measured over:
	// over a few seconds (the demo evaluates every 2 s) the ready count
	// moves by single deliveries, and a rate from that is noise.
	minGrowthGap = time.Minute
	// maxGrowthGap is the longest: a growth averaged over longer says
	// little about the queue now.
	maxGrowthGap = 10 * time.Minute
	// backlogSampleEvery spaces the kept readings, which bounds them to
	// maxGrowthGap / backlogSampleEvery.
	backlogSampleEvery = minGrowthGap / 4
)

// entry returns check key's history at now, started over after a gap of
// more than forgetAfter or a clock going back. The caller holds mu.
func (b *checkMemory) entry(key string, now time.Time, count int64) *checkHistory {
	if b.checks == nil {
		b.checks = make(map[string]*checkHistory)
	}
	h, ok := b.checks[key]
	if !ok || now.Before(h.lastSeen) || now.Sub(h.lastSeen) > forgetAfter {
		if !ok && len(b.checks) >= maxTrackedChecks {
			b.evictOldest()
		}
		h = &checkHistory{since: now, last: count}
		b.checks[key] = h
	}
	return h
}

// observeCount records that check key has count at now and returns the
// workers estimated to boot, and whether the check was watched for at
// least lead.
func (b *checkMemory) observeCount(key string, now time.Time, count int64, lead time.Duration) (booting int64, known bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.entry(key, now, count)
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

// observeBacklog records check key's backlog at now (after observeCount for
// the same Run) and returns its growth per minute since the newest
// reading at least minGrowthGap old; ok is false when there is none
// within maxGrowthGap.
func (b *checkMemory) observeBacklog(key string, now time.Time, backlog float64) (perMinute float64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.entry(key, now, 0)
	h.lastSeen = now
	kept := h.backlogs[:0]
	for _, r := range h.backlogs {
		if age := now.Sub(r.at); age > 0 && age <= maxGrowthGap {
			kept = append(kept, r)
		}
	}
	h.backlogs = kept
	for i := len(kept) - 1; i >= 0; i-- {
		if age := now.Sub(kept[i].at); age >= minGrowthGap {
			perMinute, ok = (backlog-kept[i].backlog)/age.Minutes(), true
			break
		}
	}
	if n := len(kept); n == 0 || now.Sub(kept[n-1].at) >= backlogSampleEvery {
		h.backlogs = append(h.backlogs, backlogReading{at: now, backlog: backlog})
	}
	return perMinute, ok
}

func (b *checkMemory) evictOldest() {
	var oldest string
	var at time.Time
	for k, h := range b.checks {
		if oldest == "" || h.lastSeen.Before(at) {
			oldest, at = k, h.lastSeen
		}
	}
	delete(b.checks, oldest)
}
