package fakegce_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/shoenig/test/must"
	"google.golang.org/api/googleapi"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

func TestAZoneWithoutCapacityKeepsTheMIGUnstableAndReportsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		stockoutCode string
		inject       func(*fakegce.Server, bool)
		code         string
	}{
		{"a stockout reports ZONE_RESOURCE_POOL_EXHAUSTED", "",
			func(s *fakegce.Server, on bool) { s.SetStockout(zoneA, on) }, "ZONE_RESOURCE_POOL_EXHAUSTED"},
		{"a stockout can report the WITH_DETAILS variant", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
			func(s *fakegce.Server, on bool) { s.SetStockout(zoneA, on) }, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS"},
		{"an exhausted quota reports QUOTA_EXCEEDED", "",
			func(s *fakegce.Server, on bool) { s.SetQuotaExceeded(zoneA, on) }, "QUOTA_EXCEEDED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			fake, client := start(t, fakegce.Options{
				Now: clock.Now, BootTime: time.Minute, RetryInterval: 30 * time.Second, StockoutCode: tc.stockoutCode,
			})
			fake.AddMIG(zoneA, "gpu-a", 1)
			fake.AddMIG(zoneB, "gpu-b", 1)
			tc.inject(fake, true)

			resize(t, client, zoneA, "gpu-a", 3, "")
			resize(t, client, zoneB, "gpu-b", 2, "")
			clock.Add(time.Minute)
			m := getMIG(t, client, zoneA, "gpu-a")
			must.False(t, m.GetStatus().GetIsStable())
			must.Eq(t, int32(2), m.GetCurrentActions().GetCreating())
			must.True(t, getMIG(t, client, zoneB, "gpu-b").GetStatus().GetIsStable())
			for _, mi := range listInstances(t, client, zoneA, "gpu-a")[1:] {
				must.Eq(t, "CREATING", mi.GetCurrentAction())
				must.Eq(t, "", mi.GetInstanceStatus())
				must.Eq(t, tc.code, mi.GetLastAttempt().GetErrors().GetErrors()[0].GetCode())
			}

			errs := listErrors(t, client, zoneA, "gpu-a")
			// Two instances, tried at 0s, 30s and 60s.
			must.Len(t, 6, errs)
			must.Eq(t, tc.code, errs[0].GetError().GetCode())
			must.Eq(t, "CREATING", errs[0].GetInstanceActionDetails().GetAction())
			must.Eq(t, "2026-01-05T09:01:00.000+00:00", errs[0].GetTimestamp())
			must.Len(t, 0, listErrors(t, client, zoneB, "gpu-b"))

			tc.inject(fake, false)
			clock.Add(time.Minute)
			must.True(t, getMIG(t, client, zoneA, "gpu-a").GetStatus().GetIsStable())
		})
	}
}

func listErrors(t *testing.T, c *compute.InstanceGroupManagersClient, zone, name string) []*computepb.InstanceManagedByIgmError {
	t.Helper()
	it := c.ListErrors(context.Background(), &computepb.ListErrorsInstanceGroupManagersRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
	})
	return collect(t, it.Next)
}

func TestInjectedHTTPErrorsReachTheClient(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 1)
	fake.InjectHTTPErrors(http.StatusTooManyRequests, 1)

	_, err := client.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 2,
	})
	var apiErr *apierror.APIError
	must.True(t, errors.As(err, &apiErr))
	must.Eq(t, http.StatusTooManyRequests, apiErr.HTTPCode())
	var gErr *googleapi.Error
	must.True(t, errors.As(err, &gErr))
	must.Eq(t, "rateLimitExceeded", gErr.Errors[0].Reason)
	must.Eq(t, 1, fake.MIG(zoneA, "gpu-a").TargetSize)

	resize(t, client, zoneA, "gpu-a", 2, "")
	must.Eq(t, 2, fake.MIG(zoneA, "gpu-a").TargetSize)
}

func TestAFailedOperationChangesNothing(t *testing.T) {
	t.Parallel()
	fake, client := start(t, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 1)

	// As on GCE, Wait succeeds for an operation that failed inside: the
	// error is only in the operation.
	fake.FailNextOperation(zoneA, "RESOURCE_NOT_READY", "the MIG is being updated")
	op := resize(t, client, zoneA, "gpu-a", 3, "")
	must.True(t, op.Done())
	must.Eq(t, "RESOURCE_NOT_READY", op.Proto().GetError().GetErrors()[0].GetCode())
	must.Eq(t, 1, fake.MIG(zoneA, "gpu-a").TargetSize)

	fake.FailNextOperationWithHTTPStatus(zoneA, http.StatusBadRequest, "INVALID", "bad resize")
	op2, err := client.Resize(context.Background(), &computepb.ResizeInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "gpu-a", Size: 3,
	})
	must.NoError(t, err)
	must.ErrorContains(t, op2.Wait(context.Background()), "bad resize")
	must.Eq(t, 1, fake.MIG(zoneA, "gpu-a").TargetSize)
}

func TestUnknownMIGsAnswerNotFound(t *testing.T) {
	t.Parallel()
	_, client := start(t, fakegce.Options{})
	_, err := client.Get(context.Background(), &computepb.GetInstanceGroupManagerRequest{
		Project: project, Zone: zoneA, InstanceGroupManager: "missing",
	})
	var apiErr *apierror.APIError
	must.True(t, errors.As(err, &apiErr))
	must.Eq(t, http.StatusNotFound, apiErr.HTTPCode())
}

func TestAZoneAtCapacityCreatesOnlyWhatFitsAndTheRestWhenCapacityFrees(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: time.Minute, DeleteTime: time.Minute})
	fake.AddMIG(zoneA, "gpu-a", 1)
	fake.AddMIG(zoneA, "gpu-a2", 1) // capacity is per zone, across MIGs
	fake.SetCapacity(zoneA, 3)

	resize(t, client, zoneA, "gpu-a", 4, "")
	clock.Add(time.Minute)
	snap := fake.MIG(zoneA, "gpu-a")
	must.False(t, snap.Stable)
	var running, waiting []string
	for _, in := range snap.Instances {
		switch in.Status {
		case "RUNNING":
			running = append(running, in.Name)
		case "":
			must.Eq(t, "ZONE_RESOURCE_POOL_EXHAUSTED", in.LastErrorCode)
			waiting = append(waiting, in.Name)
		}
	}
	must.Len(t, 2, running)
	must.Len(t, 2, waiting)

	// Freeing one slot lets exactly one waiting instance boot.
	fake.SetCapacity(zoneA, 4)
	clock.Add(time.Minute)
	must.Eq(t, int32(3), getMIG(t, client, zoneA, "gpu-a").GetCurrentActions().GetNone())
	fake.SetCapacity(zoneA, -1)
	clock.Add(time.Minute)
	must.True(t, getMIG(t, client, zoneA, "gpu-a").GetStatus().GetIsStable())
}
