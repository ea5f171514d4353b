// Package policies_test decodes every configuration file of this folder the
// way the nomad-autoscaler v0.5.0 agent does, so that none of them can rot:
// agent configurations (agent*.hcl) with the agent's own loader and our
// plugins' SetConfig; scaling policies with the agent's file-policy schema,
// its validation, and our strategy plugin's parser.
package policies_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/shoenig/test/must"
)

// agentFiles are the agent configurations; every other .hcl is a policy.
func isAgentConfig(path string) bool {
	return strings.HasPrefix(filepath.Base(path), "agent")
}

func hclFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.hcl")
	must.NoError(t, err)
	must.SliceNotEmpty(t, files)
	return files
}

func TestEveryFileOfTheFolderIsAnAgentConfigOrAPolicy(t *testing.T) {
	var agents, policies []string
	for _, f := range hclFiles(t) {
		if isAgentConfig(f) {
			agents = append(agents, f)
		} else {
			policies = append(policies, f)
		}
	}
	must.SliceContainsSubset(t, agents, []string{"agent.hcl", "agent-local.hcl"})
	must.SliceContainsSubset(t, policies, []string{"demo.hcl", "gpu-workers.hcl"})
}

func TestAgentConfigsLoadAndValidate(t *testing.T) {
	for _, f := range hclFiles(t) {
		if !isAgentConfig(f) {
			continue
		}
		t.Run(f, func(t *testing.T) {
			cfg := loadAgent(t, f)
			labels := declaredLabels(cfg)
			must.Eq(t, "apm-rabbitmq", labels.apm["ekyc"], must.Sprint(`apm "ekyc" uses apm-rabbitmq`))
			must.Eq(t, "strategy-slope", labels.strategy["slope"], must.Sprint(`strategy "slope" uses strategy-slope`))
			must.Eq(t, "target-gce-gpu", labels.target["gce-gpu"], must.Sprint(`target "gce-gpu" uses target-gce-gpu`))
		})
	}
}

func TestLocalAgentDisablesTheNomadPolicySource(t *testing.T) {
	cfg := loadAgent(t, "agent-local.hcl")
	var nomadSource *config.PolicySource
	for _, s := range cfg.Policy.Sources {
		if s.Name == "nomad" {
			nomadSource = s
		}
	}
	must.NotNil(t, nomadSource)
	must.False(t, *nomadSource.Enabled)
}

func TestProductionAgentRunsInHAMode(t *testing.T) {
	cfg := loadAgent(t, "agent.hcl")
	must.True(t, *cfg.HighAvailability.Enabled)
	must.True(t, cfg.LogJson, must.Sprint("JSON logs keep the strategy's Meta as fields"))
}

// loadAgent loads path exactly as `nomad-autoscaler agent -config path` does.
func loadAgent(t *testing.T, path string) *config.Agent {
	t.Helper()
	cfg, err := config.LoadPaths([]string{path})
	must.NoError(t, err)
	must.NoError(t, cfg.Validate())
	return cfg
}

type labelSet struct{ apm, strategy, target map[string]string }

// declaredLabels maps each plugin block label to its driver.
func declaredLabels(cfg *config.Agent) labelSet {
	ls := labelSet{apm: map[string]string{}, strategy: map[string]string{}, target: map[string]string{}}
	for _, p := range cfg.APMs {
		ls.apm[p.Name] = p.Driver
	}
	for _, p := range cfg.Strategies {
		ls.strategy[p.Name] = p.Driver
	}
	for _, p := range cfg.Targets {
		ls.target[p.Name] = p.Driver
	}
	return ls
}
