package fakenomad_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// clientWith returns an API client for the fake at url that sends token
// and, when namespace is set, uses that namespace.
func clientWith(t *testing.T, url, token, namespace string) *api.Client {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: url, SecretID: token, Namespace: namespace})
	must.NoError(t, err)
	return c
}

// statusOf returns the HTTP status of an API error (0 for none).
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		return ue.StatusCode()
	}
	return -1
}

// jobIDs lists the job IDs of allocations.
func jobIDs(allocs []*api.Allocation) []string {
	var out []string
	for _, a := range allocs {
		out = append(out, a.Namespace+"/"+a.JobID)
	}
	return out
}

func TestNodeAllocationsHoldEveryNamespaceTheTokenMayReadJobsIn(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	node := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "logs", JobType: "system"})
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "ekyc-worker", Namespace: "ml", GPUs: 1})
	all := []string{"default/logs", "ml/ekyc-worker"}

	// Without ACLs every namespace is there, whatever the client's namespace:
	// the endpoint ignores the parameter, as Nomad's does.
	allocs, _, err := clientWith(t, url, "", "other").Nodes().Allocations(node, nil)
	must.NoError(t, err)
	must.SliceContainsAll(t, all, jobIDs(allocs))

	must.NoError(t, fake.AddACLToken("default-only", `
node { policy = "read" }
namespace "default" { capabilities = ["read-job"] }`))
	must.NoError(t, fake.AddACLToken("every-namespace", `
node { policy = "read" }
namespace "default" { policy = "read" }
namespace "*" { capabilities = ["read-job"] }`))
	must.NoError(t, fake.AddACLToken("no-node-read", `namespace "*" { policy = "read" }`))

	// A token without read-job in "ml" gets no error, only fewer allocations.
	allocs, _, err = clientWith(t, url, "default-only", "").Nodes().Allocations(node, nil)
	must.NoError(t, err)
	must.Eq(t, []string{"default/logs"}, jobIDs(allocs))

	allocs, _, err = clientWith(t, url, "every-namespace", "").Nodes().Allocations(node, nil)
	must.NoError(t, err)
	must.SliceContainsAll(t, all, jobIDs(allocs))

	_, _, err = clientWith(t, url, "no-node-read", "").Nodes().Allocations(node, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
	_, _, err = clientWith(t, url, "", "").Nodes().Allocations(node, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err), must.Sprint("the anonymous token may do nothing"))
	_, _, err = clientWith(t, url, "nobody", "").Nodes().List(nil)
	must.ErrorContains(t, err, "ACL token not found")
}

func TestTheAllocationListIsPerNamespace(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	node := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "web"})
	ml := fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "ekyc-worker", Namespace: "ml"})
	must.NoError(t, fake.AddACLToken("default-only", `namespace "default" { policy = "read" }`))

	stubs := func(c *api.Client, ns string) []string {
		t.Helper()
		list, _, err := c.Allocations().List(&api.QueryOptions{Namespace: ns})
		must.NoError(t, err)
		var out []string
		for _, s := range list {
			out = append(out, s.Namespace+"/"+s.JobID)
		}
		return out
	}
	fake.AddManagementToken("root")
	root := clientWith(t, url, "root", "")
	must.Eq(t, []string{"default/web"}, stubs(root, ""))
	must.Eq(t, []string{"ml/ekyc-worker"}, stubs(root, "ml"))
	must.SliceContainsAll(t, []string{"default/web", "ml/ekyc-worker"}, stubs(root, "*"))

	limited := clientWith(t, url, "default-only", "")
	must.Eq(t, []string{"default/web"}, stubs(limited, "*"))
	_, _, err := limited.Allocations().List(&api.QueryOptions{Namespace: "ml"})
	must.Eq(t, http.StatusForbidden, statusOf(err))
	_, _, err = limited.Allocations().Info(ml, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
}

func TestTheClosestNamespaceRuleWins(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	node := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	for _, ns := range []string{"default", "ml-dev", "ml-prod"} {
		fake.AddAllocation(node, fakenomad.AllocSpec{JobID: "job", Namespace: ns})
	}
	must.NoError(t, fake.AddACLToken("t", `
node { policy = "read" }
namespace "*" { policy = "read" }
namespace "ml-*" { policy = "deny" }
namespace "ml-prod" { capabilities = ["read-job"] }`))
	allocs, _, err := clientWith(t, url, "t", "").Nodes().Allocations(node, nil)
	must.NoError(t, err)
	must.SliceContainsAll(t, []string{"default/job", "ml-prod/job"}, jobIDs(allocs),
		must.Sprint("an exact rule beats the globs, and ml-* is closer to ml-dev than *"))
}

func TestNodeWritesNeedNodeWrite(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	node := fake.AddNode(gpuNode("gpu-a-1", "gpu"))
	must.NoError(t, fake.AddACLToken("reader", `node { policy = "read" }`))
	must.NoError(t, fake.AddACLToken("writer", `node { policy = "write" }`))
	value := "x"
	meta := &api.NodeMetaApplyRequest{NodeID: node, Meta: map[string]*string{"k": &value}}

	reader := clientWith(t, url, "reader", "")
	_, err := reader.Nodes().UpdateDrain(node, &api.DrainSpec{Deadline: -1}, false, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
	_, err = reader.Nodes().Meta().Apply(meta, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
	_, _, err = reader.Nodes().Info(node, nil)
	must.NoError(t, err)

	writer := clientWith(t, url, "writer", "")
	_, err = writer.Nodes().Meta().Apply(meta, nil)
	must.NoError(t, err)
	_, err = writer.Nodes().UpdateDrain(node, &api.DrainSpec{Deadline: -1}, false, nil)
	must.NoError(t, err)
	must.Eq(t, "x", fake.Node(node).Meta["k"])
}

func TestVariablesNeedTheirPathCapabilities(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	fake.SetVariable("default", "app/config", map[string]string{"a": "1"})
	fake.SetVariable("ml", "app/config", map[string]string{"a": "2"})
	must.NoError(t, fake.AddACLToken("t", `
namespace "default" {
  variables {
    path "app/*" { capabilities = ["read"] }
    path "app/state" { capabilities = ["read", "write", "destroy"] }
  }
}`))
	c := clientWith(t, url, "t", "").Variables()

	_, _, err := c.Read("app/config", nil)
	must.NoError(t, err)
	// A raw read: Variables().Read reports a 403 as a missing variable.
	var v api.Variable
	_, err = clientWith(t, url, "t", "ml").Raw().Query("/v1/var/app/config", &v, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err), must.Sprint("no rule for namespace ml"))
	_, _, err = c.Update(&api.Variable{Path: "app/config", Items: api.VariableItems{"a": "3"}}, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err), must.Sprint("read does not grant write"))
	_, _, err = c.Update(&api.Variable{Path: "app/state", Items: api.VariableItems{"s": "1"}}, nil)
	must.NoError(t, err)
	list, _, err := c.List(nil)
	must.NoError(t, err)
	must.Len(t, 2, list, must.Sprint("read implies list"))
	_, err = c.Delete("app/state", nil)
	must.NoError(t, err)
	_, err = c.Delete("app/config", nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
}

func TestPoliciesNomadWouldRefuseAreRefused(t *testing.T) {
	t.Parallel()
	fake := fakenomad.New(fakenomad.Options{})
	defer fake.Close()
	for name, policy := range map[string]string{
		"an unknown capability": `namespace "default" { capabilities = ["read-jobs"] }`,
		"an unknown policy":     `namespace "default" { policy = "admin" }`,
		"an unknown block":      `nodes { policy = "read" }`,
		"an unknown attribute":  `node { policy = "read" level = 2 }`,
		"no rules at all":       ``,
		"a variables block without paths": `namespace "default" {
  variables {}
}`,
		"a path starting with a slash": `namespace "default" {
  variables {
    path "/app" { capabilities = ["read"] }
  }
}`,
		"broken syntax": `namespace "default" {`,
	} {
		must.Error(t, fake.AddACLToken("t", policy), must.Sprint(name))
	}
}
