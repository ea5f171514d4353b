package plugin

import (
	"context"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

// Host maintenance. cmd/maintenance-drain marks a node whose host GCE is
// about to stop (a maintenance, or a Spot preemption) with a notice in its
// dynamic metadata (internal/nodeops), then drains it 10 minutes later. The
// plugin keeps the policy's count serving through the event:
//
//   - A leaving worker is not capacity: Status's Count leaves it out, so a
//     strategy that wants N workers still sees the fleet one short and
//     asks for N, and Scale sizes the MIGs to N plus the leaving workers
//     (servingTotal, and the zone plans of scaleOut and scaleIn work on
//     the MIGs' sizes without their leaving workers). The replacement is
//     created in the leaving worker's own zone, so the zones stay even.
//   - The plugin never drains, stops or deletes a leaving node: the daemon
//     drains it, scale-in selection skips it, and reconciliation drops this
//     plugin's own markers from it rather than finishing or undoing a
//     scale-in on it.
//   - When the host comes back (leavingBack), the node is given back: made
//     eligible, then its notice is cleared. Count then holds one worker
//     more than the strategy asked for, and the next scale-in removes one
//     as usual.
//   - The leaving node's own drain does not make the policy not ready: the
//     replacement was ordered before it started.

// leavingStale is how long after its leaving_at a notice is believed on a
// node that is ready and never went away: the maintenance was withdrawn or
// postponed after the daemon had drained the node (the daemon, a system job
// drained with it, no longer runs there to clear the notice), or the host
// restarted faster than Nomad noticed. Beyond that the node is given back.
const leavingStale = time.Hour

// leavingPhase is where a node stands in a host maintenance.
type leavingPhase int

const (
	// leavingNone: no notice; the node is capacity like any other.
	leavingNone leavingPhase = iota
	// leavingAnnounced: the host goes away soon or is away now: the node is
	// not capacity and nothing but the daemon touches it.
	leavingAnnounced
	// leavingBack: the host came back (the node is ready again after
	// leaving_at and its status changed since the notice), or the notice
	// is stale: the node is given back and counts again.
	leavingBack
)

func (p leavingPhase) String() string {
	return [...]string{"none", "announced", "back"}[p]
}

// phaseOf decides a node's leaving phase at now. A notice with a missing
// or malformed time stays announced: the plugin cannot tell when such a
// host is back, and an operator clears it (the error is logged).
func phaseOf(n nomadNode, now time.Time) leavingPhase {
	if n.Notice == nil {
		return leavingNone
	}
	at, seen := n.Notice.LeavingAt, n.Notice.NoticedAt
	if at.IsZero() || seen.IsZero() || n.Status != api.NodeStatusReady || n.Draining || now.Before(at) {
		return leavingAnnounced
	}
	if n.StatusUpdatedAt.After(seen) || !now.Before(at.Add(leavingStale)) {
		return leavingBack
	}
	return leavingAnnounced
}

// leavingByZone counts, per zone, the workers that are announced as
// leaving and that their MIG still counts in its target size: a member not
// being deleted and not parked in the standby pool. An instance recreated
// under the same name registers a new node; only its newest node counts,
// so a down node left from before does not hide the new worker.
func leavingByZone(zones []zoneView, nodes []nomadNode, now time.Time) map[string]int64 {
	idx := indexInstances(zones)
	newest := map[string]nomadNode{}
	for _, n := range nodes {
		in, zone, ok := idx.lookup(zones, n)
		if !ok {
			continue
		}
		key := zone + "/" + in.Name
		if have, seen := newest[key]; !seen || n.CreateIndex > have.CreateIndex {
			newest[key] = n
		}
	}
	out := map[string]int64{}
	for _, n := range newest {
		in, zone, _ := idx.lookup(zones, n)
		standby := n.Marker != nil && n.Marker.Standby
		if phaseOf(n, now) == leavingAnnounced && in.CurrentAction != actionDeleting && !standby {
			out[zone]++
		}
	}
	return out
}

// servingTotal is the policy's count as Status reports it: the MIGs'
// target sizes without the workers announced as leaving.
func servingTotal(o observation, leaving map[string]int64) int64 {
	t := o.targetTotal()
	for _, z := range o.Zones {
		t -= leaving[z.Ref.Zone]
	}
	return t
}

// poolSettledButLeaving reports whether the only nodes that keep the pool
// unstable (scaleutils: initializing or draining) are leaving nodes being
// drained by the daemon. Such a drain can take the whole drain deadline
// (45 min by default), and its replacement was ordered before it started:
// it must not stop the policy from scaling.
func poolSettledButLeaving(nodes []nomadNode) bool {
	for _, n := range nodes {
		if n.Status == api.NodeStatusInit || (n.Draining && n.Notice == nil) {
			return false
		}
	}
	return true
}

// metaKeyZoneLeaving is the per-zone Status meta key of leavingMeta.
func metaKeyZoneLeaving(zone string) string { return "zone." + zone + ".leaving" }

// leavingMeta adds to Status meta, per zone, how many workers are leaving
// (announced by cmd/maintenance-drain and not counted in Count).
func leavingMeta(meta map[string]string, zones []zoneView, leaving map[string]int64) {
	for _, z := range zones {
		meta[metaKeyZoneLeaving(z.Ref.Zone)] = strconv.FormatInt(leaving[z.Ref.Zone], 10)
	}
}

// giveBackReturned gives back the nodes whose host is back from
// maintenance: eligible first, then the notice cleared, so that a crash in
// between leaves a node that is still recognised (and counted) as back
// rather than one ineligible for ever. Nodes with a malformed notice are
// reported. It returns whether a node was given back; failures are logged
// and retried at the next call, since one node must not stop all scaling.
func (r *run) giveBackReturned(ctx context.Context, nodes []nomadNode) (changed bool) {
	now := r.p.now()
	for _, n := range nodes {
		if n.Notice == nil {
			continue
		}
		log := r.log.With("node", n.Name, "instance", n.Instance, "zone", n.Zone)
		if n.NoticeErr != nil {
			log.Warn("node is marked as leaving with a notice that cannot be read: not counted until an operator clears it",
				"error", n.NoticeErr)
		}
		if phaseOf(n, now) != leavingBack {
			continue
		}
		log.Info("host is back from maintenance: giving the node back", "kind", n.Notice.Kind,
			"leaving_at", n.Notice.LeavingAt, "stale", !n.StatusUpdatedAt.After(n.Notice.NoticedAt))
		if err := r.nodes.Restore(ctx, n.ID); err != nil {
			log.Warn("cannot make the node eligible again; retrying at the next evaluation", "error", err)
			continue
		}
		if err := r.nodes.ClearNotice(ctx, n.ID); err != nil {
			log.Warn("cannot clear the node's leaving notice; retrying at the next evaluation", "error", err)
			continue
		}
		changed = true
	}
	return changed
}

// ClearNotice implements nodeAPI.
func (n nomadNodes) ClearNotice(ctx context.Context, nodeID string) error {
	return n.applyMeta(ctx, nodeID, nodeops.Clear())
}
