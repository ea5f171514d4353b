package rollout

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

const usage = `usage: rollout -project P -migs zone/name,... -template TEMPLATE [flags]

Roll a new instance template (golden image) over GPU MIGs: a canary VM on
the first MIG, then every MIG in turn, one VM at a time (maxSurge 1,
maxUnavailable 0), each new VM checked in Nomad and RabbitMQ before the
next. A failed check or a timeout rolls every MIG back. Ctrl-C pauses.

`

// Flag defaults.
const (
	defaultNomadAddr       = "http://127.0.0.1:4646"
	defaultWorkerJob       = "ml-worker"
	defaultTemplateMetaKey = "instance_template"
	defaultVhost           = "/"
	defaultHealthTimeout   = 15 * time.Minute
	defaultStepTimeout     = 30 * time.Minute
	defaultRollbackTimeout = time.Hour
	defaultPauseTimeout    = 5 * time.Minute
	defaultPoll            = 10 * time.Second
	defaultCallTimeout     = 30 * time.Second
)

// config is the parsed command line.
type config struct {
	project         string
	migs            []migRef
	template        string
	dryRun          bool
	computeEndpoint string
	computeInsecure bool
	nomadAddr       string
	nomadToken      string
	workerJob       string
	templateMetaKey string
	rabbitURL       string
	vhost           string
	queues          []string
	healthTimeout   time.Duration
	stepTimeout     time.Duration
	rollbackTimeout time.Duration
	pauseTimeout    time.Duration
	poll            time.Duration
	callTimeout     time.Duration
}

// templateURL is the template as patched into versions: a bare name is
// taken in -project.
func (c config) templateURL() string {
	if strings.Contains(c.template, "/") {
		return c.template
	}
	return "projects/" + c.project + "/global/instanceTemplates/" + c.template
}

func (c config) migsFlag() string {
	parts := make([]string, len(c.migs))
	for i, m := range c.migs {
		parts[i] = m.String()
	}
	return strings.Join(parts, ",")
}

// parseFlags reads the command line; every problem is reported at once.
func parseFlags(args []string, getenv func(string) string, env cli.Env) (config, error) {
	c := config{}
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, usage)
		fs.PrintDefaults()
	}
	var migs, queues string
	fs.StringVar(&c.project, "project", "", "GCE project of the MIGs (required)")
	fs.StringVar(&migs, "migs", "", "zonal MIGs as zone/name,zone/name; the canary goes on the first (required)")
	fs.StringVar(&c.template, "template", "", "the new instance template: a name in -project, or its URL (required)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print what would be done and change nothing")
	fs.StringVar(&c.computeEndpoint, "compute-endpoint", "", "Compute API endpoint (default Google's; a fake's URL in tests and demos)")
	fs.BoolVar(&c.computeInsecure, "compute-insecure", false, "send no credentials to -compute-endpoint (for a fake only)")
	fs.StringVar(&c.nomadAddr, "nomad-addr", envOr(getenv, "NOMAD_ADDR", defaultNomadAddr), "Nomad address (default $NOMAD_ADDR)")
	fs.StringVar(&c.nomadToken, "nomad-token", getenv("NOMAD_TOKEN"), "Nomad ACL token with node:read (default $NOMAD_TOKEN)")
	fs.StringVar(&c.workerJob, "worker-job", defaultWorkerJob, "the worker job whose allocations must be healthy on a new node")
	fs.StringVar(&c.templateMetaKey, "template-meta-key", defaultTemplateMetaKey, "node meta key naming the node's instance template (checked when set)")
	fs.StringVar(&c.rabbitURL, "rabbitmq-management-url", getenv("RABBITMQ_MANAGEMENT_URL"), "RabbitMQ management API, http://user:password@host:15672 (default $RABBITMQ_MANAGEMENT_URL; empty: no consumer check)")
	fs.StringVar(&c.vhost, "vhost", defaultVhost, "RabbitMQ vhost of -queues")
	fs.StringVar(&queues, "queues", "", "model queues whose consumer counts must not fall below their count before the rollout, comma-separated")
	fs.DurationVar(&c.healthTimeout, "health-timeout", defaultHealthTimeout, "how long a new VM may run before its node serves")
	fs.DurationVar(&c.stepTimeout, "step-timeout", defaultStepTimeout, "how long the rollout may go without a new VM serving")
	fs.DurationVar(&c.rollbackTimeout, "rollback-timeout", defaultRollbackTimeout, "how long a rollback may take")
	fs.DurationVar(&c.pauseTimeout, "pause-timeout", defaultPauseTimeout, "how long pausing after Ctrl-C may take")
	fs.DurationVar(&c.poll, "poll", defaultPoll, "pause between looks at the MIGs and nodes")
	fs.DurationVar(&c.callTimeout, "call-timeout", defaultCallTimeout, "deadline of each API request")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if c.project == "" {
		errs = append(errs, errors.New("-project is required"))
	}
	if c.template == "" {
		errs = append(errs, errors.New("-template is required"))
	}
	var err error
	if c.migs, err = parseMIGs(migs); err != nil {
		errs = append(errs, err)
	}
	for _, q := range strings.Split(queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			c.queues = append(c.queues, q)
		}
	}
	switch {
	case len(c.queues) > 0 && c.rabbitURL == "":
		errs = append(errs, errors.New("-queues needs -rabbitmq-management-url"))
	case len(c.queues) == 0 && c.rabbitURL != "":
		errs = append(errs, errors.New("-rabbitmq-management-url needs -queues"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"health-timeout", c.healthTimeout}, {"step-timeout", c.stepTimeout}, {"rollback-timeout", c.rollbackTimeout},
		{"pause-timeout", c.pauseTimeout}, {"poll", c.poll}, {"call-timeout", c.callTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("-%s %q: must be positive", d.name, d.v))
		}
	}
	if c.computeInsecure && c.computeEndpoint == "" {
		errs = append(errs, errors.New("-compute-insecure needs -compute-endpoint: credentials are only left out for a fake"))
	}
	return c, errors.Join(errs...)
}

func parseMIGs(s string) ([]migRef, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("-migs is required")
	}
	var out []migRef
	var errs []error
	seen := map[migRef]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		zone, name, ok := strings.Cut(part, "/")
		if !ok || zone == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("-migs %q: want zone/name", part))
			continue
		}
		ref := migRef{Zone: zone, Name: name}
		if seen[ref] {
			errs = append(errs, fmt.Errorf("-migs %q: listed twice", part))
		}
		seen[ref] = true
		out = append(out, ref)
	}
	return out, errors.Join(errs...)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// Main runs cmd/rollout: exit 0 when every MIG runs the new template (or
// on -dry-run), 2 for a bad command line, 1 when the rollout failed (and
// was rolled back), was interrupted (and paused) or could not start.
func Main(ctx context.Context, env cli.Env) error {
	cfg, err := parseFlags(env.Args, env.Getenv, env)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usage(err)
	}
	gce, err := newComputeClients(ctx, cfg)
	if err != nil {
		return err
	}
	defer gce.Close()
	nodes, err := newNomadNodes(cfg)
	if err != nil {
		return err
	}
	var queues queueSource
	if cfg.rabbitURL != "" {
		m, err := newManagementAPI(cfg)
		if err != nil {
			return cli.Usage(err)
		}
		queues = m
	}
	return newEngine(cfg, gce, nodes, queues, env.Stdout, time.Now).run(ctx)
}
