package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// scaleInPick is what a scale-in removes from one zone.
type scaleInPick struct {
	Zone zoneView
	// Stuck are creations that fail for lack of capacity: no VM, no node,
	// nothing to drain.
	Stuck []string
	// Nodes are the drained-then-deleted workers.
	Nodes []nodeCandidate
	// Desired is the MIG's target size once the scale-in is done.
	Desired int64
}

// scaleIn shrinks the MIGs to want workers in total: first creations stuck
// in stockout, then idle workers chosen per zone to keep the split
// balanced, each drained before exactly its instance is deleted.
func (r *run) scaleIn(ctx context.Context, obs observation, want int64) (changed bool, err error) {
	picks, err := r.planScaleIn(ctx, obs, want)
	if err != nil {
		return false, err
	}
	var errs []error
	for _, pk := range picks {
		if len(pk.Stuck) > 0 {
			r.log.Info("removing instances that cannot be created", "zone", pk.Zone.Ref.Zone, "instances", pk.Stuck)
			changed = true
			errs = append(errs, r.migs.DeleteInstances(ctx, pk.Zone.Ref, pk.Stuck, pluginkit.NewRequestID()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return changed, err
	}
	drained, err := r.drainThenDelete(ctx, picks)
	return changed || drained, err
}

// planScaleIn maps removable instances to nodes and selects the nodes.
// Each zone shrinks towards its round-robin share of want (scaleInSplit):
// first by the creations stuck in a stockout, which cost nothing, then by
// nodes in the order of the node selector.
func (r *run) planScaleIn(ctx context.Context, obs observation, want int64) ([]scaleInPick, error) {
	n := len(obs.Zones)
	// The zones shrink towards want counted without their leaving
	// workers, which stay in the MIGs until their hosts come back
	// (leaving.go).
	leaving := leavingByZone(obs.Zones, obs.Nodes, r.p.now())
	sizes, stuckCount := make([]int64, n), make([]int64, n)
	for i, z := range obs.Zones {
		sizes[i] = z.State.TargetSize - leaving[z.Ref.Zone]
		stuckCount[i] = int64(len(z.stuckInstances()))
	}
	afterStuck := scaleInSplit(sizes, zeroCosts(stuckCount), want)
	var left int64
	for _, k := range afterStuck {
		left += k
	}
	ranked := make([][]nodeCandidate, n)
	costs := make([][]int64, n)
	if left > want {
		byZone := candidatesByZone(obs)
		for i, z := range obs.Zones {
			loaded, err := r.withLoad(ctx, byZone[z.Ref.Zone])
			if err != nil {
				return nil, err
			}
			ranked[i] = selectNodes(loaded, len(loaded), r.cfg.selector)
			costs[i] = make([]int64, len(ranked[i]))
			for k, c := range ranked[i] {
				if r.cfg.selector == selectorLeastBusy || r.cfg.selector == selectorEmpty {
					costs[i][k] = removalCost(c)
				}
			}
		}
	}
	final := scaleInSplit(afterStuck, costs, want)
	picks := make([]scaleInPick, n)
	var planned int64
	for i, z := range obs.Zones {
		stuck, nodes := sizes[i]-afterStuck[i], afterStuck[i]-final[i]
		picks[i] = scaleInPick{Zone: z, Stuck: z.stuckInstances()[:stuck], Nodes: ranked[i][:nodes], Desired: final[i] + leaving[z.Ref.Zone]}
		planned += stuck + nodes
	}
	if remove := servingTotal(obs, leaving) - want; planned < remove {
		r.log.Warn("fewer workers can be removed than asked: only idle RUNNING instances with a ready Nomad node qualify",
			"asked", remove, "removing", planned)
	}
	return picks, nil
}

// candidatesByZone lists, per zone, the instances that may be drained and
// deleted: RUNNING with no pending action, backed by a ready Nomad node of
// the pool that is not draining, not already marked and not leaving (a
// leaving node is cmd/maintenance-drain's to drain, leaving.go).
func candidatesByZone(obs observation) map[string][]nodeCandidate {
	idx := indexInstances(obs.Zones)
	out := map[string][]nodeCandidate{}
	for _, n := range obs.Nodes {
		if n.Status != api.NodeStatusReady || n.Draining || n.Marker != nil || n.Notice != nil {
			continue
		}
		in, zone, ok := idx.lookup(obs.Zones, n)
		if !ok || in.Status != instanceRunning || in.CurrentAction != actionNone || in.Canary {
			continue
		}
		out[zone] = append(out[zone], nodeCandidate{
			NodeID: n.ID, NodeName: n.Name, Instance: in.Name, Zone: zone, CreateIndex: n.CreateIndex,
		})
	}
	return out
}

// withLoad fills in the allocation counts node selection needs.
func (r *run) withLoad(ctx context.Context, cands []nodeCandidate) ([]nodeCandidate, error) {
	out := make([]nodeCandidate, len(cands))
	for i, c := range cands {
		l, err := r.nodes.Load(ctx, c.NodeID)
		if err != nil {
			return nil, err
		}
		c.RunningAllocs, c.RunningNonSystem, c.GPUs = l.Running, l.RunningNonSystem, l.GPUs
		out[i] = c
	}
	return out, nil
}

// drainThenDelete marks, drains (in parallel) and then retires the
// selected nodes: stops them into the standby pool while it has room and
// deletes the rest. A failed drain gives every node back; a failed stop or
// delete leaves the markers for the next Status or Scale to finish.
func (r *run) drainThenDelete(ctx context.Context, picks []scaleInPick) (changed bool, err error) {
	var all []nodeCandidate
	desired := map[string]int64{}
	for _, pk := range picks {
		all = append(all, pk.Nodes...)
		desired[pk.Zone.Ref.Zone] = pk.Desired
	}
	if len(all) == 0 {
		return false, nil
	}
	now := r.p.now()
	for i, c := range all {
		m := scaleInMarker{Policy: r.cfg.policyKey, DesiredSize: desired[c.Zone], MarkedAt: now}
		if err := r.nodes.SetMarker(ctx, c.NodeID, m); err != nil {
			return false, errors.Join(err, r.giveBack(ctx, all[:i]))
		}
	}
	if err := r.drainAll(ctx, all); err != nil {
		// Nothing was deleted: this is not a scaling event.
		return false, errors.Join(err, r.giveBack(ctx, all))
	}
	var errs []error
	var deleted []zoneView
	var stoppedAll []string
	gone := map[string]bool{}
	zones := make([]zoneView, len(picks))
	for i, pk := range picks {
		zones[i] = pk.Zone
	}
	room := poolRoom(r.cfg.standby.size, zones)
	for i, pk := range picks {
		if len(pk.Nodes) == 0 {
			continue
		}
		stopped, del, err := r.retire(ctx, pk.Zone, pk.Nodes, room[i], r.p.now())
		errs = append(errs, err)
		stoppedAll = append(stoppedAll, stopped...)
		for _, name := range del {
			gone[name] = true
		}
		if len(stopped)+len(del) > 0 {
			deleted = append(deleted, pk.Zone)
		}
	}
	if err := r.waitRetired(ctx, deleted, stoppedAll); err != nil {
		return true, errors.Join(append(errs, err)...)
	}
	if r.cfg.purge {
		errs = append(errs, r.purge(ctx, picks, gone))
	}
	return true, errors.Join(errs...)
}

// A scale-in bounds its requests in flight against the Nomad API. Nomad
// closes the connections of one client address beyond
// limits.http_max_conns_per_client (100 by default), and watching a drain
// holds a connection for each blocking query: a scale-in of 200 nodes
// watched one connection each would have its requests cut, be retried and
// fail. The starts end before the watches begin, so 16 drain starts
// (writes that go through Raft) and then 32 blocking queries, 32
// connections at most, leave room for the agent's own requests and for
// Status's 8 node reads; 16 starts of a few milliseconds each start 200
// drains well within a second.
const (
	drainStartsInFlight  = 16
	drainWatchesInFlight = 32
)

// drainAll drains the nodes in parallel, each bounded by the drain
// deadline plus grace, and names every node whose drain failed. Every
// drain is started before any is watched, so that the nodes drain
// together in Nomad however many there are; the requests that start and
// watch them are bounded (drainStartsInFlight, drainWatchesInFlight).
func (r *run) drainAll(ctx context.Context, nodes []nodeCandidate) error {
	dctx, cancel := context.WithTimeout(ctx, r.cfg.drainDeadline+r.p.timing.drainGrace)
	defer cancel()
	opts := drainOptions{Deadline: r.cfg.drainDeadline, IgnoreSystemJobs: r.cfg.drainIgnoreSystemJobs}
	errs := make([]error, len(nodes))
	index := make([]uint64, len(nodes))
	started := make([]time.Time, len(nodes))
	starts := make(chan struct{}, drainStartsInFlight)
	var wg sync.WaitGroup
	for i, c := range nodes {
		starts <- struct{}{}
		wg.Go(func() {
			defer func() { <-starts }()
			r.log.Info("draining node", "node", c.NodeName, "zone", c.Zone, "instance", c.Instance)
			started[i] = time.Now()
			index[i], errs[i] = r.nodes.StartDrain(dctx, c.NodeID, opts)
		})
	}
	wg.Wait()
	wait := drainWatchWait(r.p.timing.blockWait, len(nodes))
	watches := make(chan struct{}, drainWatchesInFlight)
	for i, c := range nodes {
		if errs[i] != nil {
			continue
		}
		wg.Go(func() {
			if errs[i] = watchDrain(dctx, r.nodes, watches, c.NodeID, index[i], wait); errs[i] == nil {
				r.p.tm.drain.Observe(time.Since(started[i]).Seconds())
			}
		})
	}
	wg.Wait()
	for i, c := range nodes {
		if errs[i] != nil {
			errs[i] = fmt.Errorf("drain node %s (instance %s, zone %s): %w", c.NodeName, c.Instance, c.Zone, errs[i])
		}
	}
	return errors.Join(errs...)
}

// watchDrain waits for one node's drain to end, taking a slot of slots
// for each request.
func watchDrain(ctx context.Context, nodes nodeAPI, slots chan struct{}, nodeID string, index uint64, wait time.Duration) error {
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("monitor drain of node %s: %w", nodeID, ctx.Err())
		}
		done, next, err := nodes.DrainDone(ctx, nodeID, index, wait)
		<-slots
		if err != nil || done {
			return err
		}
		index = next
	}
}

// drainWatchWait is how long one blocking query of a drain watch waits.
// With more drains than slots the watches take turns, so the wait is cut
// to keep each node asked about at least once per blockWait, as when
// every drain has its own connection: a finished drain is then seen as
// soon as without the bound.
func drainWatchWait(blockWait time.Duration, drains int) time.Duration {
	if drains <= drainWatchesInFlight {
		return blockWait
	}
	return blockWait * drainWatchesInFlight / time.Duration(drains)
}

// giveBack undoes a scale-in before anything was deleted: drains are
// canceled, nodes made eligible and markers cleared. It runs on its own
// deadline because the failed drain may have used up the call's.
func (r *run) giveBack(ctx context.Context, nodes []nodeCandidate) error {
	if lost := context.Cause(ctx); errors.Is(lost, errWriterLost) {
		// Another process may be changing the policy's nodes now: the
		// marked nodes are the next lock holder's to reconcile.
		r.log.Warn("not giving nodes back: the writer lock is lost; the next holder reconciles them", "nodes", len(nodes))
		return fmt.Errorf("roll back: %w", lost)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.p.timing.rollback)
	defer cancel()
	var errs []error
	for _, c := range nodes {
		r.log.Info("giving node back after a failed scale-in", "node", c.NodeName)
		if err := r.nodes.Restore(rctx, c.NodeID); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, r.nodes.ClearMarker(rctx, c.NodeID))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}

// waitRetired polls the MIGs until they are settled (deletions done, the
// pool's own refilling aside) and the instances stopped into the pool have
// stopped, bounded by scale_timeout.
func (r *run) waitRetired(ctx context.Context, zones []zoneView, stopped []string) error {
	wctx, cancel := context.WithTimeout(ctx, r.cfg.scaleTimeout)
	defer cancel()
	stopping := map[string]bool{}
	for _, name := range stopped {
		stopping[name] = true
	}
	pending := zones
	for len(pending) > 0 {
		var next []zoneView
		for _, z := range pending {
			view, err := observeZone(wctx, r.migs, z.Ref, r.p.now().Add(-r.cfg.stockoutCooldown))
			if err != nil {
				return err
			}
			done := view.settled()
			for _, in := range view.Instances {
				done = done && !(stopping[in.Name] && in.stopping()) && in.CurrentAction != actionDeleting
			}
			if !done {
				next = append(next, z)
			}
		}
		if pending = next; len(pending) == 0 {
			return nil
		}
		timer := time.NewTimer(r.cfg.pollInterval)
		select {
		case <-wctx.Done():
			timer.Stop()
			return fmt.Errorf("MIG %s not settled within scale_timeout %s: %w", pending[0].Ref, r.cfg.scaleTimeout, wctx.Err())
		case <-timer.C:
		}
	}
	return nil
}

// purge removes the Nomad nodes of deleted instances (node_purge). The
// nodes of instances stopped into the pool stay: they come back when the
// VM is started.
func (r *run) purge(ctx context.Context, picks []scaleInPick, deleted map[string]bool) error {
	var errs []error
	for _, pk := range picks {
		for _, c := range pk.Nodes {
			if deleted[c.Instance] {
				errs = append(errs, r.nodes.Purge(ctx, c.NodeID))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}
