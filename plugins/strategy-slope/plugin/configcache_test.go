package plugin

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// keyOf is contentKey as a string, for maps of accepted keys only.
func keyOf(t *testing.T, m map[string]string) string {
	t.Helper()
	k, ok := contentKey(nil, m)
	must.True(t, ok, must.Sprintf("%v holds an unknown key", m))
	return string(k)
}

func TestContentKeyTellsEveryDifferentMapApart(t *testing.T) {
	cases := []struct {
		name string
		a, b map[string]string
	}{
		{"a separator inside a value does not merge two pairs",
			map[string]string{keyFloor: "1,floor_days=Mon"}, map[string]string{keyFloor: "1", keyFloorDays: "Mon"}},
		{"moving text from one value to the next changes the key",
			map[string]string{keyFloor: "12", keyFloorDays: "Mon"}, map[string]string{keyFloor: "1", keyFloorDays: "2Mon"}},
		{"an empty value differs from a missing key",
			map[string]string{keyHeadroom: ""}, map[string]string{}},
		{"a length prefix in the text does not fake a pair",
			map[string]string{keyFloor: "\x00\x02x"}, map[string]string{keyFloorDays: "x"}},
		{"the same value under another key differs",
			map[string]string{keyHorizon: "5m"}, map[string]string{keyDrainTime: "5m"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.NotEq(t, keyOf(t, tc.a), keyOf(t, tc.b))
		})
	}
}

func TestContentKeyIgnoresMapOrder(t *testing.T) {
	a := map[string]string{}
	b := map[string]string{}
	for i, k := range sortedKnownKeys { // inserted in opposite orders
		a[k] = fmt.Sprint(i)
		j := len(sortedKnownKeys) - 1 - i
		b[sortedKnownKeys[j]] = fmt.Sprint(j)
	}
	must.Eq(t, keyOf(t, a), keyOf(t, b))
}

func TestContentKeyRefusesUnknownKeys(t *testing.T) {
	_, ok := contentKey(nil, map[string]string{keyCapacity: "100", "capacity_per_wroker": "100"})
	must.False(t, ok)
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
		keyCapacity: "100", keyHorizon: "9m", keySlowShare: "0.03", keyLead: "4m",
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
		must.ErrorContains(t, err, `capacity_per_wroker: unknown key`)
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
	must.MapContainsKey(t, c.entries, keyOf(t, cfg(0)))
	must.MapNotContainsKey(t, c.entries, keyOf(t, cfg(1)))
	must.MapContainsKey(t, c.entries, keyOf(t, cfg(configCacheSize+9)))
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
	out, err := p.Run(evalOf(map[string]string{keyCapacity: "100", keyHeadroom: "0.5"}, now, values...), 10)
	must.NoError(t, err)
	must.Eq(t, int64(19), out.Action.Count) // ceil(1245 x 1.5 / 100)
	out, err = p.Run(evalOf(map[string]string{keyCapacity: "50", keyHeadroom: "0.5"}, now, values...), 10)
	must.NoError(t, err)
	must.Eq(t, int64(38), out.Action.Count)
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
			job{map[string]string{keyCapacity: "100", keyHorizon: "6m"}, values},
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
