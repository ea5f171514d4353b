package loadgen

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// shippedTrace is the NASA trace shipped in the repository (data/).
const shippedTrace = "../../../" + DefaultTraceFile

func TestLoadReplayScalesTheDayToTheDailyTotal(t *testing.T) {
	start := time.Date(1995, 7, 13, 0, 0, 0, 0, time.FixedZone("", -4*3600))
	history, minutes, err := LoadReplay(shippedTrace, start, 75*time.Minute, 24*time.Hour, 2_000_000)
	must.NoError(t, err)
	must.Len(t, 75, history)
	must.Len(t, 1440, minutes)
	must.Eq(t, start.UTC(), minutes[0].Start)
	must.Eq(t, start.Add(-75*time.Minute).UTC(), history[0].Start)
	var total float64
	for _, m := range minutes {
		total += m.Requests
	}
	must.True(t, math.Abs(total-2_000_000) < 1e-3, must.Sprintf("total %f", total))
	// The launch-day peak: 405 requests in the original minute.
	must.True(t, math.Abs(Peak(minutes)-405*2_000_000/134203.0) < 1e-6)

	// A shorter replay keeps the day's levels: -daily is a rate.
	_, short, err := LoadReplay(shippedTrace, start, 0, 2*time.Hour, 2_000_000)
	must.NoError(t, err)
	must.Eq(t, minutes[:120], short)
}

func TestLoadReplayRefusesAStartOutsideTheTrace(t *testing.T) {
	_, _, err := LoadReplay(shippedTrace, time.Date(1995, 8, 1, 0, 0, 0, 0, time.UTC), 0, time.Hour, 1000)
	must.ErrorContains(t, err, "outside the trace")
}

func TestParseCLIReportsEveryProblem(t *testing.T) {
	_, err := ParseCLI([]string{"-start", "yesterday", "-history", "90s", "-daily", "0"}, func(string) string { return "" }, io.Discard)
	for _, want := range []string{`-start "yesterday"`, "-amqp and -database", "-history 1m30s", "-daily 0"} {
		must.ErrorContains(t, err, want)
	}
	env := map[string]string{"AMQP_URL": "amqp://x", "DATABASE_URL": "postgres://y"}
	o, err := ParseCLI(nil, func(k string) string { return env[k] }, io.Discard)
	must.NoError(t, err)
	must.Eq(t, "amqp://x", o.AMQPURL)
	must.Eq(t, 300.0, o.Compression)
}
