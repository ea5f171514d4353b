package deploy_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/shoenig/test/must"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The worker job and the policy whose target scales the nodes it runs on.
const (
	workerJobFile = "ml-worker.nomad.hcl"
	workerPolicy  = "../policies/gpu-workers.hcl"
	// clientMaxKillTimeout is a Nomad client's max_kill_timeout by default:
	// a longer kill_timeout is silently cut to it.
	clientMaxKillTimeout = 30 * time.Second
)

// workerHCL is a parsed file with its source, for the raw text of expressions
// that only Nomad can evaluate (${node.class}, ${device.attr.memory}).
type workerHCL struct {
	src  []byte
	body *hclsyntax.Body
}

func workerParse(t *testing.T, path string) workerHCL {
	t.Helper()
	src, err := os.ReadFile(path)
	must.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, filepath.Base(path), hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	return workerHCL{src: src, body: f.Body.(*hclsyntax.Body)}
}

// workerBlocks returns the blocks of one type in body, in file order.
func workerBlocks(body *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

func workerBlock(t *testing.T, body *hclsyntax.Body, typ string) *hclsyntax.Block {
	t.Helper()
	bs := workerBlocks(body, typ)
	must.Len(t, 1, bs, must.Sprintf("one %s block", typ))
	return bs[0]
}

// workerEvalContext is what `nomad job run -var image_tag=...` gives the
// job: the variables, HCL's functions, and Nomad's runtime variables, which
// stay unknown until a node is chosen.
func workerEvalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var": cty.ObjectVal(map[string]cty.Value{
				"image_registry": cty.StringVal("registry.example/ml"),
				"image_tag":      cty.StringVal("1.2.3"),
				"rabbitmq_hosts": cty.ListVal([]cty.Value{cty.StringVal("rabbitmq-1.internal"), cty.StringVal("rabbitmq-2.internal")}),
			}),
			"node": cty.DynamicVal, "attr": cty.DynamicVal, "device": cty.DynamicVal, "meta": cty.DynamicVal,
		},
		Functions: map[string]function.Function{"join": stdlib.JoinFunc, "formatlist": stdlib.FormatListFunc},
	}
}

// workerString evaluates a known string attribute; "" when it is absent.
func workerString(t *testing.T, body *hclsyntax.Body, name string) string {
	t.Helper()
	attr, ok := body.Attributes[name]
	if !ok {
		return ""
	}
	v, diags := attr.Expr.Value(workerEvalContext())
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	must.True(t, v.IsKnown(), must.Sprintf("%s is known before placement", name))
	if v.Type() == cty.Bool {
		return strconv.FormatBool(v.True())
	}
	if v.Type() == cty.Number {
		return v.AsBigFloat().String()
	}
	return v.AsString()
}

func workerInt(t *testing.T, body *hclsyntax.Body, name string) int {
	t.Helper()
	n, err := strconv.Atoi(workerString(t, body, name))
	must.NoError(t, err, must.Sprintf("%s is a whole number", name))
	return n
}

func workerDuration(t *testing.T, body *hclsyntax.Body, name string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(workerString(t, body, name))
	must.NoError(t, err, must.Sprintf("%s is a duration", name))
	return d
}

// workerRaw is the source text of an attribute's expression, quotes removed:
// "${node.class}" stays as written, as Nomad reads it.
func workerRaw(f workerHCL, body *hclsyntax.Body, name string) string {
	attr, ok := body.Attributes[name]
	if !ok {
		return ""
	}
	r := attr.Expr.Range()
	return strings.Trim(string(f.src[r.Start.Byte:r.End.Byte]), `"`)
}

// shippedTarget is the target block of the production policy.
func shippedTarget(t *testing.T) *hclsyntax.Body {
	t.Helper()
	p := workerParse(t, workerPolicy)
	policy := workerBlock(t, workerBlock(t, p.body, "scaling").Body, "policy")
	return workerBlock(t, policy.Body, "target").Body
}

// shippedRateStrategy is the strategy block of the shipped policy's
// request-rate check.
func shippedRateStrategy(t *testing.T) *hclsyntax.Body {
	t.Helper()
	p := workerParse(t, workerPolicy)
	policy := workerBlock(t, workerBlock(t, p.body, "scaling").Body, "policy")
	for _, c := range workerBlocks(policy.Body, "check") {
		for _, s := range workerBlocks(c.Body, "strategy") {
			if workerString(t, s.Body, "mode") == "rate" {
				return s.Body
			}
		}
	}
	t.Fatal("no rate-mode check in the shipped policy")
	return nil
}

// shippedLead is the request-rate check's lead: how long the strategy
// assumes a new worker takes to serve.
func shippedLead(t *testing.T) time.Duration {
	t.Helper()
	return workerDuration(t, shippedRateStrategy(t), "lead")
}

func workerGroup(t *testing.T) (workerHCL, *hclsyntax.Block, *hclsyntax.Block) {
	t.Helper()
	f := workerParse(t, workerJobFile)
	job := workerBlock(t, f.body, "job")
	must.Eq(t, []string{"ml-worker"}, job.Labels, must.Sprint("the job simcloud and the docs call ml-worker"))
	return f, job, workerBlock(t, job.Body, "group")
}

func TestTheWorkerJobEvaluatesWithItsVariables(t *testing.T) {
	var walk func(*hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for name, attr := range b.Attributes {
			_, diags := attr.Expr.Value(workerEvalContext())
			must.False(t, diags.HasErrors(), must.Sprintf("%s: %s", name, diags.Error()))
		}
		for _, sub := range b.Blocks {
			walk(sub.Body)
		}
	}
	_, job, group := workerGroup(t)
	walk(job.Body)
	for _, task := range workerBlocks(group.Body, "task") {
		tmpl := workerBlock(t, task.Body, "template")
		must.Eq(t, "true", workerString(t, tmpl.Body, "env"))
		data := workerString(t, tmpl.Body, "data")
		must.StrContains(t, data, `AMQP_URLS=amqps://ml-worker:{{ $pw }}@rabbitmq-1.internal:5671/,amqps://ml-worker:{{ $pw }}@rabbitmq-2.internal:5671/`)
	}
}

// A worker on every node the autoscaler adds, on no other, and in every zone.
func TestTheWorkersFollowTheNodesOfThePolicysTarget(t *testing.T) {
	f, job, group := workerGroup(t)
	target := shippedTarget(t)
	must.Eq(t, "system", workerString(t, job.Body, "type"),
		must.Sprint("one worker on every node of the class, placed when a node registers"))

	var class string
	for _, c := range workerBlocks(group.Body, "constraint") {
		if workerRaw(f, c.Body, "attribute") == "${node.class}" {
			class = workerString(t, c.Body, "value")
		}
	}
	must.Eq(t, workerString(t, target, "node_class"), class, must.Sprint("the group's node class is the target's node_class"))

	// Nothing may tie the workers to a zone: they spread as the VMs do.
	for _, b := range append(append(workerBlocks(job.Body, "constraint"), workerBlocks(group.Body, "constraint")...), workerBlocks(group.Body, "affinity")...) {
		must.StrNotContains(t, workerRaw(f, b.Body, "attribute"), "zone")
	}
	zones := map[string]bool{}
	for _, m := range strings.Split(workerString(t, target, "migs"), ",") {
		zones[strings.SplitN(strings.TrimSpace(m), "/", 2)[0]] = true
	}
	must.MapLen(t, 2, zones, must.Sprint("the target places the VMs, hence the workers, in two zones"))
}

// A drained worker stops gracefully before target-gce-gpu deletes its VM.
func TestTheWorkersStopGracefullyWithinTheDrainDeadline(t *testing.T) {
	_, _, group := workerGroup(t)
	target := shippedTarget(t)
	deadline := workerDuration(t, target, "node_drain_deadline")
	// A system job is drained too unless the target says otherwise; a
	// worker left running would be killed with its VM.
	must.NotEq(t, "true", workerString(t, target, "node_drain_ignore_system_jobs"))

	tasks := workerBlocks(group.Body, "task")
	must.SliceNotEmpty(t, tasks)
	for _, task := range tasks {
		name := task.Labels[0]
		must.Eq(t, "SIGTERM", workerString(t, task.Body, "kill_signal"), must.Sprintf("task %s", name))
		kill := workerDuration(t, task.Body, "kill_timeout")
		must.Less(t, deadline, kill, must.Sprintf("task %s: kill_timeout within node_drain_deadline", name))
		must.LessEq(t, clientMaxKillTimeout, kill, must.Sprintf("task %s: a client cuts kill_timeout to max_kill_timeout", name))
		env := workerBlock(t, task.Body, "env").Body
		stop := workerDuration(t, env, "STOP_TIMEOUT")
		must.Less(t, kill, stop, must.Sprintf("task %s: the worker exits by itself before SIGKILL", name))
		must.Eq(t, "1", workerString(t, env, "AMQP_PREFETCH"), must.Sprintf("task %s: one unacknowledged job at a time", name))
		must.StrHasPrefix(t, "ekyc.", workerString(t, env, "QUEUE"))
	}
}

// Each model container: docker, pinned cores, the GPU, one health check.
func TestEachModelContainerHasPinnedCoresTheGPUAndOneHealthCheck(t *testing.T) {
	_, _, group := workerGroup(t)
	gpus := 0
	queues := map[string]bool{}
	for _, task := range workerBlocks(group.Body, "task") {
		name := task.Labels[0]
		must.Eq(t, "docker", workerString(t, task.Body, "driver"), must.Sprintf("task %s", name))
		queues[workerString(t, workerBlock(t, task.Body, "env").Body, "QUEUE")] = true

		res := workerBlock(t, task.Body, "resources").Body
		must.Positive(t, workerInt(t, res, "cores"), must.Sprintf("task %s pins cores", name))
		must.MapNotContainsKey(t, res.Attributes, "cpu", must.Sprintf("task %s: cores and cpu exclude each other", name))
		devices := workerBlocks(res, "device")
		for _, d := range devices {
			must.Eq(t, []string{"nvidia/gpu"}, d.Labels)
			gpus += workerInt(t, d.Body, "count")
		}
		if len(devices) == 0 {
			// A task without the device reaches the allocation's GPU
			// through the NVIDIA runtime.
			must.Eq(t, "nvidia", workerString(t, workerBlock(t, task.Body, "config").Body, "runtime"), must.Sprintf("task %s", name))
		}

		svc := workerBlock(t, task.Body, "service")
		must.Eq(t, "nomad", workerString(t, svc.Body, "provider"))
		check := workerBlock(t, svc.Body, "check")
		must.Eq(t, "http", workerString(t, check.Body, "type"), must.Sprintf("task %s", name))
		must.NotEq(t, "", workerString(t, check.Body, "path"))
	}
	must.Eq(t, 1, gpus, must.Sprint("the allocation holds the node's one GPU"))
	must.Eq(t, map[string]bool{"ekyc.facematch": true, "ekyc.ocr": true}, queues, must.Sprint("a container per model queue"))
}

// Canary node first, then one node at a time, promoted and reverted by Nomad.
func TestTheRolloutIsACanaryNodeThenOneAtATime(t *testing.T) {
	_, _, group := workerGroup(t)
	u := workerBlock(t, group.Body, "update").Body
	must.Eq(t, 1, workerInt(t, u, "canary"))
	must.Eq(t, 1, workerInt(t, u, "max_parallel"))
	must.Eq(t, "checks", workerString(t, u, "health_check"))
	must.Eq(t, "true", workerString(t, u, "auto_promote"), must.Sprint("nodes added during a rollout get no worker until promotion"))
	must.Eq(t, "true", workerString(t, u, "auto_revert"))
	// A new worker gets at least the time the strategy assumes it needs.
	must.GreaterEq(t, shippedLead(t), workerDuration(t, u, "healthy_deadline"))
	must.Greater(t, workerDuration(t, u, "healthy_deadline"), workerDuration(t, u, "progress_deadline"))
}
