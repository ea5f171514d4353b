package simcloud_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

const (
	zoneA = "europe-west4-a"
	zoneB = "europe-west4-b"
)

type env struct {
	cluster *simcloud.Cluster
	clock   *fakehttp.ManualClock // the real clock under simcloud.Clock, stepped by hand
	url     string
	migs    *compute.InstanceGroupManagersClient
	nomad   *api.Client
}

func startCluster(t *testing.T, scale float64) *env {
	t.Helper()
	return startClusterWith(t, scale, func(*simcloud.Config) {})
}

func startClusterWith(t *testing.T, scale float64, edit func(*simcloud.Config)) *env {
	t.Helper()
	rc := fakehttp.NewManualClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	cfg := simcloud.Config{
		Project: "sim", MIGs: []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}, {Zone: zoneB, Name: "gpu-b"}},
		InitialSize: 1, BootTime: 90 * time.Second, DeleteTime: 20 * time.Second, DrainDuration: time.Minute,
		Clock: simcloud.NewClock(rc.Now(), scale, rc.Now),
	}
	edit(&cfg)
	c, err := simcloud.New(cfg)
	must.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(c.Close)
	migs, err := compute.NewInstanceGroupManagersRESTClient(context.Background(),
		option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	must.NoError(t, err)
	t.Cleanup(func() { _ = migs.Close() })
	nomad, err := api.NewClient(&api.Config{Address: srv.URL})
	must.NoError(t, err)
	return &env{cluster: c, clock: rc, url: srv.URL, migs: migs, nomad: nomad}
}

// advance moves simulated time by d (real time divided by the scale) and ticks.
func (e *env) advance(d time.Duration) {
	e.clock.Add(time.Duration(math.Ceil(float64(d) / e.cluster.State().TimeScale)))
	e.cluster.Tick()
}

// post sends an empty POST to the admin API and returns the status.
func (e *env) post(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Post(e.url+path, "", nil)
	must.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env) state(t *testing.T) simcloud.State {
	t.Helper()
	resp, err := http.Get(e.url + "/admin/state")
	must.NoError(t, err)
	defer resp.Body.Close()
	must.Eq(t, http.StatusOK, resp.StatusCode)
	var st simcloud.State
	must.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func TestAMIGInstanceBecomesANomadWorkerAndLeavesWithIt(t *testing.T) {
	t.Parallel()
	e := startCluster(t, 60)
	st := e.state(t)
	must.Eq(t, 2, st.ReadyWorkersTotal)
	must.Eq(t, map[string]int{zoneA: 1, zoneB: 1}, st.ReadyWorkers)

	op, err := e.migs.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 2,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	stubs, _, err := e.nomad.Nodes().List(nil)
	must.NoError(t, err)
	must.Len(t, 2, stubs) // still booting

	e.advance(90 * time.Second)
	st = e.state(t)
	must.Eq(t, 3, st.ReadyWorkersTotal)
	newName := st.MIGs[0].Instances[1].Name
	newID := st.MIGs[0].Instances[1].NodeID
	must.NotEq(t, "", newID)
	info, _, err := e.nomad.Nodes().Info(newID, nil)
	must.NoError(t, err)
	must.Eq(t, newName+".c.sim.internal", info.Attributes["unique.platform.gce.hostname"])
	must.Eq(t, zoneA, info.Attributes["platform.gce.zone"])
	must.Eq(t, "gpu", info.NodeClass)
	allocs, _, err := e.nomad.Nodes().Allocations(newID, nil)
	must.NoError(t, err)
	must.Len(t, 2, allocs) // the worker and the system job

	_, err = e.nomad.Nodes().UpdateDrain(newID, &api.DrainSpec{Deadline: 10 * time.Minute}, false, nil)
	must.NoError(t, err)
	must.Eq(t, 2, e.state(t).ReadyWorkersTotal)
	e.advance(time.Minute)
	for _, n := range e.state(t).Nodes {
		if n.ID == newID {
			must.Eq(t, 0, n.RunningAllocs)
			must.Eq(t, "complete", n.LastDrain)
		}
	}

	del, err := e.migs.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
			Instances: []string{"zones/" + zoneA + "/instances/" + newName},
		},
	})
	must.NoError(t, err)
	must.NoError(t, del.Wait(context.Background()))
	e.cluster.Tick() // bill the deleted instance up to its deletion
	e.advance(20 * time.Second)
	_, _, err = e.nomad.Nodes().Info(newID, nil)
	must.ErrorContains(t, err, "404")
	st = e.state(t)
	must.Len(t, 2, st.Nodes)
	must.Eq(t, 1, st.MIGs[0].TargetSize)

	// Billed: zone A ran 1 instance for 90 s, 2 for 60 s, then 1 while the
	// other was deleted (STOPPING is not billed); zone B ran 1 throughout.
	must.Eq(t, map[string]float64{zoneA: (90 + 2*60 + 20) / 3600.0, zoneB: (90 + 60 + 20) / 3600.0},
		roundHours(st.InstanceHours))
}

// roundHours rounds to the second, hiding the clock's sub-second rounding.
func roundHours(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = math.Round(v*3600) / 3600
	}
	return out
}

func TestAnEligibleNodeGetsItsWorkerBackAfterADrainIsCanceled(t *testing.T) {
	t.Parallel()
	e := startCluster(t, 1)
	id := e.state(t).Nodes[0].ID
	_, err := e.nomad.Nodes().UpdateDrain(id, &api.DrainSpec{Deadline: -1}, false, nil)
	must.NoError(t, err)
	e.advance(time.Second)
	must.Eq(t, 1, e.state(t).ReadyWorkersTotal)

	_, err = e.nomad.Nodes().ToggleEligibility(id, true, nil)
	must.NoError(t, err)
	e.advance(time.Second)
	must.Eq(t, 2, e.state(t).ReadyWorkersTotal)
}

func TestAdminInjectsStockoutsAndAPIErrors(t *testing.T) {
	t.Parallel()
	e := startCluster(t, 1)
	must.Eq(t, http.StatusOK, e.post(t, "/admin/stockout?zone="+zoneA+"&on=true"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/stockout?zone="+zoneA+"&on=maybe"))

	op, err := e.migs.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 3,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	e.advance(5 * time.Minute)
	st := e.state(t)
	must.Eq(t, simcloud.Zone{Zone: zoneA, Stockout: true, Capacity: -1}, st.Zones[0])
	must.False(t, st.MIGs[0].Stable)
	must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", st.MIGs[0].LastErrorCode)
	must.Eq(t, 2, st.ReadyWorkersTotal)

	must.Eq(t, http.StatusOK, e.post(t, "/admin/http-errors?status=429&n=1"))
	_, err = e.migs.Get(context.Background(), &computepb.GetInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneB, InstanceGroupManager: "gpu-b",
	})
	must.ErrorContains(t, err, "429")

	must.Eq(t, http.StatusOK, e.post(t, "/admin/http-errors?status=503&n=1&api=nomad"))
	_, _, err = e.nomad.Nodes().List(nil)
	must.ErrorContains(t, err, "503")
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/http-errors?status=200&n=1"))

	// Zone B can hold one more instance: a resize to 3 gets one.
	must.Eq(t, http.StatusOK, e.post(t, "/admin/capacity?zone="+zoneB+"&n=2"))
	op, err = e.migs.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneB, InstanceGroupManager: "gpu-b", Size: 3,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	e.advance(5 * time.Minute)
	st = e.state(t)
	must.Eq(t, 2, st.Zones[1].Capacity)
	must.Eq(t, 2, st.MIGs[1].Running)
	must.Eq(t, 3, st.ReadyWorkersTotal)
}

func TestParseMIGsNamesEveryBadEntry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     []simcloud.MIGRef
		errs     []string
	}{
		{"two zonal MIGs parse", "europe-west4-a/gpu-a, europe-west4-b/gpu-b",
			[]simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}, {Zone: zoneB, Name: "gpu-b"}}, nil},
		{"entries without a zone are all reported", "gpu-a,/gpu-b", nil, []string{`"gpu-a"`, `"/gpu-b"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := simcloud.ParseMIGs(tc.in)
			if tc.errs == nil {
				must.NoError(t, err)
				must.Eq(t, tc.want, got)
				return
			}
			for _, e := range tc.errs {
				must.ErrorContains(t, err, e)
			}
		})
	}
}

func TestTheClockRunsScaleTimesFaster(t *testing.T) {
	t.Parallel()
	rc := fakehttp.NewManualClock(time.Unix(0, 0))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := simcloud.NewClock(start, 288, rc.Now)
	rc.Add(5 * time.Minute)
	must.Eq(t, start.Add(24*time.Hour), c.Now())
	must.Eq(t, 5*time.Minute, c.Real(24*time.Hour))
}

func TestAdminDrainAndOperationInjectionsReachTheFakes(t *testing.T) {
	t.Parallel()
	e := startCluster(t, 1)
	nodes := e.state(t).Nodes
	slow, failing := nodes[0], nodes[1]
	must.Eq(t, http.StatusOK, e.post(t, "/admin/drain-duration?d=10m&node="+slow.Name))
	must.Eq(t, http.StatusOK, e.post(t, "/admin/fail-drain?node="+failing.Name+"&message=disk+gone"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/drain-duration?d=soon"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/fail-drain"))
	for _, n := range nodes {
		_, err := e.nomad.Nodes().UpdateDrain(n.ID, &api.DrainSpec{Deadline: time.Hour}, false, nil)
		must.NoError(t, err)
	}
	e.advance(5 * time.Minute)
	got := map[string]simcloud.Node{}
	for _, n := range e.state(t).Nodes {
		got[n.Name] = n
	}
	must.True(t, got[slow.Name].Draining)
	must.True(t, got[failing.Name].DrainFailed)

	must.Eq(t, http.StatusOK, e.post(t, "/admin/fail-operation?zone="+zoneA+"&code=RESOURCE_NOT_READY&message=busy"))
	must.Eq(t, http.StatusBadRequest, e.post(t, "/admin/fail-operation?zone="+zoneA))
	op, err := e.migs.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 2,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	must.Eq(t, "RESOURCE_NOT_READY", op.Proto().GetError().GetErrors()[0].GetCode())
	must.Eq(t, 1, e.state(t).MIGs[0].TargetSize)

	var reqs []map[string]any
	getJSON(t, e.url+"/admin/requests?api=nomad", &reqs)
	must.SliceNotEmpty(t, reqs)
	var events []map[string]any
	getJSON(t, e.url+"/admin/events", &events)
	must.SliceNotEmpty(t, events)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	must.NoError(t, err)
	defer resp.Body.Close()
	must.Eq(t, http.StatusOK, resp.StatusCode)
	must.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestADeletedInstancesNodeStaysDownUntilItsTTL(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 1, func(c *simcloud.Config) { c.DownNodeTTL = 10 * time.Minute })
	inst := e.state(t).MIGs[0].Instances[0]
	op, err := e.migs.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 0,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	e.advance(20 * time.Second)

	info, _, err := e.nomad.Nodes().Info(inst.NodeID, nil)
	must.NoError(t, err)
	must.Eq(t, api.NodeStatusDown, info.Status)
	allocs, _, err := e.nomad.Nodes().Allocations(inst.NodeID, nil)
	must.NoError(t, err)
	for _, a := range allocs {
		must.Eq(t, api.AllocClientStatusLost, a.ClientStatus)
	}
	must.Eq(t, map[string]int{zoneB: 1}, e.state(t).ReadyWorkers)

	e.advance(10 * time.Minute)
	_, _, err = e.nomad.Nodes().Info(inst.NodeID, nil)
	must.ErrorContains(t, err, "404")
}
