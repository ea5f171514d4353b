package plugin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Runtime override through Nomad Variables: the one at override_variable
// (the override in force now, or the next one) and the events booked ahead
// under it, one Variable each at <override_variable>/<name>.
const (
	// variableTTL bounds how stale a cached Nomad Variable or listing may be.
	variableTTL = 30 * time.Second
	// variableTimeout is the deadline of one read or listing, and of the
	// reads of the changed events together.
	variableTimeout = 3 * time.Second
	// MaxOverrideEvents bounds the events read under one path: a calendar,
	// not a log. More are reported, and the first by path are read.
	MaxOverrideEvents = 32
)

// variableReader reads Nomad Variables. A missing variable is not an
// error: ReadItems returns nil items.
type variableReader interface {
	ReadItems(ctx context.Context, path string) (items map[string]string, index uint64, err error)
	// List returns the variables under prefix, sorted by path.
	List(ctx context.Context, prefix string) ([]pluginkit.VariableVersion, error)
}

// nomadVariables reads variables with the official Nomad API client, in
// the agent's namespace.
type nomadVariables struct{ client *api.Client }

// ReadItems implements variableReader (see pluginkit.ReadVariable for why
// a 403 is an error here).
func (n nomadVariables) ReadItems(ctx context.Context, path string) (map[string]string, uint64, error) {
	return pluginkit.ReadVariableIndex(ctx, n.client, path, nil)
}

// List implements variableReader.
func (n nomadVariables) List(ctx context.Context, prefix string) ([]pluginkit.VariableVersion, error) {
	return pluginkit.ListVariables(ctx, n.client, prefix, nil)
}

// variableCache remembers each variable's items (or read error) for
// variableTTL so that evaluations do not hit Nomad every time and an
// unreachable Nomad costs one timeout per TTL, not one per evaluation. A
// listed event is read again only when its modify index changed, so a
// calendar costs one listing per TTL, however many events it holds.
type variableCache struct {
	mu      sync.Mutex
	reader  variableReader
	entries map[string]variableEntry
	lists   map[string]listEntry
	events  map[string]eventEntry
}

type variableEntry struct {
	fetched time.Time
	items   map[string]string
	err     error
}

type listEntry struct {
	fetched time.Time
	events  []eventItems
	err     error
}

type eventEntry struct {
	index uint64
	items map[string]string
}

// eventItems is one event variable as read: its items, or why not.
type eventItems struct {
	path  string
	items map[string]string
	err   error
}

func newVariableCache(r variableReader) *variableCache {
	return &variableCache{reader: r, entries: map[string]variableEntry{}, lists: map[string]listEntry{}, events: map[string]eventEntry{}}
}

// fresh reports whether an entry fetched at fetched may still be used at now.
func fresh(fetched, now time.Time) bool {
	return now.Sub(fetched) < variableTTL && !now.Before(fetched)
}

// get returns the items of path, reading them when the cached copy is older
// than variableTTL. now is the caller's clock, used only for the TTL.
func (c *variableCache) get(path string, now time.Time) (map[string]string, error) {
	c.mu.Lock()
	e, ok := c.entries[path]
	c.mu.Unlock()
	if ok && fresh(e.fetched, now) {
		return e.items, e.err
	}
	// Read without the lock so that a slow Nomad does not serialise the
	// evaluations of other checks; two concurrent misses may both read.
	ctx, cancel := context.WithTimeout(context.Background(), variableTimeout)
	defer cancel()
	items, _, err := c.reader.ReadItems(ctx, path)
	c.mu.Lock()
	c.entries[path] = variableEntry{fetched: now, items: items, err: err}
	c.mu.Unlock()
	return items, err
}

// eventsUnder returns the event variables under prefix (at most
// MaxOverrideEvents; err says when there were more or the listing failed).
func (c *variableCache) eventsUnder(prefix string, now time.Time) ([]eventItems, error) {
	c.mu.Lock()
	l, ok := c.lists[prefix]
	c.mu.Unlock()
	if ok && fresh(l.fetched, now) {
		return l.events, l.err
	}
	events, err := c.readEvents(prefix)
	c.mu.Lock()
	c.lists[prefix] = listEntry{fetched: now, events: events, err: err}
	c.mu.Unlock()
	return events, err
}

func (c *variableCache) readEvents(prefix string) ([]eventItems, error) {
	ctx, cancel := context.WithTimeout(context.Background(), variableTimeout)
	listed, err := c.reader.List(ctx, prefix)
	cancel()
	if err != nil {
		return nil, err
	}
	var tooMany error
	if len(listed) > MaxOverrideEvents {
		tooMany = fmt.Errorf("%d override events under %s, more than %d: only the first %d by path are read (delete the ones that ended)",
			len(listed), prefix, MaxOverrideEvents, MaxOverrideEvents)
		listed = listed[:MaxOverrideEvents]
	}
	ctx, cancel = context.WithTimeout(context.Background(), variableTimeout)
	defer cancel()
	out := make([]eventItems, 0, len(listed))
	for _, v := range listed {
		c.mu.Lock()
		e, ok := c.events[v.Path]
		c.mu.Unlock()
		if ok && e.index == v.Index {
			out = append(out, eventItems{path: v.Path, items: e.items})
			continue
		}
		items, index, err := c.reader.ReadItems(ctx, v.Path)
		switch {
		case err != nil:
			out = append(out, eventItems{path: v.Path, err: err})
		case items == nil: // deleted since it was listed
		default:
			c.mu.Lock()
			c.events[v.Path] = eventEntry{index: index, items: items}
			c.mu.Unlock()
			out = append(out, eventItems{path: v.Path, items: items})
		}
	}
	// Forget the events that are gone, so the cache stays as small as the
	// calendar.
	c.mu.Lock()
	for path := range c.events {
		if strings.HasPrefix(path, prefix) && !listedPath(listed, path) {
			delete(c.events, path)
		}
	}
	c.mu.Unlock()
	return out, tooMany
}

func listedPath(listed []pluginkit.VariableVersion, path string) bool {
	for _, v := range listed {
		if v.Path == path {
			return true
		}
	}
	return false
}

// EventPrefix is where the events of the override variable at path are
// booked: each is the Variable EventPrefix(path) + its name.
func EventPrefix(path string) string { return strings.TrimSuffix(path, "/") + "/" }

// runtimeOverride reads and parses the override variable and the events
// booked under it. A variable that does not exist means no override; an
// unreadable or malformed one is reported in errText and ignored, so a
// Nomad outage never stops scaling and one bad event does not hide the
// others.
func runtimeOverride(cache *variableCache, path string, now time.Time) (o manualOverride, events []manualOverride, errText string) {
	if path == "" {
		return manualOverride{}, nil, ""
	}
	if cache == nil {
		return manualOverride{}, nil, "no nomad connection: SetConfig was not called"
	}
	var errs []string
	items, err := cache.get(path, now)
	switch {
	case err != nil:
		errs = append(errs, err.Error())
	case items != nil:
		if o, err = overrideFromItems(path, items); err != nil {
			o = manualOverride{}
			errs = append(errs, err.Error())
		}
	}
	booked, err := cache.eventsUnder(EventPrefix(path), now)
	if err != nil {
		errs = append(errs, err.Error())
	}
	for _, e := range booked {
		if e.err != nil {
			errs = append(errs, e.err.Error())
			continue
		}
		ev, err := overrideFromItems(e.path, e.items)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		events = append(events, ev)
	}
	return o, events, strings.Join(errs, "; ")
}
