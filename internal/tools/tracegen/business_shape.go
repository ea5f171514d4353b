package tracegen

import "math/rand/v2"

// workday is the traffic of a B2B API over a working day's local clock, 1
// at about the daily peak. Its parameters are drawn per trace, so a policy
// cannot learn one office's habits; the ramp also moves per day.
type workday struct {
	night      float64 // the traffic at night as a fraction of the peak
	rampStart  float64 // minutes after midnight at which the morning ramp begins
	rampLen    float64 // minutes from the beginning of the ramp to the plateau: the steepness
	morning    float64 // the plateau before the afternoon peak, relative to it
	peakAt     float64 // the afternoon peak, minutes after midnight
	peakWidth  float64
	lunchAt    float64
	lunchWidth float64
	lunchDepth float64 // the lunch dip as a fraction of the plateau
	eveningEnd float64 // minutes after midnight at which traffic is back at night level
	eveningLen float64 // minutes of the evening decline
}

func drawWorkday(r *rand.Rand) workday {
	return workday{
		night:      uniform(r, 0.02, 0.08),
		rampStart:  uniform(r, 6*60+30, 8*60+30),
		rampLen:    uniform(r, 90, 240),
		morning:    uniform(r, 0.80, 0.95),
		peakAt:     uniform(r, 14*60, 16*60),
		peakWidth:  uniform(r, 60, 120),
		lunchAt:    uniform(r, 12*60, 13*60+30),
		lunchWidth: uniform(r, 20, 40),
		lunchDepth: uniform(r, 0.05, 0.20),
		eveningEnd: uniform(r, 20*60, 23*60),
		eveningLen: uniform(r, 150, 330),
	}
}

// at is the shape at a local clock time (minutes after midnight) on a day
// whose ramp starts shift minutes late and is stretch times as long. The
// logistic ramps run from 2% to 98% over their length.
func (w workday) at(clock, shift, stretch float64) float64 {
	rampLen := w.rampLen * stretch
	ramp := logistic((clock - w.rampStart - shift - rampLen/2) / (rampLen / 8))
	evening := 1 - logistic((clock-w.eveningEnd+w.eveningLen/2)/(w.eveningLen/8))
	plateau := w.morning + (1-w.morning)*bell(clock, w.peakAt, w.peakWidth)
	lunch := 1 - w.lunchDepth*bell(clock, w.lunchAt, w.lunchWidth)
	return w.night + (1-w.night)*ramp*evening*plateau*lunch
}

// restDay returns the shape of a weekend or holiday: the same night, and
// core times the working day's traffic above it.
func (w workday) restDay(shape, core float64) float64 {
	return w.night + core*(shape-w.night)
}

// restCore is the fraction of a working day's above-night traffic that a
// rest day keeps so that its total is ratio times a working day's.
func (w workday) restCore(ratio float64) float64 {
	var total float64
	for clock := range 1440 {
		total += w.at(float64(clock), 0, 1)
	}
	night := 1440 * w.night
	return max((ratio*total-night)/(total-night), 0)
}
