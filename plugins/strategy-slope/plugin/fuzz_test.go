package plugin

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// fuzzSeries decodes raw bytes into samples. Most values are realistic
// counts (two bytes); one in four takes eight raw bytes, which yields NaN,
// Inf, negative, tiny and enormous values. A third byte jitters the
// timestamp, producing duplicates, gaps and unsorted input.
func fuzzSeries(raw []byte, now time.Time) sdk.TimestampedMetrics {
	var m sdk.TimestampedMetrics
	for i := 0; len(raw) >= 3 && len(m) < 2000; i++ {
		var v float64
		if raw[0]%4 == 0 && len(raw) >= 9 {
			v = math.Float64frombits(binary.LittleEndian.Uint64(raw[1:9]))
			raw = raw[9:]
		} else {
			v = float64(binary.LittleEndian.Uint16(raw[1:3])) * float64(1+raw[0]%8)
			raw = raw[3:]
		}
		jitter := 0
		if len(raw) > 0 && raw[0] > 240 {
			jitter = -int(raw[0] % 4) // duplicate or earlier timestamp
		}
		m = append(m, sdk.TimestampedMetric{Timestamp: now.Add(time.Duration(i+jitter-2000) * time.Minute), Value: v})
	}
	return m
}

func doubled(m sdk.TimestampedMetrics) sdk.TimestampedMetrics {
	out := make(sdk.TimestampedMetrics, len(m))
	for i, s := range m {
		if s.Value > 0 && s.Value < 1e300 { // doubling is exact and cannot reach Inf
			s.Value *= 2
		}
		out[i] = s
	}
	return out
}

// FuzzRun runs the plugin on random series and configs. The seeds below run
// as part of the normal test suite; `go test -fuzz=FuzzRun` explores more.
func FuzzRun(f *testing.F) {
	realistic := make([]byte, 0, 180)
	for i := 0; i < 60; i++ {
		realistic = append(realistic, 1, byte(200+i), 3) // ~1,000 to 1,200 per minute
	}
	f.Add(realistic, int64(5), uint8(0), uint16(100), uint8(0), int16(0), int16(0))
	f.Add(realistic, int64(0), uint8(0), uint16(100), uint8(12), int16(0), int16(0))
	f.Add(realistic, int64(40), uint8(0), uint16(100), uint8(3), int16(7), int16(90))
	f.Add(realistic, int64(4), uint8(0), uint16(100), uint8(3), int16(7), int16(-5))
	f.Add(realistic, int64(4), uint8(2), uint16(100), uint8(3), int16(70), int16(90))
	f.Add(realistic[:6], int64(90), uint8(3), uint16(100), uint8(3), int16(70), int16(90))
	f.Add(realistic[:6], int64(4), uint8(1), uint16(50), uint8(0), int16(0), int16(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f}, int64(-9), uint8(0), uint16(0), uint8(0), int16(0), int16(0))
	f.Add([]byte{4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f, 4, 1, 0, 0, 0, 0, 0, 0, 0}, int64(math.MaxInt64), uint8(1), uint16(1), uint8(255), int16(-1), int16(30000))

	f.Fuzz(func(t *testing.T, raw []byte, count int64, mode uint8, capacity uint16, floor uint8, overrideCount int16, overrideMinutes int16) {
		cfg := map[string]string{
			keyCapacity:  strconv.Itoa(int(capacity%2000) + 1),
			keyMinPoints: "3",
			keyFloor:     strconv.Itoa(int(floor % 50)),
		}
		if mode%2 == 1 {
			cfg[keyMode] = modeBacklog
		}
		overrideActive := false
		if overrideMinutes != 0 {
			cfg[keyOverrideCount] = strconv.Itoa(int(overrideCount) & 0x3ff)
			cfg[keyOverrideUntil] = friday.Add(time.Duration(overrideMinutes) * time.Minute).Format(time.RFC3339)
			overrideActive = overrideMinutes > 0 && time.Duration(overrideMinutes)*time.Minute <= 168*time.Hour // override_max_duration's default
		}
		minimum := overrideMinutes != 0 && mode&2 == 2
		if minimum {
			cfg[keyOverrideMode] = overrideMinimum
		}
		metrics := fuzzSeries(raw, friday)

		p := New(hclog.NewNullLogger())
		p.SetClock(func() time.Time { return friday })
		out, err := p.Run(&sdk.ScalingCheckEvaluation{
			Check:   &sdk.ScalingPolicyCheck{Name: "fuzz", Strategy: &sdk.ScalingPolicyStrategy{Name: "slope", Config: cfg}},
			Metrics: metrics,
		}, count)
		if err != nil {
			must.False(t, strings.Contains(err.Error(), "internal error"), must.Sprint("recovered panic: ", err))
			must.Nil(t, out)
			return
		}
		a := out.Action
		must.NotNil(t, a)
		must.NonNegative(t, a.Count)
		must.LessEq(t, int64(maxWorkers), a.Count)
		switch {
		case overrideActive && minimum:
			must.GreaterEq(t, int64(overrideCount)&0x3ff, a.Count, must.Sprint("a minimum holds while active"))
		case overrideActive:
			must.Eq(t, int64(overrideCount)&0x3ff, a.Count, must.Sprint("override wins while active"))
			return
		}
		must.GreaterEq(t, int64(floor%50), a.Count, must.Sprint("floor respected"))

		again, err := p.Run(&sdk.ScalingCheckEvaluation{
			Check:   &sdk.ScalingPolicyCheck{Name: "fuzz", Strategy: &sdk.ScalingPolicyStrategy{Name: "slope", Config: cfg}},
			Metrics: doubled(metrics),
		}, count)
		must.NoError(t, err)
		must.GreaterEq(t, a.Count, again.Action.Count, must.Sprint("more load never yields fewer workers"))
	})
}
