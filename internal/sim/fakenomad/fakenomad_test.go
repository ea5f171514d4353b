package fakenomad_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// newClock returns a manually advanced clock for Options.Now.
func newClock() *fakehttp.ManualClock {
	return fakehttp.NewManualClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
}

// start serves a fake and returns it with a real Nomad API client.
func start(t *testing.T, opts fakenomad.Options) (*fakenomad.Server, *api.Client, string) {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 2 * time.Millisecond
	}
	fake := fakenomad.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close) // runs first: releases blocked queries
	client, err := api.NewClient(&api.Config{Address: srv.URL})
	must.NoError(t, err)
	return fake, client, srv.URL
}

func gpuNode(name, class string) fakenomad.NodeSpec {
	return fakenomad.NodeSpec{
		Name: name, Datacenter: "dc1", NodeClass: class, GPUs: 1,
		Attributes: map[string]string{
			"unique.platform.gce.hostname": name + ".c.proj.internal",
			"platform.gce.zone":            "europe-west4-a",
			"os.name":                      "ubuntu",
		},
	}
}

func TestNodeListHidesAttributesThatInfoShows(t *testing.T) {
	t.Parallel()
	fake, client, _ := start(t, fakenomad.Options{})
	id := fake.AddNode(gpuNode("gpu-a-1", "gpu"))

	stubs, meta, err := client.Nodes().List(nil)
	must.NoError(t, err)
	must.Len(t, 1, stubs)
	must.Positive(t, meta.LastIndex)
	must.Eq(t, "gpu", stubs[0].NodeClass)
	must.Nil(t, stubs[0].Attributes)
	must.Nil(t, stubs[0].NodeResources)

	stubs, _, err = client.Nodes().List(&api.QueryOptions{Params: map[string]string{"resources": "true", "os": "true"}})
	must.NoError(t, err)
	must.Eq(t, 1, len(stubs[0].NodeResources.Devices[0].Instances))
	must.Eq(t, map[string]string{"os.name": "ubuntu"}, stubs[0].Attributes)

	info, _, err := client.Nodes().Info(id, nil)
	must.NoError(t, err)
	must.Eq(t, "gpu-a-1.c.proj.internal", info.Attributes["unique.platform.gce.hostname"])
	must.Eq(t, api.NodeSchedulingEligible, info.SchedulingEligibility)
	must.Eq(t, api.NodeStatusReady, info.Status)

	_, _, err = client.Nodes().Info("no-such-node", nil)
	must.ErrorContains(t, err, "404")
}

func TestScaleutilsDrainsNodesInParallelAndStopsTheirAllocations(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, _, url := start(t, fakenomad.Options{Now: clock.Now, DrainDuration: time.Minute})
	a := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	b := fake.AddNode(gpuNode("gpu-b-1", "gpu"))
	sysAlloc := fake.AddAllocation(a, fakenomad.AllocSpec{JobID: "node-exporter", JobType: "system"})
	must.NotEq(t, "", sysAlloc)
	for _, id := range []string{a, b} {
		must.NotEq(t, "", fake.AddAllocation(id, fakenomad.AllocSpec{JobID: "ml-worker", GPUs: 1}))
	}
	completed := make(chan string, 2)
	fake.OnDrainComplete(func(id string) { completed <- id })

	utils, err := scaleutils.NewClusterScaleUtils(&api.Config{Address: url}, hclog.NewNullLogger())
	must.NoError(t, err)
	cfg := map[string]string{"node_drain_deadline": "10m", "node_drain_ignore_system_jobs": "true"}
	done := make(chan error, 1)
	go func() {
		done <- utils.DrainNodes(context.Background(), cfg, []scaleutils.NodeResourceID{
			{NomadNodeID: a, RemoteResourceID: "gpu-a-1"}, {NomadNodeID: b, RemoteResourceID: "gpu-b-1"},
		})
	}()
	poll.Until(t, 5*time.Second, func() bool { return countEvents(fake, fakenomad.EventDrainStarted) == 2 }, poll.Say("both drains started"))
	select {
	case err := <-done:
		t.Fatalf("drain returned before its duration passed: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	clock.Add(time.Minute)
	must.NoError(t, <-done)
	must.SliceContainsAll(t, []string{a, b}, []string{<-completed, <-completed})

	for _, id := range []string{a, b} {
		snap := fake.Node(id)
		must.Eq(t, api.NodeSchedulingIneligible, snap.SchedulingEligibility)
		must.False(t, snap.Draining)
		must.Eq(t, api.DrainStatusComplete, snap.LastDrain.Status)
		must.Eq(t, "nomad-autoscaler", snap.LastDrain.Meta["drained_by"])
		for _, al := range snap.Allocations {
			if al.ID == sysAlloc {
				must.Eq(t, api.AllocClientStatusRunning, al.ClientStatus)
				continue
			}
			must.Eq(t, api.AllocClientStatusComplete, al.ClientStatus)
		}
	}
	// The drains overlapped: both started before either completed.
	var lastStart, firstDone time.Time
	for _, e := range fake.Events() {
		switch e.Kind {
		case fakenomad.EventDrainStarted:
			lastStart = e.Time
		case fakenomad.EventDrainCompleted:
			if firstDone.IsZero() {
				firstDone = e.Time
			}
		}
	}
	must.True(t, lastStart.Before(firstDone))
}

func countEvents(fake *fakenomad.Server, kind fakenomad.EventKind) int {
	n := 0
	for _, e := range fake.Events() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
