// Package deploy_test checks the Nomad job that runs the agent: it must
// parse, and the agent configuration its template renders must load with
// the agent's own loader and declare our three plugins.
package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/shoenig/test/must"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

const jobFile = "nomad-autoscaler.nomad.hcl"

func parseJob(t *testing.T) *hclsyntax.Body {
	t.Helper()
	src, err := os.ReadFile(jobFile)
	must.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, jobFile, hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	return f.Body.(*hclsyntax.Body)
}

func block(t *testing.T, body *hclsyntax.Body, typ string, match func(*hclsyntax.Block) bool) *hclsyntax.Block {
	t.Helper()
	for _, b := range body.Blocks {
		if b.Type == typ && (match == nil || match(b)) {
			return b
		}
	}
	t.Fatalf("no %s block", typ)
	return nil
}

// evalContext gives the job's variables their defaults and the functions
// the job file uses, as `nomad job run` would.
func evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
			"rabbitmq_hosts": cty.ListVal([]cty.Value{cty.StringVal("rabbitmq-1.internal"), cty.StringVal("rabbitmq-2.internal")}),
			"postgres_host":  cty.StringVal("ekyc-db.internal"),
		})},
		Functions: map[string]function.Function{"join": stdlib.JoinFunc, "formatlist": stdlib.FormatListFunc},
	}
}

// templateAction matches a consul-template action with the job's [[ ]] delimiters.
var templateAction = regexp.MustCompile(`\[\[.*?\]\]`)

func TestTheJobRendersALoadableAgentConfig(t *testing.T) {
	job := block(t, parseJob(t), "job", nil)
	group := block(t, job.Body, "group", nil)
	task := block(t, group.Body, "task", nil)
	tmpl := block(t, task.Body, "template", func(b *hclsyntax.Block) bool {
		attr, ok := b.Body.Attributes["destination"]
		if !ok {
			return false
		}
		dest, diags := attr.Expr.Value(nil)
		return !diags.HasErrors() && strings.HasSuffix(dest.AsString(), "agent.hcl")
	})
	data, diags := tmpl.Body.Attributes["data"].Expr.Value(evalContext())
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	// Template actions stand for values only Nomad knows (variables, env).
	rendered := templateAction.ReplaceAllString(data.AsString(), "rendered")

	path := filepath.Join(t.TempDir(), "agent.hcl")
	must.NoError(t, os.WriteFile(path, []byte(rendered), 0o600))
	cfg, err := config.LoadPaths([]string{path})
	must.NoError(t, err)
	must.True(t, *cfg.HighAvailability.Enabled)
	drivers := map[string]string{}
	for _, p := range append(append(cfg.APMs, cfg.Strategies...), cfg.Targets...) {
		drivers[p.Name] = p.Driver
	}
	must.Eq(t, "apm-rabbitmq", drivers["ekyc"])
	must.Eq(t, "strategy-slope", drivers["slope"])
	must.Eq(t, "target-gce-gpu", drivers["gce-gpu"])
	must.Eq(t, "/local/plugins", cfg.PluginDir)
	for _, p := range cfg.APMs {
		if p.Name == "ekyc" {
			must.StrContains(t, p.Config["amqp_urls"], "amqps://autoscaler:rendered@rabbitmq-2.internal:5671/")
		}
	}
}

func TestThePluginArtifactIsVerified(t *testing.T) {
	job := block(t, parseJob(t), "job", nil)
	task := block(t, block(t, job.Body, "group", nil).Body, "task", nil)
	art := block(t, task.Body, "artifact", nil)
	opts := block(t, art.Body, "options", nil)
	must.MapContainsKey(t, opts.Body.Attributes, "checksum")
	dest, diags := art.Body.Attributes["destination"].Expr.Value(nil)
	must.False(t, diags.HasErrors())
	must.Eq(t, "local/plugins", dest.AsString())
}

func TestTheJobRunsTwoAgentsOnDistinctHosts(t *testing.T) {
	job := block(t, parseJob(t), "job", nil)
	group := block(t, job.Body, "group", nil)
	count, diags := group.Body.Attributes["count"].Expr.Value(nil)
	must.False(t, diags.HasErrors())
	n, _ := count.AsBigFloat().Int64()
	must.Eq(t, int64(2), n)
	block(t, group.Body, "constraint", func(b *hclsyntax.Block) bool {
		attr, ok := b.Body.Attributes["operator"]
		if !ok {
			return false
		}
		op, diags := attr.Expr.Value(nil)
		return !diags.HasErrors() && op.AsString() == "distinct_hosts"
	})
}

// TestTheACLCoversTheVariablesThePluginsUse keeps the ACL policy in step
// with the Variables the plugins read and write: without write on the
// target's path the agent cannot restore its cooldown after a restart, and
// without read on the overrides an operator's override is refused.
func TestTheACLCoversTheVariablesThePluginsUse(t *testing.T) {
	src, err := os.ReadFile("nomad-autoscaler.acl.hcl")
	must.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, "nomad-autoscaler.acl.hcl", hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	ns := block(t, f.Body.(*hclsyntax.Body), "namespace", nil)
	vars := block(t, ns.Body, "variables", nil)
	granted := map[string]string{}
	for _, b := range vars.Body.Blocks {
		if b.Type != "path" || len(b.Labels) != 1 {
			continue
		}
		caps, diags := b.Body.Attributes["capabilities"].Expr.Value(nil)
		must.False(t, diags.HasErrors())
		var list []string
		for _, c := range caps.AsValueSlice() {
			list = append(list, c.AsString())
		}
		granted[b.Labels[0]] = strings.Join(list, ",")
	}
	for path, want := range map[string][]string{
		"nomad-autoscaler/target-gce-gpu/*": {"read", "write"},
		"nomad-autoscaler/overrides/*":      {"read"},
		"nomad-autoscaler/lock":             {"read", "write"},
	} {
		must.MapContainsKey(t, granted, path)
		for _, c := range want {
			must.StrContains(t, ","+granted[path]+",", ","+c+",", must.Sprintf("%s needs %s", path, c))
		}
	}
}
