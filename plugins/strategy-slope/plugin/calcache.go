package plugin

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// The calibration replays a week of decisions: a few milliseconds that
// need not be spent every minute, because the margin it finds changes with
// days of history, not with the newest minute. calibratedMargin therefore
// calibrates on whole hours (blockRange), and keeps the answer per check
// while that data is the same, with where its searches ended: the next
// hour's calibration starts there (search.go).
//
// Nor need the evaluation wait for it. When a new hour has completed, the
// evaluation that sees it starts the new calibration in the background and
// decides with the last one; the next evaluation, a minute later, takes the
// new one (it takes a few milliseconds). So every evaluation but the first
// of a check after a start, which has nothing to fall back on, costs the
// same fraction of a millisecond. Only the last answer's window moved on by
// an hour or two is used meanwhile: a change of the check's configuration or
// query window, or data that is not the same window later, is calibrated at
// once, since the last answer was for something else. Replays
// (cmd/backtest) run the background calibration at once instead, and take
// it at the next evaluation as the agent's plugin does, so that they
// decide alike and the same run gives the same figures.

// calibrationBlock is the granularity of the calibrated range for a
// window of up to blockWindow; a longer window calibrates in blocks as
// many times longer (to the nearest whole number, then up to a divisor of
// a day), so that the replays of a day cost about what an 8-day window's
// cost: a 28-day window calibrates every 4 hours. Only whole days are judged once the window
// holds one (calibrate.go), so a longer block changes the margin little;
// it learns a finished day at most a block after its end, before the next
// business day of a day whose business hours leave a block of night.
const (
	calibrationBlock = time.Hour
	blockWindow      = 8 * 24 * time.Hour
)

// maxDeferredBlocks is how many blocks older than the new data the last
// answer may be and still be used while the new one is calibrated.
const maxDeferredBlocks = 2

// blockOf is the calibration block for a window of span.
func blockOf(span time.Duration) time.Duration {
	n := max(int(math.Round(float64(span)/float64(blockWindow))), 1)
	for 24%n != 0 {
		n++
	}
	return time.Duration(n) * calibrationBlock
}

// maxCachedCalibrations bounds the cache; the least recently used goes.
const maxCachedCalibrations = 256

// marginCache keeps the last calibration of each check.
type marginCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List
	buffers sync.Pool
	// spawn runs a background calibration: in a goroutine for the agent,
	// at once for replays and tests (see newMarginCache).
	spawn func(func())
	// running counts the background calibrations in flight (settle).
	running sync.WaitGroup
	// calibrate is calibrateHinted (tests replace it).
	calibrate func(g *grid, lo, hi int, p forecasterParams, r replayRules, buf *replayBuffers, hints searchHints) (calibration, searchHints)
}

type marginEntry struct {
	key   string
	hash  uint64 // of the data and rules cal came from
	rules uint64 // of the rules alone (rulesHash)
	// slots and end are the calibrated range's length and end (Unix
	// seconds).
	slots  int
	end    float64
	cal    calibration
	hints  searchHints // where the calibration's searches ended
	update *pendingCalibration
}

// pendingCalibration is a calibration of newer data, running or done and
// not yet taken.
type pendingCalibration struct {
	hash  uint64
	end   float64
	done  chan struct{}
	cal   calibration
	hints searchHints
	// failed is what the calibration panicked with: then nothing is taken,
	// and the next evaluation calibrates at once, where Run's recovery
	// reports the panic to the agent instead of it ending the plugin.
	failed any
}

func (pc *pendingCalibration) finished() bool {
	select {
	case <-pc.done:
		return true
	default:
		return false
	}
}

// newMarginCache returns a cache whose background calibrations run at once
// (deterministic: replays and tests); the plugin sets spawn to start a
// goroutine.
func newMarginCache() *marginCache {
	return &marginCache{
		entries:   make(map[string]*list.Element),
		order:     list.New(),
		buffers:   sync.Pool{New: func() any { return new(replayBuffers) }},
		spawn:     func(f func()) { f() },
		calibrate: calibrateHinted,
	}
}

// settle waits for the background calibrations in flight.
func (mc *marginCache) settle() { mc.running.Wait() }

// calibratedMargin returns the calibration of check key over the whole
// blocks of g: from the cache when the same data was calibrated before;
// the last one, with pending set, while a calibration of newer data runs
// in the background; a new one at once for a check it has none of, or
// whose rules changed.
func (mc *marginCache) calibratedMargin(key string, g *grid, p forecasterParams, r replayRules) calibration {
	lo, hi := blockRange(g)
	if hi-lo <= p.horizon+p.settle {
		return calibration{margin: defaultMargin, offMargin: defaultMargin, relative: relativeScale,
			young: young(g.len(), g.step)}
	}
	rules := rulesHash(p, r)
	h := rangeHash(g, lo, hi, rules)
	end := g.newest - float64(g.len()-hi-1)*g.step*60
	now := func(hints searchHints) calibration {
		cal, found := mc.calibrateNow(g, lo, hi, p, r, hints)
		mc.store(key, &marginEntry{key: key, hash: h, rules: rules, slots: hi - lo, end: end, cal: cal, hints: found})
		return cal
	}
	mc.mu.Lock()
	e, ok := mc.entries[key]
	if !ok {
		mc.mu.Unlock()
		return now(searchHints{})
	}
	mc.order.MoveToFront(e)
	entry := e.Value.(*marginEntry)
	failed := false
	if u := entry.update; u != nil && u.finished() {
		entry.update = nil
		if failed = u.failed != nil; !failed {
			entry.hash, entry.end, entry.cal, entry.hints = u.hash, u.end, u.cal, u.hints
		}
	}
	later := end - entry.end
	switch {
	case entry.hash == h:
		cal := entry.cal
		mc.mu.Unlock()
		return cal
	case failed || entry.rules != rules || entry.slots != hi-lo || later <= 0 || later > maxDeferredBlocks*gridBlock(g).Seconds():
		hints := entry.hints
		mc.mu.Unlock()
		return now(hints)
	case entry.update == nil:
		u := &pendingCalibration{hash: h, end: end, done: make(chan struct{})}
		entry.update = u
		sub, hints := g.sub(lo, hi), entry.hints
		mc.running.Add(1)
		defer mc.spawn(func() {
			defer mc.running.Done()
			defer close(u.done)
			defer func() { u.failed = recover() }()
			u.cal, u.hints = mc.calibrateNow(sub, 0, sub.len(), p, r, hints)
		})
	}
	cal := entry.cal
	mc.mu.Unlock() // before the deferred spawn: an inline calibration holds no lock
	cal.pending = true
	return cal
}

// calibrateNow calibrates slots [lo, hi) of g with buffers from the pool.
func (mc *marginCache) calibrateNow(g *grid, lo, hi int, p forecasterParams, r replayRules, hints searchHints) (calibration, searchHints) {
	buf := mc.buffers.Get().(*replayBuffers)
	defer mc.buffers.Put(buf)
	return mc.calibrate(g, lo, hi, p, r, buf, hints)
}

// store puts entry in the cache in place of the check's last one.
func (mc *marginCache) store(key string, entry *marginEntry) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if e, ok := mc.entries[key]; ok {
		e.Value = entry
		mc.order.MoveToFront(e)
		return
	}
	mc.entries[key] = mc.order.PushFront(entry)
	if mc.order.Len() > maxCachedCalibrations {
		oldest := mc.order.Back()
		mc.order.Remove(oldest)
		delete(mc.entries, oldest.Value.(*marginEntry).key)
	}
}

// blockRange is the slots [lo, hi) of g that the calibration replays: the
// most whole blocks that end at the last boundary at or before the end of
// its newest slot and that the window holds at every minute of the block
// (one block fewer than fit when its ends are aligned). So the range moves
// once a block, by one block, and keeps its length while the query window
// does: when it was "from the first boundary after the oldest slot", the
// range was a block longer in the one minute a block when both ends were
// aligned, and each block was calibrated twice.
func blockRange(g *grid) (lo, hi int) {
	n := g.len()
	stepSec := math.Round(g.step * 60)
	block := gridBlock(g).Seconds()
	end := g.newest + stepSec // the newest slot ends here
	lastBoundary := math.Floor(end/block) * block
	hi = max(min(n-int(math.Round((end-lastBoundary)/stepSec)), n), 0)
	perBlock := max(int(math.Round(block/stepSec)), 1)
	blocks := (n - (perBlock - 1)) / perBlock
	return max(hi-max(blocks, 0)*perBlock, 0), hi
}

// gridBlock is the calibration block of g's window.
func gridBlock(g *grid) time.Duration {
	return blockOf(time.Duration(float64(g.len()) * g.step * float64(time.Minute)))
}

// fnv1a is an FNV-1a hash over 64-bit words.
type fnv1a uint64

// The FNV-1a 64-bit offset basis and prime.
const (
	fnvOffset fnv1a = 14695981039346656037
	fnvPrime  fnv1a = 1099511628211
)

func (h *fnv1a) mix(x uint64) { *h = (*h ^ fnv1a(x)) * fnvPrime }

// rangeHash identifies the calibration's input: the slots' values and
// rules, the rulesHash of every parameter the replay uses.
func rangeHash(g *grid, lo, hi int, rules uint64) uint64 {
	h := fnvOffset
	// Four independent lanes, folded in at the end: one FNV chain over a
	// week of minutes is a chain of 11,520 dependent multiplications,
	// four run side by side (this hash is checked on every evaluation).
	v := g.v[lo:hi]
	var lane [4]uint64
	for i := range lane {
		lane[i] = uint64(h) + uint64(i)
	}
	for ; len(v) >= 4; v = v[4:] {
		lane[0] = (lane[0] ^ math.Float64bits(v[0])) * uint64(fnvPrime)
		lane[1] = (lane[1] ^ math.Float64bits(v[1])) * uint64(fnvPrime)
		lane[2] = (lane[2] ^ math.Float64bits(v[2])) * uint64(fnvPrime)
		lane[3] = (lane[3] ^ math.Float64bits(v[3])) * uint64(fnvPrime)
	}
	for _, x := range v {
		h.mix(math.Float64bits(x))
	}
	for _, l := range lane {
		h.mix(l)
	}
	h.mix(uint64(hi - lo))
	h.mix(math.Float64bits(g.newest - float64(g.len()-hi)*g.step*60))
	h.mix(rules)
	return uint64(h)
}

// rulesHash identifies every parameter the replay uses: the check's rules,
// without its data.
func rulesHash(p forecasterParams, r replayRules) uint64 {
	h := fnvOffset
	for _, x := range []float64{r.step, float64(p.lead), float64(p.horizon), p.trendDecay, p.noiseDecay, p.fastDecay, float64(p.settle),
		r.maxWait, r.offWait, r.slowShare, r.timeout, r.unavailable, r.drain, r.perWorker, float64(r.bizStart), float64(r.bizEnd), float64(r.worstIn)} {
		h.mix(math.Float64bits(x))
	}
	for _, l := range p.lags {
		h.mix(uint64(l))
	}
	for _, c := range r.loc.String() {
		h.mix(uint64(c))
	}
	return uint64(h)
}
