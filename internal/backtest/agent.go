package backtest

import (
	"errors"
	"fmt"
	"sort"
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
// survive either.
func runCheck(p *sdk.ScalingPolicy, c *sdk.ScalingPolicyCheck, s strategy.Strategy,
	ms sdk.TimestampedMetrics, count int64) (a sdk.ScalingAction, stratErr, err error) {
	eval := &sdk.ScalingCheckEvaluation{
		Check:   c,
		Action:  &sdk.ScalingAction{Meta: map[string]any{"nomad_policy_id": p.ID}},
		Metrics: ms,
	}
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
	groups := make(map[string][]int, 2)
	names := make([]string, 0, 2)
	for i, r := range results {
		if _, seen := groups[r.group]; !seen {
			names = append(names, r.group)
		}
		groups[r.group] = append(groups[r.group], i)
	}
	// The agent walks a map; ties only ever pick between actions with the
	// same direction and count, so a sorted walk gives the same decision.
	sort.Strings(names)
	var best *sdk.ScalingAction
	for _, g := range names {
		var groupBest *sdk.ScalingAction
		none := 0
		for _, i := range groups[g] {
			a := &results[i].action
			if g != "" && a.Direction == sdk.ScaleDirectionNone {
				none++
				continue
			}
			groupBest = sdk.PreemptScalingAction(groupBest, a)
		}
		if none > 0 && none == len(groups[g]) {
			groupBest = &results[groups[g][0]].action
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
