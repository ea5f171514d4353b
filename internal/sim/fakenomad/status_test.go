package fakenomad_test

import (
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// target-gce-gpu tells a host that came back from maintenance from one that
// has not gone yet by the node's StatusUpdatedAt, as Nomad sets it.
func TestNodeStatusUpdatedAtMovesOnlyWhenTheStatusChanges(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client, _ := start(t, fakenomad.Options{Now: clock.Now})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	registered := clock.Now().Unix()

	info := func() *api.Node {
		t.Helper()
		n, _, err := client.Nodes().Info(id, nil)
		must.NoError(t, err)
		return n
	}
	must.Eq(t, registered, info().StatusUpdatedAt)

	clock.Add(time.Minute)
	must.NoError(t, fake.SetNodeStatus(id, api.NodeStatusReady))
	must.Eq(t, registered, info().StatusUpdatedAt, must.Sprint("ready again while ready is no change"))

	clock.Add(time.Minute)
	must.NoError(t, fake.SetNodeStatus(id, api.NodeStatusDown))
	clock.Add(time.Minute)
	must.NoError(t, fake.SetNodeStatus(id, api.NodeStatusReady))
	must.Eq(t, clock.Now().Unix(), info().StatusUpdatedAt, must.Sprint("back after an outage"))
}
