package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// TestDryRunLogsTheDecisionsAndLeavesTheFleetAlone is the shadow mode a
// team runs before it hands the fleet over (target dry-run = "true",
// README.md, "Quickstart on a real cluster", step 8): the agent evaluates
// the policy, logs strategy-slope's decision with its Reason as it would
// act on it, and calls Scale with no count, which target-gce-gpu answers
// without touching a MIG.
func TestDryRunLogsTheDecisionsAndLeavesTheFleetAlone(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 10 * time.Second, DryRun: true},
	})
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)

	// The surge of TestBacklogSurgeResizesBothZonesUp: +8 workers, or more.
	s.publishBacklog(80)
	asked := regexp.MustCompile(`calculating scaling target: [^\n]* from=2 to=(\d+) reason="[^"\n]*backlog`)
	var want int
	poll.Until(t, 2*evalInterval+managementLag+5*time.Second, func() bool {
		for _, m := range asked.FindAllStringSubmatch(s.agent.Log(), -1) {
			want, _ = strconv.Atoi(m[1])
			if want >= 10 {
				return true
			}
		}
		return false
	}, func() string {
		return "a logged decision for the backlog's workers; the agent logged:\n" + lastLines(s.agent.Log(), 12)
	})
	t.Logf("strategy-slope asked for %d workers", want)
	s.agent.WaitForLog(t, `scaling dry-run is enabled, using no-op task group count`, 2*evalInterval)
	s.agent.WaitForLog(t, `target-gce-gpu: dry-run: not scaling: count=`+strconv.Itoa(want), 2*evalInterval)

	// Evaluation after evaluation, the decision stands and the MIGs stay.
	poll.Holds(t, 3*evalInterval, func() bool {
		sz := s.targetSizes()
		return sz[zoneA] == 1 && sz[zoneB] == 1
	}, func() string { return fmt.Sprintf("a dry run resized the MIGs: %v", s.targetSizes()) })
	must.Eq(t, 2, s.count())
}

// lastLines is the end of a log, for a failure message.
func lastLines(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
