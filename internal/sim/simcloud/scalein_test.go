package simcloud_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// gceRemoteID maps a node to its instance as the official gce-mig target does.
func gceRemoteID(n *api.Node) (string, error) {
	host, zone := n.Attributes["unique.platform.gce.hostname"], n.Attributes["platform.gce.zone"]
	if host == "" || zone == "" {
		return "", fmt.Errorf("node %s lacks GCE attributes", n.ID)
	}
	return "zones/" + zone + "/instances/" + strings.Split(host, ".")[0], nil
}

// The flow the GPU target builds on: scaleutils picks and drains a node of
// the pool, then exactly its instance is deleted, and the simulator keeps
// Nomad and GCE coherent throughout.
func TestScaleutilsDrainThenDeleteAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	c, err := simcloud.New(simcloud.Config{
		Project: "sim", MIGs: []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}},
		InitialSize: 3, DrainDuration: time.Minute, DeleteTime: time.Minute,
		Clock: simcloud.NewClock(time.Now(), 600, nil), // a minute takes 100 ms
	})
	must.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go c.Run(ctx, 5*time.Millisecond)

	utils, err := scaleutils.NewClusterScaleUtils(&api.Config{Address: srv.URL}, hclog.NewNullLogger())
	must.NoError(t, err)
	utils.ClusterNodeIDLookupFunc = gceRemoteID
	var remote []string
	for _, in := range c.State().MIGs[0].Instances {
		remote = append(remote, "zones/"+zoneA+"/instances/"+in.Name)
	}
	drained, err := utils.RunPreScaleInTasksWithRemoteCheck(ctx,
		map[string]string{"node_class": "gpu", "node_drain_deadline": "5m"}, remote, 1)
	must.NoError(t, err)
	must.Len(t, 1, drained)

	migs, err := compute.NewInstanceGroupManagersRESTClient(ctx, option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	must.NoError(t, err)
	defer migs.Close()
	op, err := migs.DeleteInstances(ctx, &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
			Instances: []string{drained[0].RemoteResourceID},
		},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(ctx))
	poll.Until(t, 5*time.Second, func() bool { return len(c.State().Nodes) == 2 }, poll.Say("both nodes to join"))

	st := c.State()
	must.Eq(t, 2, st.MIGs[0].TargetSize)
	must.Eq(t, 2, st.ReadyWorkersTotal)
	for _, in := range st.MIGs[0].Instances {
		must.NotEq(t, drained[0].RemoteResourceID, "zones/"+zoneA+"/instances/"+in.Name)
	}
	// The drain completed before the delete request arrived.
	var drainDone time.Time
	for _, e := range c.Nomad.Events() {
		if e.Kind == fakenomad.EventDrainCompleted && e.NodeID == drained[0].NomadNodeID {
			drainDone = e.Received
		}
	}
	var deleteAt time.Time
	for _, r := range c.GCE.Requests() {
		if strings.HasSuffix(r.Path, "/deleteInstances") {
			deleteAt = r.Received
		}
	}
	must.False(t, drainDone.IsZero())
	must.True(t, drainDone.Before(deleteAt))
}
