package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/shoenig/test/must"
)

func TestTheCommitmentIsTheMostVMsThatEnoughMinutesUse(t *testing.T) {
	t.Parallel()
	// Ten minutes: 2 VMs in every one, 5 or more in eight, 9 in two.
	standard := []int64{2, 2, 5, 5, 5, 5, 5, 5, 9, 9}
	cases := []struct {
		discount float64
		want     int64
	}{
		{0, 0},    // no discount, no commitment
		{0.1, 2},  // a VM must be busy 90% of the time: only the first 2 are
		{0.2, 5},  // 80%: eight minutes run 5 or more
		{0.4, 5},  // 60%: the sixth VM runs in two minutes only
		{0.8, 9},  // 20%: the two minutes at 9
		{0.95, 9}, // never more than the busiest minute
	}
	for _, c := range cases {
		must.Eq(t, c.want, commitmentSize(standard, c.discount), must.Sprintf("discount %g", c.discount))
	}
	must.Eq(t, int64(0), commitmentSize(nil, 0.37))

	// The chosen size saves at least as much as one VM more or less.
	for _, d := range []float64{0.2, 0.37, 0.55, 0.8} {
		c := commitmentSize(standard, d)
		best := commitmentSaving(standard, c, 1, d)
		must.GreaterEq(t, commitmentSaving(standard, c+1, 1, d), best, must.Sprintf("discount %g: %d+1", d, c))
		if c > 0 {
			must.GreaterEq(t, commitmentSaving(standard, c-1, 1, d), best, must.Sprintf("discount %g: %d-1", d, c))
		}
	}
	// By hand: 5 VMs at 40% off over the ten minutes at $60 an hour ($1 a
	// minute): they cover 2+2+5x8 = 44 VM-minutes ($44) and cost
	// 5 x 10 x 0.6 = $30.
	must.InDelta(t, 14.0, commitmentSaving(standard, 5, 60, 0.4), 1e-9)
}

func TestRunPlansTheCommitmentOnTheFirstHalfAndShowsItOnTheSecond(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.CommitDiscount = 0.37
	res, err := Run(context.Background(), c, dailyWave(4), "wave")
	must.NoError(t, err)
	p := res.Commitment
	must.NotNil(t, p)
	must.Eq(t, 2, p.TrainDays)
	must.Eq(t, 2, p.HeldOutDays)
	// The policy has no Spot tier: every billed VM is standard.
	s := res.Strategy(NameSlope)
	split, err := res.MinuteOfMidnight(s.PerDay[2].Date)
	must.NoError(t, err)
	must.Eq(t, commitmentSize(s.BilledWorkers[:split], 0.37), p.VMs)
	must.Positive(t, p.VMs)
	must.InDelta(t, commitmentSaving(s.BilledWorkers[split:], p.VMs, c.Price, 0.37), p.HeldOutSaving, 1e-9)
	must.Positive(t, p.HeldOutSaving)
	must.Positive(t, p.HeldOutSavingPct)
	must.LessEq(t, 37+1e-9, p.HeldOutSavingPct, must.Sprint("no commitment saves more than its discount"))

	var table bytes.Buffer
	must.NoError(t, res.WriteTable(&table))
	must.StrContains(t, table.String(), "commitment (-commit-discount 0.37, standard VMs only):")
	var summary bytes.Buffer
	must.NoError(t, res.WriteSummary(&summary))
	var got struct {
		Commitment *CommitmentPlan `json:"commitment"`
	}
	must.NoError(t, json.Unmarshal(summary.Bytes(), &got))
	must.NotNil(t, got.Commitment)
	must.Eq(t, p.VMs, got.Commitment.VMs)

	// Without the flag there is no plan, in the table or the summary.
	res, err = Run(context.Background(), testConfig(), dailyWave(2), "wave")
	must.NoError(t, err)
	must.Nil(t, res.Commitment)
	table.Reset()
	must.NoError(t, res.WriteTable(&table))
	must.StrNotContains(t, table.String(), "commitment")
}

func TestACommitmentDiscountOutsideItsRangeIsNamed(t *testing.T) {
	t.Parallel()
	for _, d := range []float64{-0.1, 1, 37} {
		c := testConfig()
		c.CommitDiscount = d
		must.ErrorContains(t, c.Validate(), "-commit-discount")
	}
	o, err := parseFlags([]string{"-trace", "t.csv", "-commit-discount", "0.55"}, nil)
	must.NoError(t, err)
	must.Eq(t, 0.55, o.cfg.CommitDiscount)
}
