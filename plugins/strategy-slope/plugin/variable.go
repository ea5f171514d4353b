package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"
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

// nomadVariables reads variables with the official Nomad API client.
type nomadVariables struct{ client *api.Client }

// ReadItems implements variableReader. It reads with a raw query because
// the client's Variables().GetVariableItems answers a 403 (a token whose ACL
// lacks the path) as "not found": an operator's override would then be
// ignored silently instead of reported in Meta and the log.
func (n nomadVariables) ReadItems(ctx context.Context, path string) (map[string]string, error) {
	var v api.Variable
	_, err := n.client.Raw().Query("/v1/var/"+strings.TrimPrefix(path, "/"), &v, (&api.QueryOptions{}).WithContext(ctx))
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read nomad variable %s: %w", path, err)
	}
	if v.Items == nil {
		return map[string]string{}, nil
	}
	return v.Items, nil
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
