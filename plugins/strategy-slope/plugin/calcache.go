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
// calibrates on whole hours: the data from the first hour boundary after
// the window's start to the last boundary before its end, and keeps the
// answer per check while that data is the same, with where its searches
// ended: the next hour's calibration starts there (search.go). A restart
// costs one calibration from nothing.

// calibrationBlock is the granularity of the calibrated range.
const calibrationBlock = time.Hour

// maxCachedCalibrations bounds the cache; the least recently used goes.
const maxCachedCalibrations = 256

// marginCache keeps the last calibration of each check.
type marginCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List
	buffers sync.Pool
}

type marginEntry struct {
	key   string
	hash  uint64
	cal   calibration
	hints searchHints // where the calibration's searches ended
}

func newMarginCache() *marginCache {
	return &marginCache{
		entries: make(map[string]*list.Element),
		order:   list.New(),
		buffers: sync.Pool{New: func() any { return new(replayBuffers) }},
	}
}

// calibratedMargin returns the calibration of check key over the whole
// blocks of g, from the cache when the same data was calibrated before.
func (mc *marginCache) calibratedMargin(key string, g *grid, p forecasterParams, r replayRules) calibration {
	lo, hi := blockRange(g)
	if hi-lo <= p.horizon+p.settle {
		return calibration{margin: defaultMargin, offMargin: defaultMargin, relative: relativeScale,
			young: young(g.len(), g.step)}
	}
	h := rangeHash(g, lo, hi, p, r)
	var hints searchHints
	mc.mu.Lock()
	if e, ok := mc.entries[key]; ok {
		entry := e.Value.(*marginEntry)
		if entry.hash == h {
			mc.order.MoveToFront(e)
			mc.mu.Unlock()
			return entry.cal
		}
		hints = entry.hints
	}
	mc.mu.Unlock()

	buf := mc.buffers.Get().(*replayBuffers)
	cal, found := calibrateHinted(g, lo, hi, p, r, buf, hints)
	mc.buffers.Put(buf)

	entry := &marginEntry{key: key, hash: h, cal: cal, hints: found}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if e, ok := mc.entries[key]; ok {
		e.Value = entry
		mc.order.MoveToFront(e)
		return cal
	}
	mc.entries[key] = mc.order.PushFront(entry)
	if mc.order.Len() > maxCachedCalibrations {
		oldest := mc.order.Back()
		mc.order.Remove(oldest)
		delete(mc.entries, oldest.Value.(*marginEntry).key)
	}
	return cal
}

// blockRange is the slots [lo, hi) of g from the first block boundary
// after its oldest slot to the last boundary at or before the end of its
// newest slot.
func blockRange(g *grid) (lo, hi int) {
	n := g.len()
	stepSec := math.Round(g.step * 60)
	block := calibrationBlock.Seconds()
	end := g.newest + stepSec // the newest slot ends here
	start := g.newest - float64(n-1)*stepSec
	lastBoundary := math.Floor(end/block) * block
	firstBoundary := math.Ceil(start/block) * block
	hi = n - int(math.Round((end-lastBoundary)/stepSec))
	lo = int(math.Round((firstBoundary - start) / stepSec))
	return max(lo, 0), max(min(hi, n), 0)
}

// rangeHash identifies the calibration's input: the slots' values and
// every parameter the replay uses (FNV-1a over their bits).
func rangeHash(g *grid, lo, hi int, p forecasterParams, r replayRules) uint64 {
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		h ^= x
		h *= 1099511628211
	}
	// Four independent lanes, folded in at the end: one FNV chain over a
	// week of minutes is a chain of 11,520 dependent multiplications,
	// four run side by side (this hash is checked on every evaluation).
	v := g.v[lo:hi]
	var lane [4]uint64
	for i := range lane {
		lane[i] = h + uint64(i)
	}
	for ; len(v) >= 4; v = v[4:] {
		lane[0] = (lane[0] ^ math.Float64bits(v[0])) * 1099511628211
		lane[1] = (lane[1] ^ math.Float64bits(v[1])) * 1099511628211
		lane[2] = (lane[2] ^ math.Float64bits(v[2])) * 1099511628211
		lane[3] = (lane[3] ^ math.Float64bits(v[3])) * 1099511628211
	}
	for _, x := range v {
		mix(math.Float64bits(x))
	}
	for _, l := range lane {
		mix(l)
	}
	mix(uint64(hi - lo))
	mix(math.Float64bits(g.newest - float64(g.len()-hi)*g.step*60))
	mix(math.Float64bits(g.step))
	for _, x := range []float64{float64(p.lead), float64(p.horizon), p.trendDecay, p.noiseDecay, float64(p.settle),
		r.maxWait, r.offWait, r.slowShare, r.timeout, r.unavailable, r.drain, r.perWorker, float64(r.bizStart), float64(r.bizEnd), r.step} {
		mix(math.Float64bits(x))
	}
	for _, l := range p.lags {
		mix(uint64(l))
	}
	for _, c := range r.loc.String() {
		mix(uint64(c))
	}
	return h
}
