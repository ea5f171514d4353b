package plugin

import "time"

// The warm pool: stopped VMs kept in each MIG's standby pool
// (targetStoppedSize), started on scale-out before anything is created and
// filled on scale-in by stopping drained workers. A stopped VM holds no GPU
// and pays only for its disks; it serves in about a minute and a half
// instead of five because its disk already holds the drivers and the worker
// image.
//
// What GCE documents and this file relies on:
//   - targetSize counts the running target only; the pool is
//     targetStoppedSize. startInstances raises the first and lowers the
//     second by the number started, stopInstances the opposite.
//   - While the pool has fewer members than targetStoppedSize, the MIG
//     creates VMs and stops them initialDelaySec after their creation (the
//     worker image is pulled meanwhile); extra members are deleted.
//   - In mode MANUAL a resize only creates: the plugin starts stopped VMs
//     itself, so that it chooses the zones.

// standbyConfig is the policy's pool: standby_size, standby_max_age,
// standby_initial_delay and standby_refill_delay.
type standbyConfig struct {
	size         int64
	maxAge       time.Duration
	initialDelay time.Duration
	// refillDelay is how long a zone's pool may stay short of its share
	// before the MIG is asked to create VMs for it; meanwhile only
	// scale-ins refill it, by stopping drained workers, which costs no
	// cold boot. 0 refills at once.
	refillDelay time.Duration
}

// standbySettings is a MIG's pool as GCE holds it.
type standbySettings struct {
	// Stopped is targetStoppedSize.
	Stopped int64
	// Mode is standbyPolicy.mode (MANUAL or SCALE_OUT_POOL).
	Mode string
	// InitialDelay is standbyPolicy.initialDelaySec.
	InitialDelay time.Duration
}

// Standby pool modes and the instance states of the pool.
const (
	standbyModeManual  = "MANUAL"
	instanceTerminated = "TERMINATED"
	instanceStopped    = "STOPPED"
	instanceStopping   = "STOPPING"
	actionStarting     = "STARTING"
	actionStopping     = "STOPPING"
	actionDeleting     = "DELETING"
)

// isStopped reports a VM that is not running: GCE reports a stopped VM as
// TERMINATED (STOPPED is also in the API's enum).
func (m managedInstance) isStopped() bool {
	return m.Status == instanceTerminated || m.Status == instanceStopped
}

// pooled reports a stopped member of the pool that can be started now.
func (m managedInstance) pooled() bool { return m.isStopped() && m.CurrentAction == actionNone }

// stopping reports a member on its way into the pool: stopInstances
// accepted it, or the MIG stops a VM it created to refill the pool.
func (m managedInstance) stopping() bool {
	return m.CurrentAction == actionStopping || (m.Status == instanceStopping && m.CurrentAction == actionNone)
}

// inPool reports a member of the pool, stopped or stopping.
func (m managedInstance) inPool() bool { return m.pooled() || m.stopping() }

// stuckStart reports a start from the pool that finds no GPU in its zone:
// GCE keeps retrying it, the VM stays stopped, and it counts in the
// target size.
func (m managedInstance) stuckStart() bool {
	return m.CurrentAction == actionStarting && m.isStopped() && isCapacityCode(m.LastAttemptCode)
}

// pooledNames lists the zone's stopped members that can be started, in
// the MIG's order.
func (z zoneView) pooledNames() []string {
	var out []string
	for _, in := range z.Instances {
		if in.pooled() {
			out = append(out, in.Name)
		}
	}
	return out
}

// poolMembers counts the zone's stopped and stopping members.
func (z zoneView) poolMembers() int64 {
	var n int64
	for _, in := range z.Instances {
		if in.inPool() {
			n++
		}
	}
	return n
}

// refillsPending is how many pool members the MIG is still creating
// (targetStoppedSize above the members it shows stopped or stopping).
// GCE does not say which CREATING instance is one of them; only the count
// is known.
func (z zoneView) refillsPending() int64 {
	return max(z.State.Standby.Stopped-z.poolMembers(), 0)
}
