package simcloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/shoenig/test/must"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// A VM stopped into the pool takes its node with it; started again it
// serves after the warm boot, not the cold one.
func TestAStoppedVMLeavesNomadAndAStartedOneServesAfterTheWarmBoot(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 60, func(c *simcloud.Config) {
		c.MIGs = c.MIGs[:1]
		c.InitialSize = 2
		c.BootTime = 5 * time.Minute
	})
	st := e.state(t)
	must.Eq(t, "1m30s", st.WarmBootTime)
	name := st.MIGs[0].Instances[0].Name
	ref := "zones/" + zoneA + "/instances/" + name

	op, err := e.migs.StopInstances(context.Background(), &computepb.StopInstancesInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersStopInstancesRequestResource: &computepb.InstanceGroupManagersStopInstancesRequest{Instances: []string{ref}, ForceStop: proto.Bool(true)},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	e.advance(time.Second)
	st = e.state(t)
	must.Eq(t, 1, st.ReadyWorkersTotal)
	must.Len(t, 1, st.Nodes)
	must.Eq(t, 1, st.MIGs[0].TargetSize)
	must.Eq(t, 1, st.MIGs[0].TargetStoppedSize)
	must.Eq(t, 1, st.MIGs[0].Standby)
	must.Eq(t, "TERMINATED", st.MIGs[0].Instances[0].Status)
	// A stopped VM is not billed as a running one.
	must.Eq(t, 1, st.MIGs[0].Running)

	op, err = e.migs.StartInstances(context.Background(), &computepb.StartInstancesInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersStartInstancesRequestResource: &computepb.InstanceGroupManagersStartInstancesRequest{Instances: []string{ref}},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	e.advance(89 * time.Second)
	must.Eq(t, 1, e.state(t).ReadyWorkersTotal)
	e.advance(time.Second)
	st = e.state(t)
	must.Eq(t, 2, st.ReadyWorkersTotal)
	must.Eq(t, 0, st.MIGs[0].Standby)
}

func TestTheAdminAPISetsTheWarmBoot(t *testing.T) {
	t.Parallel()
	e := startCluster(t, 60)
	must.Eq(t, http.StatusOK, e.post(t, "/admin/warm-boot?d=30s"))
	must.Eq(t, "30s", e.state(t).WarmBootTime)
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/warm-boot?d=-1s"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/warm-boot?d=soon"))
	must.Eq(t, "30s", e.state(t).WarmBootTime)
}

func TestANegativeWarmBootIsRefusedByName(t *testing.T) {
	t.Parallel()
	_, err := simcloud.New(simcloud.Config{MIGs: []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}}, WarmBootTime: -time.Second, StopTime: -time.Second})
	must.ErrorContains(t, err, "warm-boot-time")
	must.ErrorContains(t, err, "stop-time")
}
