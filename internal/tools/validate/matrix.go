package validate

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
)

// Kind says where a scenario's trace comes from.
type Kind string

// Trace kinds.
const (
	// KindNASA is the shared NASA-HTTP trace scaled by the backtest
	// (-daily): the real trace, minute noise included.
	KindNASA Kind = "nasa"
	// KindNASAPoisson is the NASA trace scaled to the volume, smoothed
	// and re-sampled with Poisson counts (SmoothPoisson): the same shape
	// with the minute noise of a service that really has that volume.
	KindNASAPoisson Kind = "nasa~poisson"
	// KindSynthetic is a seeded trace of internal/tools/tracegen generated at
	// the volume.
	KindSynthetic Kind = "synthetic"
)

// The NASA trace's zone: its business hours and days are New York's.
const nasaTimeZone = "America/New_York"

// Volumes of the matrix, in requests per day.
const (
	volume500k = 500_000
	volume2M   = 2_000_000
	volume10M  = 10_000_000
	volume60M  = 60_000_000
)

// Scenario is one replay of the matrix.
type Scenario struct {
	// Name is the trace's name: nasa, nasa~poisson or the synthetic
	// trace's name (business-a, ...).
	Name string
	Kind Kind
	// Volume is the mean number of requests per day the trace is replayed
	// at.
	Volume float64
	// TimeZone is the zone of business hours and SLA days.
	TimeZone string
	// Profile is the synthetic trace's profile, at Volume; nil otherwise.
	Profile *tracegen.Profile
	// Split: besides all days, report the first TrainDays days (train)
	// and the remaining days (held out) separately.
	Split bool
	// HeldOut: a synthetic trace no choice was made on (StandardTrace).
	HeldOut bool
	Goals   Goals
}

// Synthetic reports whether the trace is generated rather than recorded.
func (s Scenario) Synthetic() bool { return s.Kind == KindSynthetic }

// StandardTraces is the standard validation set of cmd/tracegen/README.md
// (name, profile, length, start, zone, seed and growth), to be generated at
// the volumes of the matrix: first the traces the strategy's choices were
// made on, then the held-out ones (HeldOut), on which no choice was made.
func StandardTraces() []StandardTrace {
	mk := func(name string, days int, start, tz string, seed uint64) tracegen.Profile {
		p := tracegen.Defaults(name)
		p.Days, p.TimeZone, p.Seed = days, tz, seed
		// The starts are constants that a test compares with the README.
		p.Start, _ = time.Parse(time.RFC3339, start)
		return p
	}
	flash30 := mk(tracegen.Flashcrowd, 60, "2026-02-01T23:00:00Z", "Europe/Paris", 13)
	flash30.Growth = 30
	return []StandardTrace{
		{Name: "business-a", Profile: mk(tracegen.Business, 28, "2026-03-02T05:00:00Z", "America/New_York", 1)},
		{Name: "business-b", Profile: mk(tracegen.Business, 28, "2026-03-01T18:30:00Z", "Asia/Kolkata", 2)},
		{Name: "flashcrowd-a", Profile: mk(tracegen.Flashcrowd, 87, "2026-04-30T22:00:00Z", "Europe/Paris", 3)},
		{Name: "business-c", Profile: mk(tracegen.Business, 28, "2026-05-04T04:00:00Z", "America/New_York", 11), HeldOut: true},
		{Name: "business-d", Profile: mk(tracegen.Business, 28, "2026-06-01T04:00:00Z", "America/New_York", 12), HeldOut: true},
		{Name: "flashcrowd-b", Profile: flash30, HeldOut: true},
	}
}

// StandardTrace is one trace of the standard validation set.
type StandardTrace struct {
	Name    string
	Profile tracegen.Profile
	// HeldOut: no choice of the strategy or of the shipped policy was made
	// on this trace; the matrix replays it at the four volumes, as the others.
	HeldOut bool
}

// Matrix is the list of scenarios `go run ./cmd/validate` replays, in the
// order of the table; quick is the reduced matrix of -quick (the real
// trace at 2M and 60M requests/day).
func Matrix(quick bool) []Scenario {
	nasa := func(v float64) Scenario {
		return Scenario{Name: string(KindNASA), Kind: KindNASA, Volume: v, TimeZone: nasaTimeZone, Split: true, Goals: BusinessHoursGoals}
	}
	if quick {
		return []Scenario{nasa(volume2M), nasa(volume60M)}
	}
	m := []Scenario{nasa(volume500k), nasa(volume2M), nasa(volume10M), nasa(volume60M)}
	for _, v := range []float64{volume2M, volume60M} {
		m = append(m, Scenario{Name: string(KindNASAPoisson), Kind: KindNASAPoisson, Volume: v, TimeZone: nasaTimeZone,
			Goals: BusinessHoursGoals})
	}
	for _, st := range StandardTraces() {
		goals := BusinessHoursGoals
		if st.Profile.Name == tracegen.Flashcrowd {
			goals = FlashCrowdGoals
		}
		for _, v := range []float64{volume500k, volume2M, volume10M, volume60M} {
			p := st.Profile
			p.Daily = v
			m = append(m, Scenario{Name: st.Name, Kind: KindSynthetic, Volume: v, TimeZone: p.TimeZone, Profile: &p,
				HeldOut: st.HeldOut, Goals: goals})
		}
	}
	return m
}
