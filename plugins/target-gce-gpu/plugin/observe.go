package plugin

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// zoneView is one MIG as observed at the start of a Status or Scale call.
type zoneView struct {
	Ref       migRef
	State     migState
	Instances []managedInstance
	// Stockout is true while the zone is in stockout cooldown: a capacity
	// error younger than stockout_cooldown, or a creation failing now.
	Stockout bool
	// Codes are the capacity error codes behind Stockout.
	Codes []string
}

// stuckInstances names the instances of the running target that the MIG
// cannot create or start for lack of capacity. A VM the MIG creates to
// refill the pool is stuck the same way and looks the same; as many stuck
// creations as the pool still lacks are taken for those (the last ones
// listed) and left out. The pool's share of a zone in stockout is lowered
// to what it holds (poolSplit), so this guess only matters until then.
func (z zoneView) stuckInstances() []string {
	var starts, creations []string
	for _, in := range z.Instances {
		switch {
		case in.stuckStart():
			starts = append(starts, in.Name)
		case in.stuckCreation():
			creations = append(creations, in.Name)
		}
	}
	keep := max(int64(len(creations))-z.refillsPending()-z.surge(), 0)
	return append(starts, creations[:keep]...)
}

// settled is the #839 rule: a MIG is ready when stable, or when the only
// things keeping it unstable are creations or starts failing for stockout
// or quota, and the standby pool's own work (VMs stopping into it, VMs
// created to refill it), which does not change the serving count.
func (z zoneView) settled() bool {
	if z.State.Stable {
		return true
	}
	pending, creating := 0, int64(0)
	for _, in := range z.Instances {
		switch {
		case in.CurrentAction == actionNone && !in.stopping():
			continue
		case in.inPool() || in.stuck():
			pending++
		case z.State.Updating && in.CurrentAction == actionDeleting:
			pending++ // an old VM leaving once its replacement runs (rollout.go)
		case in.CurrentAction == actionCreating:
			pending++
			creating++
		default:
			return false
		}
	}
	// CREATING instances beyond what the pool lacks and a rollout's surge
	// are workers booting. A rollout paused with nothing pending is settled.
	return (pending > 0 || z.State.Updating) && creating <= z.refillsPending()+z.surge()
}

// running counts RUNNING instances with no pending action, at most the
// target size: a rollout's surge VM and the old VM it replaces are one
// worker's capacity, not two.
func (z zoneView) running() int64 {
	var n int64
	for _, in := range z.Instances {
		if in.Status == instanceRunning && in.CurrentAction == actionNone {
			n++
		}
	}
	if z.State.Updating {
		n = min(n, z.State.TargetSize)
	}
	return n
}

// observation is the state of a policy's MIGs and Nomad pool.
type observation struct {
	Zones     []zoneView
	Nodes     []nomadNode
	PoolReady bool
}

func (o observation) targetTotal() int64 {
	var t int64
	for _, z := range o.Zones {
		t += z.State.TargetSize
	}
	return t
}

// observeZones reads every MIG concurrently.
func observeZones(ctx context.Context, migs migAPI, cfg targetConfig, now time.Time) ([]zoneView, error) {
	out := make([]zoneView, len(cfg.migs))
	errs := make([]error, len(cfg.migs))
	var wg sync.WaitGroup
	for i, ref := range cfg.migs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = observeZone(ctx, migs, ref, now.Add(-cfg.stockoutCooldown))
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func observeZone(ctx context.Context, migs migAPI, ref migRef, cooldownStart time.Time) (zoneView, error) {
	z := zoneView{Ref: ref}
	var err error
	if z.State, err = migs.Get(ctx, ref); err != nil {
		return z, err
	}
	if z.Instances, err = migs.ListManagedInstances(ctx, ref); err != nil {
		return z, err
	}
	z.markCanaries()
	errs, err := migs.ListErrors(ctx, ref)
	if err != nil {
		return z, err
	}
	codes := map[string]bool{}
	for _, e := range errs {
		if isCapacityCode(e.Code) && e.Time.After(cooldownStart) {
			codes[e.Code] = true
		}
	}
	for _, in := range z.Instances {
		if in.stuck() {
			codes[in.LastAttemptCode] = true
		}
	}
	z.Stockout = len(codes) > 0
	z.Codes = sortedKeys(codes)
	return z, nil
}

// observe reads the MIGs and the Nomad pool concurrently. On error, Zones
// is nil unless every MIG was read.
func observe(ctx context.Context, migs migAPI, nodes nodeAPI, cfg targetConfig, now time.Time) (observation, error) {
	var (
		obs              observation
		zoneErr, nodeErr error
		wg               sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		obs.Nodes, obs.PoolReady, nodeErr = nodes.PoolNodes(ctx, cfg.pool)
	}()
	obs.Zones, zoneErr = observeZones(ctx, migs, cfg, now)
	wg.Wait()
	if zoneErr != nil {
		// A partial view of the MIGs would give a wrong Count.
		obs.Zones = nil
	}
	return obs, errors.Join(zoneErr, nodeErr)
}

// stockoutSummary lists the zones in stockout with their codes, for errors
// and Status meta ("zone-a: ZONE_RESOURCE_POOL_EXHAUSTED").
func stockoutSummary(zones []zoneView) []string {
	var out []string
	for _, z := range zones {
		if z.Stockout {
			codes := slices.Clone(z.Codes)
			sort.Strings(codes)
			out = append(out, z.Ref.Zone+": "+joinCodes(codes))
		}
	}
	return out
}

func joinCodes(codes []string) string { return strings.Join(codes, "+") }
