package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"io"
	"time"
)

// CLIOptions are the settings of cmd/loadgen.
type CLIOptions struct {
	Trace       string
	Start       time.Time
	Duration    time.Duration
	Daily       float64
	Compression float64
	Batch       int
	Tick        time.Duration
	History     time.Duration
	Table       TableSpec
	AMQPURL     string
	DatabaseURL string
	Every       time.Duration
}

// ParseCLI reads cmd/loadgen's flags; AMQP_URL and DATABASE_URL come from
// the environment unless given as flags. Every problem is reported at once.
func ParseCLI(args []string, getenv func(string) string, out io.Writer) (CLIOptions, error) {
	var o CLIOptions
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	start := fs.String("start", "1995-07-13T00:00:00-04:00", "first replayed minute, RFC 3339")
	fs.StringVar(&o.Trace, "trace", DefaultTrace(), "per-minute trace CSV (timestamp,requests), gzipped if the name ends in .gz")
	fs.DurationVar(&o.Duration, "duration", 24*time.Hour, "simulated time to replay")
	fs.Float64Var(&o.Daily, "daily", 2_000_000, "requests per day: the 24 h from -start are scaled to this total")
	fs.Float64Var(&o.Compression, "compression", 300, "simulated seconds per real second")
	fs.IntVar(&o.Batch, "batch", 25, "most requests per published job")
	fs.DurationVar(&o.Tick, "tick", 100*time.Millisecond, "real time between two batches of inserts and publishes")
	fs.DurationVar(&o.History, "history", 75*time.Minute, "simulated time before -start written to PostgreSQL first, back-dated")
	fs.StringVar(&o.Table.Table, "table", DefaultTable.Table, "requests table")
	fs.StringVar(&o.Table.TimeColumn, "time-column", DefaultTable.TimeColumn, "time column of the requests table")
	fs.StringVar(&o.Table.ModelColumn, "model-column", DefaultTable.ModelColumn, "model column of the requests table (empty: none)")
	fs.StringVar(&o.AMQPURL, "amqp", getenv("AMQP_URL"), "AMQP URL (default $AMQP_URL); its path is the vhost")
	fs.StringVar(&o.DatabaseURL, "database", getenv("DATABASE_URL"), "PostgreSQL DSN (default $DATABASE_URL)")
	fs.DurationVar(&o.Every, "every", 5*time.Second, "real time between progress lines")
	if err := fs.Parse(args); err != nil {
		return CLIOptions{}, err
	}
	var errs []error
	var err error
	if o.Start, err = time.Parse(time.RFC3339, *start); err != nil {
		errs = append(errs, fmt.Errorf("-start %q: not RFC 3339", *start))
	}
	if o.AMQPURL == "" || o.DatabaseURL == "" {
		errs = append(errs, errors.New("-amqp and -database (or AMQP_URL and DATABASE_URL) are required"))
	}
	if o.History < 0 || o.History%time.Minute != 0 || o.Duration <= 0 || o.Duration%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("-history %s and -duration %s: must be whole minutes", o.History, o.Duration))
	}
	if !(o.Daily > 0) || o.Every <= 0 {
		errs = append(errs, fmt.Errorf("-daily %v and -every %s: must be positive", o.Daily, o.Every))
	}
	return o, errors.Join(errs...)
}

// LoadReplay reads the trace and returns the history and the minutes to
// replay, scaled so that the 24 h from Start carry daily requests.
func LoadReplay(path string, start time.Time, history, duration time.Duration, daily float64) ([]Minute, []Minute, error) {
	trace, err := ReadTraceFile(path)
	if err != nil {
		return nil, nil, err
	}
	day, err := Window(trace, start, 24*time.Hour)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the daily total needs the 24 h from the start: %w", path, err)
	}
	var dayTotal float64
	for _, m := range day {
		dayTotal += m.Requests
	}
	if dayTotal == 0 {
		return nil, nil, fmt.Errorf("%s: no request in the 24 h from %s", path, start.Format(time.RFC3339))
	}
	window, err := Window(trace, start.Add(-history), history+duration)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var winTotal float64
	for _, m := range window {
		winTotal += m.Requests
	}
	scaled := ScaleTo(window, daily*winTotal/dayTotal)
	n := int(history / time.Minute)
	return scaled[:n], scaled[n:], nil
}

// Models are the two eKYC models of the demo and their queues.
var Models = []Model{
	{Name: "facematch", Queue: "ekyc.facematch", Share: 0.6},
	{Name: "ocr", Queue: "ekyc.ocr", Share: 0.4},
}

// RunCLI replays the trace until done or ctx ends, printing progress.
func RunCLI(ctx context.Context, o CLIOptions, out io.Writer) error {
	history, minutes, err := LoadReplay(o.Trace, o.Start, o.History, o.Duration, o.Daily)
	if err != nil {
		return err
	}
	rows, err := NewPostgresSink(ctx, o.DatabaseURL, o.Table)
	if err != nil {
		return err
	}
	defer rows.Close()
	var queues []string
	for _, m := range Models {
		queues = append(queues, m.Queue)
	}
	jobs, err := NewRabbitSink(o.AMQPURL, queues)
	if err != nil {
		return err
	}
	defer jobs.Close()
	g, err := New(Config{Minutes: minutes, History: history, Compression: o.Compression, Tick: o.Tick, Batch: o.Batch, Models: Models}, rows, jobs)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			st := g.Stats()
			fmt.Fprintf(out, "loadgen: done at %s: %d requests, %d jobs\n", st.SimTime.In(o.Start.Location()).Format("2006-01-02 15:04"), st.Requests, st.Jobs)
			return err
		case <-t.C:
			st := g.Stats()
			fmt.Fprintf(out, "loadgen: %s  %d requests  %d jobs\n", st.SimTime.In(o.Start.Location()).Format("Mon 15:04"), st.Requests, st.Jobs)
		}
	}
}

// Main is cmd/loadgen (see internal/tools/cli).
func Main(ctx context.Context, env cli.Env) error {
	o, err := ParseCLI(env.Args, env.Getenv, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	if err := RunCLI(ctx, o, env.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
