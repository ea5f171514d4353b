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
		if err != nil || n < 0 || n > maxModelWorkers {
			return nil, fmt.Errorf("-standby-sizes %q: %q is not a whole number of VMs from 0 to %g", v, f, maxModelWorkers)
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
	// Picked marks the size the sweep suggests (pickStandby).
	Picked bool
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
	rows := make([]StandbyRow, len(sizes))
	pool := newPool(ctx, runtime.GOMAXPROCS(0))
	defer pool.cancel()
	for i, size := range sizes {
		pol, err := withStandbySize(res.Policy, size)
		if err != nil {
			return nil, err
		}
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
	orc := oracle(res.Arrivals, m.capacity, int(oracleBlock/time.Minute))
	var oracleMinutes int64
	for _, n := range orc {
		oracleMinutes += n
	}
	slices.SortFunc(rows, func(a, b StandbyRow) int { return cmp.Compare(a.Size, b.Size) })
	base := rows[0].Policy.Cost
	for i := range rows {
		rows[i].CostChangePct = 100 * (rows[i].Policy.Cost/max(base, 1e-9) - 1)
	}
	rows[pickStandby(rows)].Picked = true
	return &StandbySweep{Config: cfg, Source: source, ScaleFactor: res.ScaleFactor, Capacity: res.Capacity,
		ScoredStart: res.ScoredStart, ScoredMinutes: len(res.Arrivals), OracleWorkerHours: float64(oracleMinutes) / 60,
		Rows: rows}, nil
}

// pickStandby is the row the sweep suggests: the smallest pool that meets
// as many SLA days as any size does (rows are by size, ascending). A
// larger pool that meets no more days buys only availability within days
// already met, at its disks' price: the table shows it, the pick does not
// chase it.
func pickStandby(rows []StandbyRow) int {
	best := 0
	for i, r := range rows {
		if r.Policy.DaysMet > rows[best].Policy.DaysMet {
			best = i
		}
	}
	return best
}

// WriteTable writes the sweep as a table and the pick as one line.
func (s *StandbySweep) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d minutes from %s scored, x%.2f, capacity %g/min per worker, lead %s, warm lead %s, standby price %g per VM-hour\n",
		s.Source, s.ScoredMinutes, s.ScoredStart.Format("2006-01-02T15:04Z07:00"), s.ScaleFactor, s.Capacity,
		s.Config.Lead, s.Config.WarmLead, s.Config.StandbyPrice)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "standby_size\tSLA days met\tavailability %\tbilled worker-hours\tx oracle\tpool VM-hours\tcost\tcost vs smallest\twarm/cold starts\t")
	for _, r := range s.Rows {
		mark := ""
		if r.Picked {
			mark = " *"
		}
		p := r.Policy
		fmt.Fprintf(tw, "%d%s\t%d/%d\t%.3f\t%.1f\t%.3f\t%.1f\t%.2f\t%+.1f%%\t%d/%d\t\n", r.Size, mark, p.DaysMet, p.Days,
			p.AvailabilityPct, p.BilledWorkerHours, p.WorkerHours/max(s.OracleWorkerHours, 1e-9), p.StandbyVMHours,
			p.Cost, r.CostChangePct, p.WarmStarts, p.ColdStarts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range s.Rows {
		if r.Picked {
			_, err := fmt.Fprintf(w, "* the smallest pool that meets as many SLA days as any size here: standby_size = %d (%+.1f%% cost against %d)\n",
				r.Size, r.CostChangePct, s.Rows[0].Size)
			return err
		}
	}
	return nil
}

// standbyJSON is one row of standby.json.
type standbyJSON struct {
	StandbySize       int64   `json:"standby_size"`
	SLADaysMet        int     `json:"sla_days_met"`
	Days              int     `json:"days"`
	AvailabilityPct   float64 `json:"availability_pct"`
	WorkerHours       float64 `json:"worker_hours"`
	BilledWorkerHours float64 `json:"billed_worker_hours"`
	StandbyVMHours    float64 `json:"standby_vm_hours"`
	StandbyCost       float64 `json:"standby_cost"`
	Cost              float64 `json:"cost"`
	CostChangePct     float64 `json:"cost_change_pct"`
	WarmStarts        int64   `json:"warm_starts"`
	ColdStarts        int64   `json:"cold_starts"`
	Picked            bool    `json:"picked"`
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
			WarmStarts: p.WarmStarts, ColdStarts: p.ColdStarts, Picked: r.Picked})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteOutputs writes standby.json into dir, as WriteOutputs does.
func (s *StandbySweep) WriteOutputs(dir string) error {
	return outfiles.Write("-out", dir, outfiles.File{Name: StandbySweepFile, Write: s.WriteJSON})
}
