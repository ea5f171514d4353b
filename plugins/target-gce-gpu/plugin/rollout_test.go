package plugin

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// rollout patches zoneA's MIG as cmd/rollout does: the given versions,
// PROACTIVE, maxSurge 1, maxUnavailable 0.
func (h *harness) rollout(versions ...*computepb.InstanceGroupManagerVersion) {
	h.t.Helper()
	c, err := compute.NewInstanceGroupManagersRESTClient(context.Background(), option.WithEndpoint(h.gceURL), option.WithoutAuthentication())
	must.NoError(h.t, err)
	defer c.Close()
	op, err := c.Patch(context.Background(), &computepb.PatchInstanceGroupManagerRequest{
		Project: "test-project", Zone: zoneA, InstanceGroupManager: migA,
		InstanceGroupManagerResource: &computepb.InstanceGroupManager{
			Versions: versions,
			UpdatePolicy: &computepb.InstanceGroupManagerUpdatePolicy{
				Type: proto.String("PROACTIVE"), MinimalAction: proto.String("REPLACE"), ReplacementMethod: proto.String("SUBSTITUTE"),
				MaxSurge: &computepb.FixedOrPercent{Fixed: proto.Int32(1)}, MaxUnavailable: &computepb.FixedOrPercent{Fixed: proto.Int32(0)},
			},
		},
	})
	must.NoError(h.t, err)
	must.NoError(h.t, op.Wait(context.Background()))
}

func templateVersion(name, template string, fixed int32) *computepb.InstanceGroupManagerVersion {
	v := &computepb.InstanceGroupManagerVersion{Name: proto.String(name), InstanceTemplate: proto.String(fakegce.TemplateURL("test-project", template))}
	if fixed > 0 {
		v.TargetSize = &computepb.FixedOrPercent{Fixed: proto.Int32(fixed)}
	}
	return v
}

// onTemplate counts zoneA's instances of template that are not being
// deleted, and all of them.
func (h *harness) onTemplate(template string) (n, all int) {
	for _, in := range h.gce.MIG(zoneA, migA).Instances {
		if in.CurrentAction == "DELETING" {
			continue
		}
		all++
		if in.Template == template {
			n++
		}
	}
	return n, all
}

func (h *harness) canary() string {
	for _, in := range h.gce.MIG(zoneA, migA).Instances {
		if in.Template == "gpu-v2" && in.CurrentAction != "DELETING" {
			return in.Name
		}
	}
	return ""
}

func TestStatusStaysReadyAndCountsTargetSizeWhileARolloutReplacesVMs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 2, bootTime: 300 * time.Millisecond})
	h.gce.AddTemplate("gpu-v2")
	h.rollout(templateVersion("v2", "gpu-v2", 0))
	sawSurge := false
	poll.Until(t, 20*time.Second, func() bool {
		st := h.status()
		must.True(t, st.Ready, must.Sprintf("not ready during the rollout: %v; MIG %+v", st.Meta, h.gce.MIG(zoneA, migA)))
		must.Eq(t, int64(5), st.Count)
		running, err := strconv.Atoi(st.Meta["zone."+zoneA+".running"])
		must.NoError(t, err)
		must.LessEq(t, 3, running, must.Sprint("a surge VM and the VM it replaces are one worker"))
		n, all := h.onTemplate("gpu-v2")
		sawSurge = sawSurge || all == 4
		return n == 3 && h.gce.MIG(zoneA, migA).Stable
	}, func() string { return fmt.Sprintf("%+v", h.gce.MIG(zoneA, migA)) })
	must.True(t, sawSurge, must.Sprint("the rollout never held a surge VM: the test saw nothing"))
	must.True(t, h.status().Ready)
}

func TestScaleOutDuringACanaryKeepsItsFixedTargetSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 2, sizeB: 2, bootTime: 200 * time.Millisecond})
	h.gce.AddTemplate("gpu-v2")
	h.rollout(templateVersion("stable", "gpu-a-template", 0), templateVersion("canary", "gpu-v2", 1))
	poll.Until(t, 10*time.Second, func() bool { return h.gce.MIG(zoneA, migA).Stable }, poll.Say("the canary to replace one VM"))
	canary := h.canary()
	must.NotEq(t, "", canary)

	must.NoError(t, h.scale(8))
	m := h.gce.MIG(zoneA, migA)
	must.Eq(t, 4, m.TargetSize)
	must.Eq(t, []fakegce.VersionSnapshot{
		{Name: "stable", Template: "gpu-a-template", Fixed: -1, Percent: -1},
		{Name: "canary", Template: "gpu-v2", Fixed: 1, Percent: -1},
	}, m.Versions)
	n, all := h.onTemplate("gpu-v2")
	must.Eq(t, [2]int{1, 4}, [2]int{n, all}, must.Sprint("the new VMs come from the stable version"))
	must.Eq(t, canary, h.canary())
}

func TestScaleInNeverSelectsTheCanary(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 3, sizeB: 1, bootTime: 200 * time.Millisecond})
	h.gce.AddTemplate("gpu-v2")
	h.rollout(templateVersion("stable", "gpu-a-template", 0), templateVersion("canary", "gpu-v2", 1))
	poll.Until(t, 10*time.Second, func() bool {
		return h.gce.MIG(zoneA, migA).Stable && h.nodeByInstance(h.canary()).Status == "ready"
	}, poll.Say("the canary's node to be ready"))
	canary := h.canary()
	// Every node is idle; least_busy would take the newest, the canary.
	must.NoError(t, h.scale(2))
	ta, tb := h.targets()
	must.Eq(t, [2]int{1, 1}, [2]int{ta, tb})
	poll.Until(t, 5*time.Second, func() bool { _, all := h.onTemplate("gpu-v2"); return all == 1 }, poll.Say("the scale-in to finish"))
	must.Eq(t, canary, h.canary(), must.Sprint("the canary is the VM left"))
	for _, d := range h.gceRequests("/deleteInstances") {
		must.SliceNotContains(t, deletedInstances(t, d), canary)
	}
}
