package plugin

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestConfigCacheReturnsWhatParseConfigReturns(t *testing.T) {
	m := map[string]string{keyCapacity: "100", keyTimezone: "Asia/Kolkata", keyFloor: "3", keyHorizon: "10m"}
	want, err := parseConfig(m)
	must.NoError(t, err)
	c := newConfigCache()
	for range 2 { // a miss, then a hit
		got, err := c.Parse(map[string]string{keyCapacity: "100", keyTimezone: "Asia/Kolkata", keyFloor: "3", keyHorizon: "10m"})
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
	_, err := c.Parse(m)
	must.NoError(t, err)
	// parseConfig allocates (errors slice, location lookup); a hit must not.
	allocs := testing.AllocsPerRun(100, func() { _, _ = c.Parse(m) })
	must.Eq(t, 0.0, allocs)
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
