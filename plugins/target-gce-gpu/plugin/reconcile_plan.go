package plugin

import (
	"cmp"
	"slices"
	"time"
)

// markedNode is a Nomad node that carries this policy's scale-in marker,
// joined with what GCE says about its instance.
type markedNode struct {
	NodeID   string
	NodeName string
	Instance string
	Zone     string
	// DesiredSize is the MIG target size the scale-in that drained the node
	// was heading for.
	DesiredSize int64
	// MarkedAt is when the scale-in marked the node (before draining it).
	MarkedAt time.Time
	// Draining is true while Nomad still runs the drain.
	Draining bool
	// DrainCanceled is true when the last drain was canceled (by an
	// operator or by a rollback) instead of completing.
	DrainCanceled bool
	// Drained is true when the node's last drain completed and the node is
	// still ineligible, as a drain leaves it. A node marked but never
	// drained (a crash between the two) is not.
	Drained bool
	// NodeReady is false when the Nomad node is down or gone: nothing can be
	// written to it any more.
	NodeReady bool
	// InMIG is true while the instance is still a member of its MIG and not
	// already being deleted.
	InMIG bool
	// InPool is true while the instance is stopped or stopping in the
	// MIG's standby pool.
	InPool bool
	// Standby is true for a standby marker: the node's VM was stopped into
	// the pool (or was about to be).
	Standby bool
	// Leaving is true when cmd/maintenance-drain marked the node as
	// leaving: it is the daemon's to drain (leaving.go).
	Leaving bool
	// CreateIndex is the node's Nomad create index.
	CreateIndex uint64
}

// reconcileKind is what reconciliation does with one marked node.
type reconcileKind int

const (
	// reconcileWait leaves a node whose drain is still running.
	reconcileWait reconcileKind = iota
	// reconcileRetire stops the drained node's instance into the standby
	// pool, or deletes it when the pool is full: its MIG is still above the
	// size the interrupted scale-in wanted.
	reconcileRetire
	// reconcileRestore makes the node eligible again and clears the marker:
	// the MIG no longer needs to shrink, or the drain was canceled.
	reconcileRestore
	// reconcileForget clears the marker of a node whose instance is gone.
	reconcileForget
	// reconcileKeep leaves the standby marker of a node whose VM is in the
	// pool: when the VM is started, the node comes back drained and the
	// marker says to give it back.
	reconcileKeep
)

func (k reconcileKind) String() string {
	return [...]string{"wait", "retire", "restore", "forget", "keep"}[k]
}

// reconcileAction pairs a marked node with the decision about it.
type reconcileAction struct {
	Node markedNode
	Kind reconcileKind
}

// planReconcile decides what to do with the nodes this policy marked for
// scale-in that are still around (after a crash, a failed delete, or an HA
// failover). A drained node is deleted only while its MIG is above the size
// its scale-in wanted, oldest marker first and never more than the excess;
// the rest are made eligible again. Nothing is deleted that has not been
// fully drained. A standby marker is kept while its VM is in the pool and
// its node given back once the VM runs in the target again (started by a
// scale-out, or never stopped because of a crash before the stop).
func planReconcile(marked []markedNode, targetSizes map[string]int64) []reconcileAction {
	sorted := slices.Clone(marked)
	slices.SortStableFunc(sorted, func(a, b markedNode) int {
		return cmp.Or(a.MarkedAt.Compare(b.MarkedAt), cmp.Compare(a.NodeName, b.NodeName))
	})
	deleted := map[string]int64{}
	out := make([]reconcileAction, 0, len(sorted))
	for _, n := range sorted {
		kind := reconcileRestore
		switch {
		case !n.InMIG:
			kind = reconcileForget
		case n.InPool && n.Standby:
			kind = reconcileKeep
		case n.InPool:
			// Stopped by someone else with a scale-in marker: the marker
			// must not outlive the stop, or a start would finish that
			// scale-in.
			kind = reconcileForget
		case n.Leaving:
			// The host goes away: the daemon drains the node, and neither
			// finishing the scale-in (a delete) nor undoing it (which
			// cancels a drain) is ours to do any more. Only the marker
			// goes.
			kind = reconcileForget
		case n.Standby:
			kind = reconcileRestore
		case n.Draining:
			kind = reconcileWait
		case n.DrainCanceled || !n.Drained:
			kind = reconcileRestore
		default:
			size, known := targetSizes[n.Zone]
			if known && size-deleted[n.Zone] > n.DesiredSize && size-deleted[n.Zone] > 0 {
				kind = reconcileRetire
				deleted[n.Zone]++
			}
		}
		out = append(out, reconcileAction{Node: n, Kind: kind})
	}
	return out
}
