package plugin

import "slices"

// Rolling golden-image deploys (cmd/rollout) change the MIGs under the
// plugin: a canary version with a targetSize of 1, then a PROACTIVE update
// that creates one VM above targetSize (maxSurge 1) before it deletes an
// old one (maxUnavailable 0). The plugin's rules while that runs:
//
//   - An update in progress is not a reason to stop evaluating, the same
//     rule as a stockout (#839): the surge VM booting and the old VM being
//     deleted leave a MIG settled (settled), and so does an update paused
//     with nothing pending.
//   - Capacity is targetSize: the surge VM and the VM it replaces are one
//     worker (running caps at targetSize; Count was always targetSize),
//     and a surge creation stuck in a stockout is not a worker the
//     scale-out gives up (stuckInstances).
//   - The canary (a VM of a version with its own targetSize) is never
//     selected for scale-in (candidatesByZone): the rollout is watching it.
//   - Resize never touches versions, so a canary's fixed targetSize stays
//     as the rollout set it; GCE keeps it while the rest of the group
//     grows or shrinks.

// surge is how many VMs of the running target the MIG holds above its
// target size while an update replaces VMs.
func (z zoneView) surge() int64 {
	if !z.State.Updating {
		return 0
	}
	var live int64
	for _, in := range z.Instances {
		if in.CurrentAction != actionDeleting && !in.inPool() {
			live++
		}
	}
	return max(live-z.State.TargetSize, 0)
}

// markCanaries marks the VMs of a canary version: a version with its own
// targetSize beside the one that takes the rest.
func (z *zoneView) markCanaries() {
	for i := range z.Instances {
		in := &z.Instances[i]
		in.Canary = in.Template != "" && slices.Contains(z.State.SizedTemplates, in.Template)
	}
}
