package simcloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/shoenig/test/must"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// canary patches gpu-a with template as a second version of size 1.
func canary(t *testing.T, e *env, template string) {
	t.Helper()
	op, err := e.migs.Patch(context.Background(), &computepb.PatchInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagerResource: &computepb.InstanceGroupManager{
			Versions: []*computepb.InstanceGroupManagerVersion{
				{Name: proto.String("stable"), InstanceTemplate: proto.String(fakegce.TemplateURL("sim", "gpu-a-template"))},
				{Name: proto.String("canary"), InstanceTemplate: proto.String(fakegce.TemplateURL("sim", template)),
					TargetSize: &computepb.FixedOrPercent{Fixed: proto.Int32(1)}},
			},
			UpdatePolicy: &computepb.InstanceGroupManagerUpdatePolicy{
				Type: proto.String("PROACTIVE"), MinimalAction: proto.String("REPLACE"),
				MaxSurge: &computepb.FixedOrPercent{Fixed: proto.Int32(1)}, MaxUnavailable: &computepb.FixedOrPercent{Fixed: proto.Int32(0)},
			},
		},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
}

func TestANodeNamesItsTemplateAndAGoodCanaryServes(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 60, func(c *simcloud.Config) { c.MIGs = c.MIGs[:1]; c.InitialSize = 2 })
	must.Eq(t, http.StatusOK, e.post(t, "/admin/template?name=gpu-v2"))
	canary(t, e, "gpu-v2")
	e.advance(90 * time.Second)
	e.advance(20 * time.Second)
	st := e.state(t)
	byTemplate := map[string]int{}
	for _, n := range st.Nodes {
		byTemplate[n.Meta[simcloud.TemplateMetaKey]+"/"+n.Status] += n.RunningWorkers
	}
	must.Eq(t, map[string]int{"gpu-a-template/ready": 1, "gpu-v2/ready": 1}, byTemplate)
	must.Eq(t, 2, st.ReadyWorkersTotal)
	must.True(t, st.MIGs[0].VersionTargetReached)
	must.Eq(t, []string{"stable=gpu-a-template", "canary=gpu-v2:1"}, st.MIGs[0].Versions)
}

func TestTheWorkersOfABadTemplateFailAndItsNodeNeverServes(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 60, func(c *simcloud.Config) { c.MIGs = c.MIGs[:1]; c.InitialSize = 2 })
	must.Eq(t, http.StatusOK, e.post(t, "/admin/template?name=gpu-bad"))
	must.Eq(t, http.StatusOK, e.post(t, "/admin/bad-template?name=gpu-bad&on=true"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/bad-template?name=gpu-bad&on=maybe"))
	canary(t, e, "gpu-bad")
	for range 5 {
		e.advance(30 * time.Second)
	}
	st := e.state(t)
	for _, n := range st.Nodes {
		if n.Meta[simcloud.TemplateMetaKey] != "gpu-bad" {
			continue
		}
		must.Eq(t, "ready", n.Status)
		must.Eq(t, 0, n.RunningWorkers)
		allocs := e.cluster.Nomad.Node(n.ID).Allocations
		failed := 0
		for _, a := range allocs {
			if a.JobID == "ml-worker" && a.ClientStatus == "failed" {
				failed++
			}
		}
		must.Eq(t, 1, failed, must.Sprint("one failed worker, not placed again every tick"))
	}
	// The canary replaced one good VM: one serves.
	must.Eq(t, 1, st.ReadyWorkersTotal)
}
