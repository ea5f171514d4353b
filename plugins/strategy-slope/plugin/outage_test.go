package plugin

import (
	"testing"

	"github.com/shoenig/test/must"
)

func withTail(pts []point, tail ...float64) []point {
	out := make([]point, 0, len(pts)+len(tail))
	for _, p := range pts {
		out = append(out, point{x: p.x - float64(len(tail)), y: p.y})
	}
	for i, v := range tail {
		out = append(out, point{x: float64(i - len(tail) + 1), y: v})
	}
	return out
}

func TestRecentOutageHoldsThroughTheUsersReturn(t *testing.T) {
	back := withTail(flat(60, 1000), append(repeat(10, 0), 300, 1500, 1400)...)
	must.Eq(t, 0, outageSlots(filled(back), 60), must.Sprint("traffic is back"))
	must.Eq(t, 10, recentOutage(filled(back), 60, 8), must.Sprint("but the outage ended 3 minutes ago"))
	must.Eq(t, 0, recentOutage(filled(back), 60, 2))
	long := withTail(flat(60, 1000), append(repeat(10, 0), 1500)...)
	must.Eq(t, 0, recentOutage(filled(long), 5, 8), must.Sprint("a collapse longer than the limit, even if it ended"))
	// The users come back gradually: 250/min is a quarter of the traffic
	// before the outage, but more than 30% of the last hour (which holds
	// the outage's zeros). Found replaying the smoothed NASA trace at
	// 60M/day: the hold ended with the first minute of the return, the
	// fleet went from 568 to 189 workers, and the returning traffic
	// queued for 15 minutes.
	ramp := withTail(flat(60, 1000), append(repeat(20, 0), 250, 400)...)
	must.Eq(t, 0, outageSlots(filled(ramp), 60))
	must.Eq(t, 20, recentOutage(filled(ramp), 60, 8))
	gone := withTail(flat(60, 1000), repeat(70, 0)...)
	must.Eq(t, 0, recentOutage(filled(withTail(gone, 250, 400)), 60, 8), must.Sprint("the end of a new normal is no outage's end"))
}

func TestOutageSlots(t *testing.T) {
	cases := []struct {
		name  string
		pts   []point
		limit int
		want  int
	}{
		{"ten minutes of zeros after an hour of traffic are an outage of ten", withTail(flat(60, 1000), repeat(10, 0)...), 60, 10},
		{"a collapse to a fifth of the traffic is an outage too", withTail(flat(60, 1000), repeat(5, 200)...), 60, 5},
		{"a drop to half is demand, not an outage", withTail(flat(60, 1000), repeat(5, 500)...), 60, 0},
		{"a collapse longer than the limit is the new normal", withTail(flat(60, 1000), repeat(10, 0)...), 5, 0},
		{"a collapse whose reference hour is itself collapsed is longer than run plus an hour",
			withTail(flat(30, 1000), repeat(100, 0)...), 120, 0},
		{"a window of nothing but zeros had no traffic to lose", flat(60, 0), 60, 0},
		{"traffic now is no outage", flat(60, 1000), 60, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, outageSlots(filled(tc.pts), tc.limit))
		})
	}
}
