package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// spotConfig is the Spot tier of a policy: zonal MIGs whose instance
// template uses the SPOT provisioning model, beside the standard MIGs of
// migs. Without spot_migs it is empty and nothing in this file runs.
type spotConfig struct {
	migs     []migRef
	share    float64
	cooldown time.Duration
	// policyKey marks the Spot tier's scale-ins in node markers, so that
	// each tier reconciles only its own interrupted scale-ins.
	policyKey string
}

func (s spotConfig) enabled() bool { return len(s.migs) > 0 }

// parseSpotConfig reads spot_migs, spot_share and spot_cooldown. A MIG may
// not be both standard and Spot: its workers would count twice.
func parseSpotConfig(p *pluginkit.Parser, project string, raw map[string]string, standard []migRef) spotConfig {
	s := spotConfig{share: p.Float(targetKeySpotShare), cooldown: p.Duration(targetKeySpotCooldown)}
	if strings.TrimSpace(raw[targetKeySpotMIGs]) == "" {
		return s
	}
	migs, err := parseMIGList(targetKeySpotMIGs, project, raw[targetKeySpotMIGs])
	p.Add(err)
	for i, m := range migs {
		if slices.ContainsFunc(standard, func(o migRef) bool { return o.Zone == m.Zone && o.Name == m.Name }) {
			p.Add(fmt.Errorf("%s entry %d %q: also in %s; a MIG is either standard or Spot", targetKeySpotMIGs, i+1, m.Zone+"/"+m.Name, targetKeyMIGs))
		}
	}
	s.migs = migs
	s.policyKey = policyKey(project+"|spot", migs)
	return s
}

// Meta keys of the tiers in Status (tier.<standard|spot>.<what>).
const (
	tierStandard = "standard"
	tierSpot     = "spot"
	// metaKeySpotStockout lists the Spot MIGs that are not grown: their
	// capacity codes, or PREEMPTED during spot_cooldown.
	metaKeySpotStockout = "spot_zones_unavailable"
	// codePreempted marks a Spot zone in spot_cooldown in Codes.
	codePreempted = "PREEMPTED"
	// preemptedWindow is the span of tier.spot.preempted_1h.
	preemptedWindow = time.Hour
)

func metaKeyTier(tier, what string) string { return "tier." + tier + "." + what }

// spotTier is the run of the policy's Spot MIGs: the same scale-out,
// scale-in and reconcile code, on the Spot MIGs only, without a standby
// pool and with markers of its own.
func (r *run) spotTier() *run {
	t := *r
	t.cfg.migs = r.cfg.spot.migs
	t.cfg.standby = standbyConfig{}
	t.cfg.policyKey = r.cfg.spot.policyKey
	t.log = r.log.With("tier", tierSpot)
	t.spot = true
	return &t
}

// observeSpot reads the Spot MIGs, records the preemptions it sees and
// marks a Spot zone in its spot_cooldown as in stockout (codePreempted), so
// that scale-outs leave it alone as they leave a zone in stockout.
func (r *run) observeSpot(ctx context.Context, nodes []nomadNode) (observation, error) {
	now := r.p.now()
	zones, err := observeZones(ctx, r.migs, r.spotTier().cfg, now)
	if err != nil {
		return observation{}, err
	}
	for i, z := range zones {
		last := r.st.spot.record(z.Ref, z.preemptedNames(), now)
		if !last.IsZero() && now.Sub(last) < r.cfg.spot.cooldown {
			zones[i].Stockout = true
			zones[i].Codes = append(zones[i].Codes, codePreempted)
		}
	}
	return observation{Zones: zones, Nodes: nodes}, nil
}

// preempted reports a Spot VM that GCE preempted: stopping or stopped,
// with the MIG recreating it (or about to). The MIG recreates it when Spot
// capacity allows; until then it is in the target size but serves nothing.
func (m managedInstance) preempted() bool {
	down := m.Status == instanceStopping || m.isStopped()
	return down && (m.CurrentAction == actionRecreating || m.CurrentAction == actionNone)
}

// actionRecreating is the MIG recreating an instance (after a preemption).
const actionRecreating = "RECREATING"

// preemptedNames lists the zone's preempted instances.
func (z zoneView) preemptedNames() []string {
	var out []string
	for _, in := range z.Instances {
		if in.preempted() {
			out = append(out, in.Name)
		}
	}
	return out
}

// booting counts the instances the MIG is creating or recreating: workers
// that will serve once they boot.
func (z zoneView) booting() int64 {
	var n int64
	for _, in := range z.Instances {
		if in.CurrentAction == actionCreating || in.CurrentAction == actionRecreating {
			n++
		}
	}
	return n
}

// tierStateOf summarises the two tiers for tierSplit.
func tierStateOf(std, spot observation, leavingStd, leavingSpot map[string]int64) tierState {
	t := tierState{Standard: servingTotal(std, leavingStd), Spot: servingTotal(spot, leavingSpot)}
	for _, z := range std.Zones {
		t.StandardOK = t.StandardOK || !z.Stockout
		if !z.Stockout {
			t.Warm += int64(len(z.pooledNames()))
		}
	}
	for _, z := range spot.Zones {
		t.SpotOK = t.SpotOK || !z.Stockout
	}
	return t
}

// fallBack moves the share of Spot MIGs that cannot serve it to the
// standard MIGs, at once and without waiting: their preempted instances and
// the creations they cannot make for lack of Spot capacity are deleted
// from the Spot MIGs, and the standard MIGs grow by as many (split across
// zones as a scale-out). The standard MIGs grow first, so that capacity is
// never lower than before. The count does not change. When no standard
// MIG can grow, the Spot MIGs keep trying.
func (r *run) fallBack(ctx context.Context, std, spot observation) (changed bool, err error) {
	moves := map[migRef][]string{}
	var k int64
	for _, z := range spot.Zones {
		names := z.preemptedNames()
		if z.Stockout {
			names = append(names, z.stuckInstances()...)
		}
		if len(names) > 0 {
			moves[z.Ref] = names
			k += int64(len(names))
		}
	}
	if k == 0 {
		return false, nil
	}
	leaving := leavingByZone(std.Zones, std.Nodes, r.p.now())
	if !tierStateOf(std, observation{}, leaving, nil).StandardOK {
		r.log.Warn("spot instances cannot serve and every standard MIG is in stockout; leaving them to the Spot MIGs", "instances", k)
		return false, nil
	}
	want := servingTotal(std, leaving) + k
	r.log.Info("moving the share of preempted or uncreatable spot instances to the standard MIGs", "instances", k, "standard_to", want)
	grown, unplaced, err := r.applyScaleOut(ctx, std.Zones, want, leaving)
	changed = len(grown) > 0
	if err != nil {
		return changed, fmt.Errorf("fall back to standard: %w", err)
	}
	k -= unplaced
	var errs []error
	for _, ref := range sortedRefs(moves) {
		names := moves[ref]
		if k <= 0 {
			break
		}
		names = names[:min(int64(len(names)), k)]
		k -= int64(len(names))
		r.log.Info("giving up spot instances; the standard MIGs took their share", "zone", ref.Zone, "mig", ref.Name, "instances", names)
		if err := r.migs.DeleteInstances(ctx, ref, names, pluginkit.NewRequestID()); err != nil {
			errs = append(errs, fmt.Errorf("fall back to standard: %w", err))
			continue
		}
		changed = true
	}
	return changed, errors.Join(errs...)
}

func sortedRefs(m map[migRef][]string) []migRef {
	out := make([]migRef, 0, len(m))
	for ref := range m {
		out = append(out, ref)
	}
	slices.SortFunc(out, func(a, b migRef) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// tierMeta adds the per-tier Status meta: target, serving, booting
// (creating or recreating) and preempted in the last hour.
func (r *run) tierMeta(meta map[string]string, std, spot observation) {
	now := r.p.now()
	for _, t := range []struct {
		name      string
		zones     []zoneView
		preempted int
	}{
		{tierStandard, std.Zones, 0},
		{tierSpot, spot.Zones, r.st.spot.since(now.Add(-preemptedWindow))},
	} {
		var target, serving, booting int64
		for _, z := range t.zones {
			target += z.State.TargetSize
			serving += z.running()
			booting += z.booting()
		}
		meta[metaKeyTier(t.name, "target")] = strconv.FormatInt(target, 10)
		meta[metaKeyTier(t.name, "serving")] = strconv.FormatInt(serving, 10)
		meta[metaKeyTier(t.name, "booting")] = strconv.FormatInt(booting, 10)
		meta[metaKeyTier(t.name, "preempted_1h")] = strconv.Itoa(t.preempted)
	}
	meta[metaKeySpotStockout] = strings.Join(stockoutSummary(spot.Zones), ", ")
}

// spotStatus is Status's part for the Spot tier: it reconciles the Spot
// tier's interrupted scale-ins and falls back from preempted Spot
// instances when act is true (Status holds the policy and no Scale runs),
// adds the tier meta, and returns the Spot tier's count (plus what a
// fallback added to the standard MIGs), whether it is ready, and the Spot
// MIGs as last observed.
func (r *run) spotStatus(ctx context.Context, std observation, meta map[string]string, act bool) (int64, bool, []zoneView, error) {
	spot, err := r.observeSpot(ctx, std.Nodes)
	if err != nil {
		return 0, false, nil, err
	}
	ready := true
	// Status counted the standard MIGs before a fallback grew them: the
	// difference is added to the Spot tier's count.
	stdBefore := servingTotal(std, leavingByZone(std.Zones, std.Nodes, r.p.now()))
	stdGrowth := int64(0)
	if act {
		changedRec, waiting, err := r.spotTier().reconcile(ctx, spot)
		if err != nil {
			return 0, false, nil, err
		}
		changedFB, err := r.fallBack(ctx, std, spot)
		if err != nil {
			return 0, false, nil, err
		}
		if changedRec || changedFB {
			// Count what the changes left; the MIGs are changing: not
			// ready this tick.
			if spot, err = r.observeSpot(ctx, std.Nodes); err != nil {
				return 0, false, nil, err
			}
			if std.Zones, err = observeZones(ctx, r.migs, r.cfg, r.p.now()); err != nil {
				return 0, false, nil, err
			}
			stdGrowth = servingTotal(std, leavingByZone(std.Zones, std.Nodes, r.p.now())) - stdBefore
			waiting = true
		}
		ready = !waiting
	}
	for _, z := range spot.Zones {
		ready = ready && z.settled()
	}
	r.tierMeta(meta, std, spot)
	r.p.tm.observeMIGs(spot.Zones, spot.Nodes)
	leaving := leavingByZone(spot.Zones, spot.Nodes, r.p.now())
	var nLeaving int64
	for _, z := range spot.Zones {
		nLeaving += leaving[z.Ref.Zone]
	}
	meta[metaKeyTier(tierSpot, "leaving")] = strconv.FormatInt(nLeaving, 10)
	meta[metaKeyDraining] = strconv.Itoa(atoi(meta[metaKeyDraining]) + countDraining(spot.Nodes, r.cfg.spot.policyKey))
	return servingTotal(spot, leaving) + stdGrowth, ready, spot.Zones, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// scaleTiers is Scale with a Spot tier: each tier is reconciled, preempted
// Spot instances fall back to standard, tierSplit decides each tier's
// share of want, and each tier grows or shrinks with the code of a policy
// without Spot (growth first, so that capacity never dips).
func (r *run) scaleTiers(ctx context.Context, want int64) error {
	spotRun := r.spotTier()
	var changed bool
	obs, spot, err := r.observeTiers(ctx)
	if err != nil {
		return err
	}
	recStd, _, err := r.reconcile(ctx, obs)
	if err != nil {
		return err
	}
	recSpot, _, err := spotRun.reconcile(ctx, spot)
	if err != nil {
		return err
	}
	fell, err := r.fallBack(ctx, obs, spot)
	if err != nil {
		return err
	}
	reconciled := recStd || recSpot || fell
	if reconciled {
		if obs, spot, err = r.observeTiers(ctx); err != nil {
			return err
		}
	}
	now := r.p.now()
	leavingStd, leavingSpot := leavingByZone(obs.Zones, obs.Nodes, now), leavingByZone(spot.Zones, spot.Nodes, now)
	cur := tierStateOf(obs, spot, leavingStd, leavingSpot)
	wantStd, wantSpot := tierSplit(want, cur, r.cfg.spot.share)
	r.log.Info("tier split", "standard", cur.Standard, "spot", cur.Spot, "to_standard", wantStd, "to_spot", wantSpot,
		"standard_can_grow", cur.StandardOK, "spot_can_grow", cur.SpotOK, "standard_stopped", cur.Warm,
		"surge", isSurge(want, cur.Standard+cur.Spot))
	var errs []error
	step := func(c bool, err error) {
		changed = changed || c
		errs = append(errs, err)
	}
	if wantStd > cur.Standard {
		step(r.scaleOut(ctx, obs, wantStd))
	}
	if wantSpot > cur.Spot {
		step(spotRun.scaleOut(ctx, spot, wantSpot))
	}
	if err := errors.Join(errs...); err == nil {
		if wantStd < cur.Standard {
			step(r.scaleIn(ctx, obs, wantStd))
		}
		if wantSpot < cur.Spot {
			step(spotRun.scaleIn(ctx, spot, wantSpot))
		}
	}
	err = errors.Join(errs...)
	if changed {
		r.recordEvent(ctx, r.p.now())
		r.keepPool(ctx)
	}
	if !changed && !reconciled && err == nil && want != cur.Standard+cur.Spot {
		return sdk.NewTargetScalingNoOpError("no worker could be removed to reach %d", want)
	}
	return err
}

// observeTiers reads both tiers: the standard MIGs with the Nomad pool,
// then the Spot MIGs.
func (r *run) observeTiers(ctx context.Context) (std, spot observation, err error) {
	if std, err = observe(ctx, r.migs, r.nodes, r.cfg, r.p.now()); err != nil {
		return std, spot, err
	}
	spot, err = r.observeSpot(ctx, std.Nodes)
	return std, spot, err
}

// spotMemory keeps the preemptions the plugin has seen, per policy: GCE
// lists no preemption history on the MIG, so the plugin notes each
// instance it first sees preempted. It lives in memory: an agent restart
// or HA failover forgets it, and the next Status starts afresh.
type spotMemory struct {
	mu sync.Mutex
	// down are the instances seen preempted and not yet back (ref/name).
	down map[string]bool
	// events are the preemptions seen, oldest first, pruned to what
	// spot_cooldown and the meta's hour need.
	events []spotEvent
}

type spotEvent struct {
	mig string
	at  time.Time
}

// record notes the instances of ref seen preempted now and returns the
// time of ref's last preemption (zero for none remembered).
func (m *spotMemory) record(ref migRef, names []string, now time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down == nil {
		m.down = map[string]bool{}
	}
	prefix := ref.String() + "/"
	seen := map[string]bool{}
	for _, name := range names {
		key := prefix + name
		seen[key] = true
		if !m.down[key] {
			m.down[key] = true
			m.events = append(m.events, spotEvent{mig: ref.String(), at: now})
		}
	}
	// An instance no longer preempted (recreated or deleted) counts again
	// when it is preempted again.
	for key := range m.down {
		if strings.HasPrefix(key, prefix) && !seen[key] {
			delete(m.down, key)
		}
	}
	// Keep a day of events at most: spot_cooldown is at most a day and
	// the meta counts an hour.
	m.events = slices.DeleteFunc(m.events, func(e spotEvent) bool { return now.Sub(e.at) > 24*time.Hour })
	var last time.Time
	for _, e := range m.events {
		if e.mig == ref.String() && e.at.After(last) {
			last = e.at
		}
	}
	return last
}

// since counts the preemptions seen after t.
func (m *spotMemory) since(t time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.events {
		if e.at.After(t) {
			n++
		}
	}
	return n
}
