package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// errUnhealthy marks a failed health check or a timeout: the rollout rolls
// every MIG back.
var errUnhealthy = errors.New("health check failed")

// engine runs one rollout. Its decisions are nextAction and judgeNode /
// judgeConsumers (decide.go); it only reads, patches and waits.
type engine struct {
	cfg    config
	gce    computeAPI
	nodes  nodeSource
	queues queueSource // nil: no consumer check
	out    io.Writer
	now    func() time.Time

	target   version            // the new template, as patched
	previous map[migRef]version // each MIG's template before the rollout
	baseline map[string]int     // consumers per queue before the rollout
	// served are the new VMs whose node passed the health check; seen is
	// when each new VM was first seen RUNNING.
	served map[string]bool
	seen   map[string]time.Time
}

func newEngine(cfg config, gce computeAPI, nodes nodeSource, queues queueSource, out io.Writer, now func() time.Time) *engine {
	return &engine{
		cfg: cfg, gce: gce, nodes: nodes, queues: queues, out: out, now: now,
		target:   version{Name: versionName(templateName(cfg.template)), Template: templateName(cfg.template), URL: cfg.templateURL(), Fixed: -1},
		previous: map[migRef]version{}, served: map[string]bool{}, seen: map[string]time.Time{},
	}
}

// versionName is a MIG version name for a template: lower case, at most
// 63 characters, as GCE names are.
func versionName(template string) string {
	n := "v-" + template
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

func (e *engine) say(format string, args ...any) {
	fmt.Fprintf(e.out, "%s %s\n", e.now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run is the whole rollout: preflight, then nextAction until done. A
// failed health check or a timeout rolls every MIG back; a cancelled ctx
// pauses the update in progress and says how to resume or roll back.
func (e *engine) run(ctx context.Context) error {
	views, err := e.preflight(ctx)
	if err != nil {
		return err
	}
	if e.cfg.dryRun {
		e.dryRun(views)
		return nil
	}
	canaryPassed := false
	for {
		a := nextAction(views, e.target.Template, canaryPassed)
		err := e.apply(ctx, a, views)
		switch {
		case err == nil && a.Kind == actionDone:
			e.say("done: every MIG runs %s", e.target.Template)
			return nil
		case err == nil:
			canaryPassed = canaryPassed || a.Kind == actionWatchCanary
		case ctx.Err() != nil:
			return e.pause(ctx)
		case errors.Is(err, errUnhealthy):
			return e.rollback(ctx, err)
		default:
			return err
		}
		if views, err = e.viewAll(ctx); err != nil {
			if ctx.Err() != nil {
				return e.pause(ctx)
			}
			return err
		}
	}
}

func (e *engine) apply(ctx context.Context, a action, views []migView) error {
	switch a.Kind {
	case actionStartCanary:
		ref := views[0].Ref
		e.say("canary: %s gets %s as a second version of size 1 (maxSurge 1, maxUnavailable 0)", ref, e.target.Template)
		canary := e.target
		canary.Fixed = 1
		return e.gce.SetVersions(ctx, ref, []version{e.previous[ref], canary}, updateProactive)
	case actionWatchCanary:
		if err := e.watch(ctx, views[0].Ref, true); err != nil {
			return err
		}
		e.say("canary: passed on %s", views[0].Ref)
		return nil
	case actionStartUpdate:
		ref := views[a.MIG].Ref
		e.say("update: %s rolls to %s, one VM at a time (maxSurge 1, maxUnavailable 0)", ref, e.target.Template)
		return e.gce.SetVersions(ctx, ref, []version{e.target}, updateProactive)
	case actionWatchUpdate:
		return e.watch(ctx, views[a.MIG].Ref, false)
	}
	return nil
}

// preflight checks the template and the MIGs, and records what to roll
// back to and the consumer baseline.
func (e *engine) preflight(ctx context.Context) ([]migView, error) {
	if err := e.gce.CheckTemplate(ctx, e.target.URL); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	views, err := e.viewAll(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, v := range views {
		prev := v.previousTemplate(e.target.Template)
		if prev.Template == "" && !v.done(e.target.Template) {
			errs = append(errs, fmt.Errorf("MIG %s: cannot tell which template it ran before %s", v.Ref, e.target.Template))
		}
		if prev.URL == "" {
			prev.URL = prev.Template
		}
		prev.Name = versionName(prev.Template)
		e.previous[v.Ref] = prev
		e.say("%s: target size %d, %d of %d VMs on %s, versions %s", v.Ref, v.TargetSize, v.onTemplate(e.target.Template), len(v.live()), e.target.Template, describeVersions(v.Versions))
	}
	if first := views[0]; nextAction(views, e.target.Template, false).Kind == actionStartCanary && first.TargetSize == 0 {
		errs = append(errs, fmt.Errorf("migs: the canary goes on the first MIG, %s, which has no VM (target size 0): list a MIG with VMs first", first.Ref))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if e.queues != nil {
		if e.baseline, err = e.queues.Consumers(ctx); err != nil {
			return nil, fmt.Errorf("consumer baseline: %w", err)
		}
		e.say("consumers before the rollout: %s", describeCounts(e.baseline))
	}
	return views, nil
}

func (e *engine) viewAll(ctx context.Context) ([]migView, error) {
	views := make([]migView, len(e.cfg.migs))
	for i, ref := range e.cfg.migs {
		v, err := e.gce.View(ctx, ref)
		if err != nil {
			return nil, err
		}
		views[i] = v
	}
	return views, nil
}

// dryRun prints what the rollout would do, changing nothing.
func (e *engine) dryRun(views []migView) {
	e.say("dry run: nothing is changed")
	a := nextAction(views, e.target.Template, false)
	if a.Kind == actionStartCanary || a.Kind == actionWatchCanary {
		e.say("would canary %s on %s (a second version of size 1), then wait until its node is ready, its %s allocations healthy and the queues' consumers back", e.target.Template, views[0].Ref, e.cfg.workerJob)
	}
	for _, v := range views {
		if v.done(e.target.Template) {
			e.say("would leave %s: already on %s", v.Ref, e.target.Template)
			continue
		}
		e.say("would roll %s from %s to %s: %d VMs, one at a time (maxSurge 1, maxUnavailable 0)", v.Ref, e.previous[v.Ref].Template, e.target.Template, v.TargetSize)
	}
}

// watch waits until the MIG's new VMs all serve: for the canary, its one
// VM; otherwise every VM of the MIG. Each new VM must pass the health
// check within health-timeout of running, and some new VM must pass it at
// least every step-timeout.
func (e *engine) watch(ctx context.Context, ref migRef, canary bool) error {
	progressAt := e.now()
	last := ""
	for {
		v, err := e.gce.View(ctx, ref)
		if err != nil {
			return err
		}
		advanced, err := e.check(ctx, v)
		if err != nil {
			return err
		}
		if advanced {
			progressAt = e.now()
		}
		line := fmt.Sprintf("%s: %d of %d VMs on %s and serving (target size %d, %d VMs in the group)",
			ref, e.servedIn(v), v.TargetSize, e.target.Template, v.TargetSize, len(v.Instances))
		if line != last {
			e.say("%s", line)
			last = line
		}
		if e.complete(v, canary) {
			return nil
		}
		if waited := e.now().Sub(progressAt); waited > e.cfg.stepTimeout {
			return fmt.Errorf("%w: %s: no new VM served for %s (step-timeout)", errUnhealthy, ref, waited.Round(time.Second))
		}
		if err := sleep(ctx, e.cfg.poll); err != nil {
			return err
		}
	}
}

// check runs the health check on every new VM that runs and has not
// passed yet. It reports whether one passed, and fails on a VM that
// failed or ran out of health-timeout.
func (e *engine) check(ctx context.Context, v migView) (advanced bool, err error) {
	for _, in := range v.serving(e.target.Template) {
		if e.served[in.Name] {
			continue
		}
		if _, ok := e.seen[in.Name]; !ok {
			e.seen[in.Name] = e.now()
			e.say("%s: new VM %s is running; checking its node", v.Ref, in.Name)
		}
		n, err := e.nodes.Node(ctx, in.Name)
		if err != nil {
			return advanced, err
		}
		verdict, why := judgeNode(n, e.target.Template)
		if verdict == healthy && e.queues != nil {
			counts, err := e.queues.Consumers(ctx)
			if err != nil {
				return advanced, err
			}
			if ok, short := judgeConsumers(counts, e.baseline); !ok {
				verdict, why = healthPending, short
			}
		}
		switch verdict {
		case healthFailed:
			return advanced, fmt.Errorf("%w: %s: VM %s: %s", errUnhealthy, v.Ref, in.Name, why)
		case healthy:
			e.served[in.Name], advanced = true, true
			e.say("%s: VM %s serves (node ready, %s allocations healthy, consumers back)", v.Ref, in.Name, e.cfg.workerJob)
		default:
			if waited := e.now().Sub(e.seen[in.Name]); waited > e.cfg.healthTimeout {
				return advanced, fmt.Errorf("%w: %s: VM %s not serving %s after it started (health-timeout): %s",
					errUnhealthy, v.Ref, in.Name, waited.Round(time.Second), why)
			}
		}
	}
	return advanced, nil
}

func (e *engine) servedIn(v migView) int {
	n := 0
	for _, in := range v.live() {
		if e.served[in.Name] {
			n++
		}
	}
	return n
}

// complete: the canary is done once its version is reached, nothing is
// pending and its VM serves; a MIG once every VM runs the new template and
// serves.
func (e *engine) complete(v migView, canary bool) bool {
	if !v.Reached || !v.settled() {
		return false
	}
	news := v.serving(e.target.Template)
	for _, in := range news {
		if !e.served[in.Name] {
			return false
		}
	}
	if canary {
		return len(news) >= 1
	}
	return v.done(e.target.Template) && len(news) == len(v.Instances)
}

// rollback patches every MIG back to its previous template (PROACTIVE,
// maxSurge 1, maxUnavailable 0) and waits, within rollback-timeout, until
// each runs it again. It returns the reason of the rollback.
func (e *engine) rollback(ctx context.Context, reason error) error {
	e.say("rolling back every MIG: %v", reason)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.rollbackTimeout)
	defer cancel()
	var errs []error
	for _, ref := range e.cfg.migs {
		prev := e.previous[ref]
		v, err := e.gce.View(rctx, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev.Template == "" || v.done(prev.Template) {
			continue
		}
		e.say("rollback: %s back to %s", ref, prev.Template)
		errs = append(errs, e.gce.SetVersions(rctx, ref, []version{prev}, updateProactive))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w; the rollback failed too: %w", reason, err)
	}
	for _, ref := range e.cfg.migs {
		prev := e.previous[ref]
		if err := e.waitBack(rctx, ref, prev); err != nil {
			return fmt.Errorf("%w; the rollback did not finish: %w", reason, err)
		}
	}
	e.say("rolled back: every MIG runs its previous template again")
	return fmt.Errorf("rolled back: %w", reason)
}

func (e *engine) waitBack(ctx context.Context, ref migRef, prev version) error {
	last := ""
	for {
		v, err := e.gce.View(ctx, ref)
		if err != nil {
			return err
		}
		if v.done(prev.Template) {
			return nil
		}
		line := fmt.Sprintf("rollback: %s: %d of %d VMs on %s", ref, v.onTemplate(prev.Template), v.TargetSize, prev.Template)
		if line != last {
			e.say("%s", line)
			last = line
		}
		if err := sleep(ctx, e.cfg.poll); err != nil {
			return fmt.Errorf("MIG %s not back on %s within rollback-timeout %s: %w", ref, prev.Template, e.cfg.rollbackTimeout, err)
		}
	}
}

// pause leaves the fleet consistent after an interruption: every MIG
// still updating is switched to OPPORTUNISTIC, so no further VM is
// replaced without a health check (a replacement already running
// finishes: the MIG returns to its target size), and the way to resume or
// roll back is printed.
func (e *engine) pause(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.pauseTimeout)
	defer cancel()
	e.say("interrupted: pausing the update so that no VM is replaced unchecked")
	var errs []error
	var status []string
	for _, ref := range e.cfg.migs {
		v, err := e.gce.View(pctx, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v.hasVersion(e.target.Template) && !v.done(e.target.Template) && v.UpdateType == updateProactive {
			e.say("pause: %s stops replacing VMs (updatePolicy.type OPPORTUNISTIC)", ref)
			errs = append(errs, e.gce.SetUpdateType(pctx, ref, updateOpportunistic))
		}
		status = append(status, fmt.Sprintf("%s: %d of %d VMs on %s", ref, v.onTemplate(e.target.Template), v.TargetSize, e.target.Template))
	}
	for _, s := range status {
		e.say("%s", s)
	}
	args := fmt.Sprintf("-project %s -migs %s", e.cfg.project, e.cfg.migsFlag())
	e.say("to resume:   go run ./cmd/rollout %s -template %s", args, e.cfg.template)
	olds := map[string]bool{}
	for _, ref := range e.cfg.migs {
		if p := e.previous[ref]; p.Template != "" {
			olds[p.URL] = true
		}
	}
	for old := range olds {
		e.say("to roll back: go run ./cmd/rollout %s -template %s", args, old)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("interrupted, and the pause failed (the update may go on unchecked): %w", err)
	}
	return errors.New("interrupted: the update is paused; see above to resume or roll back")
}

func describeVersions(vs []version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Template
		if v.Fixed >= 0 {
			parts[i] += fmt.Sprintf(" (size %d)", v.Fixed)
		}
	}
	return strings.Join(parts, ", ")
}

func describeCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
