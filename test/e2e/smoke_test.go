package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/shoenig/test/must"
)

// smokeBlocks declares the three plugins with configuration that each must
// accept without reaching any server: SetConfig validates, it never dials.
const smokeBlocks = `
apm "ekyc" {
  driver = "apm-rabbitmq"
  config = {
    amqp_urls    = "amqp://guest:guest@127.0.0.1:1/"
    postgres_url = "postgres://autoscaler@127.0.0.1:1/ekyc?sslmode=disable"
  }
}

strategy "slope" {
  driver = "strategy-slope"
}

target "gce-gpu" {
  driver = "target-gce-gpu"
  config = {
    compute_endpoint = "http://127.0.0.1:1/"
    compute_insecure = "true"
  }
}
`

// TestAgentLaunchesAndConfiguresAllThreePlugins is the foundation's smoke
// test: the official agent v0.5.0 finds our binaries in plugin_dir, launches
// each over go-plugin, hands it its configuration, and stops cleanly.
func TestAgentLaunchesAndConfiguresAllThreePlugins(t *testing.T) {
	agent := agenttest.Start(t, agenttest.Config{Blocks: smokeBlocks})

	for _, label := range []string{"ekyc", "slope", "gce-gpu"} {
		line := agent.WaitForLog(t, `successfully launched and dispensed plugin: plugin_name=`+label+`\b`, 10*time.Second)
		t.Logf("agent: %s", line)
	}
	must.StrNotContains(t, agent.Log(), "failed to set config")

	must.NoError(t, agent.Stop(30*time.Second))
	log := agent.Log()
	for _, name := range agenttest.PluginNames {
		must.StrContains(t, log, "plugin process exited: plugin="+filepath.Join(agenttest.PluginDir(t), name))
	}
}

// TestAgentRefusesAMisspelledPluginKey proves that the plugins' validation
// reaches the operator: a typo in a config key stops the agent at start with
// an error naming the key, instead of running with a silently ignored setting.
func TestAgentRefusesAMisspelledPluginKey(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	must.NoError(t, os.MkdirAll(policies, 0o755))
	blocks := strings.Replace(smokeBlocks, "postgres_url", "postgres_uri", 1)
	cfg := agenttest.WriteConfig(t, dir, agenttest.PluginDir(t), "127.0.0.1:0", agenttest.Config{PolicyDir: policies, Blocks: blocks})

	cmd := exec.Command(agenttest.AgentBinary(t), "agent", "-config", cfg)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the agent kept running with a misspelled plugin key")
	}
	must.Error(t, err)
	must.StrContains(t, string(out), "failed to set config on plugin ekyc")
	must.StrContains(t, string(out), "postgres_uri")
}
