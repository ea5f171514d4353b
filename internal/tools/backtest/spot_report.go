package backtest

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// SpotResult is what the policy's Spot tier did over the scored minutes.
type SpotResult struct {
	// Workers are the Spot workers serving in each scored minute (part of
	// StrategyResult.Workers); BilledWorkers the Spot VMs billed (part of
	// StrategyResult.BilledWorkers), so that any part of the trace can be
	// priced by tier; Requeued the requests preemptions returned to the
	// queue in each scored minute.
	Workers       []int64
	BilledWorkers []int64
	Requeued      []float64
	// WorkerHours serve on Spot; BilledWorkerHours are billed at the Spot
	// price, the rest of the strategy's billed hours at the standard one.
	WorkerHours       float64
	BilledWorkerHours float64
	// StandardCost, SpotCost and the strategy's StandbyCost add up to its
	// Cost.
	StandardCost float64
	SpotCost     float64
	// Preemptions counts Spot workers preempted (serving or booting),
	// OutagePreemptions those taken by the daily -spot-outage.
	Preemptions       int64
	OutagePreemptions int64
	RequeuedRequests  float64
	// UnavailableMinutes counts scored minutes in which scale-outs could
	// not use Spot (a preemption's cooldown or the outage).
	UnavailableMinutes int
}

// addSpot splits a replay's bill by tier: the Spot VMs' billed hours at
// spotPrice instead of price.
func (sr *StrategyResult) addSpot(o *replayOutcome, price, spotPrice float64) {
	if o.spot == nil {
		return
	}
	f := o.spot
	s := &SpotResult{Workers: f.serving, BilledWorkers: f.billed, Requeued: f.requeued,
		Preemptions: f.preempted, OutagePreemptions: f.byOutage, UnavailableMinutes: f.unavailableMinutes}
	var serving, billed int64
	for i := range f.serving {
		serving += f.serving[i]
		billed += f.billed[i]
		s.RequeuedRequests += f.requeued[i]
	}
	s.WorkerHours, s.BilledWorkerHours = float64(serving)/60, float64(billed)/60
	s.StandardCost = (sr.BilledWorkerHours - s.BilledWorkerHours) * price
	s.SpotCost = s.BilledWorkerHours * spotPrice
	sr.Spot = s
	sr.Cost = s.StandardCost + s.SpotCost + sr.StandbyCost
}

// SpotParameters are the Spot tier's inputs in summary.json, present only
// when the policy's target has spot_migs.
type SpotParameters struct {
	Share          float64 `json:"spot_share"`
	Cooldown       string  `json:"spot_cooldown"`
	SpotPrice      float64 `json:"spot_price"`
	PreemptionRate float64 `json:"preemption_rate"`
	SpotOutage     string  `json:"spot_outage"`
	Seed           int64   `json:"seed"`
}

// TierCosts is a strategy's cost by tier; they add up to its cost.
type TierCosts struct {
	Standard float64 `json:"standard"`
	Spot     float64 `json:"spot"`
	Pool     float64 `json:"pool,omitempty"`
}

// SpotSummary is the Spot tier's line in a strategy of summary.json.
type SpotSummary struct {
	CostByTier         TierCosts `json:"cost_by_tier"`
	WorkerHours        float64   `json:"spot_worker_hours"`
	BilledWorkerHours  float64   `json:"spot_billed_worker_hours"`
	Preemptions        int64     `json:"preemptions"`
	OutagePreemptions  int64     `json:"outage_preemptions"`
	RequeuedRequests   float64   `json:"requeued_requests"`
	UnavailableMinutes int       `json:"spot_unavailable_minutes"`
}

// spotSummary is the summary.json view of a strategy's Spot tier.
func (sr *StrategyResult) spotSummary() *SpotSummary {
	s := sr.Spot
	if s == nil {
		return nil
	}
	return &SpotSummary{
		CostByTier:  TierCosts{Standard: round(s.StandardCost, 2), Spot: round(s.SpotCost, 2), Pool: round(sr.StandbyCost, 2)},
		WorkerHours: round(s.WorkerHours, 2), BilledWorkerHours: round(s.BilledWorkerHours, 2),
		Preemptions: s.Preemptions, OutagePreemptions: s.OutagePreemptions,
		RequeuedRequests: round(s.RequeuedRequests, 1), UnavailableMinutes: s.UnavailableMinutes,
	}
}

// spotParameters is the summary.json view of the Spot inputs, nil without
// a Spot tier.
func (r *Result) spotParameters() *SpotParameters {
	sc, err := parseSpot(r.Policy)
	if err != nil || !sc.on {
		return nil
	}
	c := r.Config
	return &SpotParameters{Share: sc.share, Cooldown: sc.cooldown.String(), SpotPrice: c.SpotPrice,
		PreemptionRate: c.PreemptionRate, SpotOutage: c.SpotOutage.String(), Seed: c.Seed}
}

// writeSpotLine prints the policy's Spot tier under the table.
func (r *Result) writeSpotLine(w io.Writer) {
	s := r.Strategy(NameSlope)
	if s == nil || s.Spot == nil {
		return
	}
	sp := r.spotParameters()
	pool := ""
	if s.StandbyVMs != nil {
		pool = fmt.Sprintf(" + pool %.2f", s.StandbyCost)
	}
	fmt.Fprintf(w, "slope's Spot tier (spot_share %g, spot_cooldown %s; -spot-price %g, -preemption-rate %g, -spot-outage %s, -seed %d): cost standard %.2f + spot %.2f%s = %.2f; %.1f of %.1f serving worker-hours on Spot; %d workers preempted (%d by the daily outage), %.0f requests returned to the queue; Spot unavailable to scale-outs in %d of %d scored minutes\n",
		sp.Share, sp.Cooldown, sp.SpotPrice, sp.PreemptionRate, sp.SpotOutage, sp.Seed,
		s.Spot.StandardCost, s.Spot.SpotCost, pool, s.Cost, s.Spot.WorkerHours, s.WorkerHours,
		s.Spot.Preemptions, s.Spot.OutagePreemptions, s.Spot.RequeuedRequests, s.Spot.UnavailableMinutes, len(r.Arrivals))
}

// spotColor draws the policy's Spot workers.
var spotColor = color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}

// addSpotLine draws the policy's Spot workers (times the capacity, on the
// panel's scale) as a dotted line; the gap to slope's line is its standard
// workers.
func (r *Result) addSpotLine(p *plot.Plot, from, to, bin int) error {
	s := r.Strategy(NameSlope)
	if s == nil || s.Spot == nil {
		return nil
	}
	l, err := plotter.NewLine(r.binned(from, to, bin, func(i int) float64 { return float64(s.Spot.Workers[i]) * r.Capacity }))
	if err != nil {
		return err
	}
	l.Color = spotColor
	l.Width = vg.Points(1.3)
	l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(l)
	return nil
}
