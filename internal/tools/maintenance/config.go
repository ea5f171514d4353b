package maintenance

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
)

// Defaults, beside the flags that set them.
const (
	// defaultNotice: the GCE GPU host-maintenance documentation gives GPU
	// VMs a 1-hour notice (other VMs 60 s); the metadata server says no
	// more than "now", so the daemon assumes this lead.
	defaultNotice = time.Hour
	// defaultMargin: the drain's deadline ends this long before the host
	// goes away, which leaves Nomad the workers' kill_timeout (30 s in
	// deploy/ml-worker.nomad.hcl) and the VM its shutdown.
	defaultMargin = 5 * time.Minute
	// defaultDrainDelay: the node keeps serving this long after the notice
	// while target-gce-gpu, which no longer counts it, brings a
	// replacement up (the policy's lead of 5m plus an evaluation and a
	// Scale of about 90 s).
	defaultDrainDelay = 10 * time.Minute
	// defaultPreemptDeadline: a Spot VM stops 30 s after instance/preempted
	// becomes TRUE; the workers need their stop inside that.
	defaultPreemptDeadline = 20 * time.Second
	// defaultPollTimeout is each wait's timeout_sec.
	defaultPollTimeout  = 60 * time.Second
	defaultNomadTimeout = 10 * time.Second
	// minDrainWindow is the least time a maintenance drain may get.
	minDrainWindow = time.Minute

	defaultMetadataURL = "http://169.254.169.254"
	defaultNomadAddr   = "http://127.0.0.1:4646"
	envNodeID          = "MAINTENANCE_DRAIN_NODE_ID"
)

// config is the daemon's configuration, read once by parseConfig.
type config struct {
	nodeID      string
	nomadAddr   string
	nomadToken  string // from $NOMAD_TOKEN only, never printed
	nomadRegion string
	tls         api.TLSConfig
	metadataURL string
	timing
	pollTimeout  time.Duration
	nomadTimeout time.Duration
	logLevel     hclog.Level
}

// parseConfig reads the flags and the environment. Every problem is
// reported at once; errors name the flag and its value, never the token.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	c := config{nomadToken: getenv("NOMAD_TOKEN"), nomadRegion: getenv("NOMAD_REGION")}
	c.tls = api.TLSConfig{
		CACert: getenv("NOMAD_CACERT"), ClientCert: getenv("NOMAD_CLIENT_CERT"),
		ClientKey: getenv("NOMAD_CLIENT_KEY"), TLSServerName: getenv("NOMAD_TLS_SERVER_NAME"),
	}
	metadataURL := defaultMetadataURL
	if h := getenv("GCE_METADATA_HOST"); h != "" {
		metadataURL = "http://" + h
	}
	fs := flag.NewFlagSet("maintenance-drain", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.nodeID, "node-id", getenv(envNodeID), "ID of the Nomad node this runs on (default $"+envNodeID+"; in a job: ${node.unique.id})")
	fs.StringVar(&c.nomadAddr, "nomad-addr", or(getenv("NOMAD_ADDR"), defaultNomadAddr), "Nomad API address: http://, https:// or unix:// (default $NOMAD_ADDR); the token is $NOMAD_TOKEN")
	fs.StringVar(&c.metadataURL, "metadata-url", metadataURL, "GCE metadata server (default http://$GCE_METADATA_HOST when set)")
	fs.DurationVar(&c.notice, "notice", defaultNotice, "how long before a host maintenance its notice comes (GPU VMs: 1h)")
	fs.DurationVar(&c.margin, "margin", defaultMargin, "the drain's deadline ends this long before the host goes away")
	fs.DurationVar(&c.drainDelay, "drain-delay", defaultDrainDelay, "after a maintenance notice, serve this long before draining, for a replacement to come up")
	fs.DurationVar(&c.preemptDeadline, "preempt-deadline", defaultPreemptDeadline, "drain deadline after a Spot preemption notice (under 30s)")
	fs.DurationVar(&c.pollTimeout, "poll-timeout", defaultPollTimeout, "timeout_sec of each wait on the metadata server")
	fs.DurationVar(&c.nomadTimeout, "nomad-timeout", defaultNomadTimeout, "deadline of each Nomad API request")
	level := fs.String("log-level", "info", "trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.logLevel = hclog.LevelFromString(*level)
	return c, errors.Join(c.validate(*level)...)
}

func (c config) validate(level string) []error {
	var errs []error
	if strings.TrimSpace(c.nodeID) == "" {
		errs = append(errs, fmt.Errorf("-node-id is required (or $%s): the ID of the Nomad node this daemon runs on", envNodeID))
	}
	errs = append(errs, checkURL("-nomad-addr", c.nomadAddr, "http", "https", "unix"))
	errs = append(errs, checkURL("-metadata-url", c.metadataURL, "http", "https"))
	positive := []struct {
		flag string
		d    time.Duration
	}{{"-notice", c.notice}, {"-margin", c.margin}, {"-nomad-timeout", c.nomadTimeout}}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: must be positive", p.flag, p.d))
		}
	}
	if c.drainDelay < 0 {
		errs = append(errs, fmt.Errorf("-drain-delay %q: must not be negative", c.drainDelay))
	}
	if c.notice > 0 && c.margin > 0 && c.drainDelay >= 0 && c.notice-c.drainDelay-c.margin < minDrainWindow {
		errs = append(errs, fmt.Errorf("-drain-delay %q and -margin %q: the drain needs at least %s inside -notice %q",
			c.drainDelay, c.margin, minDrainWindow, c.notice))
	}
	if c.preemptDeadline < time.Second || c.preemptDeadline >= preemptionLead {
		errs = append(errs, fmt.Errorf("-preempt-deadline %q: must be at least 1s and under %s, when a Spot VM stops", c.preemptDeadline, preemptionLead))
	}
	if c.pollTimeout < time.Second || c.pollTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-poll-timeout %q: must be between 1s and 10m", c.pollTimeout))
	}
	if c.logLevel == hclog.NoLevel {
		errs = append(errs, fmt.Errorf("-log-level %q: want trace, debug, info, warn or error", level))
	}
	return errs
}

// checkURL checks an address flag. Its value is quoted with any password
// redacted.
func checkURL(flagName, v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%s: not a URL", flagName)
	}
	for _, s := range schemes {
		if u.Scheme == s && (u.Host != "" || (s == "unix" && u.Path != "")) {
			return nil
		}
	}
	return fmt.Errorf("%s %q: want a URL with a host and scheme %s", flagName, u.Redacted(), strings.Join(schemes, ", "))
}

// nomadConfig is the Nomad API client's configuration.
func (c config) nomadConfig() *api.Config {
	tls := c.tls
	return &api.Config{Address: c.nomadAddr, SecretID: c.nomadToken, Region: c.nomadRegion, TLSConfig: &tls}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
