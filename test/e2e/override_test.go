package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// (c) An override added to the policy file plus SIGHUP pins the count; once
// override_until passes, normal scaling resumes by itself.
//
// The agent v0.5.0 keys a file policy by its path and name and keeps the
// first version it decoded for that key (policy/file/source.go: handleDir
// stores a policy only when its ID is new), so an edit in place is ignored
// by SIGHUP. The procedure that works, and that the README documents, is to
// save the edited policy under a new file name and remove the old file
// before SIGHUP. This test checks both halves, so that it fails loudly on
// the day an agent upgrade changes either.
func TestOverrideByPolicyEditPinsTheCountUntilItExpires(t *testing.T) {
	t.Parallel()
	interval := evalInterval
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: 500 * time.Millisecond,
		policy: policyParams{Min: 2, Max: 20, Interval: interval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 10 * time.Second},
	})
	// Idle at min: the rate check would go lower, min holds it at 2.
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)

	// The operator pins 6 workers for the next 30 s.
	until := time.Now().Add(30 * time.Second).Truncate(time.Second)
	p := s.policy
	p.Override = &override{Count: 6, Until: until.UTC().Format(time.RFC3339)}

	// An edit in place plus SIGHUP: v0.5.0 keeps evaluating the old version.
	writePolicy(t, s.policyDir, p)
	s.agent.Reload()
	s.agent.WaitForLog(t, `file policy source ID monitor received reload signal`, 5*time.Second)
	s.waitEvaluations(2)
	must.Eq(t, 2, s.count(), must.Sprint("agent v0.5.0 ignores an in-place edit of a file policy"))

	// The same edit saved under a new name, the old file removed, SIGHUP.
	writePolicyAs(t, s.policyDir, "gpu-workers-override.hcl", p)
	must.NoError(t, os.Remove(filepath.Join(s.policyDir, "gpu-workers.hcl")))
	s.agent.Reload()
	reloaded := time.Now()
	s.waitFor("the override's count is applied", interval+5*time.Second, func() bool { return s.count() == 6 })
	t.Logf("override applied %s after SIGHUP", time.Since(reloaded).Round(100*time.Millisecond))
	must.Eq(t, map[string]int{zoneA: 3, zoneB: 3}, s.targetSizes())

	// Pinned: with no traffic the rate check would scale in every
	// evaluation, but the count stays at 6 until override_until.
	poll.Holds(t, time.Until(until)-500*time.Millisecond, func() bool { return s.count() == 6 }, func() string {
		return fmt.Sprintf("count pinned at 6, %s before override_until; the MIGs are at %v", time.Until(until).Round(time.Millisecond), s.targetSizes())
	})

	// Expired: normal scaling resumes without any edit or reload.
	s.waitFor("scaling resumes after override_until", interval+15*time.Second, func() bool { return s.count() < 6 })
	t.Logf("scale-in resumed %s after override_until", time.Since(until).Round(100*time.Millisecond))
	s.agent.WaitForLog(t, `override from policy expired at `+regexp.QuoteMeta(until.UTC().Format(time.RFC3339)), 10*time.Second)
}

// waitEvaluations waits until the agent has logged n more decisions.
func (s *stack) waitEvaluations(n int) {
	s.t.Helper()
	start := strings.Count(s.agent.Log(), "calculating scaling target")
	s.waitFor("more evaluations", time.Duration(n+2)*5*time.Second, func() bool {
		return strings.Count(s.agent.Log(), "calculating scaling target") >= start+n
	})
}
