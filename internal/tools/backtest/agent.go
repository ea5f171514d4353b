package backtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// This file reproduces what the agent v0.5.0 does with strategy results
// (policy/check.go and policy/handler.go): error handling per check, capping,
// winner selection across checks and groups, and cooldown. It is written from
// reading that code, not copied, and pinned by the tests in agent_test.go.

// errAbortEvaluation marks a check error that makes the agent drop the whole
// evaluation (on_error = "fail", or on_check_error = "fail").
var errAbortEvaluation = errors.New("evaluation aborted by a failed check")

// checkResult is one check's capped action and the group it votes in.
type checkResult struct {
	action sdk.ScalingAction
	group  string
}

// runCheck runs one check's strategy the way the agent's checkRunner does.
// A strategy error (returned as stratErr) is either ignored, and the check
// then votes an empty action, which after capping is "none" at min and still
// blocks a scale-down outside a group, or it aborts the evaluation (err wraps
// errAbortEvaluation). Any other err is a strategy bug the agent would not
// survive either. The evaluation handed to the strategy is rebuilt in ev on
// every call, as fresh as the agent's, without allocating.
func runCheck(p *sdk.ScalingPolicy, c *sdk.ScalingPolicyCheck, s strategy.Strategy,
	ms sdk.TimestampedMetrics, count int64, ev *evalBuffers) (a sdk.ScalingAction, stratErr, err error) {
	eval := ev.reset(p, c, ms)
	resp, stratErr := safeRun(s, eval, count)
	switch {
	case stratErr != nil:
		if c.OnError == sdk.ScalingPolicyOnErrorFail ||
			(c.OnError != sdk.ScalingPolicyOnErrorIgnore && p.OnCheckError == sdk.ScalingPolicyOnErrorFail) {
			return sdk.ScalingAction{}, stratErr, fmt.Errorf("%w: check %q: %w", errAbortEvaluation, c.Name, stratErr)
		}
		a = sdk.ScalingAction{}
	case resp == nil:
		a = sdk.ScalingAction{}
	case resp.Action == nil:
		// The agent's gRPC server would dereference it and crash the plugin.
		return sdk.ScalingAction{}, nil, fmt.Errorf("check %q: strategy returned an evaluation without an Action", c.Name)
	default:
		a = *resp.Action
	}
	if err := checkAction(a); err != nil {
		return sdk.ScalingAction{}, nil, fmt.Errorf("check %q: %w", c.Name, err)
	}
	ev.uncapped = a.Count
	a.CapCount(p.Min, p.Max)
	return a, stratErr, nil
}

// safeRun turns a strategy panic into an error: in the agent a panic kills
// the plugin for good, so the backtest must report it, not crash.
func safeRun(s strategy.Strategy, eval *sdk.ScalingCheckEvaluation, count int64) (resp *sdk.ScalingCheckEvaluation, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errStrategyPanic, r)
		}
	}()
	return s.Run(eval, count)
}

var errStrategyPanic = errors.New("strategy panicked")

// evalBuffers is the memory of one check's evaluations, reused from one
// evaluation to the next: the result is consumed before the next call.
type evalBuffers struct {
	eval   sdk.ScalingCheckEvaluation
	action sdk.ScalingAction
	meta   map[string]any
	// policyID is p.ID boxed once: boxing a string allocates, and the
	// grid replays evaluate millions of times.
	policyID any
	// uncapped is the count the strategy asked for before the policy's
	// min and max were applied.
	uncapped int64
}

// reset prepares the evaluation the agent would build: the check, the
// metrics and an empty action whose Meta holds the policy ID.
func (b *evalBuffers) reset(p *sdk.ScalingPolicy, c *sdk.ScalingPolicyCheck, ms sdk.TimestampedMetrics) *sdk.ScalingCheckEvaluation {
	if b.meta == nil {
		b.meta = make(map[string]any, 8)
	}
	if id, ok := b.policyID.(string); !ok || id != p.ID {
		b.policyID = p.ID
	}
	// A strategy that added keys leaves more than the policy ID behind;
	// the official ones add none, and clearing an unchanged map is not free.
	if _, ok := b.meta["nomad_policy_id"]; !ok || len(b.meta) != 1 {
		clear(b.meta)
	}
	b.uncapped = 0
	b.meta["nomad_policy_id"] = b.policyID
	b.action = sdk.ScalingAction{Meta: b.meta}
	b.eval = sdk.ScalingCheckEvaluation{Check: c, Action: &b.action, Metrics: ms}
	return &b.eval
}

func checkAction(a sdk.ScalingAction) error {
	switch a.Direction {
	case sdk.ScaleDirectionUp, sdk.ScaleDirectionNone, sdk.ScaleDirectionDown:
	default:
		return fmt.Errorf("strategy returned direction %d, want up, none or down", a.Direction)
	}
	if a.Count < 0 {
		return fmt.Errorf("strategy returned count %d with direction %s", a.Count, a.Direction)
	}
	return nil
}

// pickWinner selects the action the agent would take from the check results
// (pickWinnerActionFromGroups). Outside a group, up beats none beats down and
// the larger count wins between equal directions. Inside a named group a
// "none" vote is ignored unless every check of the group votes none. ok is
// false when nothing was voted.
func pickWinner(results []checkResult) (winner sdk.ScalingAction, ok bool) {
	var best *sdk.ScalingAction
	// The agent walks a map of groups; ties only ever pick between actions
	// of the same direction and count, so walking the groups in order of
	// first appearance gives the same decision, without allocating.
	for i := range results {
		g := results[i].group
		if seenBefore(results[:i], g) {
			continue
		}
		var groupBest, first *sdk.ScalingAction
		members, none := 0, 0
		for j := i; j < len(results); j++ {
			if results[j].group != g {
				continue
			}
			a := &results[j].action
			if first == nil {
				first = a
			}
			members++
			if g != "" && a.Direction == sdk.ScaleDirectionNone {
				none++
				continue
			}
			groupBest = sdk.PreemptScalingAction(groupBest, a)
		}
		if none > 0 && none == members {
			groupBest = first
		}
		if groupBest != nil {
			best = sdk.PreemptScalingAction(best, groupBest)
		}
	}
	if best == nil {
		return sdk.ScalingAction{}, false
	}
	return *best, true
}

func seenBefore(results []checkResult, group string) bool {
	for _, r := range results {
		if r.group == group {
			return true
		}
	}
	return false
}

// scalingNeeded mirrors the agent: "none" never scales, and neither does a
// count equal to the current one.
func scalingNeeded(a sdk.ScalingAction, current int64) bool {
	return a.Direction != sdk.ScaleDirectionNone && a.Count != current
}

// cooldown is the agent's cooldown state for one policy, in simulated time.
type cooldown struct {
	active bool
	until  time.Time
}

// blocks reports whether a scaling action at now is skipped. Like the agent,
// the cooldown ends only strictly after its end time.
func (c *cooldown) blocks(now time.Time) bool {
	if c.active && now.After(c.until) {
		c.active = false
	}
	return c.active
}

// start begins the cooldown after a successful scaling action: the
// scale-up cooldown for direction up, the normal one otherwise.
func (c *cooldown) start(p *sdk.ScalingPolicy, a sdk.ScalingAction, now time.Time) {
	d := p.Cooldown
	if a.Direction == sdk.ScaleDirectionUp {
		d = p.CooldownOnScaleUp
	}
	c.active, c.until = true, now.Add(d)
}
