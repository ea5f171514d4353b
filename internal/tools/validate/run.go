package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
)

// Defaults of the options, beside the fields they fill.
const (
	DefaultPolicy = backtest.DefaultPolicy
	DefaultTrace  = "data/nasa-http-jul95.csv.gz"
	// DefaultTrainDays: the first 14 local days of the NASA trace are
	// what the policy was tuned on; the remaining 14 are held out.
	DefaultTrainDays = 14
	// Capacity is the requests per minute one worker truly serves in
	// every run (backtest -capacity 100).
	Capacity = 100
)

// Options are the inputs of a validation.
type Options struct {
	PolicyPath string
	// TracePath is the shared NASA trace.
	TracePath string
	// Out is the directory of validate.json and validate.md; empty writes
	// nothing.
	Out   string
	Quick bool
	// Strict makes a row that fails its goals an error (ErrGoalsFailed).
	Strict bool
	// Days, when not 0, replays only the first Days days of every trace:
	// a smoke test, not a validation.
	Days int
	// TrainDays is how many SLA days the train part of a split has.
	TrainDays int
	// Workers bounds the runs in flight; 0 means GOMAXPROCS.
	Workers int
	// Command is the command line to print in validate.md.
	Command string
}

// DefaultOptions returns the options of `go run ./cmd/validate`.
func DefaultOptions() Options {
	return Options{PolicyPath: DefaultPolicy, TracePath: DefaultTrace, TrainDays: DefaultTrainDays}
}

// ErrGoalsFailed is returned with Strict when a row fails its goals.
var ErrGoalsFailed = errors.New("goals failed")

// backtestConfig is the backtest's defaults with the validation's capacity
// and the scenario's zone and volume. Only the real NASA trace is scaled by
// the backtest; the other traces are made at their volume.
func backtestConfig(o Options, sc Scenario) backtest.Config {
	c := backtest.DefaultConfig()
	c.PolicyPath = o.PolicyPath
	c.Capacity = Capacity
	c.TimeZone = sc.TimeZone
	// The volumes of the matrix go far past today's traffic: the policy's
	// max is a cost cap for one fleet, not part of what is validated.
	c.RaiseMax = true
	if sc.Kind == KindNASA {
		c.Daily = sc.Volume
	}
	// target-value-slo: the tuned target-value held to the row's
	// availability goal, the peer the policy is also judged against.
	c.PeerAvailability = sc.Goals.MinAvailabilityPct
	return c
}

// Validate runs the matrix and returns the report; progress goes to
// progress. A run that cannot execute (a policy that does not load, a
// trace that cannot be read) is an error and no report is made: a table
// with a hole would read as a result.
func Validate(ctx context.Context, o Options, progress io.Writer) (*Report, error) {
	started := time.Now()
	matrix := Matrix(o.Quick)
	if err := backtest.Preflight(backtestConfig(o, matrix[0])); err != nil {
		return nil, err
	}
	nasa, err := backtest.ReadTraceFile(o.TracePath)
	if err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	workers := o.Workers
	fmt.Fprintf(progress, "validate: %d runs of %s on %d workers\n", len(matrix), o.PolicyPath, workers)
	var mu sync.Mutex // the runs report progress concurrently
	outcomes, err := runAll(ctx, matrix, workers, func(ctx context.Context, sc Scenario) (outcome, error) {
		t0 := time.Now()
		out, err := runScenario(ctx, o, sc, nasa)
		if err == nil {
			mu.Lock()
			fmt.Fprintf(progress, "validate: %s %s done in %.1fs\n", sc.Name, formatVolume(sc.Volume), time.Since(t0).Seconds())
			mu.Unlock()
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	return newReport(o, matrix, outcomes, started), nil
}

// runAll runs every scenario on at most workers goroutines, the longest
// traces first, and returns the outcomes in matrix order. The first error
// cancels the other runs; the errors are returned in matrix order.
func runAll(ctx context.Context, matrix []Scenario, workers int, run func(context.Context, Scenario) (outcome, error)) ([]outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]outcome, len(matrix))
	errs := make([]error, len(matrix))
	slots := make(chan struct{}, max(1, workers))
	var wg sync.WaitGroup
	for _, i := range longestFirst(matrix) {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			if outs[i], errs[i] = run(ctx, matrix[i]); errs[i] != nil {
				errs[i] = fmt.Errorf("%s at %s: %w", matrix[i].Name, formatVolume(matrix[i].Volume), errs[i])
				cancel()
			}
		})
	}
	wg.Wait()
	// A run cancelled because another failed says nothing new.
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			failed = append(failed, err)
		}
	}
	if len(failed) == 0 {
		for _, err := range errs {
			if err != nil {
				failed = append(failed, err)
				break
			}
		}
	}
	return outs, errors.Join(failed...)
}

// longestFirst orders the scenarios' indices by the days of their traces,
// the longest first, so that the last run to start is a short one.
func longestFirst(matrix []Scenario) []int {
	var long, short []int
	for i, sc := range matrix {
		if sc.Profile != nil && sc.Profile.Days > 28 {
			long = append(long, i)
		} else {
			short = append(short, i)
		}
	}
	return append(long, short...)
}

// outcome is what one run of the matrix gives the report.
type outcome struct {
	run  Run
	rows []Row
}

// runScenario builds the scenario's trace, replays it and scores its parts.
func runScenario(ctx context.Context, o Options, sc Scenario, nasa backtest.Trace) (outcome, error) {
	tr, source, err := scenarioTrace(sc, nasa, o.Days)
	if err != nil {
		return outcome{}, err
	}
	res, err := backtest.Run(ctx, backtestConfig(o, sc), tr, source)
	if err != nil {
		return outcome{}, err
	}
	parts, err := splitParts(res, sc.Split, o.TrainDays)
	if err != nil {
		return outcome{}, err
	}
	out := outcome{run: newRun(sc, res)}
	for _, p := range parts {
		out.rows = append(out.rows, newRow(sc, res, p))
	}
	return out, nil
}

// scenarioTrace is the trace a scenario replays, cut to its first days
// when days is not 0, and a description of where it came from.
func scenarioTrace(sc Scenario, nasa backtest.Trace, days int) (backtest.Trace, string, error) {
	cut := func(tr backtest.Trace) backtest.Trace {
		if days > 0 && tr.Len() > days*tracegen.MinutesPerDay {
			tr.Counts = tr.Counts[:days*tracegen.MinutesPerDay]
		}
		return tr
	}
	switch sc.Kind {
	case KindNASA:
		return cut(nasa), "NASA-HTTP Jul 1995", nil
	case KindNASAPoisson:
		tr, err := SmoothPoisson(cut(nasa), sc.Volume, SmoothingMinutes, PoissonSeed)
		return tr, fmt.Sprintf("NASA-HTTP Jul 1995 at %s/day, %d-minute moving average, Poisson counts (seed %d)",
			formatVolume(sc.Volume), SmoothingMinutes, PoissonSeed), err
	case KindSynthetic:
		counts, start, err := tracegen.Generate(*sc.Profile)
		if err != nil {
			return backtest.Trace{}, "", err
		}
		tr := backtest.Trace{Start: start, Counts: make([]float64, len(counts))}
		for i, c := range counts {
			tr.Counts[i] = float64(c)
		}
		return cut(tr), fmt.Sprintf("tracegen %s seed %d (synthetic)", sc.Profile.Name, sc.Profile.Seed), nil
	}
	return backtest.Trace{}, "", fmt.Errorf("scenario %q: unknown kind %q", sc.Name, sc.Kind)
}
