package pluginkit

import (
	"container/list"
	"encoding/binary"
	"slices"
	"sync"
)

// Cache remembers parsed configs by their content. The agent hands a
// plugin a freshly decoded map on every evaluation (a strategy block on
// every Run, a target block on every Status and Scale), and parsing it
// again each time is wasted work. A parse function is pure, so one parsed
// copy serves every caller; T must therefore hold only values and
// immutable pointers. Errors are not cached: they are rare and stay on the
// error path. An LRU of Size entries keeps memory bounded when policies
// are edited many times.
type Cache[T any] struct {
	table *Table
	parse func(map[string]string) (T, error)
	size  int
	// fixed gives each of the table's keys its position in a content key.
	fixed []string

	mu      sync.Mutex
	entries map[string]*list.Element // by content key
	order   *list.List               // of *cacheEntry[T], most recently used first
}

type cacheEntry[T any] struct {
	key string
	val T
}

// NewCache returns a cache of at most size parsed configs of table.
func NewCache[T any](table *Table, size int, parse func(map[string]string) (T, error)) *Cache[T] {
	fixed := table.Names()
	slices.Sort(fixed)
	return &Cache[T]{
		table: table, parse: parse, size: max(size, 1), fixed: fixed,
		entries: map[string]*list.Element{}, order: list.New(),
	}
}

// Parse returns parse(m), from the cache when the same content was parsed
// before.
func (c *Cache[T]) Parse(m map[string]string) (T, error) {
	var stack [512]byte
	key, ok := c.ContentKey(stack[:0], m)
	if !ok {
		return c.parse(m) // an unknown key: the parse fails, nothing to keep
	}
	c.mu.Lock()
	if e, ok := c.entries[string(key)]; ok { // no allocation for the lookup
		c.order.MoveToFront(e)
		v := e.Value.(*cacheEntry[T]).val
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()

	v, err := c.parse(m)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[string(key)]; ok {
		return v, nil // a concurrent caller parsed the same content first
	}
	k := string(key)
	c.entries[k] = c.order.PushFront(&cacheEntry[T]{key: k, val: v})
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry[T]).key)
	}
	return v, nil
}

// Len is the number of configs held.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// ContentKey appends to buf an encoding of m that two maps share only when
// they are equal. Each of the table's fixed keys has a position, where a
// missing key is a 0 byte and a present one its value's length plus one (a
// uvarint) followed by the value; the other accepted keys (prefixed and
// agent keys) follow in sorted order, each as its length-prefixed name and
// value. No choice of values (which may hold '=', ',' or newlines) can make
// two different maps collide, and the common case walks the fixed list
// without sorting. ok is false when m holds a key the table does not
// accept: such a config is an error and is not cached.
func (c *Cache[T]) ContentKey(buf []byte, m map[string]string) (key []byte, ok bool) {
	found := 0
	for _, k := range c.fixed {
		v, present := m[k]
		if !present {
			buf = append(buf, 0)
			continue
		}
		found++
		buf = binary.AppendUvarint(buf, uint64(len(v))+1)
		buf = append(buf, v...)
	}
	if found == len(m) {
		return buf, true
	}
	var extra []string
	for k := range m {
		if _, fixed := c.table.Key(k); fixed {
			continue
		}
		if !c.table.Accepts(k) {
			return buf, false
		}
		extra = append(extra, k)
	}
	slices.Sort(extra)
	for _, k := range extra {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(m[k])))
		buf = append(buf, m[k]...)
	}
	return buf, true
}
