package demo

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// FleetReading is how many workers served at a simulated time, for
// ScoreFleetSLA.
type FleetReading struct {
	Sim     time.Time
	Workers int
}

// ScoreFleetSLA scores a replay of minutes (up to the simulated time last)
// the way the demo's summary does, and cmd/backtest scores a strategy: the
// trace's arrivals queue for the workers the readings show serving (each
// reading holds until the next), each serving capacity requests per
// minute, business hours 08:00-22:00 in loc. It is the demo's own
// arithmetic, exported for test/soak, which runs its own replay.
func ScoreFleetSLA(minutes []loadgen.Minute, readings []FleetReading, last time.Time, capacity float64, loc *time.Location) SLAScore {
	if len(minutes) == 0 {
		return SLAScore{}
	}
	track := &fleetTrack{points: make([]fleetPoint, len(readings))}
	for i, r := range readings {
		track.points[i] = fleetPoint{sim: r.Sim, workers: r.Workers}
	}
	sc, _ := scoreRun(track, minutes, last, capacity, loc)
	return sc
}
