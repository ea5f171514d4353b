package plugin

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// backoff is the kit's bounded exponential backoff with full jitter,
// classifying errors with pluginkit.Retryable.
type backoff = pluginkit.Backoff

// defaultBackoff suits the GCE and Nomad APIs: eight tries span roughly half
// a minute in the worst case.
var defaultBackoff = backoff{Attempts: defaultRetryAttempts, Initial: 250 * time.Millisecond, Max: 8 * time.Second}
