package fakenomad_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

func TestADrainEndsAtItsDeadlineWhenThatComesFirst(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client, _ := start(t, fakenomad.Options{Now: clock.Now, DrainDuration: time.Hour})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	must.NotEq(t, "", fake.AddAllocation(id, fakenomad.AllocSpec{JobID: "ml-worker"}))

	_, err := client.Nodes().UpdateDrain(id, &api.DrainSpec{Deadline: 5 * time.Minute}, false, nil)
	must.NoError(t, err)
	info, _, err := client.Nodes().Info(id, nil)
	must.NoError(t, err)
	must.NotNil(t, info.DrainStrategy)
	must.Eq(t, clock.Now().Add(5*time.Minute), info.DrainStrategy.ForceDeadline)

	clock.Add(5 * time.Minute)
	fake.Advance()
	snap := fake.Node(id)
	must.False(t, snap.Draining)
	must.Eq(t, api.AllocClientStatusComplete, snap.Allocations[0].ClientStatus)
}

func TestAFailedDrainIsReportedByTheMonitorAndNeedsACancelToRollBack(t *testing.T) {
	t.Parallel()
	fake, client, url := start(t, fakenomad.Options{DrainDuration: time.Hour})
	ok := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	bad := fake.AddNode(gpuNode("gpu-b-1", "gpu"))
	fake.SetNodeDrainDuration("gpu-a-1", 10*time.Millisecond)
	fake.FailDrain("gpu-b-1", "node lost its disk")

	utils, err := scaleutils.NewClusterScaleUtils(&api.Config{Address: url}, hclog.NewNullLogger())
	must.NoError(t, err)
	err = utils.DrainNodes(context.Background(), map[string]string{}, []scaleutils.NodeResourceID{
		{NomadNodeID: ok}, {NomadNodeID: bad},
	})
	must.ErrorContains(t, err, "node lost its disk")

	snap := fake.Node(bad)
	must.True(t, snap.Draining)
	must.True(t, snap.DrainFailed)
	must.Eq(t, api.NodeSchedulingIneligible, snap.SchedulingEligibility)

	// As in Nomad, a draining node cannot simply be made eligible ...
	_, err = client.Nodes().ToggleEligibility(bad, true, nil)
	must.ErrorContains(t, err, "while it is draining")
	// ... the drain must be canceled.
	_, err = client.Nodes().UpdateDrain(bad, nil, true, nil)
	must.NoError(t, err)
	snap = fake.Node(bad)
	must.False(t, snap.Draining)
	must.Eq(t, api.NodeSchedulingEligible, snap.SchedulingEligibility)
	must.Eq(t, api.DrainStatusCanceled, snap.LastDrain.Status)

	// The drained node can be made eligible again once its drain completed.
	must.NoError(t, utils.RunPostScaleInTasksOnFailure([]scaleutils.NodeResourceID{{NomadNodeID: ok}}))
	snap = fake.Node(ok)
	must.Eq(t, api.NodeSchedulingEligible, snap.SchedulingEligibility)
}

func TestANegativeDeadlineForcesTheDrainAtOnce(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{DrainDuration: time.Hour})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	resp, err := client.Nodes().UpdateDrain(id, &api.DrainSpec{Deadline: -1}, false, nil)
	must.NoError(t, err)
	var msgs []string
	for m := range client.Nodes().MonitorDrain(context.Background(), id, resp.LastIndex, false) {
		msgs = append(msgs, m.Message)
	}
	must.SliceContains(t, msgs, "Drain complete for node "+id)
}

func TestBlockingQueriesWaitForAChangeOrTheirWaitTime(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	_, meta, err := client.Nodes().Info(id, nil)
	must.NoError(t, err)

	// No change: the query returns the same index once its wait passes.
	_, meta2, err := client.Nodes().Info(id, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 30 * time.Millisecond})
	must.NoError(t, err)
	must.Eq(t, meta.LastIndex, meta2.LastIndex)

	// A change wakes the query with a larger index.
	got := make(chan *api.Node, 1)
	go func() {
		n, _, err := client.Nodes().Info(id, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 5 * time.Second})
		if err == nil {
			got <- n
		}
		close(got)
	}()
	time.Sleep(10 * time.Millisecond) // let the query block; the assertion does not depend on it
	_, err = client.Nodes().ToggleEligibility(id, false, nil)
	must.NoError(t, err)
	n := <-got
	must.NotNil(t, n)
	must.Eq(t, api.NodeSchedulingIneligible, n.SchedulingEligibility)
}
