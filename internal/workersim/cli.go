package workersim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// CLIOptions are the settings of cmd/workersim.
type CLIOptions struct {
	Config
	Simcloud string
	Every    time.Duration
}

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
	return o, errors.Join(errs...)
}

// Main is cmd/workersim: it serves until ctx ends and returns the exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := ParseCLI(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "workersim: %v\n", strings.ReplaceAll(err.Error(), "\n", "\nworkersim: "))
		return 2
	}
	sim, err := New(o.Config, SimcloudFleet{BaseURL: o.Simcloud})
	if err != nil {
		fmt.Fprintf(stderr, "workersim: %v\n", err)
		return 2
	}
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(stderr, "workersim: %v\n", err)
				return 1
			}
			return 0
		case <-t.C:
			st, w := sim.Stats(), sim.Waits()
			fmt.Fprintf(stdout, "workersim: %d workers  %d requests served  p95 wait %s (simulated)\n",
				st.Workers, st.Requests, w.Quantile(0.95).Round(time.Second))
		}
	}
}
