package backtest

import (
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func act(dir sdk.ScaleDirection, count int64, group string) checkResult {
	return checkResult{action: sdk.ScalingAction{Direction: dir, Count: count}, group: group}
}

const (
	up   = sdk.ScaleDirectionUp
	none = sdk.ScaleDirectionNone
	down = sdk.ScaleDirectionDown
)

func TestPickWinnerFollowsTheAgent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		results   []checkResult
		wantDir   sdk.ScaleDirection
		wantCount int64
	}{
		{"ungrouped up beats none and down", []checkResult{act(down, 2, ""), act(up, 7, ""), act(none, 5, "")}, up, 7},
		{"ungrouped none blocks a scale-down", []checkResult{act(down, 2, ""), act(none, 1, "")}, none, 1},
		{"the larger count wins between two ups", []checkResult{act(up, 7, ""), act(up, 9, "")}, up, 9},
		{"the larger count wins between two downs", []checkResult{act(down, 3, ""), act(down, 4, "")}, down, 4},
		{"in a group a none vote is ignored", []checkResult{act(down, 3, "g"), act(none, 1, "g")}, down, 3},
		{"a group where all vote none votes none", []checkResult{act(none, 1, "g"), act(none, 1, "g")}, none, 1},
		{"a group's down loses to an ungrouped none", []checkResult{act(down, 3, "g"), act(none, 1, "g"), act(none, 1, "")}, none, 1},
		{"an up in any group wins over other groups", []checkResult{act(down, 3, "a"), act(up, 6, "b")}, up, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := pickWinner(tc.results)
			must.True(t, ok)
			must.Eq(t, tc.wantDir, w.Direction)
			must.Eq(t, tc.wantCount, w.Count)
		})
	}
	_, ok := pickWinner(nil)
	must.False(t, ok)
}

func testPolicy(onCheckError string) *sdk.ScalingPolicy {
	return &sdk.ScalingPolicy{ID: "p", Min: 1, Max: 10, OnCheckError: onCheckError,
		Cooldown: 5 * time.Minute, CooldownOnScaleUp: time.Minute, EvaluationInterval: time.Minute}
}

func testCheck(onError string) *sdk.ScalingPolicyCheck {
	return &sdk.ScalingPolicyCheck{Name: "c", OnError: onError, QueryWindow: time.Minute,
		Strategy: &sdk.ScalingPolicyStrategy{Name: "fake"}}
}

func TestRunCheckCapsTheStrategysCountToMinAndMax(t *testing.T) {
	t.Parallel()
	s := &fakeStrategy{decide: wants(50)}
	a, stratErr, err := runCheck(testPolicy(""), testCheck(""), s, nil, 4, &evalBuffers{})
	must.NoError(t, err)
	must.NoError(t, stratErr)
	must.Eq(t, sdk.ScaleDirection(up), a.Direction)
	must.Eq(t, int64(10), a.Count)
}

func TestRunCheckHandlesStrategyErrorsAsTheAgentDoes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, onError, onCheckError string
		abort                       bool
	}{
		{"by default the failed check is ignored", "", "", false},
		{"on_error ignore wins over on_check_error fail", "ignore", "fail", false},
		{"on_check_error fail aborts the evaluation", "", "fail", true},
		{"on_error fail aborts the evaluation", "fail", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeStrategy{decide: func(int, sdk.TimestampedMetrics, int64) (int64, error) { return 0, errFake }}
			a, stratErr, err := runCheck(testPolicy(tc.onCheckError), testCheck(tc.onError), s, nil, 4, &evalBuffers{})
			must.ErrorIs(t, stratErr, errFake)
			if tc.abort {
				must.ErrorIs(t, err, errAbortEvaluation)
				return
			}
			must.NoError(t, err)
			// An ignored check still votes: "none" at min, which blocks a
			// scale-down of ungrouped checks.
			must.Eq(t, sdk.ScaleDirection(none), a.Direction)
			must.Eq(t, int64(1), a.Count)
		})
	}
}

func TestRunCheckTurnsAStrategyPanicIntoAnError(t *testing.T) {
	t.Parallel()
	s := &fakeStrategy{decide: func(int, sdk.TimestampedMetrics, int64) (int64, error) { panic("boom") }}
	_, stratErr, err := runCheck(testPolicy(""), testCheck(""), s, nil, 4, &evalBuffers{})
	must.NoError(t, err)
	must.ErrorIs(t, stratErr, errStrategyPanic)
	must.ErrorContains(t, stratErr, "boom")
}

func TestCooldownUsesTheScaleUpPeriodForUpAndEndsStrictlyAfter(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	var c cooldown
	must.False(t, c.blocks(t0))
	c.start(p, sdk.ScalingAction{Direction: up}, t0)
	must.True(t, c.blocks(t0.Add(time.Minute)), must.Sprint("the agent requires now.After(end)"))
	must.False(t, c.blocks(t0.Add(time.Minute+time.Nanosecond)))
	c.start(p, sdk.ScalingAction{Direction: down}, t0)
	must.True(t, c.blocks(t0.Add(5*time.Minute)))
	must.False(t, c.blocks(t0.Add(5*time.Minute+time.Second)))
}

func TestScalingIsNeededOnlyForAChangeWithADirection(t *testing.T) {
	t.Parallel()
	must.False(t, scalingNeeded(sdk.ScalingAction{Direction: none, Count: 9}, 4))
	must.False(t, scalingNeeded(sdk.ScalingAction{Direction: up, Count: 4}, 4))
	must.True(t, scalingNeeded(sdk.ScalingAction{Direction: down, Count: 3}, 4))
}

func TestPickWinnerTakesTheFirstVoteOfAnAllNoneGroup(t *testing.T) {
	t.Parallel()
	// The agent keeps results[0] of a group where every check votes none.
	w, ok := pickWinner([]checkResult{act(none, 3, "g"), act(none, 5, "g")})
	must.True(t, ok)
	must.Eq(t, sdk.ScaleDirection(none), w.Direction)
	must.Eq(t, int64(3), w.Count)
}

// nilStrategy answers every Run with no evaluation at all.
type nilStrategy struct{ fakeStrategy }

func (*nilStrategy) Run(*sdk.ScalingCheckEvaluation, int64) (*sdk.ScalingCheckEvaluation, error) {
	return nil, nil
}

func TestRunCheckTreatsANilResultAsAnEmptyVote(t *testing.T) {
	t.Parallel()
	a, stratErr, err := runCheck(testPolicy(""), testCheck(""), &nilStrategy{}, nil, 4, &evalBuffers{})
	must.NoError(t, err)
	must.NoError(t, stratErr)
	// An empty action capped: "none" at min, as the agent's runStrategy
	// returns for a nil response.
	must.Eq(t, sdk.ScaleDirection(none), a.Direction)
	must.Eq(t, int64(1), a.Count)
}

func TestRunCheckCapsAScaleDownAtMinSoNothingScales(t *testing.T) {
	t.Parallel()
	s := &fakeStrategy{decide: wants(0)}
	a, _, err := runCheck(testPolicy(""), testCheck(""), s, nil, 1, &evalBuffers{})
	must.NoError(t, err)
	must.Eq(t, sdk.ScaleDirection(down), a.Direction, must.Sprint("capping keeps the direction"))
	must.Eq(t, int64(1), a.Count)
	must.False(t, scalingNeeded(a, 1))
}
