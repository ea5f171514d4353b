package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// The MIGs of plugins/target-gce-gpu/README.md's policy.
var readmeMIGs = []simcloud.MIGRef{{Zone: "europe-west4-a", Name: "gpu-workers-a"}, {Zone: "europe-west4-b", Name: "gpu-workers-b"}}

// readmeTargetBlock is the target block of the README's agent
// configuration, pointed at the simulated cloud instead of Google.
const readmeTargetBlock = `
target "gce-gpu" {
  driver = "target-gce-gpu"
  config = {
    compute_endpoint = %q
    compute_insecure = "true"
  }
}
`

// TestAgentWithTheTargetReadmeConfigurationScalesToTheFixedValue runs the
// official agent v0.5.0 with the target's README configuration alone (its
// policy with a fixed-value check, testdata/target-readme-policy.hcl, so no
// APM is needed) against the simulated cloud, and waits for it to resize
// the MIGs from 1+0 to the odd-even split of the fixed value, 3+2, and to
// record the scaling time in the policy's last_event Variable.
func TestAgentWithTheTargetReadmeConfigurationScalesToTheFixedValue(t *testing.T) {
	t.Parallel()
	cloud, cloudURL := startReadmeCloud(t)

	policyDir := t.TempDir()
	policy, err := os.ReadFile("testdata/target-readme-policy.hcl")
	must.NoError(t, err)
	must.NoError(t, os.WriteFile(filepath.Join(policyDir, "gpu-workers.hcl"), policy, 0o644))
	agenttest.Start(t, agenttest.Config{
		PolicyDir:    policyDir,
		NomadAddress: cloudURL,
		Blocks:       fmt.Sprintf(readmeTargetBlock, cloudURL),
	})

	// One deadline for both waits, as the test had before it moved here.
	deadline := time.Now().Add(60 * time.Second)
	a, b := readmeMIGs[0], readmeMIGs[1]
	poll.Until(t, time.Until(deadline), func() bool {
		return cloud.GCE.MIG(a.Zone, a.Name).TargetSize == 3 && cloud.GCE.MIG(b.Zone, b.Name).TargetSize == 2
	}, func() string {
		return fmt.Sprintf("the agent scales the MIGs to 3+2; they are %d+%d",
			cloud.GCE.MIG(a.Zone, a.Name).TargetSize, cloud.GCE.MIG(b.Zone, b.Name).TargetSize)
	})
	// Scale records the last scaling time once it has waited for the MIGs.
	poll.Until(t, time.Until(deadline), func() bool { return recordedLastEvent(cloud) },
		poll.Say("a PUT of the policy's last_event Variable"))
}

// startReadmeCloud serves a simulated cloud with the README's two MIGs,
// one instance in the first, none in the second, and the README's node
// class; it ticks until the test ends.
func startReadmeCloud(t *testing.T) (*simcloud.Cluster, string) {
	t.Helper()
	cloud, err := simcloud.New(simcloud.Config{
		Project:      "test-project",
		MIGs:         readmeMIGs,
		InitialSizes: map[simcloud.MIGRef]int{readmeMIGs[0]: 1},
		BootTime:     100 * time.Millisecond,
		NodeClass:    "gpu-l4",
	})
	must.NoError(t, err)
	srv := httptest.NewServer(cloud.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	go cloud.Run(ctx, 100*time.Millisecond)
	t.Cleanup(func() {
		cancel()
		cloud.Close()
		srv.Close()
	})
	return cloud, srv.URL
}

// recordedLastEvent reports whether the target wrote a last_event Variable.
func recordedLastEvent(cloud *simcloud.Cluster) bool {
	for _, r := range cloud.Nomad.Requests() {
		if r.Method == "PUT" && path.Dir(r.Path) == "/v1/var/nomad-autoscaler/target-gce-gpu" && r.Status == 200 {
			return true
		}
	}
	return false
}
