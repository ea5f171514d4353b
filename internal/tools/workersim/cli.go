package workersim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"io"
	"os"
	"strings"
	"time"
)

// CLIOptions are the settings of cmd/workersim.
type CLIOptions struct {
	Config
	Simcloud string
	Every    time.Duration
	// StopTimeout bounds the graceful stop after the first signal; keep it
	// under the job's kill_timeout so the worker exits before Nomad kills it.
	StopTimeout time.Duration
}

// defaultStopTimeout matches STOP_TIMEOUT of deploy/ml-worker.nomad.hcl,
// 5 s under its kill_timeout of 30 s.
const defaultStopTimeout = 25 * time.Second

// ParseCLI reads cmd/workersim's flags. Every problem is reported at once.
func ParseCLI(args []string, getenv func(string) string, out io.Writer) (CLIOptions, error) {
	var o CLIOptions
	fs := flag.NewFlagSet("workersim", flag.ContinueOnError)
	fs.SetOutput(out)
	queues := fs.String("queues", "ekyc.facematch,ekyc.ocr", "comma-separated queues to serve")
	fs.StringVar(&o.AMQPURL, "amqp", getenv("AMQP_URL"), "AMQP URL (default $AMQP_URL); its path is the vhost")
	fs.StringVar(&o.Simcloud, "simcloud", "http://127.0.0.1:8090", "simcloud base URL: the fleet is its ready_workers_total")
	fs.Float64Var(&o.CapacityPerWorker, "capacity", 100, "requests per simulated minute one worker serves")
	fs.Float64Var(&o.Compression, "compression", 300, "simulated seconds per real second (match loadgen)")
	fs.DurationVar(&o.PollInterval, "poll", 200*time.Millisecond, "real time between two reads of the fleet")
	fs.DurationVar(&o.Every, "every", 5*time.Second, "real time between progress lines")
	fs.DurationVar(&o.StopTimeout, "stop-timeout", defaultStopTimeout,
		"after SIGTERM, the longest to finish the jobs in flight before exiting anyway (keep it under the job's kill_timeout)")
	if err := fs.Parse(args); err != nil {
		return CLIOptions{}, err
	}
	for _, q := range strings.Split(*queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			o.Queues = append(o.Queues, q)
		}
	}
	errs := []error{o.Config.Validate()}
	if o.Every <= 0 {
		errs = append(errs, fmt.Errorf("-every %s: must be positive", o.Every))
	}
	if o.StopTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-stop-timeout %s: must be positive", o.StopTimeout))
	}
	return o, errors.Join(errs...)
}

// Main is cmd/workersim: it serves until a signal arrives on signals and
// returns the exit code. It stops like a worker of deploy/ml-worker.nomad.hcl
// on SIGTERM: the first signal cancels the consumers and lets the jobs in
// flight finish and be acknowledged, then it exits 0; a second signal, or
// -stop-timeout passing first, exits 1 at once and RabbitMQ redelivers the
// jobs left unacknowledged.
//
// The signals come from env.Signals (see internal/tools/cli); ctx is not
// used to stop, because its cancellation cannot tell a first signal from a
// second.
func Main(_ context.Context, env cli.Env) error {
	o, err := ParseCLI(env.Args, env.Getenv, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	sim, err := New(o.Config, SimcloudFleet{BaseURL: o.Simcloud})
	if err != nil {
		return cli.Usage(err)
	}
	if code := serveUntilStopped(sim, o, env.Signals, env.Stdout, env.Stderr); code != 0 {
		return cli.Exit(code, nil) // serveUntilStopped said why
	}
	return nil
}

// serveUntilStopped runs sim, prints progress every o.Every, and stops it
// on signals: gracefully on the first, at once on the second or after
// o.StopTimeout.
func serveUntilStopped(sim *Sim, o CLIOptions, signals <-chan os.Signal, stdout, stderr io.Writer) int {
	ctx, hardStop := context.WithCancel(context.Background())
	defer hardStop()
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t := time.NewTicker(o.Every)
	defer t.Stop()
	var deadline <-chan time.Time
	stopping, forced := false, false
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(stderr, "workersim: %v\n", err)
				return 1
			}
			st := sim.Stats()
			if forced {
				fmt.Fprintf(stderr, "workersim: stopped with %d jobs unacknowledged; RabbitMQ redelivers them\n", st.Abandoned)
				return 1
			}
			fmt.Fprintf(stderr, "workersim: stopped: every job received was served and acknowledged (%d in total)\n", st.Jobs)
			return 0
		case sig := <-signals:
			if !stopping {
				stopping = true
				sim.Stop()
				timer := time.NewTimer(o.StopTimeout)
				defer timer.Stop()
				deadline = timer.C
				fmt.Fprintf(stderr, "workersim: %s: consumers cancelled; finishing %d jobs in flight (at most %s; a second signal exits now)\n",
					sig, sim.Stats().InFlight, o.StopTimeout)
				continue
			}
			fmt.Fprintf(stderr, "workersim: %s again: exiting now\n", sig)
			forced = true
			hardStop()
		case <-deadline:
			fmt.Fprintf(stderr, "workersim: -stop-timeout %s passed: exiting now\n", o.StopTimeout)
			forced, deadline = true, nil
			hardStop()
		case <-t.C:
			st, w := sim.Stats(), sim.Waits()
			fmt.Fprintf(stdout, "workersim: %d workers  %d requests served  p95 wait %s (simulated)\n",
				st.Workers, st.Requests, w.Quantile(0.95).Round(time.Second))
		}
	}
}
