package simcloud

import (
	"sync"
	"time"
)

// Clock is simulated time that runs Scale times faster than real time from
// Start. It is safe for concurrent use.
type Clock struct {
	mu        sync.Mutex
	realStart time.Time
	simStart  time.Time
	scale     float64
	realNow   func() time.Time
}

// NewClock returns a clock showing start now and advancing scale simulated
// seconds per real second. realNow defaults to time.Now.
func NewClock(start time.Time, scale float64, realNow func() time.Time) *Clock {
	if realNow == nil {
		realNow = time.Now
	}
	if scale <= 0 {
		scale = 1
	}
	return &Clock{realStart: realNow(), simStart: start, scale: scale, realNow: realNow}
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := c.realNow().Sub(c.realStart)
	return c.simStart.Add(time.Duration(float64(elapsed) * c.scale))
}

// Scale returns the time compression factor.
func (c *Clock) Scale() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scale
}

// Real converts a simulated duration into the real duration it takes.
func (c *Clock) Real(sim time.Duration) time.Duration {
	return time.Duration(float64(sim) / c.Scale())
}
