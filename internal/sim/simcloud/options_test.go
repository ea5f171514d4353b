package simcloud_test

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// The target's component tests place their own allocations and start the
// zones unequal: EmptyNodes and InitialSizes give them exactly that.
func TestEmptyNodesRunNothingAndEachMIGStartsAtItsOwnSize(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 1, func(c *simcloud.Config) {
		c.BootTime = 0
		c.EmptyNodes = true
		c.InitialSizes = map[simcloud.MIGRef]int{{Zone: zoneA, Name: "gpu-a"}: 3}
	})
	e.advance(time.Second)

	st := e.state(t)
	sizes := map[string]int{}
	for _, m := range st.MIGs {
		sizes[m.Zone] = m.TargetSize
	}
	must.Eq(t, map[string]int{zoneA: 3, zoneB: 1}, sizes, must.Sprint("zone B keeps InitialSize"))
	must.Len(t, 4, st.Nodes)
	for _, n := range e.cluster.Nomad.Nodes() {
		must.Eq(t, "ready", n.Status)
		must.SliceEmpty(t, n.Allocations, must.Sprintf("node %s runs nothing", n.Name))
	}
}

func TestANegativeInitialSizeOfOneMIGIsRefusedByName(t *testing.T) {
	t.Parallel()
	_, err := simcloud.New(simcloud.Config{
		MIGs:          []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}},
		InitialSizes:  map[simcloud.MIGRef]int{{Zone: zoneA, Name: "gpu-a"}: -1},
		RetryInterval: -time.Second,
	})
	must.ErrorContains(t, err, "initial size of "+zoneA+"/gpu-a: -1 is negative")
	must.ErrorContains(t, err, "retry-interval")
}
