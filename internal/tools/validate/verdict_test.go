package validate

import (
	"testing"

	"github.com/shoenig/test/must"
)

func TestJudgeNamesEveryGoalARowMisses(t *testing.T) {
	t.Parallel()
	// good meets every business-hours goal with room to spare.
	good := Figures{Days: 28, DaysMet: 28, AvailabilityPct: 99.95, RatioToOracle: 1.09, BilledWorkerHours: 1000}
	with := func(change func(*Figures)) Figures {
		f := good
		change(&f)
		return f
	}
	peer := func(name string, daysMet int, billed float64) Peer {
		return Peer{Name: name, Figures: Figures{Days: 28, DaysMet: daysMet, BilledWorkerHours: billed}}
	}
	cheaperPeers := []Peer{peer("target-value", 28, 1500), peer("predictive", 28, 1800)}
	cases := []struct {
		name  string
		goals Goals
		slope Figures
		peers []Peer
		want  []string
	}{
		{"a row that meets every goal and beats both peers passes", BusinessHoursGoals, good, cheaperPeers, nil},
		{"one missed day fails business-hours traffic", BusinessHoursGoals, with(func(f *Figures) { f.DaysMet = 27 }), nil,
			[]string{"days 27/28"}},
		{"availability under 99.9% fails business-hours traffic", BusinessHoursGoals,
			with(func(f *Figures) { f.AvailabilityPct = 99.85 }), nil, []string{"availability 99.850<99.9"}},
		{"availability just under the goal is printed with the digits that show it", BusinessHoursGoals,
			with(func(f *Figures) { f.AvailabilityPct = 99.8999 }), nil, []string{"availability 99.8999<99.9"}},
		{"availability exactly at the goal passes", BusinessHoursGoals, with(func(f *Figures) { f.AvailabilityPct = 99.9 }), nil, nil},
		{"a cost above 1.12 x oracle fails business-hours traffic", BusinessHoursGoals,
			with(func(f *Figures) { f.RatioToOracle = 1.15 }), nil, []string{"cost 1.150>1.12"}},
		{"a cost just above the goal does not print as equal to it", BusinessHoursGoals,
			with(func(f *Figures) { f.RatioToOracle = 1.1204 }), nil, []string{"cost 1.1204>1.12"}},
		{"a cost exactly at the goal passes", BusinessHoursGoals, with(func(f *Figures) { f.RatioToOracle = 1.12 }), nil, nil},
		{"flash-crowd traffic may miss 8% of days", FlashCrowdGoals,
			Figures{Days: 87, DaysMet: 81, AvailabilityPct: 99.6, RatioToOracle: 1.25}, nil, nil},
		{"flash-crowd traffic fails under 92% of days", FlashCrowdGoals,
			Figures{Days: 87, DaysMet: 80, AvailabilityPct: 99.6, RatioToOracle: 1.25}, nil, []string{"days 80/87<92%"}},
		{"flash-crowd traffic fails under 99.5% availability and over 1.30 x oracle", FlashCrowdGoals,
			Figures{Days: 87, DaysMet: 87, AvailabilityPct: 99.4, RatioToOracle: 1.31}, nil,
			[]string{"availability 99.400<99.5", "cost 1.310>1.3"}},
		{"a peer that meets more days is ahead", BusinessHoursGoals, with(func(f *Figures) { f.DaysMet = 27 }),
			[]Peer{peer("target-value", 28, 5000), peer("predictive", 26, 500)},
			[]string{"days 27/28", "behind target-value: 28/28 days"}},
		{"a peer that meets as many days with fewer billed worker-hours is ahead", BusinessHoursGoals, good,
			[]Peer{peer("target-value", 28, 999.4), peer("predictive", 28, 1200)},
			[]string{"behind target-value: same days, billed 999<1000 worker-hours"}},
		{"a peer with as many days and the same bill is not ahead", BusinessHoursGoals, good,
			[]Peer{peer("target-value", 28, 1000)}, nil},
		{"a peer that meets fewer days is behind whatever it costs", BusinessHoursGoals, good,
			[]Peer{peer("target-value", 20, 10)}, nil},
		{"every goal can fail at once", BusinessHoursGoals,
			Figures{Days: 28, DaysMet: 0, AvailabilityPct: 1.5, RatioToOracle: 1.2, BilledWorkerHours: 300},
			[]Peer{peer("target-value", 0, 100), peer("predictive", 3, 900)},
			[]string{"days 0/28", "availability 1.500<99.9", "cost 1.200>1.12",
				"behind target-value: same days, billed 100<300 worker-hours", "behind predictive: 3/28 days"}},
		{"a row without days cannot pass", BusinessHoursGoals, Figures{AvailabilityPct: 100}, cheaperPeers,
			[]string{"no days scored"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := judge(tc.goals, tc.slope, tc.peers)
			must.Eq(t, tc.want, v.Failures)
			must.Eq(t, len(tc.want) == 0, v.Pass())
		})
	}
}

func TestAVerdictPrintsPassOrFailWithItsReasons(t *testing.T) {
	t.Parallel()
	must.Eq(t, "PASS", Verdict{}.String())
	must.Eq(t, "FAIL cost 1.150>1.12, days 27/28", Verdict{Failures: []string{"cost 1.150>1.12", "days 27/28"}}.String())
}
