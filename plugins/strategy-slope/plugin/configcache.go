package plugin

import (
	"container/list"
	"encoding/binary"
	"maps"
	"slices"
	"sync"
)

// configCacheSize bounds the parsed configs kept. The agent sends the same
// few strategy blocks (one per check) on every evaluation, so a few dozen
// entries hold every check of a large deployment; an LRU keeps memory
// bounded when policies are edited many times.
const configCacheSize = 64

// configCache remembers parsed strategy configs by content, because the
// agent hands Run a freshly decoded map on every evaluation and parsing it
// (time zone, durations, override) was a fifth of Run's time. parseConfig is
// a pure function of the map, and a config holds only values and an
// immutable *time.Location, so one parsed copy can serve concurrent Runs.
// Invalid configs are not cached: they are rare and stay on the error path.
// A hit costs a fraction of a parse (see BenchmarkConfigCacheHit).
type configCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element // key: contentKey of the map
	order   *list.List               // of *configEntry, most recently used first
}

type configEntry struct {
	key string
	cfg config
}

func newConfigCache() *configCache {
	return &configCache{entries: make(map[string]*list.Element, configCacheSize), order: list.New()}
}

// parse returns parseConfig(m), from the cache when the same content was
// parsed before.
func (c *configCache) parse(m map[string]string) (config, error) {
	var stack [512]byte
	key, ok := contentKey(stack[:0], m)
	if !ok {
		return parseConfig(m) // an unknown key: the parse fails, nothing to keep
	}
	c.mu.Lock()
	if e, ok := c.entries[string(key)]; ok { // no allocation for the lookup
		c.order.MoveToFront(e)
		cfg := e.Value.(*configEntry).cfg
		c.mu.Unlock()
		return cfg, nil
	}
	c.mu.Unlock()

	cfg, err := parseConfig(m)
	if err != nil {
		return cfg, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[string(key)]; ok {
		return cfg, nil // a concurrent Run parsed the same content first
	}
	k := string(key)
	c.entries[k] = c.order.PushFront(&configEntry{key: k, cfg: cfg})
	if c.order.Len() > configCacheSize {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*configEntry).key)
	}
	return cfg, nil
}

// sortedKnownKeys gives every accepted key its position in a content key.
var sortedKnownKeys = slices.Sorted(maps.Keys(knownKeys))

// contentKey appends to buf an encoding of m's key=value pairs in sorted key
// order. Each accepted key has a fixed position (sortedKnownKeys), where a
// missing key is a 0 byte and a present one its value's length plus one (a
// uvarint) followed by the value: no choice of values (which may hold '=',
// ',' or newlines) can make two different maps share a key, and walking the
// fixed key list costs no sort. ok is false when m holds a key the parser
// does not accept: such a config is an error and is not cached.
func contentKey(buf []byte, m map[string]string) (key []byte, ok bool) {
	found := 0
	for _, k := range sortedKnownKeys {
		v, present := m[k]
		if !present {
			buf = append(buf, 0)
			continue
		}
		found++
		buf = binary.AppendUvarint(buf, uint64(len(v))+1)
		buf = append(buf, v...)
	}
	return buf, found == len(m)
}
