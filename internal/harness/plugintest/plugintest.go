// Package plugintest launches a plugin binary the way the nomad-autoscaler
// agent does (go-plugin, the agent's handshake, gRPC only) so that contract
// tests exercise the real wire protocol, not an in-process shortcut.
package plugintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/nomad-autoscaler/plugins"
	"github.com/hashicorp/nomad-autoscaler/plugins/apm"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/plugins/target"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

var (
	buildMu  sync.Mutex
	builtDir string
	built    = map[string]string{}
)

// Build compiles the main package pkg (an import path such as
// "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope") once per
// test binary and returns the path of the executable. The binary keeps the
// last element of pkg as its name, as the agent requires.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[pkg]; ok {
		return path
	}
	if builtDir == "" {
		dir, err := os.MkdirTemp("", "plugintest-")
		if err != nil {
			t.Fatalf("create build dir: %v", err)
		}
		builtDir = dir
	}
	out := filepath.Join(builtDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// launch starts the binary with the agent's handshake and dispenses the
// plugin of the given type. The process is killed when the test ends.
func launch(t testing.TB, binary, pluginType string) (interface{}, base.Base) {
	t.Helper()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugins.Handshake,
		Plugins: map[string]plugin.Plugin{
			sdk.PluginTypeBase:     &base.PluginBase{},
			sdk.PluginTypeAPM:      &apm.PluginAPM{},
			sdk.PluginTypeStrategy: &strategy.PluginStrategy{},
			sdk.PluginTypeTarget:   &target.PluginTarget{},
		},
		Cmd:              exec.Command(binary),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugintest", Level: hclog.Warn, Output: os.Stderr}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("launch %s: %v", binary, err)
	}
	raw, err := rpc.Dispense(pluginType)
	if err != nil {
		t.Fatalf("dispense %s from %s: %v", pluginType, binary, err)
	}
	rawBase, err := rpc.Dispense(sdk.PluginTypeBase)
	if err != nil {
		t.Fatalf("dispense base from %s: %v", binary, err)
	}
	return raw, rawBase.(base.Base)
}

// LaunchAPM starts an APM plugin binary and returns its gRPC client.
func LaunchAPM(t testing.TB, binary string) apm.APM {
	t.Helper()
	raw, _ := launch(t, binary, sdk.PluginTypeAPM)
	return raw.(apm.APM)
}

// LaunchStrategy starts a strategy plugin binary and returns its gRPC client.
func LaunchStrategy(t testing.TB, binary string) strategy.Strategy {
	t.Helper()
	raw, _ := launch(t, binary, sdk.PluginTypeStrategy)
	return raw.(strategy.Strategy)
}

// LaunchTarget starts a target plugin binary and returns its gRPC client.
func LaunchTarget(t testing.TB, binary string) target.Target {
	t.Helper()
	raw, _ := launch(t, binary, sdk.PluginTypeTarget)
	return raw.(target.Target)
}
