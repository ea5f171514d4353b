package plugin

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestContentKeyTellsEveryDifferentMapApart(t *testing.T) {
	cases := []struct {
		name string
		a, b map[string]string
	}{
		{"a separator inside a value does not merge two pairs",
			map[string]string{"a": "1,b=2"}, map[string]string{"a": "1", "b": "2"}},
		{"moving a character from key to value changes the key",
			map[string]string{"ab": "c"}, map[string]string{"a": "bc"}},
		{"an empty value differs from a missing key",
			map[string]string{"a": ""}, map[string]string{}},
		{"a length prefix in the text does not fake a pair",
			map[string]string{"a": "\x01b\x01c"}, map[string]string{"a": "", "b": "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.NotEq(t, string(contentKey(nil, tc.a)), string(contentKey(nil, tc.b)))
		})
	}
}

func TestContentKeyIgnoresMapOrder(t *testing.T) {
	a := map[string]string{}
	b := map[string]string{}
	for i := range 40 { // more keys than the stack array, inserted in opposite orders
		a[fmt.Sprint("k", i)] = fmt.Sprint(i)
		b[fmt.Sprint("k", 39-i)] = fmt.Sprint(39 - i)
	}
	must.Eq(t, string(contentKey(nil, a)), string(contentKey(nil, b)))
}

func TestConfigCacheReturnsWhatParseConfigReturns(t *testing.T) {
	m := map[string]string{keyCapacity: "100", keyTimezone: "Asia/Kolkata", keyFloor: "3", keyHorizon: "10m"}
	want, err := parseConfig(m)
	must.NoError(t, err)
	c := newConfigCache()
	for range 2 { // a miss, then a hit
		got, err := c.parse(map[string]string{keyCapacity: "100", keyTimezone: "Asia/Kolkata", keyFloor: "3", keyHorizon: "10m"})
		must.NoError(t, err)
		must.Eq(t, want.horizon, got.horizon)
		must.Eq(t, want.floor.count, got.floor.count)
		must.Eq(t, want.floor.loc.String(), got.floor.loc.String())
	}
}

func TestConfigCacheHitDoesNotParseAgain(t *testing.T) {
	c := newConfigCache()
	m := map[string]string{
		keyCapacity: "100", keyHorizon: "25m", keyConfid: "0.99", keyScaleInWindow: "6m",
		keyFloor: "2", keyFloorHours: "08:00-22:00", keyTimezone: "America/New_York",
	}
	_, err := c.parse(m)
	must.NoError(t, err)
	// parseConfig allocates (errors slice, location lookup); a hit must not.
	allocs := testing.AllocsPerRun(100, func() { _, _ = c.parse(m) })
	must.Eq(t, 0.0, allocs)
}

func TestConfigCacheDoesNotKeepInvalidConfigs(t *testing.T) {
	c := newConfigCache()
	for range 2 {
		_, err := c.parse(map[string]string{keyCapacity: "100", "capacity_per_wroker": "1"})
		must.ErrorContains(t, err, `capacity_per_wroker "1": unknown key`)
	}
	must.MapEmpty(t, c.entries)
}

func TestConfigCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := newConfigCache()
	cfg := func(i int) map[string]string { return map[string]string{keyCapacity: fmt.Sprint(i + 1)} }
	for i := range configCacheSize {
		_, err := c.parse(cfg(i))
		must.NoError(t, err)
	}
	_, err := c.parse(cfg(0)) // touch the oldest so that it survives
	must.NoError(t, err)
	for i := configCacheSize; i < configCacheSize+10; i++ {
		_, err := c.parse(cfg(i))
		must.NoError(t, err)
	}
	must.MapLen(t, configCacheSize, c.entries)
	must.Eq(t, configCacheSize, c.order.Len())
	must.MapContainsKey(t, c.entries, string(contentKey(nil, cfg(0))))
	must.MapNotContainsKey(t, c.entries, string(contentKey(nil, cfg(1))))
	must.MapContainsKey(t, c.entries, string(contentKey(nil, cfg(configCacheSize+9))))
}

func TestConfigCacheIsSafeForConcurrentRuns(t *testing.T) {
	c := newConfigCache()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				capacity := (g*200+i)%(configCacheSize*2) + 1 // misses, hits and evictions
				got, err := c.parse(map[string]string{keyCapacity: fmt.Sprint(capacity)})
				if err != nil || got.capacity != float64(capacity) {
					t.Errorf("capacity %d: got %v, %v", capacity, got.capacity, err)
				}
			}
		})
	}
	wg.Wait()
	must.Eq(t, c.order.Len(), len(c.entries))
	must.LessEq(t, configCacheSize, len(c.entries))
}

func TestRunUsesTheEditedConfigAfterAPolicyChange(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	p := newTestPlugin(t, now)
	values := repeat(30, 1000)
	out, err := p.Run(evalOf(map[string]string{keyCapacity: "100", keyConfid: "0.5"}, now, values...), 10)
	must.NoError(t, err)
	must.Eq(t, int64(10), out.Action.Count)
	out, err = p.Run(evalOf(map[string]string{keyCapacity: "50", keyConfid: "0.5"}, now, values...), 10)
	must.NoError(t, err)
	must.Eq(t, int64(20), out.Action.Count)
}

// TestConcurrentRunsGiveTheSequentialAnswers runs one plugin from many
// goroutines, as the agent does for many policies, over configs and series
// of different lengths: the shared config cache and the recycled point
// buffers must not leak one evaluation into another.
func TestConcurrentRunsGiveTheSequentialAnswers(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	type job struct {
		cfg    map[string]string
		values []float64
	}
	var jobs []job
	for i, n := range []int{12, 60, 180, 1440} {
		values := make([]float64, n)
		for j := range values {
			values[j] = float64(500*(i+1) + (j*7919)%300)
		}
		jobs = append(jobs,
			job{map[string]string{keyCapacity: "100", keyScaleInWindow: "6m"}, values},
			job{map[string]string{keyCapacity: "37", keyFloor: "3", keyTimezone: "Asia/Kolkata"}, values},
			job{map[string]string{keyCapacity: "100", keyMode: modeBacklog}, values})
	}
	p := newTestPlugin(t, now)
	want := make([]string, len(jobs))
	for i, j := range jobs {
		out, err := p.Run(evalOf(j.cfg, now, j.values...), 10)
		must.NoError(t, err)
		want[i] = fmt.Sprint(out.Action.Count, out.Action.Reason)
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for k := range 40 {
				i := (g + k) % len(jobs)
				out, err := p.Run(evalOf(jobs[i].cfg, now, jobs[i].values...), 10)
				if err != nil {
					t.Errorf("job %d: %v", i, err)
					return
				}
				if got := fmt.Sprint(out.Action.Count, out.Action.Reason); got != want[i] {
					t.Errorf("job %d: got %s, want %s", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
