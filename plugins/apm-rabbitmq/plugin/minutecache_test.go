package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func keyFor(filterValue string) cacheKey {
	return cacheKey{kind: queryKindRequestsPerMin, table: `"api_requests"`, timeColumn: `"created_at"`,
		filterColumn: "model", filterValue: filterValue}
}

// held is what the cache holds for k, read without the side effects of cached.
func held(c *minuteCache, k cacheKey) (minuteRun, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return minuteRun{}, false
	}
	return e.run, true
}

func TestTheCacheKeepsOnlySettledMinutes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		now  string
		want minuteRun
	}{
		{"the newest minute 20 s after its end is left out", "10:05:20", runAt(t, "10:00", 1, 2, 3, 4)},
		{"the newest minute 30 s after its end is kept", "10:05:30", runAt(t, "10:00", 1, 2, 3, 4, 5)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newMinuteCache(30 * time.Second)
			w := win(t, "10:00", "10:05")
			c.keep(keyFor("ocr"), w, ramp(t, "10:00", 5), at(t, tc.now))
			got, _ := held(c, keyFor("ocr"))
			must.Eq(t, tc.want, got)
		})
	}
}

func TestTheCacheServesTheSettledPartOfTheWindow(t *testing.T) {
	t.Parallel()
	c := newMinuteCache(30 * time.Second)
	k := keyFor("ocr")
	c.keep(k, win(t, "10:00", "10:10"), ramp(t, "10:00", 10), at(t, "10:10:40"))
	cases := []struct {
		name string
		w    minuteWindow
		now  string
		want minuteRun
	}{
		{"a window inside the cached minutes gets just its own", win(t, "10:02", "10:04"), "10:10:40", runAt(t, "10:02", 3, 4)},
		{"a window reaching past the cached minutes gets the cached part", win(t, "10:08", "10:12"), "10:12:40", runAt(t, "10:08", 9, 10)},
		{"a window before the cached minutes gets nothing", win(t, "09:00", "09:30"), "10:12:40", minuteRun{}},
		{"minutes the clock went back over are not served", win(t, "10:00", "10:10"), "10:05:10", ramp(t, "10:00", 4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, c.cached(k, tc.w, at(t, tc.now)))
		})
	}
}

func TestAQueryThatKeepsNothingTakesNoRoom(t *testing.T) {
	t.Parallel()
	c := newMinuteCache(30 * time.Second)
	must.Eq(t, minuteRun{}, c.cached(keyFor("ocr"), win(t, "10:00", "10:05"), at(t, "10:05:10")))
	// Only the unsettled minute was read.
	c.keep(keyFor("ocr"), win(t, "10:00", "10:05"), runAt(t, "10:04", 3), at(t, "10:05:10"))
	must.MapEmpty(t, c.entries)
}

func TestTheLeastRecentlyUsedQueryIsEvictedBeyondTheLimit(t *testing.T) {
	t.Parallel()
	c := newMinuteCache(0)
	c.maxEntries = 2
	w, now := win(t, "10:00", "10:02"), at(t, "10:03")
	c.keep(keyFor("a"), w, ramp(t, "10:00", 2), now)
	c.keep(keyFor("b"), w, ramp(t, "10:00", 2), now)
	c.cached(keyFor("a"), w, now) // a is now used more recently than b
	c.keep(keyFor("c"), w, ramp(t, "10:00", 2), now)

	must.MapLen(t, 2, c.entries)
	for _, k := range []string{"a", "c"} {
		_, ok := held(c, keyFor(k))
		must.True(t, ok, must.Sprintf("%q was evicted", k))
	}
	_, ok := held(c, keyFor("b"))
	must.False(t, ok, must.Sprint("b, the least recently used, is still cached"))
}

func TestAnEntryKeepsTheMinutesOfTheLongestRecentWindow(t *testing.T) {
	t.Parallel()
	c := newMinuteCache(0)
	k := keyFor("ocr")
	// A 3-hour window asked at 12:00 caches 09:00 to 12:00.
	start := at(t, "12:00")
	c.keep(k, win(t, "09:00", "12:00"), ramp(t, "09:00", 180), start)

	// A 10-minute window of the same query asked at 12:00 + d, the cache
	// kept up to date by it: its run starts at wantStart. The minutes kept
	// are those a window as long as the longest recent one needs now.
	cases := []struct {
		name      string
		d         time.Duration
		wantStart time.Time
	}{
		{"a minute later the 3-hour window's minutes stay", time.Minute, at(t, "09:00")},
		{"just over reachMemory later a 3-hour window still finds its minutes", reachMemory + time.Minute,
			start.Add(reachMemory + time.Minute - 3*time.Hour - reachSlack)},
		{"after two periods without it they go, but for the 10 minutes and reachSlack", 2*reachMemory + time.Minute,
			start.Add(2*reachMemory + time.Minute - 10*time.Minute - reachSlack)},
	}
	for _, tc := range cases {
		now := start.Add(tc.d)
		w := minuteWindow{start: now.Add(-10 * time.Minute), end: now}
		c.cached(k, w, now)
		before, _ := held(c, k) // read forward from it, as if every minute in between had been asked
		c.keep(k, w, minuteRun{start: before.end(), counts: make([]float64, minutesBetween(before.end(), now))}, now)
		got, _ := held(c, k)
		must.Eq(t, tc.wantStart, got.start, must.Sprint(tc.name))
		must.Eq(t, now, got.end(), must.Sprint(tc.name))
	}
}

func TestAnEntryNeverHoldsMoreThanTheCap(t *testing.T) {
	t.Parallel()
	c := newMinuteCache(0)
	c.maxMinutes = 100
	k := keyFor("ocr")
	c.keep(k, win(t, "08:00", "12:00"), ramp(t, "08:00", 240), at(t, "12:00"))
	got, _ := held(c, k)
	must.Eq(t, ramp(t, "08:00", 240).within(at(t, "10:20"), at(t, "12:00")), got)
}
