package plugin

import (
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// TestContractOverGoPlugin builds the binary and talks to it the way the
// agent does: go-plugin handshake, gRPC, SetConfig with the keys the agent
// merges in, then Run with a check's config and metrics.
func TestContractOverGoPlugin(t *testing.T) {
	t.Parallel()
	bin := plugintest.Build(t, "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope")
	s := plugintest.LaunchStrategy(t, bin)

	info, err := s.PluginInfo()
	must.NoError(t, err)
	must.Eq(t, PluginName, info.Name)
	must.Eq(t, sdk.PluginTypeStrategy, info.PluginType)

	must.ErrorContains(t, s.SetConfig(map[string]string{"horizon": "5m"}), `unknown key "horizon"`)
	must.NoError(t, s.SetConfig(map[string]string{"nomad_address": "http://127.0.0.1:4646", "nomad_region": "global"}))

	now := time.Now().Truncate(time.Minute)
	out, err := s.Run(evalOf(map[string]string{"capacity_per_worker": "100"}, now, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	must.NotNil(t, out.Action)
	must.Eq(t, int64(13), out.Action.Count)
	must.Eq(t, sdk.ScaleDirectionUp, out.Action.Direction)
	must.StrContains(t, out.Action.Reason, "workers = ceil(1245 / 100) = 13")
	must.Eq[any](t, 13.0, out.Action.Meta["count"]) // numbers cross gRPC as JSON float64
	must.Eq[any](t, "rate", out.Action.Meta["mode"])

	// The direction none case still carries an action.
	out, err = s.Run(evalOf(map[string]string{"capacity_per_worker": "100"}, now, repeat(60, 1000)...), 13)
	must.NoError(t, err)
	must.Eq(t, sdk.ScaleDirectionNone, out.Action.Direction)
	must.Eq(t, int64(13), out.Action.Count)

	_, err = s.Run(evalOf(map[string]string{"capacity_per_wroker": "100"}, now, repeat(60, 1000)...), 5)
	must.ErrorContains(t, err, `unknown key "capacity_per_wroker"`)
	_, err = s.Run(evalOf(map[string]string{"capacity_per_worker": "100"}, now, 1, 2), 5)
	must.ErrorContains(t, err, "at least 10 valid points")

	// Errors do not take the plugin down.
	out, err = s.Run(evalOf(map[string]string{"capacity_per_worker": "100", "mode": "backlog"}, now, 1000), 7)
	must.NoError(t, err)
	must.Eq(t, int64(12), out.Action.Count)
}
