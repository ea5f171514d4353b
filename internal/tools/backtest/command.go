package backtest

// The command line of cmd/backtest.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

// options are the parsed flags.
type options struct {
	cfg      Config
	trace    string
	postgres PostgresSource
	from, to string
	out      string
	// shapes is the -shapes file; the run then replays the policy once
	// per VM shape.
	shapes string
	// standbySizes is -standby-sizes: the run then replays the policy once
	// per pool size (standby_sweep.go).
	standbySizes []int64
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{cfg: DefaultConfig()}
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.cfg
	fs.StringVar(&o.trace, "trace", "", "CSV trace `file` (header timestamp,requests; one row per minute; .gz accepted)")
	fs.StringVar(&o.postgres.DSN, "postgres", "", "read the trace from the requests table at this PostgreSQL `DSN` instead")
	fs.StringVar(&o.postgres.RequestsTable, "requests-table", DefaultRequestsTable, "requests table for -postgres (table or schema.table)")
	fs.StringVar(&o.postgres.RequestsTimeColumn, "requests-time-column", DefaultRequestsTimeColumn, "timestamp column of the requests table")
	fs.StringVar(&o.from, "from", "", "with -postgres: first minute (RFC 3339; default: the table's first row)")
	fs.StringVar(&o.to, "to", "", "with -postgres: end, exclusive (RFC 3339; default: the last complete minute)")
	fs.DurationVar(&o.postgres.Timeout, "postgres-timeout", DefaultPostgresTimeout, "deadline for reading the trace from PostgreSQL")
	fs.Float64Var(&c.Daily, "daily", 0, "scale every minute so the mean is `N` requests per day (0: as recorded)")
	fs.StringVar(&c.PolicyPath, "policy", DefaultPolicy, "policy `file` in the agent's file-policy format")
	fs.StringVar(&c.ScalingName, "scaling", "", "scaling block to replay when the file has several")
	fs.Float64Var(&c.Capacity, "capacity", 0, "requests per minute one worker truly serves (default: the policy's capacity_per_worker)")
	fs.DurationVar(&c.Lead, "lead", DefaultLead, "time from a scale-up decision to the new workers serving")
	fs.DurationVar(&c.WarmLead, "warm-lead", DefaultWarmLead, "time from a scale-up decision to serving for a worker started from the standby pool (the target block's standby_size)")
	fs.Float64Var(&c.StandbyPrice, "standby-price", DefaultPoolPrice, "price of one stopped VM of the standby pool per hour (its disks)")
	fs.Float64Var(&c.SpotPrice, "spot-price", DefaultSpotPrice, "price of one Spot worker-hour (a policy whose target has spot_migs)")
	fs.Float64Var(&c.PreemptionRate, "preemption-rate", DefaultPreemptionRate, "preemptions per Spot VM-hour, drawn at random (seeded by -seed)")
	fs.DurationVar(&c.SpotOutage, "spot-outage", 0, "stress: every day at the busiest business hour all Spot VMs are preempted and Spot capacity is gone this `long` (0: never)")
	fs.Int64Var(&c.Seed, "seed", DefaultSeed, "seed of the random preemptions (the same seed gives the same run)")
	fs.DurationVar(&c.ScaleUpWait, "scale-up-wait", DefaultScaleUpWait, "how long the target's Scale takes to return for a scale-up (MIGs stable; the agent acts on nothing meanwhile, then starts the cooldown)")
	fs.DurationVar(&c.SettleDelay, "settle-delay", DefaultSettleDelay, "how long after its end a minute of request counts is complete (apm-rabbitmq's settle_delay): rate queries end with the last such minute")
	fs.DurationVar(&c.ScaleDownWait, "scale-down-wait", DefaultScaleDownWait, "how long the target's Scale takes to return for a scale-in (drain, then delete; drained workers are billed until then)")
	fs.DurationVar(&c.ServiceTime, "service-time", DefaultServiceTime, "latency of a request that does not wait")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", DefaultRequestTimeout, "a business minute whose wait exceeds this counts as unavailable")
	fs.DurationVar(&c.SLAP95, "sla-p95", DefaultSLAP95, "a day meets the SLA when its business-hours p95 latency is at most this")
	fs.StringVar(&c.BusinessHours, "business-hours", DefaultBusinessHours, "daily window `HH:MM-HH:MM` (local time) in which the SLA is scored")
	fs.StringVar(&c.TimeZone, "tz", DefaultTimeZone, "IANA time zone of business hours and SLA days")
	fs.Float64Var(&c.Price, "price", DefaultPrice, "price of one worker-hour")
	fs.Float64Var(&c.PeerAvailability, "peer-availability", 0, "also report target-value held to this availability `percent` (the grid's configuration with the most SLA days among those at least this available, then the cheapest) as "+NameTargetValueSLO+" (0: off)")
	fs.Float64Var(&c.CommitDiscount, "commit-discount", 0, "plan a committed use discount of this `fraction` (your 1- or 3-year rate for the shape, such as 0.37) on the standard tier's baseline: chosen on the first half of the days, shown on the second (0: none)")
	fs.BoolVar(&c.RaiseMax, "raise-max", false, "lift the policy's max to twice the static peak when lower (replaying another volume than the policy was sized for)")
	fs.StringVar(&o.out, "out", "", "write summary.json, timeline.csv and report.png (with -shapes: shapes.json, shapes.csv and shapes.png; with -standby-sizes: standby.json) to this `dir`")
	fs.StringVar(&o.shapes, "shapes", "", "CSV `file` of VM shapes ("+ShapesHeader+"): replay the policy once per shape and compare cost at the SLA")
	var sizes string
	fs.StringVar(&sizes, "standby-sizes", "", "comma-separated `sizes` of the warm pool, such as 0,10,20,50: replay the policy once per standby_size and compare SLA days and cost (with its disks)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if sizes != "" {
		var err error
		if o.standbySizes, err = ParseStandbySizes(sizes); err != nil {
			errs = append(errs, err)
		}
		if o.shapes != "" {
			errs = append(errs, errors.New("-standby-sizes and -shapes: give one of them (each replays the policy once per variant)"))
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.shapes == "" {
		// Each shape has its own price; otherwise the policy's prices
		// stand unless a flag says otherwise.
		applyPolicyPrices(c, given)
	}
	if o.shapes != "" {
		// Each shape gives its capacity, lead and price: a flag that
		// would be silently ignored is refused.
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "capacity", "lead", "price":
				errs = append(errs, fmt.Errorf("-%s: with -shapes each shape sets its own %s; remove the flag", f.Name, f.Name))
			}
		})
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if (o.trace == "") == (o.postgres.DSN == "") {
		errs = append(errs, errors.New("give exactly one of -trace FILE and -postgres DSN"))
	}
	for _, t := range []struct {
		flag, value string
		into        *time.Time
	}{{"from", o.from, &o.postgres.From}, {"to", o.to, &o.postgres.To}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s %q: want RFC 3339", t.flag, t.value))
		}
		*t.into = v
	}
	return o, errors.Join(errs...)
}

// Main is cmd/backtest (see internal/tools/cli).
func Main(ctx context.Context, env cli.Env) error {
	stdout := env.Stdout
	o, err := parseFlags(env.Args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	var shapes []Shape
	if o.shapes != "" {
		if shapes, err = ReadShapesFile(o.shapes); err != nil {
			return err
		}
		if err := PreflightShapes(o.cfg, shapes); err != nil {
			return err
		}
	} else if o.standbySizes != nil {
		if err := PreflightStandbySweep(o.cfg); err != nil {
			return err
		}
	} else if err := Preflight(o.cfg); err != nil {
		return err
	}
	// An unusable -out must fail now, not after a long read and replay.
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return fmt.Errorf("-out %q: %w", o.out, err)
		}
	}
	tr, source, err := loadTrace(ctx, o)
	if err != nil {
		return err
	}
	if o.shapes != "" {
		return runShapesCommand(ctx, o, tr, source, shapes, stdout)
	}
	if o.standbySizes != nil {
		return runStandbyCommand(ctx, o, tr, source, stdout)
	}
	res, err := Run(ctx, o.cfg, tr, source)
	if err != nil {
		return err
	}
	return report(stdout, o.out, res, SummaryFile, TimelineFile, ReportFile)
}

// reporter is a finished run of any mode: its table for stdout and its
// files for -out.
type reporter interface {
	WriteTable(io.Writer) error
	WriteOutputs(dir string) error
}

// report prints r's table and, when out is set, writes its files there
// and names them.
func report(stdout io.Writer, out string, r reporter, files ...string) error {
	if err := r.WriteTable(stdout); err != nil {
		return err
	}
	if out == "" {
		return nil
	}
	if err := r.WriteOutputs(out); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "wrote %s to %s\n", joinNames(files), out)
	return err
}

// joinNames lists file names as "a", "a and b" or "a, b and c".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// runShapesCommand replays the policy once per VM shape and reports the shapes
// cheapest first.
func runShapesCommand(ctx context.Context, o options, tr Trace, source string, shapes []Shape, stdout io.Writer) error {
	res, err := RunShapes(ctx, o.cfg, tr, source, shapes)
	if err != nil {
		return err
	}
	res.ShapesSource = o.shapes
	return report(stdout, o.out, res, ShapesSummaryFile, ShapesCSVFile, ShapesChartFile)
}

func loadTrace(ctx context.Context, o options) (Trace, string, error) {
	if o.trace != "" {
		tr, err := ReadTraceFile(o.trace)
		return tr, o.trace, err
	}
	tr, err := ReadPostgresTrace(ctx, o.postgres)
	return tr, "postgres table " + o.postgres.RequestsTable, err
}

// runStandbyCommand replays the policy once per pool size and reports the
// sizes as a table and, with -out, standby.json.
func runStandbyCommand(ctx context.Context, o options, tr Trace, source string, stdout io.Writer) error {
	res, err := RunStandbySweep(ctx, o.cfg, tr, source, o.standbySizes)
	if err != nil {
		return err
	}
	return report(stdout, o.out, res, StandbySweepFile)
}
