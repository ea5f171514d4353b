package simcloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

func TestALostVMsNodeGoesDownAndItsRecreationRegistersANewNode(t *testing.T) {
	c, err := simcloud.New(simcloud.Config{
		MIGs: []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}}, InitialSize: 2, BootTime: 300 * time.Millisecond,
	})
	must.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx, 20*time.Millisecond)
	poll.Until(t, 5*time.Second, func() bool { return c.State().ReadyWorkersTotal == 2 }, poll.Say("two workers"))
	victim := c.State().MIGs[0].Instances[0]

	must.NoError(t, c.LoseInstance(zoneA, victim.Name))
	st := c.State()
	must.Eq(t, 1, st.ReadyWorkersTotal)
	for _, n := range st.Nodes {
		if n.ID == victim.NodeID {
			must.Eq(t, "down", n.Status)
		}
	}

	poll.Until(t, 5*time.Second, func() bool { return c.State().ReadyWorkersTotal == 2 }, poll.Say("the recreated VM serving"))
	st = c.State()
	must.Eq(t, 2, len(st.Nodes))
	for _, in := range st.MIGs[0].Instances {
		if in.Name == victim.Name {
			must.NotEq(t, victim.NodeID, in.NodeID)
			must.NotEq(t, "", in.NodeID)
		}
	}
	must.Error(t, c.LoseInstance(zoneA, "no-such-vm"))
}
