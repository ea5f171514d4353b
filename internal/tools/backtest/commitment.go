package backtest

// A committed use discount on the standard tier's baseline
// (-commit-discount): GCE sells 1- and 3-year resource-based commitments
// for GPU VMs (with a reservation attached, which also holds the capacity
// in its zone). A committed VM is paid every hour at the discounted price
// whether it runs or not, and any running standard VM of the shape uses
// it. Spot VMs get no commitment discount, so only the standard tier's VMs
// count.

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
)

// hoursPerMonth prices a month as Google's billing does: 730.5 hours.
const hoursPerMonth = 730.5

// CommitmentPlan is the commitment chosen on the first half of the scored
// days and what it would have saved on each half.
type CommitmentPlan struct {
	Discount float64 `json:"discount"`
	// VMs is the largest commitment that at least 1 - Discount of the first
	// half's minutes would have used in full: each committed VM beyond it
	// costs more idle than it saves busy.
	VMs int64 `json:"vms"`
	// The halves: the first TrainDays local days, and the rest.
	TrainDays   int `json:"train_days"`
	HeldOutDays int `json:"held_out_days"`
	// Saving in dollars on each half, and as a share of that half's cost
	// without the commitment; MonthlySaving is the held-out half's saving
	// per 730.5 hours.
	TrainSaving      float64 `json:"train_saving"`
	TrainSavingPct   float64 `json:"train_saving_pct"`
	HeldOutSaving    float64 `json:"held_out_saving"`
	HeldOutSavingPct float64 `json:"held_out_saving_pct"`
	MonthlySaving    float64 `json:"monthly_saving"`
}

// commitmentSize is the best commitment for the standard VMs billed in
// each minute: the largest c that at least 1 - discount of the minutes
// run c or more. The c-th committed VM saves the price in every minute
// that uses it and costs price x (1 - discount) in every minute, so it
// pays while its minutes are at least that share.
func commitmentSize(standard []int64, discount float64) int64 {
	n := len(standard)
	if n == 0 || discount <= 0 {
		return 0
	}
	sorted := slices.Clone(standard)
	slices.SortFunc(sorted, func(a, b int64) int { return cmp.Compare(b, a) }) // descending
	// need is how many minutes must run c or more: at least one, as the
	// discount is below 1.
	need := int(math.Ceil((1 - discount) * float64(n)))
	return sorted[need-1]
}

// commitmentSaving is what committing c VMs saves on these minutes, in
// dollars: the standard minutes it covers at the full price, less the
// commitment's own price for every minute.
func commitmentSaving(standard []int64, c int64, price, discount float64) float64 {
	var covered int64
	for _, s := range standard {
		covered += min(s, c)
	}
	return price / 60 * (float64(covered) - float64(c)*float64(len(standard))*(1-discount))
}

// planCommitment chooses the commitment on the first half of slope's
// scored days and prices it on both halves. Nil without -commit-discount,
// or with fewer than two days.
func (r *Result) planCommitment() (*CommitmentPlan, error) {
	d := r.Config.CommitDiscount
	s := r.Strategy(NameSlope)
	if d <= 0 || s == nil || len(s.PerDay) < 2 {
		return nil, nil
	}
	standard := slices.Clone(s.BilledWorkers)
	var spotBilled []int64
	if s.Spot != nil {
		spotBilled = s.Spot.BilledWorkers
		for i := range standard {
			standard[i] -= spotBilled[i]
		}
	}
	train := len(s.PerDay) / 2
	split, err := r.MinuteOfMidnight(s.PerDay[train].Date)
	if err != nil {
		return nil, err
	}
	cost := func(from, to int) float64 {
		var c float64
		for i := from; i < to; i++ {
			c += float64(standard[i]) * r.Config.Price / 60
			if spotBilled != nil {
				c += float64(spotBilled[i]) * r.Config.SpotPrice / 60
			}
			if s.StandbyVMs != nil {
				c += float64(s.StandbyVMs[i]) * r.Config.StandbyPrice / 60
			}
		}
		return c
	}
	p := &CommitmentPlan{Discount: d, TrainDays: train, HeldOutDays: len(s.PerDay) - train}
	p.VMs = commitmentSize(standard[:split], d)
	p.TrainSaving = commitmentSaving(standard[:split], p.VMs, r.Config.Price, d)
	p.HeldOutSaving = commitmentSaving(standard[split:], p.VMs, r.Config.Price, d)
	if c := cost(0, split); c > 0 {
		p.TrainSavingPct = 100 * p.TrainSaving / c
	}
	if c := cost(split, len(standard)); c > 0 {
		p.HeldOutSavingPct = 100 * p.HeldOutSaving / c
	}
	if n := len(standard) - split; n > 0 {
		p.MonthlySaving = p.HeldOutSaving / (float64(n) / 60) * hoursPerMonth
	}
	return p, nil
}

// writeCommitmentLine prints the plan under the table.
func (r *Result) writeCommitmentLine(w io.Writer) {
	p := r.Commitment
	if p == nil {
		return
	}
	fmt.Fprintf(w, "commitment (-commit-discount %g, standard VMs only): %d VMs, chosen on the first %d days (the most that %.0f%% of their minutes ran); saves %.2f (%.1f%% of the bill) on them and %.2f (%.1f%%) on the %d held-out days, %.0f a month\n",
		p.Discount, p.VMs, p.TrainDays, 100*(1-p.Discount), p.TrainSaving, p.TrainSavingPct, p.HeldOutSaving, p.HeldOutSavingPct, p.HeldOutDays, p.MonthlySaving)
}
