package plugin

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Runtime override through a Nomad Variable.
const (
	// variableTTL bounds how stale a cached Nomad Variable may be.
	variableTTL = 30 * time.Second
	// variableTimeout is the deadline of one read.
	variableTimeout = 3 * time.Second
)

// variableReader reads the items of a Nomad Variable. A missing variable is
// not an error: it returns nil items.
type variableReader interface {
	ReadItems(ctx context.Context, path string) (map[string]string, error)
}

// nomadVariables reads variables with the official Nomad API client, in
// the agent's namespace.
type nomadVariables struct{ client *api.Client }

// ReadItems implements variableReader (see pluginkit.ReadVariable for why
// a 403 is an error here).
func (n nomadVariables) ReadItems(ctx context.Context, path string) (map[string]string, error) {
	return pluginkit.ReadVariable(ctx, n.client, path, nil)
}

// variableCache remembers each variable's items (or read error) for
// variableTTL so that evaluations do not hit Nomad every time and an
// unreachable Nomad costs one timeout per TTL, not one per evaluation.
type variableCache struct {
	mu      sync.Mutex
	reader  variableReader
	entries map[string]variableEntry
}

type variableEntry struct {
	fetched time.Time
	items   map[string]string
	err     error
}

func newVariableCache(r variableReader) *variableCache {
	return &variableCache{reader: r, entries: map[string]variableEntry{}}
}

// get returns the items of path, reading them when the cached copy is older
// than variableTTL. now is the caller's clock, used only for the TTL.
func (c *variableCache) get(path string, now time.Time) (map[string]string, error) {
	c.mu.Lock()
	e, ok := c.entries[path]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < variableTTL && !now.Before(e.fetched) {
		return e.items, e.err
	}
	// Read without the lock so that a slow Nomad does not serialise the
	// evaluations of other checks; two concurrent misses may both read.
	ctx, cancel := context.WithTimeout(context.Background(), variableTimeout)
	defer cancel()
	items, err := c.reader.ReadItems(ctx, path)
	c.mu.Lock()
	c.entries[path] = variableEntry{fetched: now, items: items, err: err}
	c.mu.Unlock()
	return items, err
}

// runtimeOverride reads and parses the override variable. A variable that
// does not exist means no override; an unreadable or malformed one is
// reported in errText and ignored, so a Nomad outage never stops scaling.
func runtimeOverride(cache *variableCache, path string, now time.Time) (o manualOverride, errText string) {
	if path == "" {
		return manualOverride{}, ""
	}
	if cache == nil {
		return manualOverride{}, "no nomad connection: SetConfig was not called"
	}
	items, err := cache.get(path, now)
	if err != nil {
		return manualOverride{}, err.Error()
	}
	if items == nil {
		return manualOverride{}, ""
	}
	o, err = overrideFromItems(path, items)
	if err != nil {
		return manualOverride{}, err.Error()
	}
	return o, ""
}
