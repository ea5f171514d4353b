package tracegen

import (
	"fmt"
	"time"
)

// Summary is what a user checks first in a generated trace.
type Summary struct {
	Minutes    int
	MeanPerDay float64
	Peak       int64     // the busiest minute's requests
	PeakAt     time.Time // the start of the busiest minute
	PeakToMean float64   // Peak over the mean requests per minute
}

// Summarize describes a trace of counts starting at start.
func Summarize(start time.Time, counts []int64) Summary {
	s := Summary{Minutes: len(counts)}
	var total float64
	peakAt := 0
	for i, c := range counts {
		total += float64(c)
		if c > s.Peak {
			s.Peak, peakAt = c, i
		}
	}
	if len(counts) == 0 {
		return s
	}
	s.PeakAt = start.UTC().Add(time.Duration(peakAt) * time.Minute)
	s.MeanPerDay = total / float64(len(counts)) * MinutesPerDay
	if total > 0 {
		s.PeakToMean = float64(s.Peak) / (total / float64(len(counts)))
	}
	return s
}

// String is one line: minutes, mean per day, peak minute and peak-to-mean.
func (s Summary) String() string {
	return fmt.Sprintf("%d minutes, mean %.0f requests/day, peak %d requests/min at %s, peak/mean %.2f",
		s.Minutes, s.MeanPerDay, s.Peak, s.PeakAt.Format(time.RFC3339), s.PeakToMean)
}
