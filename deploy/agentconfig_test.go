package deploy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
)

// agentConfigs are the agent configurations of this folder (agent*.hcl),
// each loaded the way `nomad-autoscaler agent -config` loads it.
func agentConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("agent*.hcl")
	must.NoError(t, err)
	must.SliceContainsSubset(t, files, []string{"agent.hcl", "agent-local.hcl"})
	return files
}

func TestAgentConfigsLoadAndValidate(t *testing.T) {
	for _, f := range agentConfigs(t) {
		t.Run(f, func(t *testing.T) {
			d := agenttest.DeclaredDrivers(agenttest.LoadConfig(t, f))
			must.Eq(t, "apm-rabbitmq", d.APM["ekyc"], must.Sprint(`apm "ekyc" uses apm-rabbitmq`))
			must.Eq(t, "strategy-slope", d.Strategy["slope"], must.Sprint(`strategy "slope" uses strategy-slope`))
			must.Eq(t, "target-gce-gpu", d.Target["gce-gpu"], must.Sprint(`target "gce-gpu" uses target-gce-gpu`))
		})
	}
}

func TestLocalAgentDisablesTheNomadPolicySource(t *testing.T) {
	cfg := agenttest.LoadConfig(t, "agent-local.hcl")
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
	cfg := agenttest.LoadConfig(t, "agent.hcl")
	must.True(t, *cfg.HighAvailability.Enabled)
	must.True(t, cfg.LogJson, must.Sprint("JSON logs keep the strategy's Meta as fields"))
}

// The policies folder holds scaling policies only.
func TestNoAgentConfigIsLeftAmongThePolicies(t *testing.T) {
	files, err := filepath.Glob("../policies/*.hcl")
	must.NoError(t, err)
	for _, f := range files {
		must.False(t, strings.HasPrefix(filepath.Base(f), "agent"), must.Sprintf("%s belongs in deploy/", f))
	}
}
