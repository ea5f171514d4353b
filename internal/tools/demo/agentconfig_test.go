package demo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/shoenig/test/must"
)

func TestRenderAgentConfigPointsTheLocalConfigAtTheDemoProcesses(t *testing.T) {
	out, err := RenderAgentConfig("../../../deploy/agent-local.hcl", AgentOverrides{
		PluginDir: "/repo/bin/plugins", HTTPHost: "127.0.0.1", HTTPPort: 18080,
		NomadAddress: "http://127.0.0.1:14646", PolicyDir: "/run/policies",
		Plugins: map[[2]string]map[string]string{
			{"apm", "ekyc"}:       {"postgres_url": "postgres://u@127.0.0.1:5/ekyc_demo", "amqp_urls": "amqp://g:g@127.0.0.1:5672/ekyc-demo"},
			{"target", "gce-gpu"}: {"compute_endpoint": "http://127.0.0.1:18090/"},
		},
	})
	must.NoError(t, err)
	path := filepath.Join(t.TempDir(), "agent.hcl")
	must.NoError(t, os.WriteFile(path, out, 0o600))
	cfg, err := config.LoadPaths([]string{path})
	must.NoError(t, err)

	must.Eq(t, "/repo/bin/plugins", cfg.PluginDir)
	must.Eq(t, 18080, cfg.HTTP.BindPort)
	must.Eq(t, "http://127.0.0.1:14646", cfg.Nomad.Address)
	must.Eq(t, "/run/policies", cfg.Policy.Dir)
	for _, s := range cfg.Policy.Sources {
		if s.Name == "nomad" {
			must.False(t, *s.Enabled, must.Sprint("the Nomad policy source stays disabled"))
		}
	}
	apm := existingConfig(cfg, "apm", "ekyc")
	must.Eq(t, "postgres://u@127.0.0.1:5/ekyc_demo", apm["postgres_url"])
	must.Eq(t, "amqp://g:g@127.0.0.1:5672/ekyc-demo", apm["amqp_urls"])
	must.Eq(t, "2s", apm["query_timeout"], must.Sprint("keys not overridden are kept"))
	target := existingConfig(cfg, "target", "gce-gpu")
	must.Eq(t, "http://127.0.0.1:18090/", target["compute_endpoint"])
	must.Eq(t, "true", target["compute_insecure"])
}

func TestRenderAgentConfigRefusesAnUndeclaredPlugin(t *testing.T) {
	_, err := RenderAgentConfig("../../../deploy/agent-local.hcl", AgentOverrides{
		Plugins: map[[2]string]map[string]string{{"apm", "prometheus"}: {"address": "x"}},
	})
	must.ErrorContains(t, err, `no apm "prometheus" block`)
}
