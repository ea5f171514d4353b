package pluginkit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoenig/test/must"
)

func newExampleCache(size int) (*Cache[exampleConfig], *atomic.Int64) {
	var parses atomic.Int64
	return NewCache(exampleTable, size, func(m map[string]string) (exampleConfig, error) {
		parses.Add(1)
		return parseExample(m)
	}), &parses
}

func keyOf(t *testing.T, m map[string]string) string {
	t.Helper()
	c, _ := newExampleCache(1)
	k, ok := c.ContentKey(nil, m)
	must.True(t, ok, must.Sprintf("%v holds an unknown key", m))
	return string(k)
}

func TestContentKeyTellsEveryDifferentMapApart(t *testing.T) {
	cases := []struct {
		name string
		a, b map[string]string
	}{
		{"a separator inside a value does not merge two pairs",
			map[string]string{"lead": "1,url=x"}, map[string]string{"lead": "1", "url": "x"}},
		{"moving text from one value to the next changes the key",
			map[string]string{"lead": "12", "url": "x"}, map[string]string{"lead": "1", "url": "2x"}},
		{"an empty value differs from a missing key",
			map[string]string{"url": ""}, map[string]string{}},
		{"a length prefix in the text does not fake a pair",
			map[string]string{"lead": "\x00\x02x"}, map[string]string{"url": "x"}},
		{"the same value under another key differs",
			map[string]string{"lead": "5m"}, map[string]string{"timeout": "5m"}},
		{"prefixed keys are part of the key",
			map[string]string{"sql.a": "SELECT 1"}, map[string]string{"sql.b": "SELECT 1"}},
		{"a prefixed key's name and value cannot trade characters",
			map[string]string{"sql.ab": "c"}, map[string]string{"sql.a": "bc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.NotEq(t, keyOf(t, tc.a), keyOf(t, tc.b))
		})
	}
}

func TestContentKeyIgnoresMapOrderAndRefusesUnknownKeys(t *testing.T) {
	a, b := map[string]string{}, map[string]string{}
	names := append(exampleTable.Names(), "sql.x", "sql.y")
	for i, k := range names {
		a[k] = fmt.Sprint(i)
	}
	for i := len(names) - 1; i >= 0; i-- {
		b[names[i]] = fmt.Sprint(i)
	}
	must.Eq(t, keyOf(t, a), keyOf(t, b))
	c, _ := newExampleCache(1)
	_, ok := c.ContentKey(nil, map[string]string{"capacity": "1", "capacty": "1"})
	must.False(t, ok)
}

func TestAHitReturnsTheParseWithoutParsingOrAllocating(t *testing.T) {
	c, parses := newExampleCache(4)
	m := map[string]string{"capacity": "100", "lead": "4m", "url": "u"}
	want, err := parseExample(m)
	must.NoError(t, err)
	for range 3 {
		got, err := c.Parse(m)
		must.NoError(t, err)
		must.Eq(t, want, got)
	}
	must.Eq(t, int64(1), parses.Load())
	allocs := testing.AllocsPerRun(100, func() { _, _ = c.Parse(m) })
	must.Eq(t, 0.0, allocs)
}

func TestInvalidConfigsAreNotKept(t *testing.T) {
	c, parses := newExampleCache(4)
	for range 2 {
		_, err := c.Parse(map[string]string{"capacity": "x"})
		must.ErrorContains(t, err, `capacity "x": not a number`)
		_, err = c.Parse(map[string]string{"capacity": "1", "colour": "blue"})
		must.ErrorContains(t, err, `unknown key "colour"`)
	}
	must.Eq(t, 0, c.Len())
	must.Eq(t, int64(4), parses.Load())
}

func TestTheLeastRecentlyUsedIsEvicted(t *testing.T) {
	const size = 8
	c, parses := newExampleCache(size)
	cfg := func(i int) map[string]string { return map[string]string{"capacity": fmt.Sprint(i + 1)} }
	for i := range size {
		_, err := c.Parse(cfg(i))
		must.NoError(t, err)
	}
	_, _ = c.Parse(cfg(0)) // touch the oldest so that it survives
	for i := size; i < size+3; i++ {
		_, _ = c.Parse(cfg(i))
	}
	must.Eq(t, size, c.Len())
	before := parses.Load()
	_, _ = c.Parse(cfg(0))
	must.Eq(t, before, parses.Load(), must.Sprint("the touched entry is still cached"))
	_, _ = c.Parse(cfg(1))
	must.Eq(t, before+1, parses.Load(), must.Sprint("the least recently used entry was evicted"))
}

func TestTheCacheIsSafeForConcurrentCallers(t *testing.T) {
	const size = 16
	c, _ := newExampleCache(size)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				capacity := (g*200+i)%(size*2) + 1 // misses, hits and evictions
				got, err := c.Parse(map[string]string{"capacity": fmt.Sprint(capacity)})
				if err != nil || got.capacity != float64(capacity) {
					t.Errorf("capacity %d: got %v, %v", capacity, got.capacity, err)
				}
			}
		})
	}
	wg.Wait()
	must.LessEq(t, size, c.Len())
}

func BenchmarkCacheHit(b *testing.B) {
	c, _ := newExampleCache(64)
	m := map[string]string{"capacity": "100", "lead": "4m", "attempts": "3", "url": "u"}
	_, _ = c.Parse(m)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Parse(m)
	}
}
