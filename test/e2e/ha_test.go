package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// pluginsLaunched is what the agent logs once it runs its plugins, which in
// HA mode it does only after taking the lock.
const pluginsLaunched = "successfully launched and dispensed plugin"

// (HA 1) Two agents start; only the lock holder runs plugins and calls GCE
// or Nomad beyond the lock; the other keeps asking for the lock.
func TestHAOnlyTheLockHolderEvaluates(t *testing.T) {
	t.Parallel()
	h := newHAStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	start := time.Now()
	leader, standby, _ := h.leaderAfter(start.Add(-time.Minute), 30*time.Second)
	t.Logf("%s holds the lock, %s stands by", leader.name, standby.name)

	// A backlog makes the leader scale out: Query, Run and Scale happen.
	h.publishBacklog(40)
	h.waitFor("the leader scales out", 60*time.Second, func() bool { return h.count() > 2 })
	// At least one more failed acquisition by the standby after the scale.
	h.waitFor("the standby tries again", 2*haRetry+5*time.Second, func() bool {
		return len(lockCalls(standby.front, "lock-acquire", http.StatusConflict)) >= 2
	})

	must.StrContains(t, leader.Log(), pluginsLaunched)
	must.StrNotContains(t, standby.Log(), pluginsLaunched, must.Sprint("the standby launched no plugin"))
	must.SliceEmpty(t, standby.front.activity(time.Time{}), must.Sprint("the standby made no call but for the lock"))
	must.SliceNotEmpty(t, leader.front.changes(start))
	for _, c := range standby.front.Calls() {
		must.Eq(t, "lock-acquire", c.LockOp)
	}
}

// (HA 2) The leader and its plugins SIGKILLed while a node drains: the
// standby takes the lock within lock_ttl + lock_delay + one acquisition
// retry, its target finishes or undoes the interrupted scale-in, and no
// VM is deleted without its drain, drained twice or left ineligible.
func TestHALeaderKilledMidDrainStandbyTakesOverAndReconciles(t *testing.T) {
	t.Parallel()
	const initial = 2
	h := newHAStack(t, stackOptions{
		initialPerZone: initial, bootTime: time.Second, drainDuration: 5 * time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 60 * time.Second, ScaleTimeout: 60 * time.Second},
	})
	before := h.instances()
	leader, standby, _ := h.leaderAfter(time.Now().Add(-time.Minute), 30*time.Second)

	var victim string
	h.waitFor("a drain starts", 60*time.Second, func() bool {
		for node, d := range h.drains() {
			if !d.Started.IsZero() {
				victim = node
				return true
			}
		}
		return false
	})
	leader.Kill()
	killed := time.Now()
	_, _, at := h.leaderAfter(killed, haLockTTL+haLockDelay+haRetry+10*time.Second)
	failover := at.Sub(killed)
	t.Logf("FAILOVER %s took the lock %s after %s was killed mid-drain of %s (lock_ttl %s, lock_delay %s)",
		standby.name, failover.Round(100*time.Millisecond), leader.name, victim, haLockTTL, haLockDelay)
	must.Less(t, haLockTTL+haLockDelay+haRetry+2*time.Second, failover,
		must.Sprint("takeover within lock_ttl + lock_delay + the api's 1.1 × TTL acquisition period"))
	must.Greater(t, haLockDelay, failover, must.Sprint("not before the lock delay"))

	h.waitFor("the fleet settles at min with every node eligible", 90*time.Second, func() bool {
		st := h.cloud.State()
		if len(st.Nodes) != 2 || len(h.instances()) != 2 {
			return false
		}
		for _, n := range st.Nodes {
			if n.Eligibility != "eligible" {
				return false
			}
		}
		return true
	})
	alive := h.instances()
	drains := h.drains()
	started := map[string]int{}
	for _, e := range h.cloud.Nomad.Events() {
		if e.Kind == fakenomad.EventDrainStarted {
			started[e.NodeName]++
		}
	}
	for name, n := range started {
		must.Eq(t, 1, n, must.Sprintf("node %s drained once", name))
	}
	dels, shrinks := h.gceEvidence(initial)
	must.SliceEmpty(t, shrinks, must.Sprint("removals only through deleteInstances"))
	deleted := map[string]bool{}
	for _, del := range dels {
		deleted[del.Instance] = true
		d := drains[del.Instance]
		must.False(t, d.Completed.IsZero(), must.Sprintf("%s was drained before its deletion", del.Instance))
		must.True(t, d.Completed.Before(del.At), must.Sprintf("%s: drain completed before deletion", del.Instance))
	}
	for name := range before {
		if _, ok := alive[name]; !ok {
			must.True(t, deleted[name], must.Sprintf("%s is gone through deleteInstances", name))
		}
	}
	if _, ok := alive[victim]; !ok {
		for _, c := range leader.front.changes(killed) {
			t.Fatalf("the killed leader changed a MIG after its death: %+v", c)
		}
		must.SliceNotEmpty(t, standby.front.changes(at), must.Sprintf("%s deleted the drained %s", standby.name, victim))
	}
}

// (HA 3) The leader cut off from Nomad (its requests unanswered, as in a
// network split): its target cannot read Nomad, so it makes no change
// while the standby takes over; no two agents change a MIG at once
// (newHAStack fails the test on an overlap), also after the heal, when both
// evaluate: target-gce-gpu's writer lock makes them take turns (before it,
// both deleted the same drained VM 5 ms apart). After the split heals, agent
// v0.5.0 does NOT stay standby: its delayed renewal meets 409 and the
// nomad/api LockLeaser ignores a conflict without stopping the agent, so it
// keeps evaluating beside the new leader. The test pins that (documented in
// deploy/README.md with its workaround: restart the old leader) and checks
// the workaround.
func TestHASplitLeaderStopsActingAndIsRestartedAsStandbyAfterHeal(t *testing.T) {
	t.Parallel()
	h := newHAStack(t, stackOptions{
		initialPerZone: 2, bootTime: time.Second, drainDuration: 2 * time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 30 * time.Second, ScaleTimeout: 30 * time.Second},
	})
	leader, standby, _ := h.leaderAfter(time.Now().Add(-time.Minute), 30*time.Second)
	h.waitFor("the leader evaluates", 30*time.Second, func() bool {
		return strings.Contains(leader.Log(), pluginsLaunched)
	})

	leader.front.Split()
	split := time.Now()
	_, _, at := h.leaderAfter(split, haLockTTL+haLockDelay+haRetry+10*time.Second)
	t.Logf("SPLIT %s took the lock %s after %s was cut off from Nomad", standby.name, at.Sub(split).Round(100*time.Millisecond), leader.name)
	must.SliceEmpty(t, leader.front.changes(split), must.Sprint("the cut-off leader changed no MIG"))
	h.waitFor("the new leader evaluates", 30*time.Second, func() bool {
		return len(standby.front.activity(at)) > 0
	})

	leader.front.Heal()
	healed := time.Now()
	h.waitFor("the old leader's delayed renewal is refused", 2*haLockTTL, func() bool {
		return len(lockCalls(leader.front, "lock-renew", http.StatusConflict)) > 0
	})
	// v0.5.0: the old leader keeps evaluating without the lock.
	h.waitFor("the old leader evaluates after the heal (agent v0.5.0 defect)", 4*evalInterval, func() bool {
		return len(leader.front.activity(healed.Add(evalInterval))) > 0
	})
	t.Logf("SPLIT after the heal %s still evaluates without the lock (known v0.5.0 defect)", leader.name)
	// Both targets now take turns on the policy's writer lock; newHAStack's
	// overlap check is what proves they never change a MIG at once.
	t.Logf("SPLIT after the heal the targets' writer lock turned an agent away %d times",
		writerRefusals(leader.front, healed)+writerRefusals(standby.front, healed))

	// The workaround: restart it. It comes back as a standby.
	leader.Kill()
	restarted := time.Now()
	leader.Restart()
	h.waitFor("the restarted agent asks for the lock", 2*haRetry, func() bool {
		return len(lockCalls(leader.front, "lock-acquire", http.StatusConflict)) > 0
	})
	// It stays standby for a lock retry and an evaluation.
	poll.Holds(t, haRetry+evalInterval, func() bool {
		return len(leader.front.activity(restarted)) == 0 && leader.front.acquiredAfter(restarted).IsZero()
	}, func() string {
		return fmt.Sprintf("the restarted old leader stays standby; since its restart it made %d calls and acquired the lock at %v",
			len(leader.front.activity(restarted)), leader.front.acquiredAfter(restarted))
	})
}

// (HA 4) The cooldown across a takeover. The target does its part: it keeps
// the last scaling time in the policy's last_event Variable and the new
// leader's target reads it and reports it in Status. Agent v0.5.0 then
// loses it: NewPolicyHandler enters the cooldown without setting its end
// (outOfCooldownOn stays zero), so the first action of the new leader finds
// the cooldown over and scales at once. The test pins that defect
// (deploy/README.md documents it and the workaround).
func TestHACooldownIsLostOnTakeoverByAgentV050(t *testing.T) {
	t.Parallel()
	const cooldown = 45 * time.Second
	h, standby, scaled, at := takeOverInsideTheCooldown(t, cooldown, 0)
	t.Logf("COOLDOWN %s took over %s after the scale-out; the cooldown ends %s after it",
		standby.name, at.Sub(scaled).Round(100*time.Millisecond), cooldown)

	h.waitFor("the new leader scales", 4*evalInterval, func() bool {
		return len(standby.front.changes(at)) > 0
	})
	first := standby.front.changes(at)[0].At
	var readLastEvent bool
	for _, c := range standby.front.activity(at) {
		readLastEvent = readLastEvent || (c.Method == http.MethodGet && strings.HasPrefix(c.Path, "/v1/var/nomad-autoscaler/target-gce-gpu/") && c.Status == http.StatusOK)
	}
	must.True(t, readLastEvent, must.Sprint("the new leader's target read the last scaling time"))
	must.True(t, first.Before(scaled.Add(cooldown)),
		must.Sprint("agent v0.5.0 scales within the old leader's cooldown (pinned defect); if this fails, the agent was fixed: assert the cooldown instead"))
	t.Logf("COOLDOWN the new leader scaled %s after the old leader's scale-out, inside its %s cooldown (agent v0.5.0 defect)",
		first.Sub(scaled).Round(100*time.Millisecond), cooldown)
}

// (HA 4, with the workaround) restore_cooldown in the target block, set to
// the policy's cooldown, makes the new leader's target answer not ready
// until the old leader's cooldown has run, so the agent's first scaling
// after the takeover comes after it.
func TestHACooldownSurvivesTheTakeoverWithRestoreCooldown(t *testing.T) {
	t.Parallel()
	const cooldown = 45 * time.Second
	h, standby, scaled, at := takeOverInsideTheCooldown(t, cooldown, cooldown)
	h.waitFor("the new leader scales after the cooldown", cooldown+4*evalInterval, func() bool {
		return len(standby.front.changes(at)) > 0
	})
	first := standby.front.changes(at)[0].At
	must.False(t, first.Before(scaled.Add(cooldown)),
		must.Sprintf("the new leader scaled %s after the old leader's scale-out, inside the %s cooldown", first.Sub(scaled), cooldown))
	t.Logf("COOLDOWN with restore_cooldown the new leader took over %s and scaled %s after the old leader's scale-out (cooldown %s)",
		at.Sub(scaled).Round(100*time.Millisecond), first.Sub(scaled).Round(100*time.Millisecond), cooldown)
}

// takeOverInsideTheCooldown runs two agents on a policy with the given
// cooldown (and the target's restore_cooldown), makes the leader scale out
// on a backlog, kills it once the last_event Variable is written, and
// returns when the standby holds the lock: when the leader scaled and when
// the standby took over, inside the cooldown.
func takeOverInsideTheCooldown(t *testing.T, cooldown, restore time.Duration) (h *haStack, standby *haAgent, scaled, at time.Time) {
	t.Helper()
	h = newHAStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: time.Second,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: cooldown, RestoreCooldown: restore,
			DrainDeadline: 20 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	leader, standby, _ := h.leaderAfter(time.Now().Add(-time.Minute), 30*time.Second)
	h.waitFor("the leader evaluates", 30*time.Second, func() bool {
		return strings.Contains(leader.Log(), pluginsLaunched)
	})
	h.publishBacklog(100) // no workers: the backlog stays and asks for more
	h.waitFor("the leader scales out", 60*time.Second, func() bool {
		if c := leader.front.changes(time.Time{}); len(c) > 0 {
			scaled = c[0].At
			return true
		}
		return false
	})
	h.waitFor("the last_event Variable is written", 10*time.Second, func() bool { return len(h.lastEvents()) > 0 })
	leader.Kill()
	_, _, at = h.leaderAfter(scaled, haLockTTL+haLockDelay+haRetry+10*time.Second)
	must.Less(t, cooldown-2*evalInterval, at.Sub(scaled), must.Sprint("the takeover falls within the cooldown"))
	return h, standby, scaled, at
}

// lockCalls returns the agent's lock operations of kind op answered status.
func lockCalls(f *agentFront, op string, status int) []frontCall {
	var out []frontCall
	for _, c := range f.Calls() {
		if c.LockOp == op && c.Status == status {
			out = append(out, c)
		}
	}
	return out
}

// writerRefusals counts the writer-lock acquisitions of the agent's
// target that Nomad refused (409) after since.
func writerRefusals(f *agentFront, since time.Time) int {
	n := 0
	for _, c := range f.activity(since) {
		if c.Method == http.MethodPut && strings.HasSuffix(c.Path, "/writer") && c.Status == http.StatusConflict {
			n++
		}
	}
	return n
}

// lastEvents reads the target's last_event Variables (not its writer
// locks, which live under the same prefix).
func (h *haStack) lastEvents() map[string]string {
	client, err := api.NewClient(&api.Config{Address: h.cloudURL})
	must.NoError(h.t, err)
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	q := (&api.QueryOptions{}).WithContext(ctx)
	list, _, err := client.Variables().PrefixList("nomad-autoscaler/target-gce-gpu/", q)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range list {
		v, _, err := client.Variables().Read(m.Path, q)
		if err == nil && v.Items["last_event"] != "" {
			maps.Copy(out, map[string]string{m.Path: v.Items["last_event"]})
		}
	}
	return out
}
