package backtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// queryKind says which simulated series answers a check's query.
type queryKind int

const (
	// queryRate is a postgres: query: the per-minute arrivals over the
	// check's query_window, ending with the last complete minute.
	queryRate queryKind = iota + 1
	// queryBacklog is rabbitmq:ready or rabbitmq:depth: the simulated backlog
	// at the end of the last complete minute, as one point.
	queryBacklog
)

// classifyQuery maps a check's query onto the series the model can answer.
// Anything else is an error: replaying a check against the wrong series
// would produce numbers that look right and mean nothing.
func classifyQuery(c *sdk.ScalingPolicyCheck) (queryKind, error) {
	q := c.Query
	switch {
	case strings.HasPrefix(q, "postgres:"):
		if c.QueryInstant {
			return 0, fmt.Errorf("query %q: a rate query needs a query_window, not \"instant\"", q)
		}
		return queryRate, nil
	case strings.HasPrefix(q, "rabbitmq:ready:"), strings.HasPrefix(q, "rabbitmq:depth:"):
		return queryBacklog, nil
	case strings.HasPrefix(q, "rabbitmq:"):
		return 0, fmt.Errorf("query %q: the backtest simulates only rabbitmq:ready and rabbitmq:depth", q)
	case q == "":
		return 0, errors.New("empty query")
	default:
		return 0, fmt.Errorf("query %q: the backtest answers postgres: rate queries and rabbitmq:ready/depth only", q)
	}
}
