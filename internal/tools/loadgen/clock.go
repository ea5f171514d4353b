package loadgen

import (
	"math"
	"time"
)

// Clock maps real time onto the simulated time of a compressed replay: one
// real second is Compression simulated seconds.
type Clock struct {
	RealStart   time.Time
	SimStart    time.Time
	Compression float64
}

// Sim returns the simulated time at the real time t.
func (c Clock) Sim(t time.Time) time.Time {
	return c.SimStart.Add(time.Duration(float64(t.Sub(c.RealStart)) * c.Compression))
}

// Real returns the real time at which the simulated time s is reached.
func (c Clock) Real(s time.Time) time.Time {
	return c.RealStart.Add(time.Duration(float64(s.Sub(c.SimStart)) / c.Compression))
}

// Expected returns how many requests the trace holds in the simulated
// interval [from, to), spreading each minute's requests evenly over it.
// Times outside the trace carry no requests.
func Expected(minutes []Minute, from, to time.Time) float64 {
	if len(minutes) == 0 || !to.After(from) {
		return 0
	}
	first := minutes[0].Start
	i := int(math.Floor(float64(from.Sub(first)) / float64(time.Minute)))
	if i < 0 {
		i = 0
	}
	var sum float64
	for ; i < len(minutes); i++ {
		ms, me := minutes[i].Start, minutes[i].Start.Add(time.Minute)
		if !ms.Before(to) {
			break
		}
		lo, hi := later(ms, from), earlier(me, to)
		if hi.After(lo) {
			sum += minutes[i].Requests * float64(hi.Sub(lo)) / float64(time.Minute)
		}
	}
	return sum
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// carry turns a stream of fractional amounts into whole numbers without
// losing the fractions: the sum of what Take returns never drifts more than
// one from the sum of what it was given.
type carry struct{ rest float64 }

// Take adds x and returns the whole part now due.
func (c *carry) Take(x float64) int {
	c.rest += x
	// The tolerance absorbs float error, so that fractions adding up to a
	// whole number yield it.
	n := math.Floor(c.rest + 1e-9)
	c.rest -= n
	return int(n)
}
