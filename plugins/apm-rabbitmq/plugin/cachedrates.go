package plugin

import (
	"context"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// cachedRates is a rateSource that answers requests_per_minute from a cache
// of settled minutes and reads only the minutes it lacks from the source
// underneath: an 8-day window asked every minute then costs one short read
// of the newest minutes instead of 11,520 counts. The answer is the one the
// source would give for the whole window. Series and Close go straight to
// the source: an operator's SQL is not known to be per minute.
type cachedRates struct {
	rateSource
	table, timeColumn string // the config's, part of every key
	now               func() time.Time
	cache             *minuteCache
}

var _ rateSource = (*cachedRates)(nil)

// newCachedRates puts an empty cache in front of src. The cache lives as
// long as the backend, so a new configuration starts with an empty one.
func newCachedRates(src rateSource, c config, now func() time.Time) *cachedRates {
	return &cachedRates{
		rateSource: src,
		table:      c.requestsTable.Sanitize(),
		timeColumn: c.requestsTimeColumn.Sanitize(),
		now:        now,
		cache:      newMinuteCache(c.settleDelay),
	}
}

// RequestsPerMinute implements rateSource. Every chunk read is checked to
// hold exactly its minutes, and its settled part is cached as soon as it
// arrives; an error returns at once and leaves in the cache only what
// earlier chunks read correctly.
func (r *cachedRates) RequestsPerMinute(ctx context.Context, w minuteWindow, filterColumn, filterValue string) (sdk.TimestampedMetrics, error) {
	now := r.now()
	key := cacheKey{
		kind:  queryKindRequestsPerMin,
		table: r.table, timeColumn: r.timeColumn,
		filterColumn: filterColumn, filterValue: filterValue,
	}
	cached := r.cache.cached(key, w, now)
	runs := []minuteRun{cached}
	for _, part := range readPlan(cached, w, readChunkMinutes) {
		series, err := r.rateSource.RequestsPerMinute(ctx, part, filterColumn, filterValue)
		if err != nil {
			return nil, err
		}
		run, err := runOf(part, series)
		if err != nil {
			return nil, err
		}
		r.cache.keep(key, w, run, now)
		runs = append(runs, run)
	}
	return assemble(w, runs)
}
