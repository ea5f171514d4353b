package plugin

import (
	"sync"
	"time"
)

// Bounds of the per-minute cache. An entry holds at most maxCachedMinutes
// float64 counts (518 kB), so the cache holds at most 64 x 518 kB = 33 MB.
const (
	// maxCachedQueries is the number of queries kept; the least recently
	// used goes first. A policy check is one query, so this is far more
	// than an agent needs, and a bound if queries vary.
	maxCachedQueries = 64
	// maxCachedMinutes caps one entry at 45 days of minutes: the
	// strategy's policy reads four weeks, and strategy-slope lays at most
	// 45 days of minutes on its grid. A longer window is served its newest
	// 45 days from the cache and reads the rest on every query. (At 10
	// days, a 28-day window read 18 days of rows every evaluation.)
	maxCachedMinutes = 45 * 24 * 60
	// reachMemory is how long the longest window asked of an entry
	// protects its minutes (one to two periods, see cacheEntry): long
	// enough to span the evaluation interval of any policy sharing the
	// query, short enough that the minutes of a removed long window go
	// within two hours.
	reachMemory = time.Hour
	// reachSlack keeps a few minutes more than the longest window asks,
	// so that a window starting a little earlier next time (the agent's
	// clock, a query_window_offset) still finds them.
	reachSlack = 5 * time.Minute
	// readChunkMinutes is the most minutes read in one statement: 6 hours,
	// under a second on a busy 2-core machine with the recommended index.
	// Each chunk read is kept at once, so a cold long window that does not
	// fit in query_timeout is finished by the next queries. A statement
	// costs about 0.1 ms besides its counts: 32 of them for 8 days.
	readChunkMinutes = 6 * 60
)

// cacheKey is everything that decides a per-minute count besides the
// minute. The DSN, and with it the database and the session time zone, is
// not in it: the cache belongs to one configuration and goes with it.
type cacheKey struct {
	kind                      queryKind
	table, timeColumn         string // quoted identifiers, from the config
	filterColumn, filterValue string // empty: no filter
}

// cacheEntry is what the cache knows of one query.
type cacheEntry struct {
	run  minuteRun // settled minutes only
	used uint64    // the cache's clock at the last use, for LRU eviction
	// A window's reach is how far back from the time of asking it starts.
	// The entry keeps the minutes of the longest reach asked in the
	// current period of reachMemory and in the one before, so a window
	// asked within the last reachMemory always finds its minutes, and the
	// minutes of a window no longer asked go after two periods at most.
	period               time.Time // start of the current period
	reachNow, reachPrior time.Duration
}

// reach is the longest reach asked in the current and the previous period.
func (e *cacheEntry) reach() time.Duration { return max(e.reachNow, e.reachPrior) }

// minuteCache keeps the counts of settled minutes per query. Its methods do
// no I/O and hold the lock only for map work and merges, never across a
// database round trip, so unrelated queries do not wait for each other. Two
// queries of the same key may both read the same minutes; since settled
// counts do not change, merging either read gives the same cache.
type minuteCache struct {
	settle     time.Duration
	maxEntries int
	maxMinutes int

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	clock   uint64 // counts uses, orders entries for LRU eviction
}

// newMinuteCache returns an empty cache with the package's bounds. A minute
// is cached once it ended at least settle ago.
func newMinuteCache(settle time.Duration) *minuteCache {
	return &minuteCache{
		settle:     settle,
		maxEntries: maxCachedQueries,
		maxMinutes: maxCachedMinutes,
		entries:    make(map[cacheKey]*cacheEntry),
	}
}

// cached returns the part of w that the cache can serve for k (empty when
// none) and records that w was asked at now. Only settled minutes are
// returned: if the clock went back, minutes cached earlier may not be
// settled any more and are read again.
func (c *minuteCache) cached(k cacheKey, w minuteWindow, now time.Time) minuteRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return minuteRun{}
	}
	c.touch(e, w, now)
	end := w.end
	if s := settledEnd(now, c.settle); s.Before(end) {
		end = s
	}
	return e.run.within(w.start, end)
}

// keep merges the settled minutes of fresh, just read for the window w
// asked at now, into k's entry, and bounds the entry. An entry is created
// only when there is something to keep, so failing queries take no room.
func (c *minuteCache) keep(k cacheKey, w minuteWindow, fresh minuteRun, now time.Time) {
	settled := settledEnd(now, c.settle)
	fresh = fresh.within(fresh.start, settled)
	if fresh.empty() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		e = &cacheEntry{}
		c.entries[k] = e
	}
	c.touch(e, w, now)
	c.evictLeastRecentlyUsed()
	keepFrom := now.Add(-e.reach() - reachSlack)
	e.run = mergeRuns([]minuteRun{e.run.within(e.run.start, settled), fresh}, keepFrom, c.maxMinutes)
}

// touch marks e as just used and records the reach of w.
func (c *minuteCache) touch(e *cacheEntry, w minuteWindow, now time.Time) {
	c.clock++
	e.used = c.clock
	switch since := now.Sub(e.period); {
	case since >= 2*reachMemory:
		e.period, e.reachNow, e.reachPrior = now, 0, 0
	case since >= reachMemory:
		e.period, e.reachNow, e.reachPrior = e.period.Add(reachMemory), 0, e.reachNow
	}
	e.reachNow = max(e.reachNow, now.Sub(w.start))
}

// evictLeastRecentlyUsed drops entries beyond maxEntries, oldest use
// first. A linear scan: there are at most maxEntries + 1.
func (c *minuteCache) evictLeastRecentlyUsed() {
	for len(c.entries) > c.maxEntries {
		var (
			oldest cacheKey
			used   uint64
			found  bool
		)
		for k, e := range c.entries {
			if !found || e.used < used {
				oldest, used, found = k, e.used, true
			}
		}
		delete(c.entries, oldest)
	}
}
