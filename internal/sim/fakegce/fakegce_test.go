package fakegce_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/shoenig/test/must"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

const (
	project = "fleet-test"
	zoneA   = "europe-west4-a"
	zoneB   = "europe-west4-b"
)

// newClock returns a manually advanced clock for Options.Now.
func newClock() *fakehttp.ManualClock {
	return fakehttp.NewManualClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
}

// start serves a fake and returns it with a real REST MIG client.
func start(t testing.TB, opts fakegce.Options) (*fakegce.Server, *compute.InstanceGroupManagersClient) {
	t.Helper()
	opts.Project = project
	fake := fakegce.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close)
	client, err := compute.NewInstanceGroupManagersRESTClient(context.Background(),
		option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	must.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	return fake, client
}

func getMIG(t testing.TB, c *compute.InstanceGroupManagersClient, zone, name string) *computepb.InstanceGroupManager {
	t.Helper()
	m, err := c.Get(context.Background(), &computepb.GetInstanceGroupManagerRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
	})
	must.NoError(t, err)
	return m
}

func resize(t *testing.T, c *compute.InstanceGroupManagersClient, zone, name string, size int32, reqID string) *compute.Operation {
	t.Helper()
	req := &computepb.ResizeInstanceGroupManagerRequest{Project: project, Zone: zone, InstanceGroupManager: name, Size: size}
	if reqID != "" {
		req.RequestId = proto.String(reqID)
	}
	op, err := c.Resize(context.Background(), req)
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	return op
}

func listInstances(t testing.TB, c *compute.InstanceGroupManagersClient, zone, name string) []*computepb.ManagedInstance {
	t.Helper()
	it := c.ListManagedInstances(context.Background(), &computepb.ListManagedInstancesInstanceGroupManagersRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
	})
	return collect(t, it.Next)
}

// collect reads every item of a list iterator, across pages.
func collect[T any](t testing.TB, next func() (T, error)) []T {
	t.Helper()
	var out []T
	for {
		item, err := next()
		if errors.Is(err, iterator.Done) {
			return out
		}
		must.NoError(t, err)
		out = append(out, item)
	}
}

func TestAResizedMIGBootsNewInstancesAndBecomesStable(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 90 * time.Second})
	var mu sync.Mutex
	var running []string
	fake.OnInstanceRunning(func(zone, mig, inst string) {
		mu.Lock()
		defer mu.Unlock()
		running = append(running, zone+"/"+inst)
	})
	fake.AddMIG(zoneA, "gpu-a", 1)

	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetTargetSize())
	must.True(t, m.GetStatus().GetIsStable())
	must.Eq(t, int32(1), m.GetCurrentActions().GetNone())

	op := resize(t, client, zoneA, "gpu-a", 3, "")
	must.Eq(t, computepb.Operation_DONE, op.Proto().GetStatus())
	m = getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(3), m.GetTargetSize())
	must.False(t, m.GetStatus().GetIsStable())
	must.Eq(t, int32(2), m.GetCurrentActions().GetCreating())
	for _, mi := range listInstances(t, client, zoneA, "gpu-a")[1:] {
		must.Eq(t, "CREATING", mi.GetCurrentAction())
		must.Eq(t, "STAGING", mi.GetInstanceStatus())
	}

	clock.Add(90 * time.Second)
	m = getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetIsStable())
	instances := listInstances(t, client, zoneA, "gpu-a")
	must.Len(t, 3, instances)
	for _, mi := range instances {
		must.Eq(t, "RUNNING", mi.GetInstanceStatus())
		must.Eq(t, "NONE", mi.GetCurrentAction())
		must.Eq(t, fakegce.InstanceURL(project, zoneA, mi.GetName()), mi.GetInstance())
	}
	mu.Lock()
	defer mu.Unlock()
	must.Len(t, 3, running)
}

func TestARepeatedRequestIDChangesNothing(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 1)
	const id = "6f1c1a52-2f4e-4d55-9a53-1b0c3c1f2a10"
	first := resize(t, client, zoneA, "gpu-a", 4, id)
	again := resize(t, client, zoneA, "gpu-a", 9, id)
	must.Eq(t, first.Name(), again.Name())
	must.Eq(t, 4, fake.MIG(zoneA, "gpu-a").TargetSize)
	must.Len(t, 4, fake.MIG(zoneA, "gpu-a").Instances)

	// GCE accepts only UUIDs as request IDs.
	_, err := client.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 5, RequestId: proto.String("retry-1"),
	})
	must.ErrorContains(t, err, "must be a valid UUID")
	must.Eq(t, 4, fake.MIG(zoneA, "gpu-a").TargetSize)
}

func TestManagedInstancesAreListedAcrossPages(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{PageSize: 2})
	fake.AddMIG(zoneA, "gpu-a", 5)
	instances := listInstances(t, client, zoneA, "gpu-a")
	must.Len(t, 5, instances)
	seen := map[string]bool{}
	for _, mi := range instances {
		seen[mi.GetName()] = true
	}
	must.MapLen(t, 5, seen)
	pages := 0
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && r.Query.Get("pageToken") != "" {
			pages++
		}
	}
	must.Eq(t, 2, pages)
}

func TestDeleteInstancesRemovesExactlyTheNamedInstances(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, DeleteTime: 30 * time.Second})
	var deleted []string
	fake.OnInstanceDeleted(func(_, _, inst string) { deleted = append(deleted, inst) })
	fake.AddMIG(zoneA, "gpu-a", 4)
	before := fake.MIG(zoneA, "gpu-a").Instances
	victims := []string{
		"zones/" + zoneA + "/instances/" + before[1].Name, // the short form the plugin sends
		before[3].URL, // a full URL
	}
	op, err := client.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{Instances: victims},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))

	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(2), m.GetTargetSize())
	must.Eq(t, int32(2), m.GetCurrentActions().GetDeleting())
	clock.Add(30 * time.Second)
	after := fake.MIG(zoneA, "gpu-a")
	must.True(t, after.Stable)
	must.Eq(t, []string{before[0].Name, before[2].Name}, []string{after.Instances[0].Name, after.Instances[1].Name})
	must.Eq(t, []string{before[1].Name, before[3].Name}, deleted)

	_, err = client.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a",
		InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
			Instances: []string{"zones/" + zoneA + "/instances/not-a-member"},
		},
	})
	must.ErrorContains(t, err, "not a member")
	must.Eq(t, 2, fake.MIG(zoneA, "gpu-a").TargetSize)
}

func TestAnUnknownInstanceFailsTheDeleteUnlessSkipped(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 3)
	before := fake.MIG(zoneA, "gpu-a").Instances
	deleteInstances := func(skip *bool) error {
		op, err := client.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
			Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a",
			InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
				Instances: []string{
					"zones/" + zoneA + "/instances/" + before[0].Name,
					"zones/" + zoneA + "/instances/gpu-a-gone",
				},
				SkipInstancesOnValidationError: skip,
			},
		})
		if err != nil {
			return err
		}
		return op.Wait(context.Background())
	}

	must.ErrorContains(t, deleteInstances(nil), "gpu-a-gone' is not a member")
	must.Eq(t, 3, fake.MIG(zoneA, "gpu-a").TargetSize, must.Sprint("the whole request fails"))
	must.ErrorContains(t, deleteInstances(proto.Bool(false)), "is not a member")

	must.NoError(t, deleteInstances(proto.Bool(true)))
	after := fake.MIG(zoneA, "gpu-a")
	must.Eq(t, 2, after.TargetSize, must.Sprint("the member is deleted, the unknown instance skipped"))
	for _, in := range after.Instances {
		must.NotEq(t, before[0].Name, in.Name)
	}
}

func TestARepeatedRequestIDDeletesNothingMore(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 4)
	before := fake.MIG(zoneA, "gpu-a").Instances
	const id = "0b7e2c1d-5a4f-4e3b-8c2d-9f1e0a6b7c58"
	deleteOne := func(name string) *compute.Operation {
		op, err := client.DeleteInstances(context.Background(), &computepb.DeleteInstancesInstanceGroupManagerRequest{
			Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", RequestId: proto.String(id),
			InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
				Instances: []string{"zones/" + zoneA + "/instances/" + name},
			},
		})
		must.NoError(t, err)
		return op
	}
	first := deleteOne(before[0].Name)
	again := deleteOne(before[1].Name)
	must.Eq(t, first.Name(), again.Name())
	must.Eq(t, 3, fake.MIG(zoneA, "gpu-a").TargetSize)
}

func TestShrinkingDeletesInstancesThatAreNotRunningFirst(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{BootTime: time.Hour})
	fake.AddMIG(zoneA, "gpu-a", 2)
	resize(t, client, zoneA, "gpu-a", 3, "")
	resize(t, client, zoneA, "gpu-a", 2, "")
	for _, in := range fake.MIG(zoneA, "gpu-a").Instances {
		if in.CurrentAction == "DELETING" {
			continue
		}
		must.Eq(t, "RUNNING", in.Status)
	}
}

func TestOperationsRunForOperationTimeAndCanBeAwaited(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, OperationTime: time.Minute, MaxWait: 20 * time.Millisecond})
	fake.AddMIG(zoneA, "gpu-a", 1)
	op, err := client.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 2,
	})
	must.NoError(t, err)
	must.False(t, op.Done())
	must.Eq(t, 2, fake.MIG(zoneA, "gpu-a").TargetSize)

	ops, err := compute.NewZoneOperationsRESTClient(context.Background(),
		option.WithEndpoint(serverURL(t, fake)), option.WithoutAuthentication())
	must.NoError(t, err)
	defer ops.Close()
	got, err := ops.Wait(context.Background(), &computepb.WaitZoneOperationRequest{Project: project, Zone: zoneA, Operation: op.Name()})
	must.NoError(t, err)
	must.Eq(t, computepb.Operation_RUNNING, got.GetStatus()) // MaxWait passed first

	clock.Add(time.Minute)
	got, err = ops.Wait(context.Background(), &computepb.WaitZoneOperationRequest{Project: project, Zone: zoneA, Operation: op.Name()})
	must.NoError(t, err)
	must.Eq(t, computepb.Operation_DONE, got.GetStatus())
	must.Eq(t, "compute.instanceGroupManagers.resize", got.GetOperationType())
}

// serverURL serves fake on a second listener, for clients created after start.
func serverURL(t *testing.T, fake *fakegce.Server) string {
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv.URL
}
