package plugin

import (
	"math"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestCompleteMinutes(t *testing.T) {
	t.Parallel()
	at := func(hhmmss string) time.Time {
		ts, err := time.Parse(time.DateTime, "2026-11-27 "+hhmmss)
		must.NoError(t, err)
		return ts
	}
	cases := []struct {
		name           string
		from, to, now  string
		wantStart, end string
	}{
		{"a window on minute boundaries keeps every minute", "10:00:00", "10:05:00", "10:05:00", "10:00:00", "10:05:00"},
		{"the minute in progress is left out", "10:00:00", "10:05:30", "10:05:30", "10:00:00", "10:05:00"},
		{"the minute cut by the window start is left out", "10:00:20", "10:05:00", "10:06:00", "10:01:00", "10:05:00"},
		{"a window reaching into the future stops at now", "10:00:00", "10:10:00", "10:03:10", "10:00:00", "10:03:00"},
		{"a past window keeps its own end", "09:00:00", "09:02:00", "10:00:00", "09:00:00", "09:02:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := completeMinutes(sdk.TimeRange{From: at(tc.from), To: at(tc.to)}, at(tc.now))
			must.NoError(t, err)
			must.Eq(t, at(tc.wantStart), w.start)
			must.Eq(t, at(tc.end), w.end)
		})
	}
}

func TestCompleteMinutesRefuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)
	cases := []struct {
		name     string
		from, to time.Time
		wantErr  string
	}{
		{"an instant window", now, now, `query_window = "instant"`},
		{"a window that ends before it starts", now, now.Add(-time.Minute), "ends"},
		{"a window shorter than a whole minute", now.Add(-50 * time.Second), now, "holds no complete minute"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := completeMinutes(sdk.TimeRange{From: tc.from, To: tc.to}, now)
			must.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestCheckSeries(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	must.NoError(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: 0}, {Timestamp: ts, Value: 3.5}}))
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: math.NaN()}}), "not a number")
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: math.Inf(1)}}), "not a number")
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: -1}}), "negative (-1)")
}
