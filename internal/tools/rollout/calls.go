package rollout

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// callAttempts bounds the tries of one API call.
const callAttempts = 5

// caller runs one API call with a deadline per attempt, retrying rate
// limits, server errors and transport failures with the kit's bounded
// exponential backoff and full jitter (the target plugin's policy).
type caller struct {
	timeout time.Duration
}

func (c caller) backoff() pluginkit.Backoff {
	return pluginkit.Backoff{Attempts: callAttempts, Initial: 250 * time.Millisecond, Max: 8 * time.Second, AttemptTimeout: c.timeout}
}
