package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
)

// run carries what one Status or Scale call works with.
type run struct {
	p     *Plugin
	cfg   targetConfig
	st    *policyState
	migs  migAPI
	nodes nodeAPI
	// locks takes the policy's writer lock (writer.go).
	locks writerLocks
	log   hclog.Logger
	// spot is set on the Spot tier's run (spotTier).
	spot bool
}

// instanceIndex finds a MIG instance by zone and name.
type instanceIndex map[string]managedInstance

func indexInstances(zones []zoneView) instanceIndex {
	idx := instanceIndex{}
	for _, z := range zones {
		for _, in := range z.Instances {
			idx[z.Ref.Zone+"/"+in.Name] = in
		}
	}
	return idx
}

// lookup finds the instance behind a node: by the node's zone attribute,
// or by name in any of the policy's zones when the attribute is missing.
func (idx instanceIndex) lookup(zones []zoneView, n nomadNode) (managedInstance, string, bool) {
	if n.Zone != "" {
		in, ok := idx[n.Zone+"/"+n.Instance]
		return in, n.Zone, ok
	}
	for _, z := range zones {
		if in, ok := idx[z.Ref.Zone+"/"+n.Instance]; ok {
			return in, z.Ref.Zone, true
		}
	}
	return managedInstance{}, "", false
}

// markedNodes joins the policy's marked nodes with their instances.
func markedNodes(obs observation, policy string) []markedNode {
	idx := indexInstances(obs.Zones)
	var out []markedNode
	for _, n := range obs.Nodes {
		if n.Marker == nil || n.Marker.Policy != policy {
			continue
		}
		in, zone, found := idx.lookup(obs.Zones, n)
		out = append(out, markedNode{
			NodeID: n.ID, NodeName: n.Name, Instance: n.Instance, Zone: zone,
			DesiredSize: n.Marker.DesiredSize, MarkedAt: n.Marker.MarkedAt,
			Draining: n.Draining, DrainCanceled: n.LastDrainStatus == string(api.DrainStatusCanceled),
			Drained:     !n.Draining && !n.Eligible && n.LastDrainStatus == string(api.DrainStatusComplete),
			NodeReady:   n.Status == api.NodeStatusReady,
			InMIG:       found && in.CurrentAction != actionDeleting,
			InPool:      found && in.inPool(),
			Standby:     n.Marker.Standby,
			Leaving:     n.Notice != nil,
			CreateIndex: n.CreateIndex,
		})
	}
	return out
}

// reconcile finishes or undoes scale-ins that a crash, a failed delete or a
// failover left behind. changed is true when it deleted instances or gave
// nodes back; waiting is true while marked nodes are still draining.
func (r *run) reconcile(ctx context.Context, obs observation) (changed, waiting bool, err error) {
	// Not a scaling event (no recordEvent): the node was capacity before
	// its host went away.
	back := r.giveBackReturned(ctx, obs.Nodes)
	defer func() { changed = changed || back }()
	targets := map[string]int64{}
	for _, z := range obs.Zones {
		targets[z.Ref.Zone] = z.State.TargetSize
	}
	retires := map[string][]nodeCandidate{}
	var errs []error
	for _, a := range planReconcile(markedNodes(obs, r.cfg.policyKey), targets) {
		log := r.log.With("node", a.Node.NodeName, "zone", a.Node.Zone, "instance", a.Node.Instance)
		switch a.Kind {
		case reconcileWait:
			waiting = true
		case reconcileRetire:
			n := a.Node
			retires[n.Zone] = append(retires[n.Zone], nodeCandidate{
				NodeID: n.NodeID, NodeName: n.NodeName, Instance: n.Instance, Zone: n.Zone, CreateIndex: n.CreateIndex,
			})
		case reconcileRestore:
			log.Info("giving back a node marked by an interrupted scale-in")
			changed = true
			// Not an error of the call: failing Status here would stop all
			// scaling over one node. A ready node that could not be given
			// back keeps the policy not ready and is retried next call; a
			// down node cannot take metadata writes at all.
			if err := r.restore(ctx, a.Node); err != nil && a.Node.NodeReady {
				log.Warn("cannot give node back yet", "error", err)
				waiting = true
			} else if err != nil {
				log.Debug("cannot give back a node that is down", "error", err)
			}
		case reconcileForget:
			if a.Node.NodeReady {
				if err := r.nodes.ClearMarker(ctx, a.Node.NodeID); err != nil {
					log.Debug("cannot clear marker of a node whose instance is gone", "error", err)
				}
			}
		}
	}
	room := poolRoom(r.cfg.standby.size, obs.Zones)
	for i, z := range obs.Zones {
		nodes := retires[z.Ref.Zone]
		if len(nodes) == 0 {
			continue
		}
		r.log.Info("finishing an interrupted scale-in", "zone", z.Ref.Zone, "nodes", len(nodes))
		changed = true
		if _, _, err := r.retire(ctx, z, nodes, room[i], r.p.now()); err != nil {
			errs = append(errs, fmt.Errorf("reconcile: %w", err))
		}
	}
	if changed && len(errs) == 0 {
		r.recordEvent(ctx, r.p.now())
	}
	return changed, waiting, errors.Join(errs...)
}

func (r *run) restore(ctx context.Context, n markedNode) error {
	if err := r.nodes.Restore(ctx, n.NodeID); err != nil {
		return err
	}
	return r.nodes.ClearMarker(ctx, n.NodeID)
}
