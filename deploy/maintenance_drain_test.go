package deploy_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

const (
	drainJobFile = "maintenance-drain.nomad.hcl"
	drainACLFile = "maintenance-drain.acl.hcl"
	// gpuNotice is the GCE GPU host-maintenance documentation's notice:
	// "Compute Engine gives GPU VMs a 1-hour stopping notice".
	gpuNotice = time.Hour
	// spotNotice is how long a Spot VM runs after instance/preempted.
	spotNotice = 30 * time.Second
)

// drainTask returns the job, its group and its one task.
func drainTask(t *testing.T) (workerHCL, *hclsyntax.Block, *hclsyntax.Block, *hclsyntax.Block) {
	t.Helper()
	f := workerParse(t, drainJobFile)
	job := workerBlock(t, f.body, "job")
	must.Eq(t, []string{"maintenance-drain"}, job.Labels)
	group := workerBlock(t, job.Body, "group")
	return f, job, group, workerBlock(t, group.Body, "task")
}

// taskArgs reads a task's flags from config.args: each flag and the raw
// text of its value, as Nomad interpolates it.
func taskArgs(t *testing.T, f workerHCL, task *hclsyntax.Block) map[string]string {
	t.Helper()
	attr, ok := workerBlock(t, task.Body, "config").Body.Attributes["args"]
	must.True(t, ok, must.Sprint("config.args"))
	tuple, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
	must.True(t, ok, must.Sprint("args is a list written out"))
	var words []string
	for _, e := range tuple.Exprs {
		r := e.Range()
		words = append(words, strings.Trim(string(f.src[r.Start.Byte:r.End.Byte]), `"`))
	}
	must.True(t, len(words)%2 == 0, must.Sprintf("flag and value pairs: %q", words))
	out := map[string]string{}
	for i := 0; i < len(words); i += 2 {
		must.StrHasPrefix(t, "-", words[i])
		out[words[i]] = words[i+1]
	}
	return out
}

func argDuration(t *testing.T, args map[string]string, flag string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(args[flag])
	must.NoError(t, err, must.Sprintf("%s %q", flag, args[flag]))
	return d
}

// A daemon on every node the policy scales, knowing which node it is on.
func TestTheDrainDaemonRunsOnEveryNodeOfThePolicysTarget(t *testing.T) {
	f, job, group, task := drainTask(t)
	must.Eq(t, "system", workerString(t, job.Body, "type"), must.Sprint("one daemon on every node, placed when it registers"))
	var class string
	for _, c := range workerBlocks(group.Body, "constraint") {
		if workerRaw(f, c.Body, "attribute") == "${node.class}" {
			class = workerString(t, c.Body, "value")
		}
	}
	must.Eq(t, workerString(t, shippedTarget(t), "node_class"), class, must.Sprint("the group's node class is the target's node_class"))

	args := taskArgs(t, f, task)
	must.Eq(t, "${node.unique.id}", args["-node-id"], must.Sprint("Nomad gives a task no node ID variable: interpolate it"))
	must.Eq(t, "true", workerString(t, workerBlock(t, task.Body, "identity").Body, "env"), must.Sprint("the token is the workload identity"))
	must.Eq(t, "unix://${NOMAD_SECRETS_DIR}/api.sock", workerRaw(f, workerBlock(t, task.Body, "env").Body, "NOMAD_ADDR"))
	must.StrNotContains(t, string(f.src), "NOMAD_TOKEN =", must.Sprint("no token in the job"))
}

// The drain fits inside the notice: the replacement serves before the
// workers stop, and the workers stop before the host goes away.
func TestTheDrainEndsInsideTheNotice(t *testing.T) {
	f, _, _, task := drainTask(t)
	args := taskArgs(t, f, task)
	notice, delay, margin := argDuration(t, args, "-notice"), argDuration(t, args, "-drain-delay"), argDuration(t, args, "-margin")
	must.Eq(t, gpuNotice, notice, must.Sprint("the documented GPU notice"))
	must.Less(t, notice, delay+margin+time.Minute, must.Sprint("the drain gets at least a minute inside the notice"))

	// The replacement: ordered at the notice (the target no longer counts
	// the node), serving a lead later, found by the next evaluation.
	p := workerParse(t, workerPolicy)
	policy := workerBlock(t, workerBlock(t, p.body, "scaling").Body, "policy")
	must.GreaterEq(t, shippedLead(t)+workerDuration(t, policy.Body, "evaluation_interval"), delay,
		must.Sprint("the node serves until its replacement does"))

	// The workers' graceful stop ends before the host goes away.
	_, _, wg := workerGroup(t)
	for _, w := range workerBlocks(wg.Body, "task") {
		must.Less(t, margin, workerDuration(t, w.Body, "kill_timeout"), must.Sprintf("task %s stops inside the margin", w.Labels[0]))
	}
	preempt := argDuration(t, args, "-preempt-deadline")
	must.Less(t, spotNotice, preempt, must.Sprint("a preempted node's drain ends before the Spot VM stops"))
	must.Positive(t, preempt)
}

// TestTheDrainACLGrantsWhatTheDaemonDoes applies the shipped policy to a
// fake Nomad that enforces ACLs and replays the daemon's calls through the
// real API client; it grants nothing outside node write.
func TestTheDrainACLGrantsWhatTheDaemonDoes(t *testing.T) {
	fake, url := aclNomad(t, drainACLFile, "drain")
	client, err := api.NewClient(&api.Config{Address: url, SecretID: "drain"})
	must.NoError(t, err)
	node := fake.AddNode(fakenomad.NodeSpec{Name: "ekyc-gpu-a-1", NodeClass: "gpu-l4"})

	_, err = client.Nodes().Meta().Read(node, nil)
	must.NoError(t, err)
	_, _, err = client.Nodes().Info(node, nil)
	must.NoError(t, err)
	notice := nodeops.NewNotice(nodeops.KindMaintenance, time.Now(), gpuNotice)
	_, err = client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: node, Meta: notice.Meta()}, nil)
	must.NoError(t, err)
	_, err = client.Nodes().UpdateDrainOpts(node, &api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: 45 * time.Minute}}, nil)
	must.NoError(t, err)
	_, ok, err := nodeops.Leaving(fake.Node(node).Meta)
	must.NoError(t, err)
	must.True(t, ok)

	_, _, err = client.Variables().Update(&api.Variable{Path: "nomad-autoscaler/overrides/gpu-workers", Items: api.VariableItems{"count": "1"}}, nil)
	must.Eq(t, http.StatusForbidden, aclStatus(err), must.Sprint("no variables"))
	_, _, err = client.Allocations().List(nil)
	must.Eq(t, http.StatusForbidden, aclStatus(err), must.Sprint("no jobs or allocations"))
}
