package pluginkit

import (
	"fmt"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
)

// Recover turns a panic into an error, and must be deferred directly:
//
//	defer pluginkit.Recover(p.logger, PluginName, "scale", &err)
//
// The agent never relaunches a crashed plugin (nomad-autoscaler #711), so
// one bad response must not take every policy of the plugin down until the
// agent restarts. The panic and its stack are logged with the keys op,
// panic and stack; the agent gets a BoundaryError-safe message.
func Recover(logger hclog.Logger, plugin, op string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if logger != nil {
		logger.Error("recovered from a panic", "op", op, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
	*err = AtBoundary(fmt.Errorf("%s: internal error in %s (recovered from a panic: %v)", plugin, op, r))
}
