package fakegce_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/shoenig/test/must"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// patchStandby sets the standby policy and the pool size with a real PATCH
// and waits for the operation.
func patchStandby(t *testing.T, c *compute.InstanceGroupManagersClient, zone, name, mode string, delaySec, stopped int32) {
	t.Helper()
	op, err := c.Patch(context.Background(), &computepb.PatchInstanceGroupManagerRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
		InstanceGroupManagerResource: &computepb.InstanceGroupManager{
			StandbyPolicy:     &computepb.InstanceGroupManagerStandbyPolicy{Mode: proto.String(mode), InitialDelaySec: proto.Int32(delaySec)},
			TargetStoppedSize: proto.Int32(stopped),
		},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
}

func stopInstances(c *compute.InstanceGroupManagersClient, zone, name string, force bool, names ...string) error {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = "zones/" + zone + "/instances/" + n
	}
	op, err := c.StopInstances(context.Background(), &computepb.StopInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
		InstanceGroupManagersStopInstancesRequestResource: &computepb.InstanceGroupManagersStopInstancesRequest{Instances: refs, ForceStop: proto.Bool(force)},
	})
	if err != nil {
		return err
	}
	return op.Wait(context.Background())
}

func startInstances(c *compute.InstanceGroupManagersClient, zone, name string, names ...string) error {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = fakegce.InstanceURL(project, zone, n)
	}
	op, err := c.StartInstances(context.Background(), &computepb.StartInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
		InstanceGroupManagersStartInstancesRequestResource: &computepb.InstanceGroupManagersStartInstancesRequest{Instances: refs},
	})
	if err != nil {
		return err
	}
	return op.Wait(context.Background())
}

// states maps instance name to "instanceStatus/currentAction" as listed.
func states(t *testing.T, c *compute.InstanceGroupManagersClient, zone, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, mi := range listInstances(t, c, zone, name) {
		out[mi.GetName()] = mi.GetInstanceStatus() + "/" + mi.GetCurrentAction()
	}
	return out
}

// events records the fake's callbacks.
type events struct {
	mu               sync.Mutex
	running, stopped []string
}

func watch(fake *fakegce.Server) *events {
	e := &events{}
	fake.OnInstanceRunning(func(_, _, in string) { e.mu.Lock(); e.running = append(e.running, in); e.mu.Unlock() })
	fake.OnInstanceStopped(func(_, _, in string) { e.mu.Lock(); e.stopped = append(e.stopped, in); e.mu.Unlock() })
	return e
}

func (e *events) counts() (running, stopped int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running), len(e.stopped)
}

func TestAPatchedPoolIsFilledByCreatingVMsAndStoppingThemAfterTheInitialDelay(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 90 * time.Second, StopTime: 30 * time.Second})
	fake.AddMIG(zoneA, "gpu-a", 1)
	ev := watch(fake)

	patchStandby(t, client, zoneA, "gpu-a", "MANUAL", 300, 2)
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetTargetSize())
	must.Eq(t, int32(2), m.GetTargetStoppedSize())
	must.Eq(t, "MANUAL", m.GetStandbyPolicy().GetMode())
	must.Eq(t, int32(300), m.GetStandbyPolicy().GetInitialDelaySec())
	must.False(t, m.GetStatus().GetIsStable())
	must.Len(t, 3, listInstances(t, client, zoneA, "gpu-a"))

	// Booted, then RUNNING while the image pulls, scheduled to stop.
	clock.Add(90 * time.Second)
	m = getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(2), m.GetCurrentActions().GetStopping())
	clock.Add(210 * time.Second) // 300 s after creation
	for name, st := range states(t, client, zoneA, "gpu-a") {
		if st != "RUNNING/NONE" {
			must.Eq(t, "STOPPING/STOPPING", st, must.Sprint(name))
		}
	}
	clock.Add(30 * time.Second)
	stopped := 0
	for _, st := range states(t, client, zoneA, "gpu-a") {
		if st == "TERMINATED/NONE" {
			stopped++
		}
	}
	must.Eq(t, 2, stopped)
	m = getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetIsStable())
	must.Eq(t, int32(1), m.GetTargetSize())
	// The pool's VMs never joined the cluster (the initial VM ran before
	// the watch).
	running, nStopped := ev.counts()
	must.Eq(t, 0, running)
	must.Eq(t, 2, nStopped)
}

func TestStopAndStartMoveAVMBetweenTheTargetAndThePool(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 300 * time.Second, StartTime: 90 * time.Second})
	fake.AddMIG(zoneA, "gpu-a", 2)
	ev := watch(fake)
	patchStandby(t, client, zoneA, "gpu-a", "MANUAL", 600, 0)
	name := listInstances(t, client, zoneA, "gpu-a")[0].GetName()

	// Created 2 minutes ago and the delay is 10 minutes: it keeps running
	// until then, but already counts in the pool.
	clock.Add(2 * time.Minute)
	must.NoError(t, stopInstances(client, zoneA, "gpu-a", false, name))
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetTargetSize())
	must.Eq(t, int32(1), m.GetTargetStoppedSize())
	must.Eq(t, "RUNNING/STOPPING", states(t, client, zoneA, "gpu-a")[name])
	clock.Add(8 * time.Minute)
	must.Eq(t, "TERMINATED/NONE", states(t, client, zoneA, "gpu-a")[name])
	must.True(t, getMIG(t, client, zoneA, "gpu-a").GetStatus().GetIsStable())

	must.NoError(t, startInstances(client, zoneA, "gpu-a", name))
	m = getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(2), m.GetTargetSize())
	must.Eq(t, int32(0), m.GetTargetStoppedSize())
	must.Eq(t, int32(1), m.GetCurrentActions().GetStarting())
	must.Eq(t, "STAGING/STARTING", states(t, client, zoneA, "gpu-a")[name])
	// A warm start takes StartTime, not BootTime.
	clock.Add(90 * time.Second)
	must.Eq(t, "RUNNING/NONE", states(t, client, zoneA, "gpu-a")[name])
	running, stopped := ev.counts()
	must.Eq(t, 1, running)
	must.Eq(t, 1, stopped)
}

func TestForceStopSkipsTheInitialDelayAndTheStoppedStatusIsConfigurable(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, StoppedStatus: "STOPPED"})
	fake.AddMIG(zoneA, "gpu-a", 1)
	patchStandby(t, client, zoneA, "gpu-a", "MANUAL", 3600, 0)
	name := listInstances(t, client, zoneA, "gpu-a")[0].GetName()
	must.NoError(t, stopInstances(client, zoneA, "gpu-a", true, name))
	must.Eq(t, "STOPPED/NONE", states(t, client, zoneA, "gpu-a")[name])
}

func TestAStartInAStockoutWaitsWithTheCreationStockoutCodeAndThenBoots(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, StartTime: time.Minute,
		StockoutCode: "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS"})
	fake.AddMIG(zoneA, "gpu-a", 2)
	names := []string{}
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		names = append(names, mi.GetName())
	}
	must.NoError(t, stopInstances(client, zoneA, "gpu-a", true, names[0]))
	// A stopped VM holds no GPU: with room for one, the running VM takes it.
	fake.SetCapacity(zoneA, 1)
	must.NoError(t, startInstances(client, zoneA, "gpu-a", names[0]))
	must.Eq(t, "TERMINATED/STARTING", states(t, client, zoneA, "gpu-a")[names[0]])
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		if mi.GetName() == names[0] {
			must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", mi.GetLastAttempt().GetErrors().GetErrors()[0].GetCode())
		}
	}
	clock.Add(time.Minute) // two more attempts at the default 30 s
	snap := fake.MIG(zoneA, "gpu-a")
	must.Len(t, 3, snap.Errors)
	for _, e := range snap.Errors {
		must.Eq(t, "STARTING", e.Action)
		must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", e.Code)
	}
	must.False(t, getMIG(t, client, zoneA, "gpu-a").GetStatus().GetIsStable())

	fake.SetCapacity(zoneA, -1)
	must.Eq(t, "STAGING/STARTING", states(t, client, zoneA, "gpu-a")[names[0]])
	clock.Add(time.Minute)
	must.Eq(t, "RUNNING/NONE", states(t, client, zoneA, "gpu-a")[names[0]])
}

func TestScaleOutPoolModeStartsStoppedVMsFirstAndRefillsThePool(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 5 * time.Minute, StartTime: 90 * time.Second})
	fake.AddMIG(zoneA, "gpu-a", 1)
	patchStandby(t, client, zoneA, "gpu-a", "SCALE_OUT_POOL", 0, 2)
	clock.Add(5 * time.Minute)
	pool := map[string]bool{}
	for _, in := range fake.MIG(zoneA, "gpu-a").Instances {
		if in.Standby {
			must.Eq(t, "TERMINATED", in.Status)
			pool[in.Name] = true
		}
	}
	must.MapLen(t, 2, pool)

	resize(t, client, zoneA, "gpu-a", 4, "")
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(4), m.GetTargetSize())
	must.Eq(t, int32(2), m.GetTargetStoppedSize())
	must.Eq(t, int32(2), m.GetCurrentActions().GetStarting())
	// One new VM completes the target (1 running + 2 started + 1), two
	// more refill the pool.
	must.Eq(t, int32(3), m.GetCurrentActions().GetCreating())
	clock.Add(90 * time.Second)
	for name := range pool {
		must.Eq(t, "RUNNING/NONE", states(t, client, zoneA, "gpu-a")[name])
	}
	clock.Add(210 * time.Second)
	m = getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetIsStable())
	must.Len(t, 6, listInstances(t, client, zoneA, "gpu-a"))
}

func TestManualModeResizeCreatesAndLeavesThePoolAlone(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now})
	fake.AddMIG(zoneA, "gpu-a", 0)
	patchStandby(t, client, zoneA, "gpu-a", "MANUAL", 0, 1)
	resize(t, client, zoneA, "gpu-a", 1, "")
	m := getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetIsStable())
	must.Eq(t, int32(0), m.GetCurrentActions().GetStarting())
	got := map[string]int{}
	for _, st := range states(t, client, zoneA, "gpu-a") {
		got[st]++
	}
	must.Eq(t, map[string]int{"RUNNING/NONE": 1, "TERMINATED/NONE": 1}, got)

	// Lowering the pool deletes its member; deleting a member lowers it.
	patchStandby(t, client, zoneA, "gpu-a", "MANUAL", 0, 0)
	must.Len(t, 1, fake.MIG(zoneA, "gpu-a").Instances)
}

func TestDeletingAStoppedMemberLowersTheStoppedTarget(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 2)
	name := listInstances(t, client, zoneA, "gpu-a")[0].GetName()
	must.NoError(t, stopInstances(client, zoneA, "gpu-a", true, name))
	op, err := client.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{Instances: []string{"zones/" + zoneA + "/instances/" + name}},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetTargetSize())
	must.Eq(t, int32(0), m.GetTargetStoppedSize())
}

func TestPoolCallsOnTheWrongInstancesOrWithBadValuesAnswer400AndChangeNothing(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 2)
	names := []string{}
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		names = append(names, mi.GetName())
	}
	must.NoError(t, stopInstances(client, zoneA, "gpu-a", true, names[0]))
	bad := func(err error) {
		t.Helper()
		var ae *apierror.APIError
		must.True(t, errors.As(err, &ae), must.Sprint(err))
		must.Eq(t, 400, ae.HTTPCode())
	}
	bad(stopInstances(client, zoneA, "gpu-a", true, names[0]))      // already stopped
	bad(startInstances(client, zoneA, "gpu-a", names[1]))           // running
	bad(startInstances(client, zoneA, "gpu-a", "gpu-a-none"))       // not a member
	bad(startInstances(client, zoneA, "gpu-a", names[0], names[0])) // twice
	bad(stopInstances(client, zoneA, "gpu-a", false))               // no instance
	for _, p := range []*computepb.InstanceGroupManager{
		{StandbyPolicy: &computepb.InstanceGroupManagerStandbyPolicy{Mode: proto.String("SCALE_OUT")}},
		{StandbyPolicy: &computepb.InstanceGroupManagerStandbyPolicy{InitialDelaySec: proto.Int32(3601)}},
		{TargetStoppedSize: proto.Int32(-1)},
		{TargetSuspendedSize: proto.Int32(1)},
	} {
		_, err := client.Patch(context.Background(), &computepb.PatchInstanceGroupManagerRequest{
			Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", InstanceGroupManagerResource: p})
		bad(err)
	}
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetTargetSize())
	must.Eq(t, int32(1), m.GetTargetStoppedSize())
	must.Eq(t, "MANUAL", m.GetStandbyPolicy().GetMode())
}

func TestAFailedStopOperationChangesNothingAndCarriesItsError(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 1)
	name := listInstances(t, client, zoneA, "gpu-a")[0].GetName()
	fake.FailNextOperation(zoneA, "RESOURCE_NOT_READY", "try again")
	op, err := client.StopInstances(context.Background(), &computepb.StopInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersStopInstancesRequestResource: &computepb.InstanceGroupManagersStopInstancesRequest{Instances: []string{name}},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	must.Eq(t, "RESOURCE_NOT_READY", op.Proto().GetError().GetErrors()[0].GetCode())
	must.Eq(t, "compute.instanceGroupManagers.stopInstances", op.Proto().GetOperationType())
	must.Eq(t, "RUNNING/NONE", states(t, client, zoneA, "gpu-a")[name])
}
