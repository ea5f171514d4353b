package fakenomad_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

func TestVariablesRoundTripThroughTheClient(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	vars := client.Variables()

	_, _, err := vars.Read("nomad-autoscaler/override/gpu", nil)
	must.ErrorIs(t, err, api.ErrVariablePathNotFound)

	created, _, err := vars.Create(&api.Variable{
		Path: "nomad-autoscaler/override/gpu", Items: api.VariableItems{"count": "6", "until": "2026-01-05T18:00:00Z"},
	}, nil)
	must.NoError(t, err)
	must.Positive(t, created.ModifyIndex)

	got, _, err := vars.Read("nomad-autoscaler/override/gpu", nil)
	must.NoError(t, err)
	must.Eq(t, "6", got.Items["count"])
	items, ok := fake.Variable("default", "nomad-autoscaler/override/gpu")
	must.True(t, ok)
	must.Eq(t, "2026-01-05T18:00:00Z", items["until"])

	fake.SetVariable("default", "other/thing", map[string]string{"a": "b"})
	list, _, err := vars.PrefixList("nomad-autoscaler/", nil)
	must.NoError(t, err)
	must.Len(t, 1, list)
	must.Eq(t, "nomad-autoscaler/override/gpu", list[0].Path)

	// A checked update with a stale index conflicts, as in Nomad.
	stale := *got
	stale.ModifyIndex--
	_, _, err = vars.CheckedUpdate(&stale, nil)
	var conflict api.ErrCASConflict
	must.True(t, errors.As(err, &conflict))

	_, err = vars.Delete("nomad-autoscaler/override/gpu", nil)
	must.NoError(t, err)
	_, ok = fake.Variable("default", "nomad-autoscaler/override/gpu")
	must.False(t, ok)
}

func TestNodeMetaApplyIsVisibleInNodeInfo(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	spec := gpuNode("gpu-a-1", "gpu")
	spec.Meta = map[string]string{"rack": "r1"}
	id := fake.AddNode(spec)
	marker := "scale-in-1"

	resp, err := client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{
		NodeID: id, Meta: map[string]*string{"gce_gpu_pending_delete": &marker},
	}, nil)
	must.NoError(t, err)
	must.Eq(t, "scale-in-1", resp.Meta["gce_gpu_pending_delete"])
	must.Eq(t, "r1", resp.Meta["rack"])

	info, _, err := client.Nodes().Info(id, nil)
	must.NoError(t, err)
	must.Eq(t, "scale-in-1", info.Meta["gce_gpu_pending_delete"])

	read, err := client.Nodes().Meta().Read(id, nil)
	must.NoError(t, err)
	must.Eq(t, "scale-in-1", *read.Dynamic["gce_gpu_pending_delete"])

	_, err = client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{
		NodeID: id, Meta: map[string]*string{"gce_gpu_pending_delete": nil},
	}, nil)
	must.NoError(t, err)
	snap := fake.Node(id)
	must.MapNotContainsKey(t, snap.Meta, "gce_gpu_pending_delete")
}

func TestPurgeRemovesTheNodeAndItsAllocations(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	must.NotEq(t, "", fake.AddAllocation(id, fakenomad.AllocSpec{JobID: "ml-worker"}))

	_, _, err := client.Nodes().Purge(id, nil)
	must.NoError(t, err)
	must.Eq(t, "", fake.Node(id).ID)
	_, _, err = client.Nodes().Allocations(id, nil)
	must.ErrorContains(t, err, "404")
}

func TestAllocationInfoAnswersAKnownAllocationAndNotFoundOtherwise(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	node := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	id := fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "ml-worker"})

	a, _, err := client.Allocations().Info(id, nil)
	must.NoError(t, err)
	must.Eq(t, id, a.ID)
	must.Eq(t, node, a.NodeID)
	must.Eq(t, "ml-worker", a.JobID)

	_, _, err = client.Allocations().Info("no-such-alloc", nil)
	must.ErrorContains(t, err, "alloc not found")
}

func TestWritesToAnUnknownNodeAnswerNotFound(t *testing.T) {
	t.Parallel()
	_, client, _ := start(t, fakenomad.Options{})
	marker := "x"
	cases := []struct {
		name string
		call func() error
	}{
		{"a drain", func() error {
			_, err := client.Nodes().UpdateDrainOpts("no-such-node", &api.DrainOptions{DrainSpec: &api.DrainSpec{}}, nil)
			return err
		}},
		{"an eligibility change", func() error {
			_, err := client.Nodes().ToggleEligibility("no-such-node", false, nil)
			return err
		}},
		{"a meta update", func() error {
			_, err := client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{
				NodeID: "no-such-node", Meta: map[string]*string{"k": &marker},
			}, nil)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			must.ErrorContains(t, err, "404")
			must.ErrorContains(t, err, "node not found")
		})
	}
}

func TestACheckedDeleteWithAStaleIndexConflictsAndKeepsTheVariable(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	fake.SetVariable("default", "nomad-autoscaler/override/gpu", map[string]string{"count": "6"})
	got, _, err := client.Variables().Read("nomad-autoscaler/override/gpu", nil)
	must.NoError(t, err)

	_, err = client.Variables().CheckedDelete("nomad-autoscaler/override/gpu", got.ModifyIndex-1, nil)
	var conflict api.ErrCASConflict
	must.True(t, errors.As(err, &conflict))
	must.Eq(t, got.ModifyIndex, conflict.Conflict.ModifyIndex)
	_, ok := fake.Variable("default", "nomad-autoscaler/override/gpu")
	must.True(t, ok)
}

func TestInjectedErrorsAnswerTheNextRequestsOnly(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	fake.InjectHTTPErrors(http.StatusTooManyRequests, 2)
	for range 2 {
		_, _, err := client.Nodes().List(nil)
		must.ErrorContains(t, err, "429")
	}
	_, _, err := client.Nodes().List(nil)
	must.NoError(t, err)

	reqs := fake.Requests()
	must.Len(t, 3, reqs)
	must.Eq(t, http.StatusTooManyRequests, reqs[0].Status)
	must.Eq(t, "/v1/nodes", reqs[2].Path)
	must.Eq(t, http.StatusOK, reqs[2].Status)
}

func TestScaleutilsSelectsNodesOfThePoolWithItsSelectors(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	busy := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	empty := fake.AddNode(gpuNode("gpu-a-2", "gpu"))
	fake.AddNode(gpuNode("cpu-a-1", "cpu"))
	must.NotEq(t, "", fake.AddAllocation(busy, fakenomad.AllocSpec{JobID: "ml-worker", GPUs: 1, CPU: 2000, MemoryMB: 8000}))

	utils, err := scaleutils.NewClusterScaleUtils(&api.Config{Address: url}, hclog.NewNullLogger())
	must.NoError(t, err)

	for _, selector := range []string{"empty", "least_busy"} {
		t.Run(selector, func(t *testing.T) {
			nodes, err := utils.IdentifyScaleInNodes(map[string]string{
				"node_class": "gpu", "node_selector_strategy": selector,
			}, 1)
			must.NoError(t, err)
			must.Len(t, 1, nodes)
			must.Eq(t, empty, nodes[0].ID)
		})
	}

	ready, err := utils.IsPoolReady(map[string]string{"node_class": "gpu"})
	must.NoError(t, err)
	must.True(t, ready)
}

func TestConcurrentClientsSeeConsistentNodes(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{DrainDuration: 5 * time.Millisecond})
	var ids []string
	for _, name := range []string{"gpu-a-1", "gpu-a-2", "gpu-b-1", "gpu-b-2"} {
		id := fake.AddNode(gpuNode(name, "gpu"))
		must.NotEq(t, "", fake.AddAllocation(id, fakenomad.AllocSpec{JobID: "ml-worker", GPUs: 1}))
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := client.Nodes().UpdateDrain(id, &api.DrainSpec{Deadline: time.Minute}, false, nil)
			errs <- err
			v := "x"
			_, err = client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: id, Meta: map[string]*string{"k": &v}}, nil)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			for range 5 {
				_, _, err := client.Nodes().List(nil)
				errs <- err
				_, _, err = client.Nodes().Info(id, nil)
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must.NoError(t, err)
	}
	for _, id := range ids {
		poll.Until(t, 5*time.Second, func() bool { return !fake.Node(id).Draining }, poll.Say("drain completes"))
		must.Eq(t, "x", fake.Node(id).Meta["k"])
	}
}
