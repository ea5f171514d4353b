package plugin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Status meta keys.
const (
	metaKeyLastEvent = "nomad_autoscaler.last_event"
	metaKeyStockout  = "zones_in_stockout"
	metaKeyDraining  = "nodes_draining"
	metaKeyError     = "status_error"
	// metaKeyWriter says why the policy's writer lock could not be taken
	// (writer.go).
	metaKeyWriter = "writer_lock_error"
	// metaKeySpend is the fleet's spend rate in $ per hour, with
	// price_per_hour (spend.go).
	metaKeySpend = "spend_per_hour"
)

// Status implements target.Target. Count is the sum of the MIGs' target
// sizes. It also finishes or undoes interrupted scale-ins (reconcile),
// unless a Scale of the same policy is running, and then reports the sizes
// the reconcile left. Only a bad config is an error: when GCE or Nomad
// cannot be read, the answer is "not ready" with the cause in Meta (see
// degraded).
func (p *Plugin) Status(raw map[string]string) (_ *sdk.TargetStatus, err error) {
	defer func() { err = pluginkit.AtBoundary(err) }()
	defer pluginkit.Recover(p.logger, PluginName, "status", &err)
	cfg, st, err := p.target(raw)
	if err != nil {
		p.tm.failed("status", errKindConfig)
		return nil, err
	}
	// Answer before the agent's gRPC deadline (75% of the evaluation
	// interval) so it gets our error, not a bare DeadlineExceeded.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.statusDeadline*9/10)
	defer cancel()
	migs, nodes, err := p.clients(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r := &run{p: p, cfg: cfg, st: st, migs: migs, nodes: nodes, locks: p.writerLocks(cfg), log: p.logger.With("policy_key", cfg.policyKey)}
	return r.status(ctx)
}

func (r *run) status(ctx context.Context) (*sdk.TargetStatus, error) {
	// Reconcile only while no Scale (or other Status) holds the policy: a
	// scale-in between its drain and its delete looks exactly like a
	// crashed one. The lock is taken before observing so that the
	// observation cannot predate a Scale that finished meanwhile.
	locked := r.st.scaling.TryLock()
	if locked {
		defer r.st.scaling.Unlock()
	}
	// Nor while another process changes the policy's MIGs (writer.go):
	// then this Status changes nothing and reports not ready.
	var writerErr error
	if locked {
		var release func()
		ctx, release, writerErr = r.holdWriter(ctx)
		defer release()
		if writerErr != nil {
			locked = false
			r.log.Warn("not reconciling and not ready: cannot take the policy's writer lock", "error", writerErr)
			r.p.tm.failed("status", errKindLock)
		}
	}
	obs, err := observe(ctx, r.migs, r.nodes, r.cfg, r.p.now())
	if err != nil {
		return r.degraded(ctx, obs, err), nil
	}
	scaling := r.st.scaleRunning.Load()
	waiting := false
	if locked {
		var changed bool
		if changed, waiting, err = r.reconcile(ctx, obs); err != nil {
			return r.degraded(ctx, obs, err), nil
		}
		if changed {
			// Count what the reconcile left, so that the agent does not
			// compute its next action from a size that is gone. The MIGs
			// are still changing: not ready this tick.
			if obs.Zones, err = observeZones(ctx, r.migs, r.cfg, r.p.now()); err != nil {
				obs.Zones = nil
				return r.degraded(ctx, obs, err), nil
			}
			waiting = true
		}
		// The pool's refills and recycling do not change Count: a failure
		// here is logged and retried at the next Status, not a reason to
		// stop scaling.
		if _, err := r.maintainPool(ctx, obs.Zones); err != nil {
			r.log.Warn("cannot maintain the standby pool", "error", err)
		}
	}
	// A leaving node drained by cmd/maintenance-drain does not hold the
	// policy (leaving.go).
	ready := !scaling && !waiting && writerErr == nil && (obs.PoolReady || poolSettledButLeaving(obs.Nodes))
	leaving := leavingByZone(obs.Zones, obs.Nodes, r.p.now())
	count := servingTotal(obs, leaving)
	meta := zoneMeta(obs.Zones)
	r.refillMeta(meta, obs.Zones)
	leavingMeta(meta, obs.Zones, leaving)
	for _, z := range obs.Zones {
		ready = ready && z.settled()
	}
	meta[metaKeyDraining] = strconv.Itoa(countDraining(obs.Nodes, r.cfg.policyKey))
	if writerErr != nil {
		meta[metaKeyWriter] = writerErr.Error()
	}
	var spotZones []zoneView
	if r.cfg.spot.enabled() {
		spotCount, spotReady, zones, err := r.spotStatus(ctx, obs, meta, locked && !scaling) // spot.go
		if err != nil {
			return r.degraded(ctx, obs, err), nil
		}
		count, ready, spotZones = count+spotCount, ready && spotReady, zones
	}
	if r.cfg.spend.enabled() {
		spend := spendPerHour(r.cfg.spend, obs.Zones, spotZones)
		meta[metaKeySpend] = strconv.FormatFloat(spend, 'f', 2, 64)
		r.p.tm.observeSpend(r.cfg.policyKey, r.cfg.spend, spend, r.p.now())
	}
	if t, ok := r.lastEvent(ctx); ok {
		meta[metaKeyLastEvent] = strconv.FormatInt(t.UnixNano(), 10)
		if until, cooling := inRestoredCooldown(t, r.cfg.restoreCooldown, r.p.now()); cooling {
			ready = false
			meta[metaKeyCooldownUntil] = until.UTC().Format(time.RFC3339)
		}
	}
	if r.log.IsTrace() {
		r.log.Trace("status", "count", count, "ready", ready, "scaling", scaling,
			"pool_ready", obs.PoolReady, "meta", hclog.Fmt("%v", meta))
	}
	r.p.tm.observeStatus(r.cfg.policyKey, obs, ready)
	return &sdk.TargetStatus{Ready: ready, Count: count, Meta: meta}, nil
}

// degraded answers a Status whose observation or reconcile failed: not
// ready, so the agent skips the evaluation, with the error in Meta and the
// log, but not an error. The agent v0.5.0 reads the first Status of a
// policy when it creates the policy's handler, and when that Status fails
// it never creates the handler: the policy stays dead until a SIGHUP (file
// policies) or a change of the policy (Nomad policies). A GCE or Nomad
// outage while the agent starts must not do that. Count and the zone meta
// are filled in when every MIG was read.
func (r *run) degraded(ctx context.Context, obs observation, err error) *sdk.TargetStatus {
	err = pluginkit.AtBoundary(fmt.Errorf("%s status: %w", PluginName, err))
	r.log.Error("cannot observe or reconcile the policy's MIGs and nodes; reporting not ready", "error", err)
	r.p.tm.failed("status", errKindObserve)
	r.p.tm.observeStatus(r.cfg.policyKey, obs, false)
	meta := zoneMeta(obs.Zones)
	meta[metaKeyError] = err.Error()
	if t, ok := r.lastEvent(ctx); ok {
		meta[metaKeyLastEvent] = strconv.FormatInt(t.UnixNano(), 10)
	}
	return &sdk.TargetStatus{Ready: false, Count: servingTotal(obs, leavingByZone(obs.Zones, obs.Nodes, r.p.now())), Meta: meta}
}

// zoneMeta is the per-zone part of Status meta.
func zoneMeta(zones []zoneView) map[string]string {
	meta := map[string]string{}
	for _, z := range zones {
		meta["zone."+z.Ref.Zone+".target"] = strconv.FormatInt(z.State.TargetSize, 10)
		meta["zone."+z.Ref.Zone+".running"] = strconv.FormatInt(z.running(), 10)
		meta["zone."+z.Ref.Zone+".standby"] = strconv.Itoa(len(z.pooledNames()))
		meta["zone."+z.Ref.Zone+".standby_target"] = strconv.FormatInt(z.State.Standby.Stopped, 10)
	}
	meta[metaKeyStockout] = strings.Join(stockoutSummary(zones), ", ")
	return meta
}

func countDraining(nodes []nomadNode, policy string) int {
	n := 0
	for _, node := range nodes {
		if node.Draining && node.Marker != nil && node.Marker.Policy == policy {
			n++
		}
	}
	return n
}

// lastEventRetry is how long a failed read of the last scaling time is
// not retried.
const lastEventRetry = 5 * time.Minute

// lastEvent returns the policy's last scaling time, read from its Nomad
// variable once and then served from memory.
func (r *run) lastEvent(ctx context.Context) (time.Time, bool) {
	now := r.p.now()
	r.st.mu.Lock()
	t, known, lastRead := r.st.lastEvent, r.st.lastKnown, r.st.lastRead
	r.st.mu.Unlock()
	if known || now.Sub(lastRead) < lastEventRetry {
		return t, !t.IsZero()
	}
	read, err := r.nodes.LastEvent(ctx, r.cfg.policyKey)
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	r.st.lastRead = now
	if err != nil {
		r.log.Warn("cannot read last scaling time; the agent's cooldown will not survive a restart", "error", err)
	} else if !r.st.lastKnown || read.After(r.st.lastEvent) {
		r.st.lastEvent, r.st.lastKnown = read, true
	}
	return r.st.lastEvent, !r.st.lastEvent.IsZero()
}

// recordEvent stores the time of a scaling in memory and in Nomad.
func (r *run) recordEvent(ctx context.Context, t time.Time) {
	r.st.mu.Lock()
	r.st.lastEvent, r.st.lastKnown = t, true
	r.st.mu.Unlock()
	if err := r.nodes.SetLastEvent(ctx, r.cfg.policyKey, t); err != nil {
		r.log.Warn("cannot record last scaling time; the agent's cooldown will not survive a restart", "error", err)
	}
}
