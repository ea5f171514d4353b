package backtest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/outfiles"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// -standby-sizes replays the policy once per size of the warm pool
// (standby_size), everything else as the policy has it, so that the size
// is chosen on the user's own traffic: how many SLA days each size meets
// and what it costs with its disks. A pool lifts a day only where a surge
// is larger than the margin holds, and what surge a trace has is the
// trace's (at 10M requests/day the synthetic flash crowds needed ten times
// the pool that was enough at 2M), so no size is right for every traffic.

// StandbySweepFile is the -standby-sizes result in the -out directory.
const StandbySweepFile = "standby.json"

// maxSweepSizes bounds the list: each size is a whole replay.
const maxSweepSizes = 16

// ParseStandbySizes reads -standby-sizes: whole numbers of VMs, comma
// separated, at least one, no repeats.
func ParseStandbySizes(v string) ([]int64, error) {
	var sizes []int64
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 || n > maxPoolSize {
			return nil, fmt.Errorf("-standby-sizes %q: %q is not a whole number of VMs from 0 to %d (target-gce-gpu's bounds)", v, f, maxPoolSize)
		}
		if slices.Contains(sizes, n) {
			return nil, fmt.Errorf("-standby-sizes %q: %d is listed twice", v, n)
		}
		sizes = append(sizes, n)
	}
	if len(sizes) > maxSweepSizes {
		return nil, fmt.Errorf("-standby-sizes %q: %d sizes, at most %d (each is a whole replay)", v, len(sizes), maxSweepSizes)
	}
	slices.Sort(sizes)
	return sizes, nil
}

// StandbyRow is the policy replayed with one pool size.
type StandbyRow struct {
	Size   int64
	Policy StrategyResult
	// CostChangePct is Cost against the smallest size's, in percent.
	CostChangePct float64
	// First and Second are the first half of the SLA days (and their
	// minutes) and the rest: the pick is made on First and shown on
	// Second, so that a size is not chosen on the days it is judged on.
	First, Second HalfFigures
	// Picked marks the size the sweep suggests (pickStandby).
	Picked bool
}

// HalfFigures are a row's SLA days and cost over part of the trace.
type HalfFigures struct {
	Days, DaysMet int
	// Cost is priced as the whole run's is, over the part's minutes.
	Cost float64
	// CostChangePct is Cost against the smallest size's on the same part.
	CostChangePct float64
}

// StandbySweep is the policy replayed once per pool size on one trace.
type StandbySweep struct {
	Config            Config
	Source            string
	ScaleFactor       float64
	Capacity          float64
	ScoredStart       time.Time
	ScoredMinutes     int
	OracleWorkerHours float64
	// Rows are by size, ascending.
	Rows []StandbyRow
}

// PreflightStandbySweep checks what RunStandbySweep needs except the
// trace: the flags, the policy and that it has a target block to size.
func PreflightStandbySweep(cfg Config) error {
	if err := Preflight(cfg); err != nil {
		return err
	}
	p, err := LoadPolicy(cfg.PolicyPath, cfg.ScalingName)
	if err != nil {
		return err
	}
	_, err = withStandbySize(p, 0)
	return err
}

// withStandbySize is a copy of p whose target keeps size stopped VMs; p is
// shared by concurrent replays and not changed. The pool's other keys
// (standby_max_age, standby_refill_delay) stay as the policy sets them.
func withStandbySize(p *sdk.ScalingPolicy, size int64) (*sdk.ScalingPolicy, error) {
	if p.Target == nil {
		return nil, fmt.Errorf("policy %q has no target block: standby_size is a key of target-gce-gpu's", p.ID)
	}
	out, target := *p, *p.Target
	target.Config = maps.Clone(p.Target.Config)
	if target.Config == nil {
		target.Config = map[string]string{}
	}
	target.Config[poolKeySize] = strconv.FormatInt(size, 10)
	out.Target = &target
	if _, err := parsePool(&out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RunStandbySweep replays the policy once per pool size, concurrently on
// GOMAXPROCS workers; the result does not depend on which finishes first.
func RunStandbySweep(ctx context.Context, cfg Config, tr Trace, source string, sizes []int64) (*StandbySweep, error) {
	return runStandbySweep(ctx, cfg, tr, source, sizes, newStrategy)
}

func runStandbySweep(ctx context.Context, cfg Config, tr Trace, source string, sizes []int64, factory strategyFactory) (*StandbySweep, error) {
	if len(sizes) == 0 {
		return nil, errors.New("-standby-sizes: no sizes")
	}
	res, m, sc, err := prepare(cfg, tr, source)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	// Every size's policy first: a bad one fails before any replay runs.
	pols := make([]*sdk.ScalingPolicy, len(sizes))
	for i, size := range sizes {
		if pols[i], err = withStandbySize(res.Policy, size); err != nil {
			return nil, err
		}
	}
	rows := make([]StandbyRow, len(sizes))
	pool := newPool(ctx, runtime.GOMAXPROCS(0))
	defer pool.cancel()
	for i, size := range sizes {
		pol := pols[i]
		pool.Go(func(ctx context.Context) error {
			o, err := replayOne(ctx, m, pol, log.Named(fmt.Sprintf("standby-%d", size)), factory, nil)
			if err != nil {
				return fmt.Errorf("standby_size %d: %w", size, err)
			}
			sr := sc.fresh().result(NameSlope, o, cfg.Price)
			sr.addPool(o, cfg.Price, cfg.StandbyPrice)
			sr.addSpot(o, cfg.Price, cfg.SpotPrice)
			rows[i] = StandbyRow{Size: size, Policy: sr}
			return nil
		})
	}
	if err := pool.Wait(); err != nil {
		return nil, err
	}
	split, err := halfSplit(res, rows[0].Policy.PerDay)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		p := &rows[i].Policy
		rows[i].First = halfFigures(p, 0, split.day, 0, split.minute, cfg)
		rows[i].Second = halfFigures(p, split.day, len(p.PerDay), split.minute, len(p.Workers), cfg)
	}
	orc := oracle(res.Arrivals, m.capacity, int(oracleBlock/time.Minute))
	var oracleMinutes int64
	for _, n := range orc {
		oracleMinutes += n
	}
	slices.SortFunc(rows, func(a, b StandbyRow) int { return cmp.Compare(a.Size, b.Size) })
	change := func(cost, base float64) float64 { return 100 * (cost/max(base, 1e-9) - 1) }
	for i := range rows {
		rows[i].CostChangePct = change(rows[i].Policy.Cost, rows[0].Policy.Cost)
		rows[i].First.CostChangePct = change(rows[i].First.Cost, rows[0].First.Cost)
		rows[i].Second.CostChangePct = change(rows[i].Second.Cost, rows[0].Second.Cost)
	}
	rows[pickStandby(rows)].Picked = true
	return &StandbySweep{Config: cfg, Source: source, ScaleFactor: res.ScaleFactor, Capacity: res.Capacity,
		ScoredStart: res.ScoredStart, ScoredMinutes: len(res.Arrivals), OracleWorkerHours: float64(oracleMinutes) / 60,
		Rows: rows}, nil
}

// pickStandby is the row the sweep suggests: the smallest pool that meets
// as many SLA days of the first half as any size does (rows are by size,
// ascending); the second half then shows what that choice does on days it
// was not made on. A larger pool that meets no more days buys only
// availability within days already met, at its disks' price: the table
// shows it, the pick does not chase it.
func pickStandby(rows []StandbyRow) int {
	best := 0
	for i, r := range rows {
		if r.First.DaysMet > rows[best].First.DaysMet {
			best = i
		}
	}
	return best
}

// daySplit is where the second half starts: an index into PerDay and the
// scored minute of that day's local midnight.
type daySplit struct{ day, minute int }

// halfSplit puts the first half of the SLA days (rounded down) in the
// first part; a day's minutes are those of its local date, so the second
// part starts at local midnight of its first day, as make validate splits.
// With fewer than two days there is nothing to hold out: the first part is
// the whole run.
func halfSplit(res *Result, days []DayScore) (daySplit, error) {
	half := len(days) / 2
	if half == 0 {
		half = len(days)
	}
	if half == len(days) {
		return daySplit{day: half, minute: len(res.Arrivals)}, nil
	}
	m, err := res.MinuteOfMidnight(days[half].Date)
	if err != nil {
		return daySplit{}, err
	}
	return daySplit{day: half, minute: m}, nil
}

// halfFigures are p's SLA days [fromDay, toDay) and its cost over the
// scored minutes [from, to): standard VMs at cfg.Price, Spot VMs at
// cfg.SpotPrice, stopped VMs at cfg.StandbyPrice, as the whole run's.
func halfFigures(p *StrategyResult, fromDay, toDay, from, to int, cfg Config) HalfFigures {
	h := HalfFigures{Days: toDay - fromDay}
	for _, d := range p.PerDay[fromDay:toDay] {
		if d.Met {
			h.DaysMet++
		}
	}
	var standard, spot, stopped int64
	for k := from; k < to; k++ {
		standard += p.BilledWorkers[k]
		if p.Spot != nil {
			spot += p.Spot.BilledWorkers[k]
		}
		if p.StandbyVMs != nil {
			stopped += p.StandbyVMs[k]
		}
	}
	standard -= spot
	h.Cost = (float64(standard)*cfg.Price + float64(spot)*cfg.SpotPrice + float64(stopped)*cfg.StandbyPrice) / 60
	return h
}

// WriteTable writes the sweep as a table and the pick as one line.
func (s *StandbySweep) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d minutes from %s scored, x%.2f, capacity %g/min per worker, lead %s, warm lead %s, standby price %g per VM-hour\n",
		s.Source, s.ScoredMinutes, s.ScoredStart.Format("2006-01-02T15:04Z07:00"), s.ScaleFactor, s.Capacity,
		s.Config.Lead, s.Config.WarmLead, s.Config.StandbyPrice)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "standby_size\tSLA days met\tfirst half\tsecond half\tavailability %\tbilled worker-hours\tx oracle\tpool VM-hours\tcost\tcost vs smallest\twarm/cold starts\t")
	for _, r := range s.Rows {
		mark := ""
		if r.Picked {
			mark = " *"
		}
		p := r.Policy
		fmt.Fprintf(tw, "%d%s\t%d/%d\t%d/%d\t%d/%d\t%.3f\t%.1f\t%.3f\t%.1f\t%.2f\t%+.1f%%\t%d/%d\t\n", r.Size, mark, p.DaysMet, p.Days,
			r.First.DaysMet, r.First.Days, r.Second.DaysMet, r.Second.Days, p.AvailabilityPct, p.BilledWorkerHours, p.WorkerHours/max(s.OracleWorkerHours, 1e-9), p.StandbyVMHours,
			p.Cost, r.CostChangePct, p.WarmStarts, p.ColdStarts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	first, last := s.Rows[0], s.Rows[0]
	for _, r := range s.Rows {
		if r.Picked {
			last = r
		}
	}
	if last.Second.Days == 0 {
		_, err := fmt.Fprintf(w, "* picked on all %d SLA days (too few to hold half out): the smallest pool that meets as many of them as any size here, standby_size = %d (%+.1f%% cost against %d)\n",
			last.First.Days, last.Size, last.CostChangePct, first.Size)
		return err
	}
	_, err := fmt.Fprintf(w, "* picked on the first half (%d SLA days): the smallest pool that meets as many of them as any size here, standby_size = %d (%+.1f%% cost against %d there); on the second half, not chosen on, it meets %d/%d days against %d/%d at %+.1f%% cost\n",
		last.First.Days, last.Size, last.First.CostChangePct, first.Size, last.Second.DaysMet, last.Second.Days,
		first.Second.DaysMet, first.Second.Days, last.Second.CostChangePct)
	return err
}

// standbyJSON is one row of standby.json.
type standbyJSON struct {
	StandbySize       int64    `json:"standby_size"`
	SLADaysMet        int      `json:"sla_days_met"`
	Days              int      `json:"days"`
	AvailabilityPct   float64  `json:"availability_pct"`
	WorkerHours       float64  `json:"worker_hours"`
	BilledWorkerHours float64  `json:"billed_worker_hours"`
	StandbyVMHours    float64  `json:"standby_vm_hours"`
	StandbyCost       float64  `json:"standby_cost"`
	Cost              float64  `json:"cost"`
	CostChangePct     float64  `json:"cost_change_pct"`
	WarmStarts        int64    `json:"warm_starts"`
	ColdStarts        int64    `json:"cold_starts"`
	FirstHalf         halfJSON `json:"first_half"`
	SecondHalf        halfJSON `json:"second_half"`
	Picked            bool     `json:"picked"`
}

// halfJSON is a row's figures on one half of the SLA days.
type halfJSON struct {
	Days          int     `json:"days"`
	SLADaysMet    int     `json:"sla_days_met"`
	Cost          float64 `json:"cost"`
	CostChangePct float64 `json:"cost_change_pct"`
}

func (h HalfFigures) json() halfJSON {
	return halfJSON{Days: h.Days, SLADaysMet: h.DaysMet, Cost: round(h.Cost, 2), CostChangePct: round(h.CostChangePct, 2)}
}

// WriteJSON writes standby.json: the flags of the model and one entry per size.
func (s *StandbySweep) WriteJSON(w io.Writer) error {
	out := struct {
		Source      string        `json:"source"`
		ScoredStart time.Time     `json:"scored_start"`
		Lead        string        `json:"lead"`
		WarmLead    string        `json:"warm_lead"`
		Price       float64       `json:"price"`
		Standby     float64       `json:"standby_price"`
		Sizes       []standbyJSON `json:"sizes"`
	}{Source: s.Source, ScoredStart: s.ScoredStart, Lead: s.Config.Lead.String(), WarmLead: s.Config.WarmLead.String(),
		Price: s.Config.Price, Standby: s.Config.StandbyPrice}
	for _, r := range s.Rows {
		p := r.Policy
		out.Sizes = append(out.Sizes, standbyJSON{StandbySize: r.Size, SLADaysMet: p.DaysMet, Days: p.Days,
			AvailabilityPct: round(p.AvailabilityPct, 3), WorkerHours: round(p.WorkerHours, 1),
			BilledWorkerHours: round(p.BilledWorkerHours, 1), StandbyVMHours: round(p.StandbyVMHours, 1),
			StandbyCost: round(p.StandbyCost, 2), Cost: round(p.Cost, 2), CostChangePct: round(r.CostChangePct, 2),
			WarmStarts: p.WarmStarts, ColdStarts: p.ColdStarts, FirstHalf: r.First.json(), SecondHalf: r.Second.json(),
			Picked: r.Picked})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteOutputs writes standby.json into dir, as WriteOutputs does.
func (s *StandbySweep) WriteOutputs(dir string) error {
	return outfiles.Write("-out", dir, outfiles.File{Name: StandbySweepFile, Write: s.WriteJSON})
}
