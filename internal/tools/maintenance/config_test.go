package maintenance

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestTheDefaultsComeFromTheDocumentationAndTheEnvironment(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{
		envNodeID: "node-1", "NOMAD_ADDR": "unix:///alloc/secrets/api.sock", "NOMAD_TOKEN": "s3cret",
		"GCE_METADATA_HOST": "metadata.google.internal",
	}), io.Discard)
	must.NoError(t, err)
	must.Eq(t, "node-1", c.nodeID)
	must.Eq(t, "unix:///alloc/secrets/api.sock", c.nomadAddr)
	must.Eq(t, "s3cret", c.nomadToken)
	must.Eq(t, "http://metadata.google.internal", c.metadataURL)
	must.Eq(t, timing{notice: time.Hour, margin: 5 * time.Minute, drainDelay: 10 * time.Minute, preemptDeadline: 20 * time.Second}, c.timing)
	must.Eq(t, hclog.Info, c.logLevel)

	c, err = parseConfig([]string{"-node-id", "n"}, env(nil), io.Discard)
	must.NoError(t, err)
	must.Eq(t, defaultMetadataURL, c.metadataURL)
	must.Eq(t, defaultNomadAddr, c.nomadAddr)
}

func TestEveryConfigProblemIsReportedAtOnceWithoutTheToken(t *testing.T) {
	_, err := parseConfig([]string{
		"-nomad-addr", "ftp://ops:hunter2@nomad", "-metadata-url", "metadata",
		"-drain-delay", "50m", "-margin", "15m", "-preempt-deadline", "30s", "-poll-timeout", "0s", "-log-level", "loud",
	}, env(map[string]string{"NOMAD_TOKEN": "s3cret-token"}), io.Discard)
	must.Error(t, err)
	for _, want := range []string{
		"-node-id is required",
		`-nomad-addr "ftp://ops:xxxxx@nomad"`,
		`-metadata-url "metadata"`,
		`-drain-delay "50m0s" and -margin "15m0s": the drain needs at least 1m0s inside -notice "1h0m0s"`,
		`-preempt-deadline "30s"`,
		`-poll-timeout "0s"`,
		`-log-level "loud"`,
	} {
		must.StrContains(t, err.Error(), want)
	}
	must.StrNotContains(t, err.Error(), "hunter2")
	must.StrNotContains(t, err.Error(), "s3cret")
}

func TestMainExitsWithAUsageErrorOnBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-margin", "-1s"}, Getenv: env(nil), Stdout: io.Discard, Stderr: &stderr})
	must.Eq(t, 2, cli.Code(err))
	must.StrContains(t, err.Error(), `-margin "-1s": must be positive`)
	must.StrContains(t, err.Error(), "-node-id is required")
}

// Main wires the flags, the token and both servers: with ACLs on, a
// preemption marks and drains the node, and cancelling ctx exits 0.
func TestMainMarksAndDrainsWithTheTokenFromTheEnvironment(t *testing.T) {
	md, nomad := fakemetadata.New(fakemetadata.Options{}), fakenomad.New(fakenomad.Options{})
	mdSrv, nomadSrv := httptest.NewServer(md), httptest.NewServer(nomad)
	t.Cleanup(nomadSrv.Close)
	t.Cleanup(mdSrv.Close)
	t.Cleanup(nomad.Close)
	t.Cleanup(md.Close)
	must.NoError(t, nomad.AddACLToken("workload", `node { policy = "write" }`))
	node := nomad.AddNode(fakenomad.NodeSpec{Name: "ekyc-gpu-b-x1", NodeClass: "gpu-l4"})

	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, cli.Env{
			Args:   []string{"-node-id", node, "-metadata-url", mdSrv.URL},
			Getenv: env(map[string]string{"NOMAD_ADDR": nomadSrv.URL, "NOMAD_TOKEN": "workload"}),
			Stdout: io.Discard, Stderr: logs,
		})
	}()
	poll.Until(t, waitLimit, func() bool { return md.Waiting() == 2 }, poll.Say("both watchers wait for a change"))
	md.SetPreempted(true)
	poll.Until(t, waitLimit, func() bool { return nomad.Node(node).LastDrain != nil }, poll.Say("the node is drained"))
	cancel()
	must.NoError(t, <-done)
	must.Eq(t, "preemption", nomad.Node(node).Meta["nomad_autoscaler.leaving"])
	must.StrContains(t, logs.String(), "draining the node")
	must.False(t, strings.Contains(logs.String(), "workload"), must.Sprint("the token is never logged"))
}
