package fakegce_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

// rolling is the update policy cmd/rollout sets: one new VM at a time,
// never one fewer serving.
func rolling(typ string) *computepb.InstanceGroupManagerUpdatePolicy {
	return &computepb.InstanceGroupManagerUpdatePolicy{
		Type: proto.String(typ), MinimalAction: proto.String("REPLACE"), ReplacementMethod: proto.String("SUBSTITUTE"),
		MaxSurge: &computepb.FixedOrPercent{Fixed: proto.Int32(1)}, MaxUnavailable: &computepb.FixedOrPercent{Fixed: proto.Int32(0)},
	}
}

func patchVersions(c *compute.InstanceGroupManagersClient, zone, name string, policy *computepb.InstanceGroupManagerUpdatePolicy, versions ...*computepb.InstanceGroupManagerVersion) error {
	op, err := c.Patch(context.Background(), &computepb.PatchInstanceGroupManagerRequest{
		Project: project, Zone: zone, InstanceGroupManager: name,
		InstanceGroupManagerResource: &computepb.InstanceGroupManager{Versions: versions, UpdatePolicy: policy},
	})
	if err != nil {
		return err
	}
	return op.Wait(context.Background())
}

func ver(name, template string, fixed int32) *computepb.InstanceGroupManagerVersion {
	v := &computepb.InstanceGroupManagerVersion{Name: proto.String(name), InstanceTemplate: proto.String(fakegce.TemplateURL(project, template))}
	if fixed >= 0 {
		v.TargetSize = &computepb.FixedOrPercent{Fixed: proto.Int32(fixed)}
	}
	return v
}

// startWithTemplates serves a fake with a MIG of size instances and a
// second template "gpu-v2" inserted through the real templates client.
func startWithTemplates(t *testing.T, clock *fakehttp.ManualClock, size int) (*fakegce.Server, *compute.InstanceGroupManagersClient) {
	t.Helper()
	fake, client := start(t, fakegce.Options{Now: clock.Now, BootTime: 60 * time.Second, DeleteTime: 10 * time.Second})
	fake.AddMIG(zoneA, "gpu-a", size)
	tc := templatesClient(t, fake)
	op, err := tc.Insert(context.Background(), &computepb.InsertInstanceTemplateRequest{
		Project: project,
		InstanceTemplateResource: &computepb.InstanceTemplate{
			Name: proto.String("gpu-v2"), Properties: &computepb.InstanceProperties{MachineType: proto.String("g2-standard-8")},
		},
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(context.Background()))
	got, err := tc.Get(context.Background(), &computepb.GetInstanceTemplateRequest{Project: project, InstanceTemplate: "gpu-v2"})
	must.NoError(t, err)
	must.Eq(t, fakegce.TemplateURL(project, "gpu-v2"), got.GetSelfLink())
	return fake, client
}

func templatesClient(t *testing.T, fake *fakegce.Server) *compute.InstanceTemplatesClient {
	t.Helper()
	srv := httptestServer(t, fake)
	c, err := compute.NewInstanceTemplatesRESTClient(context.Background(), option.WithEndpoint(srv), option.WithoutAuthentication())
	must.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// byTemplate counts the listed instances that are not being deleted, by
// template name and instanceStatus.
func byTemplate(t *testing.T, c *compute.InstanceGroupManagersClient) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, mi := range listInstances(t, c, zoneA, "gpu-a") {
		if mi.GetCurrentAction() == "DELETING" {
			continue
		}
		out[lastSegment(mi.GetVersion().GetInstanceTemplate())+"/"+mi.GetInstanceStatus()]++
	}
	return out
}

func lastSegment(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}

func TestACanaryVersionWithTargetSizeOneReplacesOneVMBySurgingFirst(t *testing.T) {
	t.Parallel()
	clock := newClock()
	_, client := startWithTemplates(t, clock, 3)
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("PROACTIVE"),
		ver("stable", "gpu-a-template", -1), ver("canary", "gpu-v2", 1)))

	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(3), m.GetTargetSize())
	must.False(t, m.GetStatus().GetVersionTarget().GetIsReached())
	must.False(t, m.GetStatus().GetIsStable())
	must.Len(t, 2, m.GetVersions())
	must.Eq(t, int32(1), m.GetVersions()[1].GetTargetSize().GetFixed())
	must.Eq(t, int32(1), m.GetVersions()[1].GetTargetSize().GetCalculated())
	must.Eq(t, "PROACTIVE", m.GetUpdatePolicy().GetType())
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 3, "gpu-v2/STAGING": 1}, byTemplate(t, client))

	clock.Add(60 * time.Second) // the surge VM runs: one old VM goes
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 2, "gpu-v2/RUNNING": 1}, byTemplate(t, client))
	m = getMIG(t, client, zoneA, "gpu-a")
	must.False(t, m.GetStatus().GetVersionTarget().GetIsReached(), must.Sprint("the old VM is still being deleted"))
	must.False(t, m.GetStatus().GetIsStable())
	clock.Add(10 * time.Second)
	m = getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetVersionTarget().GetIsReached())
	must.True(t, m.GetStatus().GetIsStable())
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		if lastSegment(mi.GetVersion().GetInstanceTemplate()) == "gpu-v2" {
			must.Eq(t, "canary", mi.GetVersion().GetName())
		}
	}
}

func TestAProactiveRollingUpdateWithSurgeOneAndNoUnavailableReplacesOneVMAtATime(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := startWithTemplates(t, clock, 4)
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("PROACTIVE"), ver("v2", "gpu-v2", -1)))
	for step := 0; step < 200; step++ {
		snap := fake.MIG(zoneA, "gpu-a")
		running, live := 0, 0
		for _, in := range snap.Instances {
			if in.CurrentAction != "DELETING" {
				live++
			}
			if in.Status == "RUNNING" && in.CurrentAction != "DELETING" {
				running++
			}
		}
		must.GreaterEq(t, 4, running, must.Sprintf("step %d: fewer than targetSize serving: %+v", step, snap.Instances))
		must.LessEq(t, 5, live, must.Sprintf("step %d: more than one surge VM: %+v", step, snap.Instances))
		if snap.Stable {
			break
		}
		clock.Add(5 * time.Second)
	}
	m := getMIG(t, client, zoneA, "gpu-a")
	must.True(t, m.GetStatus().GetIsStable())
	must.True(t, m.GetStatus().GetVersionTarget().GetIsReached())
	must.Eq(t, map[string]int{"gpu-v2/RUNNING": 4}, byTemplate(t, client))
	must.Eq(t, "gpu-v2", lastSegment(m.GetInstanceTemplate()))
	// Four replacements of 60 s boot each, one at a time.
	must.GreaterEq(t, 4*60*time.Second, clock.Now().Sub(newClock().Now()))
}

func TestAResizeKeepsTheCanarysFixedTargetSize(t *testing.T) {
	t.Parallel()
	clock := newClock()
	_, client := startWithTemplates(t, clock, 3)
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("PROACTIVE"),
		ver("stable", "gpu-a-template", -1), ver("canary", "gpu-v2", 1)))
	clock.Add(70 * time.Second)

	resize(t, client, zoneA, "gpu-a", 6, "")
	clock.Add(60 * time.Second)
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 5, "gpu-v2/RUNNING": 1}, byTemplate(t, client))
	m := getMIG(t, client, zoneA, "gpu-a")
	must.Eq(t, int32(1), m.GetVersions()[1].GetTargetSize().GetFixed())
	must.True(t, m.GetStatus().GetIsStable())

	resize(t, client, zoneA, "gpu-a", 2, "")
	clock.Add(10 * time.Second)
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 1, "gpu-v2/RUNNING": 1}, byTemplate(t, client))
}

func TestAPercentVersionTakesItsShareOfTheTargetSize(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := startWithTemplates(t, clock, 4)
	half := &computepb.InstanceGroupManagerVersion{Name: proto.String("half"), InstanceTemplate: proto.String(fakegce.TemplateURL(project, "gpu-v2")),
		TargetSize: &computepb.FixedOrPercent{Percent: proto.Int32(50)}}
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("PROACTIVE"), ver("stable", "gpu-a-template", -1), half))
	elapse(fake, clock, 130*time.Second)
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 2, "gpu-v2/RUNNING": 2}, byTemplate(t, client))
	must.Eq(t, int32(2), getMIG(t, client, zoneA, "gpu-a").GetVersions()[1].GetTargetSize().GetCalculated())
}

func TestAnOpportunisticUpdateOnlyGivesNewVMsTheNewTemplate(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := startWithTemplates(t, clock, 2)
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("OPPORTUNISTIC"), ver("v2", "gpu-v2", -1)))
	clock.Add(120 * time.Second)
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 2}, byTemplate(t, client))
	m := getMIG(t, client, zoneA, "gpu-a")
	must.False(t, m.GetStatus().GetVersionTarget().GetIsReached())
	must.False(t, m.GetStatus().GetIsStable())

	resize(t, client, zoneA, "gpu-a", 3, "")
	clock.Add(60 * time.Second)
	must.Eq(t, map[string]int{"gpu-a-template/RUNNING": 2, "gpu-v2/RUNNING": 1}, byTemplate(t, client))

	// Switching back to PROACTIVE resumes the update.
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", rolling("PROACTIVE"), ver("v2", "gpu-v2", -1)))
	elapse(fake, clock, 200*time.Second)
	must.Eq(t, map[string]int{"gpu-v2/RUNNING": 3}, byTemplate(t, client))
}

func TestARecreateUpdateKeepsInstanceNames(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := startWithTemplates(t, clock, 2)
	var before []string
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		before = append(before, mi.GetName())
	}
	policy := &computepb.InstanceGroupManagerUpdatePolicy{
		Type: proto.String("PROACTIVE"), MinimalAction: proto.String("REPLACE"), ReplacementMethod: proto.String("RECREATE"),
		MaxSurge: &computepb.FixedOrPercent{Fixed: proto.Int32(0)}, MaxUnavailable: &computepb.FixedOrPercent{Fixed: proto.Int32(1)},
	}
	must.NoError(t, patchVersions(client, zoneA, "gpu-a", policy, ver("v2", "gpu-v2", -1)))
	elapse(fake, clock, 300*time.Second)
	var after []string
	for _, mi := range listInstances(t, client, zoneA, "gpu-a") {
		after = append(after, mi.GetName())
	}
	sort.Strings(before)
	sort.Strings(after)
	must.Eq(t, before, after)
	must.Eq(t, map[string]int{"gpu-v2/RUNNING": 2}, byTemplate(t, client))
}

func TestVersionPatchesTheAPIRefusesChangeNothing(t *testing.T) {
	t.Parallel()
	clock := newClock()
	fake, client := startWithTemplates(t, clock, 2)
	recreateWithSurge := rolling("PROACTIVE")
	recreateWithSurge.ReplacementMethod = proto.String("RECREATE")
	noRoom := rolling("PROACTIVE")
	noRoom.MaxSurge = &computepb.FixedOrPercent{Fixed: proto.Int32(0)}
	for name, tc := range map[string]struct {
		policy   *computepb.InstanceGroupManagerUpdatePolicy
		versions []*computepb.InstanceGroupManagerVersion
	}{
		"an unknown template":          {rolling("PROACTIVE"), []*computepb.InstanceGroupManagerVersion{ver("v3", "gpu-v3", -1)}},
		"two versions without a size":  {rolling("PROACTIVE"), []*computepb.InstanceGroupManagerVersion{ver("a", "gpu-a-template", -1), ver("b", "gpu-v2", -1)}},
		"RECREATE with a surge":        {recreateWithSurge, []*computepb.InstanceGroupManagerVersion{ver("v2", "gpu-v2", -1)}},
		"no surge and no unavailable":  {noRoom, []*computepb.InstanceGroupManagerVersion{ver("v2", "gpu-v2", -1)}},
		"the same template used twice": {rolling("PROACTIVE"), []*computepb.InstanceGroupManagerVersion{ver("a", "gpu-v2", -1), ver("b", "gpu-v2", 1)}},
	} {
		err := patchVersions(client, zoneA, "gpu-a", tc.policy, tc.versions...)
		var ae *apierror.APIError
		ok := errors.As(err, &ae)
		must.True(t, ok, must.Sprintf("%s: %v", name, err))
		must.Eq(t, http.StatusBadRequest, ae.HTTPCode(), must.Sprint(name))
	}
	snap := fake.MIG(zoneA, "gpu-a")
	must.Eq(t, []fakegce.VersionSnapshot{{Name: "v1", Template: "gpu-a-template", Fixed: -1, Percent: -1}}, snap.Versions)
	must.True(t, snap.Stable)
}

// httptestServer serves fake on a second listener, for another client.
func httptestServer(t *testing.T, fake *fakegce.Server) string {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv.URL
}

// elapse moves the clock by d in 5 s steps, bringing the fake along at
// each, as a client polling every 5 s would.
func elapse(fake *fakegce.Server, clock *fakehttp.ManualClock, d time.Duration) {
	for range d / (5 * time.Second) {
		clock.Add(5 * time.Second)
		fake.Advance()
	}
}
