package plugin_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// TestContract builds the binary and drives it over go-plugin with the
// agent's handshake, as the agent does, against the fakes.
func TestContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	gce := fakegce.New(fakegce.Options{})
	nomad := fakenomad.New(fakenomad.Options{})
	gsrv, nsrv := httptest.NewServer(gce), httptest.NewServer(nomad)
	t.Cleanup(func() { gce.Close(); nomad.Close(); gsrv.Close(); nsrv.Close() })
	gce.AddMIG("zone-a", "gpu-a", 1)
	gce.AddMIG("zone-b", "gpu-b", 1)

	bin := plugintest.Build(t, "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu")
	tgt := plugintest.LaunchTarget(t, bin)

	info, err := tgt.PluginInfo()
	must.NoError(t, err)
	must.Eq(t, plugin.PluginName, info.Name)
	must.Eq(t, sdk.PluginTypeTarget, info.PluginType)

	must.ErrorContains(t, tgt.SetConfig(map[string]string{"compute_insecure": "true"}), "needs compute_endpoint")
	must.NoError(t, tgt.SetConfig(map[string]string{
		"compute_endpoint": gsrv.URL, "compute_insecure": "true", "nomad_address": nsrv.URL,
	}))

	policy := map[string]string{
		"project": "test-project", "migs": "zone-a/gpu-a,zone-b/gpu-b", "node_pool": "gpu",
		"_nomad_autoscaler_grpc_timeout": "7500ms",
	}
	st, err := tgt.Status(policy)
	must.NoError(t, err)
	must.True(t, st.Ready)
	must.Eq(t, int64(2), st.Count)
	must.Eq(t, "1", st.Meta["zone.zone-a.target"])

	dry := sdk.ScalingAction{Count: 9, Direction: sdk.ScaleDirectionUp}
	dry.SetDryRun()
	before := len(gce.Requests())
	must.NoError(t, tgt.Scale(dry, policy))
	must.Eq(t, before, len(gce.Requests()), must.Sprint("dry-run sends nothing to GCE"))

	must.NoError(t, tgt.Scale(sdk.ScalingAction{Count: 5, Direction: sdk.ScaleDirectionUp}, policy))
	must.Eq(t, 3, gce.MIG("zone-a", "gpu-a").TargetSize)
	must.Eq(t, 2, gce.MIG("zone-b", "gpu-b").TargetSize)

	must.NoError(t, tgt.Scale(sdk.ScalingAction{Count: 5, Direction: sdk.ScaleDirectionUp}, policy),
		must.Sprint("scaling to the current count succeeds"))

	// No Nomad node backs the instances, so nothing may be removed: the
	// SDK's no-op error, which must reach the agent as that type.
	var noop *sdk.TargetScalingNoOpError
	err = tgt.Scale(sdk.ScalingAction{Count: 3, Direction: sdk.ScaleDirectionDown}, policy)
	must.True(t, errors.As(err, &noop), must.Sprintf("a scale-in with nothing removable is a no-op, got %v", err))

	policy["node_selector"] = "random"
	_, err = tgt.Status(policy)
	must.ErrorContains(t, err, `node_selector "random": not one of`)
}
