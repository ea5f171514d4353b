package plugin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Scale implements target.Target: it resizes the policy's MIGs so that
// their target sizes add up to action.Count. The agent gives Scale no
// deadline, so the call bounds itself: the drain deadline plus grace for a
// scale-in, plus scale_timeout for waiting on the MIGs.
//
// It first finishes or undoes interrupted scale-ins (reconcile). When the
// MIGs then already sum to action.Count it succeeds without changing
// anything; it returns the SDK's no-op error (no cooldown) only when a
// scale-in finds nothing it may remove.
func (p *Plugin) Scale(action sdk.ScalingAction, raw map[string]string) (err error) {
	defer func() { err = pluginkit.AtBoundary(err) }()
	defer pluginkit.Recover(p.logger, PluginName, "scale", &err)
	cfg, st, err := p.target(raw)
	if err != nil {
		p.tm.failed("scale", errKindConfig)
		return err
	}
	if action.Count == sdk.StrategyActionMetaValueDryRunCount || cfg.dryRun {
		p.logger.Info("dry-run: not scaling", "count", action.Meta["nomad_autoscaler.dry_run.count"])
		return nil
	}
	if action.Count < 0 || action.Count > math.MaxInt32 {
		return fmt.Errorf("%s: refusing to scale to %d", PluginName, action.Count)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.drainDeadline+p.timing.drainGrace+cfg.scaleTimeout)
	defer cancel()
	migs, nodes, err := p.clients(ctx, cfg)
	if err != nil {
		return err
	}
	st.scaleRunning.Store(true)
	defer st.scaleRunning.Store(false)
	st.scaling.Lock()
	defer st.scaling.Unlock()
	r := &run{p: p, cfg: cfg, st: st, migs: migs, nodes: nodes, locks: p.writerLocks(cfg),
		log: p.logger.With("policy_key", cfg.policyKey, "count", action.Count)}
	defer p.tm.timeScale(action.Direction.String(), time.Now())
	// No change while another process changes the policy's MIGs, and none
	// after this one lost the lock (writer.go).
	ctx, release, err := r.holdWriter(ctx)
	defer release()
	if err == nil {
		err = r.scale(ctx, action.Count)
	}
	if lost := context.Cause(ctx); err != nil && errors.Is(lost, errWriterLost) && !errors.Is(err, errWriterLost) {
		err = fmt.Errorf("%w (%w)", err, lost)
	}
	if err != nil {
		p.tm.failed("scale", errorKind(err))
		return fmt.Errorf("%s: scale to %d: %w", PluginName, action.Count, err)
	}
	return nil
}

func (r *run) scale(ctx context.Context, want int64) error {
	if r.cfg.spot.enabled() {
		return r.scaleTiers(ctx, want) // spot.go
	}
	obs, err := observe(ctx, r.migs, r.nodes, r.cfg, r.p.now())
	if err != nil {
		return err
	}
	reconciled, _, err := r.reconcile(ctx, obs)
	if err != nil {
		return err
	}
	if reconciled {
		if obs, err = observe(ctx, r.migs, r.nodes, r.cfg, r.p.now()); err != nil {
			return err
		}
	}
	// Workers announced as leaving are not capacity (leaving.go): want
	// is the count of workers that stay.
	current := servingTotal(obs, leavingByZone(obs.Zones, obs.Nodes, r.p.now()))
	var changed bool
	switch {
	case want > current:
		changed, err = r.scaleOut(ctx, obs, want)
	case want < current:
		changed, err = r.scaleIn(ctx, obs, want)
	default:
		// Success, not the SDK's no-op error: the agent only asks for a
		// count that differs from the Status it just read, so finding the
		// MIGs already there means they changed since (a reconcile that
		// finished an interrupted scale-in, an operator's resize), and the
		// agent's cooldown should cover that change as it would cover ours.
		r.log.Info("MIGs already sum to the requested count; nothing to do", "reconciled", reconciled)
		return nil
	}
	if changed {
		r.recordEvent(ctx, r.p.now())
		// Starts lowered targetStoppedSize and stops raised it: set each
		// zone's pool back to its share, so the MIGs refill it (or drop
		// refills that stopped workers made unnecessary).
		r.keepPool(ctx)
	}
	if !changed && !reconciled && err == nil {
		// Nothing qualified for removal (busy nodes with node_selector =
		// "empty", nodes not yet registered, ...): no cooldown, so the
		// agent asks again at the next evaluation.
		return sdk.NewTargetScalingNoOpError("no worker could be removed to reach %d", want)
	}
	return err
}
