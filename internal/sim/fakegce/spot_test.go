package fakegce_test

import (
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

func running(fake *fakegce.Server, zone, name string) (n int, names []string) {
	for _, in := range fake.MIG(zone, name).Instances {
		names = append(names, in.Name)
		if in.Status == "RUNNING" && in.CurrentAction == "NONE" {
			n++
		}
	}
	return n, names
}

func TestSpotPreemptionStopsThenTheMIGRecreatesWhenCapacityAllows(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 90 * time.Second})
	fake.AddMIG(zoneA, "spot-a", 2)
	fake.AddMIG(zoneA, "gpu-a", 1)
	must.NoError(t, fake.SetMIGProvisioningModel(zoneA, "spot-a", fakegce.ProvisioningSpot))
	must.Eq(t, fakegce.ProvisioningSpot, fake.ProvisioningModel("spot-a-template"))
	must.Eq(t, fakegce.ProvisioningStandard, fake.ProvisioningModel("gpu-a-template"))
	var mu sync.Mutex
	var stopped, started []string
	fake.OnInstanceStopped(func(_, _, in string) { mu.Lock(); stopped = append(stopped, in); mu.Unlock() })
	fake.OnInstanceRunning(func(_, _, in string) { mu.Lock(); started = append(started, in); mu.Unlock() })

	// A standard VM is never preempted.
	_, std := running(fake, zoneA, "gpu-a")
	_, err := fake.Preempt(zoneA, "gpu-a", std, 0)
	must.ErrorContains(t, err, "not a Spot VM")

	fake.SetSpotStockout(zoneA, true)
	must.Eq(t, 2, fake.PreemptWave(zoneA))
	mis := listInstances(t, client, zoneA, "spot-a")
	for _, mi := range mis {
		must.Eq(t, "STOPPING", mi.GetInstanceStatus())
		must.Eq(t, "RECREATING", mi.GetCurrentAction())
	}
	must.False(t, getMIG(t, client, zoneA, "spot-a").GetStatus().GetIsStable())
	must.Eq(t, 2, int(getMIG(t, client, zoneA, "spot-a").GetTargetSize()))

	// After the 30 s notice the VMs are gone; without Spot capacity the
	// MIG keeps trying, and says why.
	clock.Add(fakegce.PreemptionNotice)
	for _, mi := range listInstances(t, client, zoneA, "spot-a") {
		must.Eq(t, "TERMINATED", mi.GetInstanceStatus())
		must.Eq(t, "RECREATING", mi.GetCurrentAction())
		must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", mi.GetLastAttempt().GetErrors().GetErrors()[0].GetCode())
	}
	mu.Lock()
	must.Eq(t, 2, len(stopped))
	mu.Unlock()
	// A standard MIG in the same zone still grows.
	resize(t, client, zoneA, "gpu-a", 2, "")
	clock.Add(90 * time.Second)
	n, _ := running(fake, zoneA, "gpu-a")
	must.Eq(t, 2, n)

	// Spot capacity back: the next retry recreates them under their names.
	fake.SetSpotStockout(zoneA, false)
	clock.Add(30 * time.Second)
	fake.Advance()
	clock.Add(90 * time.Second)
	n, _ = running(fake, zoneA, "spot-a")
	must.Eq(t, 2, n)
	log := fake.Preemptions()
	must.Eq(t, 2, len(log))
	for _, p := range log {
		must.Eq(t, "spot-a", p.MIG)
		must.False(t, p.Recreated.IsZero())
	}
	// Recreated VMs run again under their names: the cluster's nodes come
	// back.
	mu.Lock()
	defer mu.Unlock()
	must.SliceContains(t, started, log[0].Instance)
	must.SliceContains(t, started, log[1].Instance)
}

func TestSpotStockoutStopsSpotCreationsOnly(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 90 * time.Second})
	fake.AddMIG(zoneA, "spot-a", 0)
	fake.AddMIG(zoneA, "gpu-a", 0)
	must.NoError(t, fake.SetMIGProvisioningModel(zoneA, "spot-a", fakegce.ProvisioningSpot))
	fake.SetSpotStockout(zoneA, true)
	resize(t, client, zoneA, "spot-a", 1, "")
	resize(t, client, zoneA, "gpu-a", 1, "")
	clock.Add(90 * time.Second)
	spot, _ := running(fake, zoneA, "spot-a")
	std, _ := running(fake, zoneA, "gpu-a")
	must.Eq(t, 0, spot)
	must.Eq(t, 1, std)
	must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", fake.MIG(zoneA, "spot-a").Instances[0].LastErrorCode)
}
