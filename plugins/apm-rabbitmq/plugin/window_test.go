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
		settle         time.Duration
		wantStart, end string
	}{
		{"a window on minute boundaries keeps every minute", "10:00:00", "10:05:00", "10:05:00", 0, "10:00:00", "10:05:00"},
		{"the minute in progress is left out", "10:00:00", "10:05:30", "10:05:30", 0, "10:00:00", "10:05:00"},
		{"the minute cut by the window start is left out", "10:00:20", "10:05:00", "10:06:00", 0, "10:01:00", "10:05:00"},
		{"a window reaching into the future stops at now", "10:00:00", "10:10:00", "10:03:10", 0, "10:00:00", "10:03:00"},
		{"a past window keeps its own end", "09:00:00", "09:02:00", "10:00:00", 30 * time.Second, "09:00:00", "09:02:00"},
		{"a minute that ended less than settle_delay ago is left out", "10:00:00", "10:05:29", "10:05:29", 30 * time.Second, "10:00:00", "10:04:00"},
		{"a minute that ended settle_delay ago is in", "10:00:00", "10:05:30", "10:05:30", 30 * time.Second, "10:00:00", "10:05:00"},
		{"on a minute boundary the minute just over is not settled", "10:00:00", "10:05:00", "10:05:00", 30 * time.Second, "10:00:00", "10:04:00"},
		{"a settle_delay over a minute holds back two minutes", "10:00:00", "10:05:10", "10:05:10", 90 * time.Second, "10:00:00", "10:03:00"},
		{"a window ending before the settled minutes keeps its own end", "10:00:00", "10:03:00", "10:05:10", 90 * time.Second, "10:00:00", "10:03:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := completeMinutes(sdk.TimeRange{From: at(tc.from), To: at(tc.to)}, at(tc.now), tc.settle)
			must.NoError(t, err)
			must.Eq(t, at(tc.wantStart), w.start)
			must.Eq(t, at(tc.end), w.end)
			// The minutes answered are the minutes the cache may keep.
			must.False(t, w.end.After(settledEnd(at(tc.now), tc.settle)))
		})
	}
}

func TestCompleteMinutesRefuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)
	cases := []struct {
		name     string
		from, to time.Time
		settle   time.Duration
		wantErr  string
	}{
		{"an instant window", now, now, 0, `query_window = "instant"`},
		{"a window that ends before it starts", now, now.Add(-time.Minute), 0, "ends"},
		{"a window shorter than a whole minute", now.Add(-50 * time.Second), now, 0, "holds no complete minute"},
		{"a two-minute window whose newest minute has not settled", now.Add(-2 * time.Minute), now, 45 * time.Second,
			"holds no complete minute yet (one that ended settle_delay ago or more): use a query_window of at least 2m45s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := completeMinutes(sdk.TimeRange{From: tc.from, To: tc.to}, now, tc.settle)
			must.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// FuzzCompleteMinutes checks the window against its definition for any
// window, clock and settle delay: whole minutes, inside the window, all
// ended settle_delay ago, and the window of at least two minutes plus the
// delay that the error recommends always holds one.
func FuzzCompleteMinutes(f *testing.F) {
	f.Add(int64(0), int64(600), int64(630), int64(30))
	f.Add(int64(20), int64(140), int64(150), int64(0))
	f.Add(int64(-3600), int64(-60), int64(5), int64(600))
	f.Fuzz(func(t *testing.T, from, to, now, settle int64) {
		base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		sec := func(n int64) time.Time { return base.Add(time.Duration(n%1e6) * time.Second) }
		d := time.Duration(settle%601) * time.Second
		if d < 0 {
			d = -d
		}
		r := sdk.TimeRange{From: sec(from), To: sec(to)}
		w, err := completeMinutes(r, sec(now), d)
		if err != nil {
			recommended := 2*time.Minute + d
			must.False(t, r.To.Sub(r.From) >= recommended && !r.To.After(sec(now)),
				must.Sprintf("a %s window ending at now holds no minute with settle %s", r.To.Sub(r.From), d))
			return
		}
		must.Eq(t, w.start, w.start.Truncate(time.Minute))
		must.Eq(t, w.end, w.end.Truncate(time.Minute))
		must.True(t, w.start.Before(w.end))
		must.False(t, w.start.Before(r.From))
		must.False(t, w.end.After(r.To))
		must.False(t, w.end.Add(d).After(sec(now)))
	})
}

func TestCheckSeries(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	must.NoError(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: 0}, {Timestamp: ts, Value: 3.5}}))
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: math.NaN()}}), "not a number")
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: math.Inf(1)}}), "not a number")
	must.ErrorContains(t, checkSeries(sdk.TimestampedMetrics{{Timestamp: ts, Value: -1}}), "negative (-1)")
}
