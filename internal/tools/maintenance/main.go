// Package maintenance is the engine of cmd/maintenance-drain: a daemon on
// every GPU node that long-polls the GCE metadata server for a host
// maintenance (instance/maintenance-event) or a Spot preemption
// (instance/preempted), marks its own Nomad node as leaving (the contract
// of internal/nodeops, which target-gce-gpu reads so that it stops counting
// the node and orders a replacement), and drains the node so that the drain
// ends before the host goes away.
//
// Everything the daemon must remember lives in the node itself (the notice
// in its dynamic metadata, the drain in its LastDrain), so a restart neither
// loses a notice nor drains twice.
package maintenance

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

// Main is cmd/maintenance-drain. It runs until ctx is cancelled (SIGTERM
// when Nomad stops the task) and then returns nil.
func Main(ctx context.Context, env cli.Env) error {
	c, err := parseConfig(env.Args, env.Getenv, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "maintenance-drain", Level: c.logLevel, Output: env.Stderr})
	client, err := api.NewClient(c.nomadConfig())
	if err != nil {
		return fmt.Errorf("nomad client for -nomad-addr: %w", err)
	}
	log.Info("watching for host maintenance and preemption", "node_id", c.nodeID, "metadata_url", c.metadataURL,
		"notice", c.notice, "drain_delay", c.drainDelay, "margin", c.margin, "preempt_deadline", c.preemptDeadline)
	e := newEngine(c, nomadNodes{client: client, timeout: c.nomadTimeout}, newMetadataClient(c.metadataURL), log)
	return e.run(ctx)
}
