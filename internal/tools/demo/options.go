// Package demo is `make demo`: it replays a compressed day of real traffic
// through the whole system on one machine. It starts the simulated cloud
// (simcloud: fake GCE compute and Nomad APIs), the official agent with our
// three plugins, the worker simulator and the load generator; prints a live
// line every few seconds; and ends with a summary (worker-hours against
// static sizing, the SLA scored as cmd/backtest scores it) and a PNG of the
// run. Ctrl-C stops everything it started.
package demo

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// Options configure a demo run. Times called simulated are on the replayed
// day's clock; everything else is real time.
type Options struct {
	TracePath   string
	Start       time.Time     // first replayed minute (simulated)
	Duration    time.Duration // simulated
	Daily       float64       // requests in the replayed window
	Compression float64       // simulated seconds per real second
	Capacity    float64       // requests per simulated minute one worker serves
	Batch       int           // requests per queued job
	Price       float64       // dollars per worker-hour
	Every       time.Duration // real time between live lines

	AgentBin, PluginDir, AgentConfig, Policy, Schema string
	OutDir                                           string

	AMQPURL, ManagementURL, DatabaseURL string
	// Database and Vhost are created afresh for the run (default ekyc_demo
	// and ekyc-demo, which policies/demo.hcl names).
	Database, Vhost string

	// Shapes, when set, ends the demo with capacity planning by VM shape
	// under ShapesPolicy (see reportShapes).
	Shapes, ShapesPolicy string

	Out io.Writer
}

// history is how much of the trace before Start is written to PostgreSQL
// first, so the rate check's window is full from the first evaluation.
const historyWindow = 75 * time.Minute

// ParseFlags reads the command line and the service URLs from the
// environment (scripts/services.sh env). Every problem is reported at once.
func ParseFlags(args []string, getenv func(string) string, out io.Writer) (Options, error) {
	o := Options{Out: out, Database: demoDatabase, Vhost: demoVhost}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	start := fs.String("start", "1995-07-13T00:00:00-04:00", "first replayed minute, RFC 3339 (default: the STS-70 launch day, local time of the NASA server)")
	fs.StringVar(&o.TracePath, "trace", loadgen.DefaultTrace(), "per-minute trace CSV (timestamp,requests), gzipped if the name ends in .gz")
	fs.DurationVar(&o.Duration, "duration", 24*time.Hour, "simulated time to replay")
	fs.Float64Var(&o.Daily, "daily", 2_000_000, "requests in the replayed window: the trace is scaled to this total")
	fs.Float64Var(&o.Compression, "compression", 300, "simulated seconds per real second (300 replays 24 h in 4.8 min); policies/demo.hcl is written for 300")
	fs.Float64Var(&o.Capacity, "capacity", 100, "requests per simulated minute one worker serves (policies/demo.hcl assumes 100)")
	fs.IntVar(&o.Batch, "batch", 25, "requests per queued job (policies/demo.hcl assumes 25)")
	fs.Float64Var(&o.Price, "price", 0.71, "dollars per worker-hour (one L4 GPU VM on demand)")
	fs.DurationVar(&o.Every, "every", 3*time.Second, "real time between live lines")
	fs.StringVar(&o.AgentBin, "agent", "bin/nomad-autoscaler", "the nomad-autoscaler v0.5.0 agent (make agent)")
	fs.StringVar(&o.PluginDir, "plugins", "bin/plugins", "directory holding our three plugin binaries (make build)")
	fs.StringVar(&o.AgentConfig, "agent-config", "deploy/agent-local.hcl", "agent configuration to start from")
	fs.StringVar(&o.Policy, "policy", "policies/demo.hcl", "scaling policy")
	fs.StringVar(&o.Schema, "schema", "scripts/schema.sql", "requests table schema")
	fs.StringVar(&o.OutDir, "out", "run/demo", "directory for the agent log, the samples and the PNG")
	fs.StringVar(&o.Shapes, "shapes", "deploy/gpu-shapes.csv", "VM shapes to compare at the end (capacity planning, a backtest of -shapes-policy); empty skips it")
	fs.StringVar(&o.ShapesPolicy, "shapes-policy", "policies/gpu-workers.hcl", "the production policy the shapes are compared under")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	o.AMQPURL, o.ManagementURL, o.DatabaseURL = getenv("AMQP_URL"), getenv("RABBITMQ_MANAGEMENT_URL"), getenv("DATABASE_URL")
	var errs []error
	var err error
	if o.Start, err = time.Parse(time.RFC3339, *start); err != nil {
		errs = append(errs, fmt.Errorf("-start %q: not RFC 3339", *start))
	}
	errs = append(errs, o.validate()...)
	return o, errors.Join(errs...)
}

func (o Options) validate() []error {
	var errs []error
	positive := map[string]float64{"-daily": o.Daily, "-compression": o.Compression, "-capacity": o.Capacity, "-price": o.Price}
	for name, v := range positive {
		if !(v > 0) {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", name, v))
		}
	}
	if o.Batch < 1 {
		errs = append(errs, fmt.Errorf("-batch %d: must be at least 1", o.Batch))
	}
	if o.Duration < time.Hour || o.Duration%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("-duration %s: must be whole minutes, at least 1h", o.Duration))
	}
	if o.Every <= 0 {
		errs = append(errs, fmt.Errorf("-every %s: must be positive", o.Every))
	}
	files := []struct{ flag, path string }{{"-trace", o.TracePath}, {"-agent", o.AgentBin}, {"-plugins", o.PluginDir},
		{"-agent-config", o.AgentConfig}, {"-policy", o.Policy}, {"-schema", o.Schema}}
	if o.Shapes != "" {
		files = append(files, struct{ flag, path string }{"-shapes", o.Shapes}, struct{ flag, path string }{"-shapes-policy", o.ShapesPolicy})
	}
	for _, f := range files {
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w (run `make demo`, which builds and starts everything)", f.flag, f.path, errors.Unwrap(err)))
		}
	}
	for _, e := range []struct{ name, v string }{{"AMQP_URL", o.AMQPURL}, {"RABBITMQ_MANAGEMENT_URL", o.ManagementURL}, {"DATABASE_URL", o.DatabaseURL}} {
		if e.v == "" {
			errs = append(errs, fmt.Errorf("%s is not set: run `make demo`, or eval \"$(scripts/services.sh env)\" first", e.name))
		}
	}
	return errs
}
