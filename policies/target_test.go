package policies_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"

	gcegpu "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
)

// TestTargetBlocksAreAcceptedByTheGCEPlugin hands each policy's target
// block to the real plugin, pointed at an address where nothing listens:
// a config the plugin refuses fails with "target config" before any call,
// a valid one gets as far as trying GCE or Nomad.
func TestTargetBlocksAreAcceptedByTheGCEPlugin(t *testing.T) {
	for _, f := range hclFiles(t) {
		for name, p := range decodePolicies(t, f) {
			t.Run(f+"/"+name, func(t *testing.T) {
				plugin := gcegpu.New(hclog.NewNullLogger())
				must.NoError(t, plugin.SetConfig(map[string]string{
					"compute_endpoint": "http://127.0.0.1:1/", "compute_insecure": "true", "nomad_address": "http://127.0.0.1:1",
				}))
				cfg := map[string]string{"_nomad_autoscaler_grpc_timeout": "1s"}
				for k, v := range p.Target.Config {
					cfg[k] = v
				}
				_, err := plugin.Status(cfg)
				if err != nil && strings.Contains(err.Error(), "target config") {
					t.Fatalf("the plugin refuses the target block: %v", err)
				}
			})
		}
	}
}
