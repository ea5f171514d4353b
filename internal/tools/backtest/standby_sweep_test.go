package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/shoenig/test/must"
)

func TestParseStandbySizesNamesTheFlagAndTheValue(t *testing.T) {
	t.Parallel()
	sizes, err := ParseStandbySizes("20, 0,5")
	must.NoError(t, err)
	must.Eq(t, []int64{0, 5, 20}, sizes, must.Sprint("sorted, spaces allowed"))
	for _, tc := range []struct{ in, want string }{
		{"", `-standby-sizes "": "" is not a whole number of VMs`},
		{"5,x", `-standby-sizes "5,x": "x" is not a whole number of VMs`},
		{"-1", `"-1" is not a whole number of VMs from 0`},
		{"20,1001", `"1001" is not a whole number of VMs from 0 to 1000 (target-gce-gpu's bounds)`},
		{"1.5", `"1.5" is not a whole number`},
		{"4,4", `-standby-sizes "4,4": 4 is listed twice`},
		{"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "17 sizes, at most 16"},
	} {
		_, err := ParseStandbySizes(tc.in)
		must.ErrorContains(t, err, tc.want)
	}
}

func TestTheSweepPicksTheSmallestPoolThatMeetsTheMostDays(t *testing.T) {
	t.Parallel()
	rows := func(days ...int) []StandbyRow {
		var out []StandbyRow
		for i, d := range days {
			// The whole run's days must not decide: only the first half's.
			out = append(out, StandbyRow{Size: int64(10 * i), First: HalfFigures{DaysMet: d}, Policy: StrategyResult{Score: Score{DaysMet: 100 - d}}})
		}
		return out
	}
	must.Eq(t, 1, pickStandby(rows(3, 5, 5, 4)))
	must.Eq(t, 0, pickStandby(rows(5, 5, 5)), must.Sprint("no pool when none lifts a day"))
	must.Eq(t, 3, pickStandby(rows(1, 2, 3, 4)))
}

// The sweep's row for the policy's own standby_size is exactly the plain
// run's slope: the same replay, only the other sizes added. Size 0 keeps
// no pool at all.
func TestTheSweepReplaysThePolicyOncePerSizeAsARunWould(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.PolicyPath, cfg.Daily, cfg.TimeZone = "../../../policies/gpu-workers.hcl", 2_000_000, "America/New_York"
	tr := surgeTrace()
	plain, err := Run(context.Background(), cfg, tr, "surge")
	must.NoError(t, err)
	pc, err := parsePool(plain.Policy)
	must.NoError(t, err)
	must.Positive(t, pc.size, must.Sprint("the shipped policy keeps a pool"))

	sw, err := RunStandbySweep(context.Background(), cfg, tr, "surge", []int64{pc.size, 0})
	must.NoError(t, err)
	must.SliceLen(t, 2, sw.Rows)
	none, own := sw.Rows[0], sw.Rows[1]
	must.Eq(t, 0, none.Size)
	must.Eq(t, pc.size, own.Size)
	want := plain.Strategy(NameSlope)
	must.Eq(t, want.Cost, own.Policy.Cost)
	must.Eq(t, want.BilledWorkerHours, own.Policy.BilledWorkerHours)
	must.Eq(t, want.DaysMet, own.Policy.DaysMet)
	must.Eq(t, want.WarmStarts, own.Policy.WarmStarts)
	must.Positive(t, own.Policy.WarmStarts, must.Sprint("the surge takes stopped VMs"))
	must.Eq(t, 0.0, none.Policy.StandbyVMHours)
	must.Eq(t, int64(0), none.Policy.WarmStarts)
	must.Eq(t, 0.0, none.CostChangePct)
	must.Positive(t, own.Policy.StandbyCost)
	// The halves split the days and price the minutes as the whole run.
	for _, r := range sw.Rows {
		must.Eq(t, r.Policy.Days, r.First.Days+r.Second.Days)
		must.Eq(t, r.Policy.DaysMet, r.First.DaysMet+r.Second.DaysMet)
		must.True(t, math.Abs(r.First.Cost+r.Second.Cost-r.Policy.Cost) < 1e-6*r.Policy.Cost,
			must.Sprintf("%g + %g != %g", r.First.Cost, r.Second.Cost, r.Policy.Cost))
		must.Positive(t, r.Second.Cost)
	}
	must.Eq(t, 1, own.First.Days, must.Sprint("three days, warm-up in the first: one day, then two"))
	picked := 0
	for _, r := range sw.Rows {
		if r.Picked {
			picked++
		}
	}
	must.Eq(t, 1, picked)
}

// surgeTrace is two quiet days, then a third whose business hours triple
// the traffic within a minute: a surge for the pool to answer.
func surgeTrace() Trace {
	tr := dailyWave(3)
	for i := 2*1440 + 14*60; i < 2*1440+16*60; i++ {
		tr.Counts[i] *= 3
	}
	return tr
}

// A run of one SLA day has no second half: the pick is made on it and
// the line says so.
func TestTheSweepOfOneDayPicksOnThatDay(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.PolicyPath, cfg.Daily, cfg.TimeZone = "../../../policies/gpu-workers.hcl", 2_000_000, "America/New_York"
	tr := dailyWave(1)
	sw, err := RunStandbySweep(context.Background(), cfg, tr, "one day", []int64{0, 3})
	must.NoError(t, err)
	for _, r := range sw.Rows {
		must.Eq(t, r.Policy.Days, r.First.Days)
		must.Eq(t, 0, r.Second.Days)
		must.True(t, math.Abs(r.Policy.Cost-r.First.Cost) < 1e-9*r.Policy.Cost)
	}
	var b bytes.Buffer
	must.NoError(t, sw.WriteTable(&b))
	must.StrContains(t, b.String(), "too few to hold half out")
}

func TestRunStandbySizesPrintsTheSizesAndWritesTheirFile(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-trace", writeTrace(t), "-policy", "../../../policies/gpu-workers.hcl",
		"-daily", "2000000", "-tz", "America/New_York", "-standby-sizes", "0,4", "-out", out}, Stdout: &stdout, Stderr: &stderr})
	must.NoError(t, err)
	text := stdout.String()
	for _, want := range []string{"standby_size", "SLA days met", "pool VM-hours", "cost vs smallest",
		"* picked on the first half (", "standby_size = 0", "on the second half, not chosen on", "wrote standby.json"} {
		must.StrContains(t, text, want)
	}
	raw, err := os.ReadFile(filepath.Join(out, StandbySweepFile))
	must.NoError(t, err)
	var got struct {
		Sizes []struct {
			StandbySize int64   `json:"standby_size"`
			Days        int     `json:"days"`
			StandbyCost float64 `json:"standby_cost"`
			Picked      bool    `json:"picked"`
		} `json:"sizes"`
	}
	must.NoError(t, json.Unmarshal(raw, &got))
	must.SliceLen(t, 2, got.Sizes)
	must.Eq(t, int64(4), got.Sizes[1].StandbySize)
	must.Eq(t, 0.0, got.Sizes[0].StandbyCost)
	must.Positive(t, got.Sizes[1].StandbyCost, must.Sprint("the pool's disks are priced"))
	must.True(t, got.Sizes[0].Picked)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-trace", "a.csv", "-standby-sizes", "0,x"}, `-standby-sizes "0,x": "x" is not a whole number`},
		{[]string{"-trace", "a.csv", "-standby-sizes", "0,4", "-shapes", "testdata/command/shapes.csv"}, "-standby-sizes and -shapes: give one of them"},
		{[]string{"-trace", "does-not-exist.csv", "-standby-sizes", "0,4", "-policy", "testdata/command/target-value.hcl", "-capacity", "10"},
			"has no target block: standby_size is a key of target-gce-gpu's"},
	} {
		err := Main(context.Background(), cli.Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr})
		must.ErrorContains(t, err, tc.want)
	}
}
