package plugin

import (
	"cmp"
	"slices"
	"time"
)

// The standby pool's decisions, as pure functions of what was observed.

// poolZone is what the pool split needs to know about a zone.
type poolZone struct {
	// Members are the zone's stopped and stopping pool VMs.
	Members int64
	// Stockout is true while the zone cannot create or start VMs: it
	// could not refill its pool.
	Stockout bool
}

// poolSplit spreads size stopped VMs over the zones as the workers are
// spread (zoneSplit: round-robin, the first zones taking the remainder). A
// zone in stockout keeps at most the members it has, since a refill there
// would only fail, and its share goes to the other zones.
func poolSplit(size int64, zones []poolZone) []int64 {
	lo := make([]int64, len(zones))
	hi := make([]int64, len(zones))
	for i, z := range zones {
		hi[i] = unlimited
		if z.Stockout {
			hi[i] = z.Members
		}
	}
	split, _ := zoneSplitWithin(size, lo, hi)
	return split
}

// growZone is what a scale-out plan needs to know about a zone.
type growZone struct {
	// Floor is the zone's target size without the creations and starts
	// that fail for lack of capacity (which a scale-out gives up).
	Floor int64
	// Stopped counts the pool VMs that can be started now.
	Stopped int64
	// Stockout is true while the zone is not grown at all.
	Stockout bool
}

// zoneGrowth is a zone's part of a scale-out.
type zoneGrowth struct {
	// Start is how many stopped VMs to start.
	Start int64
	// Target is the zone's target size once grown: the starts plus the
	// VMs to create.
	Target int64
}

// planGrowth decides a scale-out to want workers: stopped VMs first, placed
// round-robin as far as each zone's pool allows (a zone whose pool is empty
// hands its share of the warm workers to zones that still have stopped
// VMs), then new VMs for the rest, placed so that the zones end as even as
// round-robin allows (zoneSplitWithin over what the starts left). Zones in
// stockout neither start nor create. It returns each zone's growth and how
// many workers no zone can take.
func planGrowth(want int64, zones []growZone) ([]zoneGrowth, int64) {
	n := len(zones)
	floor, warmCap, coldCap := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, z := range zones {
		floor[i], warmCap[i], coldCap[i] = z.Floor, z.Floor+z.Stopped, unlimited
		if z.Stockout {
			warmCap[i], coldCap[i] = z.Floor, z.Floor
		}
	}
	warm, _ := zoneSplitWithin(want, floor, warmCap)
	final, unplaced := zoneSplitWithin(want, warm, coldCap)
	out := make([]zoneGrowth, n)
	for i := range zones {
		out[i] = zoneGrowth{Start: warm[i] - floor[i], Target: final[i]}
	}
	return out, unplaced
}

// retireNodes splits the drained workers of one zone into those to stop
// into the pool (at most room, the newest Nomad nodes first) and those to
// delete.
func retireNodes(drained []nodeCandidate, room int64) (stop, del []nodeCandidate) {
	sorted := slices.Clone(drained)
	slices.SortFunc(sorted, func(a, b nodeCandidate) int {
		return cmp.Or(cmp.Compare(b.CreateIndex, a.CreateIndex), cmp.Compare(a.Instance, b.Instance))
	})
	k := min(max(room, 0), int64(len(sorted)))
	return sorted[:k], sorted[k:]
}

// poolRoom is how many drained workers each zone may stop into its pool:
// its share of the pool (poolSplit) minus the VMs already stopped or
// stopping there. VMs the MIG is still creating to refill the pool, or
// that wait out initialDelaySec before their stop, do not count: a drained
// worker, whose disk already holds the image, replaces them, and setting
// targetStoppedSize back to the share afterwards deletes them.
func poolRoom(size int64, zones []zoneView) []int64 {
	pz := make([]poolZone, len(zones))
	for i, z := range zones {
		pz[i] = poolZone{Members: z.poolMembers(), Stockout: z.Stockout}
	}
	share := poolSplit(size, pz)
	room := make([]int64, len(zones))
	for i, z := range zones {
		var settled int64
		for _, in := range z.Instances {
			if in.pooled() || in.Status == instanceStopping && in.stopping() {
				settled++
			}
		}
		room[i] = max(share[i]-settled, 0)
	}
	return room
}

// refillTarget is the targetStoppedSize for a zone whose pool holds members
// (stopped or stopping) of its share, whose MIG has set as its
// targetStoppedSize, and which has been short for short. Until it has been
// short for delay, no creation is asked for: the target stays at what the
// MIG already holds or is creating (never below it, which would delete VMs
// on their way into the pool), so that only scale-ins refill the pool, by
// stopping drained workers. Then, or when the pool is full, it is the share.
func refillTarget(share, members, set int64, short, delay time.Duration) int64 {
	if members >= share || short >= delay {
		return share
	}
	return min(share, max(set, members))
}

// pooledVM is a stopped VM of the pool and when it stopped.
type pooledVM struct {
	Name      string
	StoppedAt time.Time
}

// recycleZone is what recycling needs to know about a zone's pool.
type recycleZone struct {
	Stopped []pooledVM
	// Busy is true while the pool is filling (a VM stopping or being
	// created for it): recycling waits, so that the pool never loses more
	// than one VM per zone at a time.
	Busy bool
}

// planRecycle picks, per zone, the stopped VM to delete because it has
// been stopped longer than maxAge (the oldest first, one per zone at a
// time); the MIG then creates a fresh one with the current image and
// drivers.
func planRecycle(zones []recycleZone, now time.Time, maxAge time.Duration) []string {
	out := make([]string, len(zones))
	for i, z := range zones {
		if z.Busy {
			continue
		}
		var oldest *pooledVM
		for k := range z.Stopped {
			vm := &z.Stopped[k]
			if now.Sub(vm.StoppedAt) > maxAge && (oldest == nil || vm.StoppedAt.Before(oldest.StoppedAt)) {
				oldest = vm
			}
		}
		if oldest != nil {
			out[i] = oldest.Name
		}
	}
	return out
}
