package plugin

import "time"

// metaKeyCooldownUntil is in Status meta while restore_cooldown holds the
// policy not ready.
const metaKeyCooldownUntil = "cooldown_until"

// inRestoredCooldown reports whether now is within cooldown of the last
// scaling, and when that ends.
//
// Agent v0.5.0 restores a policy's cooldown from Status meta
// (nomad_autoscaler.last_event) when it creates the policy's handler, after
// a restart or an HA takeover, but it enters the cooldown without setting
// its end, so its first evaluation finds the cooldown over and may scale at
// once (test/e2e TestHACooldownIsLostOnTakeoverByAgentV050). With
// restore_cooldown set to the policy's cooldown, Status answers not ready
// until the cooldown has run from the last scaling recorded in Nomad, and
// the agent evaluates nothing meanwhile: the cooldown survives. After a
// scaling by the same agent the agent's own cooldown and this one cover the
// same time.
func inRestoredCooldown(last time.Time, cooldown time.Duration, now time.Time) (time.Time, bool) {
	if cooldown <= 0 || last.IsZero() {
		return time.Time{}, false
	}
	until := last.Add(cooldown)
	return until, now.Before(until)
}
