package deploy_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

const aclFile = "nomad-autoscaler.acl.hcl"

// aclStatus returns the HTTP status of a Nomad API error, 0 for none.
func aclStatus(err error) int {
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		return ue.StatusCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// aclNomad serves a fake Nomad that enforces ACLs as Nomad does, with the
// ACL policy file as the policy of token, and returns it and its URL.
func aclNomad(t *testing.T, file, token string) (*fakenomad.Server, string) {
	t.Helper()
	policy, err := os.ReadFile(file)
	must.NoError(t, err)
	fake := fakenomad.New(fakenomad.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close)
	must.NoError(t, fake.AddACLToken(token, string(policy)), must.Sprint("the policy parses as Nomad parses it"))
	return fake, srv.URL
}

// TestTheACLGrantsWhatTheTargetPluginDoes applies the shipped policy to a
// fake Nomad that enforces ACLs as Nomad does and replays, through the real
// API client, every call target-gce-gpu makes: node listing and reads,
// each node's allocations in every namespace (Nomad silently leaves out
// those of namespaces without read-job, which would make a busy node look
// idle), drain, eligibility, node metadata, purge and its last_event
// variable. It also checks that the policy grants nothing wider than that
// where it matters: no variables outside its paths, no job writes.
func TestTheACLGrantsWhatTheTargetPluginDoes(t *testing.T) {
	fake, url := aclNomad(t, aclFile, "autoscaler")
	client, err := api.NewClient(&api.Config{Address: url, SecretID: "autoscaler"})
	must.NoError(t, err)

	node := fake.AddNode(fakenomad.NodeSpec{Name: "gpu-a-1", NodePool: "gpu", GPUs: 1})
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "node-exporter", JobType: "system"})
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "ekyc-worker", Namespace: "ekyc", GPUs: 1})
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "batch-train", Namespace: "research", JobType: "batch"})

	_, _, err = client.Nodes().List(nil)
	must.NoError(t, err)
	_, _, err = client.Nodes().Info(node, nil)
	must.NoError(t, err)
	allocs, _, err := client.Nodes().Allocations(node, nil)
	must.NoError(t, err)
	seen := map[string]bool{}
	for _, a := range allocs {
		seen[a.Namespace+"/"+a.JobID] = true
	}
	must.MapEq(t, map[string]bool{"default/node-exporter": true, "ekyc/ekyc-worker": true, "research/batch-train": true}, seen,
		must.Sprint("allocations of every namespace are counted"))

	marker := "abc"
	_, err = client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: node, Meta: map[string]*string{"nomad_autoscaler.gce_gpu.policy": &marker}}, nil)
	must.NoError(t, err)
	_, err = client.Nodes().UpdateDrainOpts(node, &api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: -1}}, nil)
	must.NoError(t, err)
	_, err = client.Nodes().UpdateDrainOpts(node, &api.DrainOptions{MarkEligible: true}, nil)
	must.NoError(t, err)
	_, err = client.Nodes().ToggleEligibility(node, true, nil)
	must.NoError(t, err)

	v := &api.Variable{Path: "nomad-autoscaler/target-gce-gpu/0123456789ab", Items: api.VariableItems{"last_event": "1"}}
	_, _, err = client.Variables().Update(v, nil)
	must.NoError(t, err)
	var read api.Variable
	_, err = client.Raw().Query("/v1/var/"+v.Path, &read, nil)
	must.NoError(t, err)
	must.Eq(t, "1", read.Items["last_event"])

	_, _, err = client.Nodes().Purge(node, nil)
	must.NoError(t, err)

	// Nothing wider where it would matter.
	_, err = client.Raw().Query("/v1/var/nomad/jobs/ekyc?namespace=ekyc", &read, nil)
	must.Eq(t, http.StatusForbidden, aclStatus(err), must.Sprint("no variables in other namespaces"))
	_, _, err = client.Variables().Update(&api.Variable{Path: "nomad-autoscaler/overrides/x", Items: api.VariableItems{"a": "b"}}, nil)
	must.Eq(t, http.StatusForbidden, aclStatus(err), must.Sprint("overrides are read-only"))
}

// TestTheACLLetsTheStrategyReadTheOverrideAndTheEventsBookedUnderIt runs
// strategy-slope with the shipped policy's token: it reads the override
// Variable and lists and reads the events under it. Nomad leaves out of a
// listing, without an error, what a token may not list, so a policy without
// list there would drop every booked event unseen.
func TestTheACLLetsTheStrategyReadTheOverrideAndTheEventsBookedUnderIt(t *testing.T) {
	fake, url := aclNomad(t, aclFile, "autoscaler")
	now := time.Date(2026, 12, 14, 12, 0, 0, 0, time.UTC)
	const path = "nomad-autoscaler/overrides/gpu-workers"
	fake.SetVariable("default", path, map[string]string{"count": "3", "mode": "minimum", "until": now.Add(time.Hour).Format(time.RFC3339)})
	fake.SetVariable("default", path+"/bank-campaign", map[string]string{"count": "30", "mode": "minimum",
		"from": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Add(2 * time.Hour).Format(time.RFC3339)})
	fake.SetVariable("default", path+"/sim-deadline", map[string]string{"count": "50", "mode": "minimum",
		"from": now.Add(24 * time.Hour).Format(time.RFC3339), "until": now.Add(30 * time.Hour).Format(time.RFC3339)})

	p := slope.New(hclog.NewNullLogger())
	must.NoError(t, p.SetConfig(map[string]string{"nomad_address": url, "nomad_token": "autoscaler"}))
	p.SetClock(func() time.Time { return now })
	metrics := make(sdk.TimestampedMetrics, 11)
	for i := range metrics {
		metrics[i] = sdk.TimestampedMetric{Timestamp: now.Add(time.Duration(i-11) * time.Minute), Value: 100}
	}
	out, err := p.Run(&sdk.ScalingCheckEvaluation{
		Check: &sdk.ScalingPolicyCheck{Name: "request-rate", Strategy: &sdk.ScalingPolicyStrategy{Name: "slope",
			Config: map[string]string{"capacity_per_worker": "100", "override_variable": path}}},
		Metrics: metrics,
	}, 2)
	must.NoError(t, err)
	meta := out.Action.Meta
	must.MapNotContainsKey(t, meta, "override_variable_error")
	must.Eq[any](t, 2.0, meta["override_events"], must.Sprint("both events listed with the agent's token"))
	must.Eq[any](t, "variable "+path+"/bank-campaign", meta["override_source"])
	must.Eq(t, int64(30), out.Action.Count)
}
