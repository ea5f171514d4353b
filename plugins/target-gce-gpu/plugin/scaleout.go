package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// scaleOut grows the MIGs to want workers in total. Zones in stockout keep
// the instances they have and give up the ones they cannot create; their
// share goes to the other zones, also when a stockout shows up while
// waiting. It fails only when no zone can take the missing workers.
func (r *run) scaleOut(ctx context.Context, obs observation, want int64) (changed bool, err error) {
	waitCtx, cancel := context.WithTimeout(ctx, r.cfg.scaleTimeout)
	defer cancel()
	zones := obs.Zones
	// Leaving workers stay in their MIGs: want counts the others, and
	// each zone grows as if it did not have them (leaving.go).
	leaving := leavingByZone(obs.Zones, obs.Nodes, r.p.now())
	var grownSoFar []zoneView
	for round := 0; round <= len(zones); round++ {
		resized, unplaced, err := r.applyScaleOut(waitCtx, zones, want, leaving)
		changed = changed || len(resized) > 0
		if err != nil {
			return changed, err
		}
		// Keep waiting for zones grown in earlier rounds too.
		grownSoFar = mergeZones(grownSoFar, resized)
		if unplaced > 0 {
			return changed, fmt.Errorf("no zone can take %d of %d workers: zones in stockout: %s",
				unplaced, want, strings.Join(stockoutSummary(zones), ", "))
		}
		stockout, err := r.waitScaleOut(waitCtx, grownSoFar)
		if err != nil || !stockout {
			return changed, err
		}
		// A zone ran out while we waited: observe again and move its
		// missing workers in the next round.
		if zones, err = observeZones(waitCtx, r.migs, r.cfg, r.p.now()); err != nil {
			return changed, err
		}
	}
	return changed, fmt.Errorf("zones kept running out of capacity: %s", strings.Join(stockoutSummary(zones), ", "))
}

// applyScaleOut trims the creations and starts stuck in stockout zones,
// starts stopped VMs and resizes the zones that grow (planGrowth): stopped
// VMs first, placed round-robin as far as each zone's pool allows, then
// new VMs so that the zones end as even as round-robin allows. A zone never
// shrinks in a scale-out, so one above its share keeps what it has and the
// others share the rest, and a zone in stockout keeps what it has and
// grows no further. After a stockout the zone it hit is therefore the one
// that grows first. Sizes are planned without each zone's leaving workers
// and the MIGs resized with them. It returns the zones it grew and how many
// workers no zone could take.
func (r *run) applyScaleOut(ctx context.Context, zones []zoneView, want int64, leaving map[string]int64) ([]zoneView, int64, error) {
	in := make([]growZone, len(zones))
	for i, z := range zones {
		in[i] = growZone{Floor: z.State.TargetSize - leaving[z.Ref.Zone], Stopped: int64(len(z.pooledNames())), Stockout: z.Stockout}
		if z.Stockout {
			in[i].Floor -= int64(len(z.stuckInstances()))
		}
	}
	plan, unplaced := planGrowth(want, in)
	for i, z := range zones {
		plan[i].Target += leaving[z.Ref.Zone]
	}
	r.log.Trace("scale-out plan", "zones", hclog.Fmt("%+v", in), "plan", hclog.Fmt("%+v", plan), "unplaced", unplaced)
	var (
		grown []zoneView
		errs  []error
	)
	for i, z := range zones {
		log := r.log.With("zone", z.Ref.Zone, "mig", z.Ref.Name)
		if stuck := z.stuckInstances(); z.Stockout && len(stuck) > 0 {
			log.Info("zone out of capacity: giving up instances it cannot create or start", "instances", stuck, "codes", z.Codes)
			if err := r.migs.DeleteInstances(ctx, z.Ref, stuck, pluginkit.NewRequestID()); err != nil {
				errs = append(errs, err)
			}
		}
		size := z.State.TargetSize
		if k := plan[i].Start; k > 0 {
			names := z.pooledNames()[:k]
			log.Info("starting stopped instances from the standby pool", "instances", names)
			if err := r.migs.StartInstances(ctx, z.Ref, names, pluginkit.NewRequestID()); err != nil {
				errs = append(errs, err)
				continue
			}
			size += k
			grown = append(grown, z)
		}
		if plan[i].Target > size {
			log.Info("resizing MIG", "from", size, "to", plan[i].Target)
			if err := r.migs.Resize(ctx, z.Ref, plan[i].Target, pluginkit.NewRequestID()); err != nil {
				errs = append(errs, err)
				continue
			}
			grown = mergeZones(grown, []zoneView{z})
		}
	}
	return grown, unplaced, errors.Join(errs...)
}

// waitScaleOut polls the grown MIGs until they are settled or one of them
// cannot create or start instances for lack of capacity (stockout true).
func (r *run) waitScaleOut(ctx context.Context, grown []zoneView) (stockout bool, err error) {
	pending := grown
	for {
		var next []zoneView
		for _, z := range pending {
			view, err := observeZone(ctx, r.migs, z.Ref, r.p.now().Add(-r.cfg.stockoutCooldown))
			if err != nil {
				return false, err
			}
			if len(view.stuckInstances()) > 0 {
				r.log.Warn("zone ran out of capacity during scale-out", "zone", z.Ref.Zone, "codes", view.Codes)
				return true, nil
			}
			// A Spot MIG losing VMs to preemption is not settled until
			// Spot capacity lets it recreate them, which may be never:
			// stop waiting, so that the Scale ends and the next Status
			// moves their share to the standard MIGs (fallBack).
			if preempted := view.preemptedNames(); r.spot && len(preempted) > 0 {
				r.log.Warn("spot instances preempted during scale-out; the next status moves their share to standard",
					"zone", z.Ref.Zone, "mig", z.Ref.Name, "instances", preempted)
				continue
			}
			// Settled, not stable: the pool refilling in the background
			// keeps a MIG unstable for initialDelaySec and more.
			if !view.settled() {
				next = append(next, view)
			}
		}
		if pending = next; len(pending) == 0 {
			return false, nil
		}
		timer := time.NewTimer(r.cfg.pollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, fmt.Errorf("MIG %s not stable within scale_timeout %s: %w", pending[0].Ref, r.cfg.scaleTimeout, ctx.Err())
		case <-timer.C:
		}
	}
}

// mergeZones adds the zones of more that a does not have yet.
func mergeZones(a, more []zoneView) []zoneView {
	for _, z := range more {
		found := false
		for _, have := range a {
			found = found || have.Ref == z.Ref
		}
		if !found {
			a = append(a, z)
		}
	}
	return a
}
