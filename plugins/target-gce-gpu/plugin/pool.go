package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// maintainPool keeps each MIG's standby pool at its share of standby_size
// (poolSplit) with the standby policy the plugin needs (mode MANUAL,
// initialDelaySec = standby_initial_delay), and recycles stopped VMs older
// than standby_max_age. The MIG does the work in the background: it
// creates VMs, lets them pull the image for initialDelaySec, and stops
// them. With standby_size 0 it only empties a pool left from before and
// never touches the standby policy, so a policy without a pool makes no
// call. It reports whether it changed a MIG.
func (r *run) maintainPool(ctx context.Context, zones []zoneView) (changed bool, err error) {
	sc := r.cfg.standby
	manage := sc.size > 0
	if !manage {
		left := false
		for _, z := range zones {
			left = left || z.State.Standby.Stopped > 0
		}
		if !left {
			return false, nil
		}
	}
	pz := make([]poolZone, len(zones))
	for i, z := range zones {
		pz[i] = poolZone{Members: z.poolMembers(), Stockout: z.Stockout}
	}
	share := poolSplit(sc.size, pz)
	recycle, err := r.recyclePlan(ctx, zones)
	if err != nil {
		return false, err
	}
	var errs []error
	for i, z := range zones {
		log := r.log.With("zone", z.Ref.Zone, "mig", z.Ref.Name)
		have := z.State.Standby
		if have.Mode == "" {
			have.Mode = standbyModeManual
		}
		want := standbySettings{Stopped: share[i], Mode: standbyModeManual, InitialDelay: sc.initialDelay}
		if !manage {
			want.Mode, want.InitialDelay = have.Mode, have.InitialDelay
		}
		members := z.poolMembers()
		if name := recycle[i]; name != "" {
			log.Info("recycling a stopped VM older than standby_max_age", "instance", name)
			if err := r.migs.DeleteInstances(ctx, z.Ref, []string{name}, pluginkit.NewRequestID()); err != nil {
				errs = append(errs, err)
				continue
			}
			changed = true
			// Deleting a pool member lowers targetStoppedSize.
			have.Stopped--
			members--
		}
		if manage && sc.refillDelay > 0 {
			want.Stopped = refillTarget(share[i], members, have.Stopped, r.poolShortFor(z.Ref, share[i], members), sc.refillDelay)
		} else {
			// No delay now: a shortage seen under an earlier delay must
			// not count if one is set again.
			r.forgetPoolShort(z.Ref)
		}
		if have != want {
			log.Info("setting the standby pool", "stopped_from", have.Stopped, "stopped_to", want.Stopped,
				"initial_delay", want.InitialDelay)
			if err := r.migs.SetStandby(ctx, z.Ref, want, pluginkit.NewRequestID()); err != nil {
				errs = append(errs, err)
				continue
			}
			changed = true
		}
	}
	return changed, errors.Join(errs...)
}

// poolShortFor is how long the zone's pool has been short of its share,
// as this plugin process has watched it (0 when it is not short, and on
// the first sight of it short).
func (r *run) poolShortFor(ref migRef, share, members int64) time.Duration {
	key := ref.String()
	now := r.p.now()
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	if members >= share {
		delete(r.st.poolShort, key)
		return 0
	}
	since, ok := r.st.poolShort[key]
	if !ok {
		if r.st.poolShort == nil {
			r.st.poolShort = map[string]time.Time{}
		}
		r.st.poolShort[key] = now
		r.log.Info("standby pool short; scale-ins refill it, the MIG creates VMs for it after standby_refill_delay",
			"zone", ref.Zone, "mig", ref.Name, "stopped", members, "share", share, "standby_refill_delay", r.cfg.standby.refillDelay)
		return 0
	}
	return max(now.Sub(since), 0)
}

// forgetPoolShort drops when the zone's pool was first seen short.
func (r *run) forgetPoolShort(ref migRef) {
	r.st.mu.Lock()
	delete(r.st.poolShort, ref.String())
	r.st.mu.Unlock()
}

// refillMeta adds, for each zone whose short pool waits out
// standby_refill_delay, when the MIG will be asked to create VMs for it
// (zone.<zone>.standby_refill_at, RFC 3339).
func (r *run) refillMeta(meta map[string]string, zones []zoneView) {
	if r.cfg.standby.size == 0 || r.cfg.standby.refillDelay == 0 {
		return
	}
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	for _, z := range zones {
		if since, ok := r.st.poolShort[z.Ref.String()]; ok {
			meta["zone."+z.Ref.Zone+".standby_refill_at"] = since.Add(r.cfg.standby.refillDelay).UTC().Format(time.RFC3339)
		}
	}
}

// recyclePlan reads when the zones' stopped VMs stopped (instances.get,
// cached per VM while it stays stopped) and picks those to recycle.
func (r *run) recyclePlan(ctx context.Context, zones []zoneView) ([]string, error) {
	if r.cfg.standby.size == 0 {
		return make([]string, len(zones)), nil
	}
	rz := make([]recycleZone, len(zones))
	seen := map[string]bool{}
	for i, z := range zones {
		rz[i].Busy = z.refillsPending() > 0 || z.poolMembers() > int64(len(z.pooledNames()))
		if rz[i].Busy {
			continue
		}
		for _, name := range z.pooledNames() {
			key := z.Ref.Zone + "/" + name
			seen[key] = true
			at, err := r.stoppedAt(ctx, z.Ref, name, key)
			if err != nil {
				return nil, err
			}
			rz[i].Stopped = append(rz[i].Stopped, pooledVM{Name: name, StoppedAt: at})
		}
	}
	r.st.mu.Lock()
	for key := range r.st.stoppedAt {
		if !seen[key] {
			delete(r.st.stoppedAt, key)
		}
	}
	r.st.mu.Unlock()
	return planRecycle(rz, r.p.now(), r.cfg.standby.maxAge), nil
}

// stoppedAt returns a stopped VM's stop time from the cache or GCE. A VM
// keeps its name when it is started and stopped again; the cache entry is
// dropped as soon as the VM is seen not stopped.
func (r *run) stoppedAt(ctx context.Context, ref migRef, name, key string) (time.Time, error) {
	r.st.mu.Lock()
	at, ok := r.st.stoppedAt[key]
	r.st.mu.Unlock()
	if ok {
		return at, nil
	}
	at, err := r.migs.StoppedAt(ctx, ref, name)
	if err != nil {
		return time.Time{}, err
	}
	r.st.mu.Lock()
	if r.st.stoppedAt == nil {
		r.st.stoppedAt = map[string]time.Time{}
	}
	r.st.stoppedAt[key] = at
	r.st.mu.Unlock()
	return at, nil
}

// keepPool observes the MIGs again and maintains the pool after a Scale.
// A failure is logged, not returned: the scaling itself succeeded, and the
// next Status tries again.
func (r *run) keepPool(ctx context.Context) {
	if r.cfg.standby.size == 0 {
		// Nothing to refill; a pool left from before is emptied by Status.
		return
	}
	zones, err := observeZones(ctx, r.migs, r.cfg, r.p.now())
	if err == nil {
		_, err = r.maintainPool(ctx, zones)
	}
	if err != nil {
		r.log.Warn("cannot maintain the standby pool; the next Status tries again", "error", err)
	}
}

// retire removes drained workers of one zone: it stops up to room of them
// into the pool and deletes the rest. Before its stop, a node's marker is
// rewritten as a standby marker, so that whoever sees the node again (a
// started VM's node comes back drained and ineligible) gives it back
// instead of finishing a scale-in; a node whose marker cannot be rewritten
// is deleted instead. It returns the instances it stopped and deleted.
func (r *run) retire(ctx context.Context, z zoneView, drained []nodeCandidate, room int64, now time.Time) (stopped, deleted []string, err error) {
	stop, del := retireNodes(drained, room)
	var errs []error
	var toStop []string
	for _, c := range stop {
		m := scaleInMarker{Policy: r.cfg.policyKey, Standby: true, MarkedAt: now}
		if err := r.nodes.SetMarker(ctx, c.NodeID, m); err != nil {
			r.log.Warn("cannot mark node for the standby pool; deleting its instance instead", "node", c.NodeName, "error", err)
			del = append(del, c)
			continue
		}
		toStop = append(toStop, c.Instance)
	}
	log := r.log.With("zone", z.Ref.Zone, "mig", z.Ref.Name)
	if len(toStop) > 0 {
		log.Info("stopping drained instances into the standby pool", "instances", toStop)
		if err := r.migs.StopInstances(ctx, z.Ref, toStop, pluginkit.NewRequestID()); err != nil {
			errs = append(errs, fmt.Errorf("%w (nodes stay drained and marked; the next Status or Scale gives them back)", err))
		} else {
			stopped = toStop
		}
	}
	var toDelete []string
	for _, c := range del {
		toDelete = append(toDelete, c.Instance)
	}
	if len(toDelete) > 0 {
		log.Info("deleting drained instances", "instances", toDelete)
		if err := r.migs.DeleteInstances(ctx, z.Ref, toDelete, pluginkit.NewRequestID()); err != nil {
			errs = append(errs, fmt.Errorf("%w (nodes stay drained and marked; the next Status or Scale deletes them)", err))
		} else {
			deleted = toDelete
		}
	}
	return stopped, deleted, errors.Join(errs...)
}
